"""The schema, as an ordered list of migrations. The schema version is how many have run."""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: sources with fetch state; articles; matches; the alert outbox and its attempt log
    """
    CREATE TABLE sources (
        id            INTEGER PRIMARY KEY,
        name          TEXT NOT NULL UNIQUE,
        url           TEXT NOT NULL,          -- as configured
        fetch_url     TEXT NOT NULL,          -- after permanent redirects
        kind          TEXT NOT NULL DEFAULT 'auto',
        active        INTEGER NOT NULL DEFAULT 1,
        etag          TEXT,
        last_modified TEXT,
        body_hash     TEXT,
        last_success  TEXT,
        last_attempt  TEXT,
        failures      INTEGER NOT NULL DEFAULT 0,
        last_error    TEXT,
        next_due      TEXT,
        created       TEXT NOT NULL
    );
    CREATE TABLE articles (
        id           INTEGER PRIMARY KEY,
        source_id    INTEGER NOT NULL REFERENCES sources(id),
        identity     TEXT NOT NULL,
        url          TEXT NOT NULL,
        guid         TEXT,
        title        TEXT NOT NULL,
        text         TEXT NOT NULL,
        published    TEXT,
        fetched      TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        UNIQUE (source_id, identity)
    );
    CREATE INDEX articles_fetched ON articles (fetched);
    CREATE TABLE matches (
        id          INTEGER PRIMARY KEY,
        article_id  INTEGER NOT NULL REFERENCES articles(id),
        rule        TEXT NOT NULL,
        severity    TEXT NOT NULL,
        score       REAL NOT NULL,
        mode        TEXT NOT NULL,
        explanation TEXT NOT NULL,            -- JSON, models.match_to_dict
        created     TEXT NOT NULL,
        UNIQUE (article_id, rule)
    );
    CREATE INDEX matches_rule ON matches (rule, created);
    CREATE TABLE alerts (
        id           INTEGER PRIMARY KEY,
        match_id     INTEGER NOT NULL REFERENCES matches(id),
        channel      TEXT NOT NULL,
        status       TEXT NOT NULL,           -- pending | sent | failed | shadow
        attempts     INTEGER NOT NULL DEFAULT 0,
        next_attempt TEXT NOT NULL,
        last_error   TEXT,
        created      TEXT NOT NULL,
        sent         TEXT,
        UNIQUE (match_id, channel)
    );
    CREATE INDEX alerts_due ON alerts (status, next_attempt);
    CREATE TABLE deliveries (
        id       INTEGER PRIMARY KEY,
        alert_id INTEGER NOT NULL REFERENCES alerts(id),
        at       TEXT NOT NULL,
        ok       INTEGER NOT NULL,
        reason   TEXT NOT NULL
    );
    """,
]

MIGRATIONS.append(
    # 2: stories (one alert per story, follow-ups, escalation); alert kinds and threading
    """
    CREATE TABLE stories (
        id         INTEGER PRIMARY KEY,
        signature  BLOB NOT NULL,              -- near-duplicate fingerprint of the first article
        title      TEXT NOT NULL,
        url        TEXT NOT NULL,
        severity   TEXT NOT NULL,
        outlets    TEXT NOT NULL,              -- JSON list of source names, in order of arrival
        followups  INTEGER NOT NULL DEFAULT 0,
        escalated  INTEGER NOT NULL DEFAULT 0,
        created    TEXT NOT NULL,
        last_seen  TEXT NOT NULL
    );
    CREATE INDEX stories_last_seen ON stories (last_seen);
    ALTER TABLE matches ADD COLUMN story_id INTEGER REFERENCES stories(id);
    CREATE TABLE alerts_v2 (
        id           INTEGER PRIMARY KEY,
        match_id     INTEGER NOT NULL REFERENCES matches(id),
        channel      TEXT NOT NULL,
        kind         TEXT NOT NULL DEFAULT 'alert',   -- alert | followup | escalation
        status       TEXT NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        next_attempt TEXT NOT NULL,
        last_error   TEXT,
        created      TEXT NOT NULL,
        sent         TEXT,
        note         TEXT,
        external_id  TEXT,                            -- what the channel calls the message
        UNIQUE (match_id, channel, kind)
    );
    INSERT INTO alerts_v2 (id, match_id, channel, status, attempts, next_attempt, last_error,
                           created, sent)
        SELECT id, match_id, channel, status, attempts, next_attempt, last_error, created, sent
        FROM alerts;
    DROP INDEX alerts_due;
    DROP TABLE alerts;
    ALTER TABLE alerts_v2 RENAME TO alerts;
    CREATE INDEX alerts_due ON alerts (status, next_attempt);
    """
)

MIGRATIONS.append(
    # 3: a source that answered 410 Gone is no longer polled (until its URL changes)
    """
    ALTER TABLE sources ADD COLUMN gone TEXT;
    """
)

MIGRATIONS.append(
    # 4: pages and full text. What `kind: auto` found for a source; an article's feed summary
    # beside its (extracted) text; the text blocks already seen on watched pages; earlier
    # versions of edited articles; what an article looked like when it alerted (evidence)
    """
    ALTER TABLE sources ADD COLUMN detected TEXT;
    ALTER TABLE articles ADD COLUMN summary TEXT NOT NULL DEFAULT '';
    CREATE TABLE page_blocks (
        source_id  INTEGER NOT NULL REFERENCES sources(id),
        hash       TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        PRIMARY KEY (source_id, hash)
    ) WITHOUT ROWID;
    CREATE TABLE revisions (
        id           INTEGER PRIMARY KEY,
        article_id   INTEGER NOT NULL REFERENCES articles(id),
        title        TEXT NOT NULL,
        text         TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        replaced     TEXT NOT NULL      -- when this version was replaced by a newer one
    );
    CREATE INDEX revisions_article ON revisions (article_id);
    CREATE TABLE evidence (
        id           INTEGER PRIMARY KEY,
        article_id   INTEGER NOT NULL REFERENCES articles(id),
        content_hash TEXT NOT NULL,
        title        TEXT NOT NULL,
        text         TEXT NOT NULL,
        raw_gzip     BLOB,              -- the fetched HTML page, gzip-compressed, if any
        captured     TEXT NOT NULL,
        UNIQUE (article_id, content_hash)
    );
    """
)

MIGRATIONS.append(
    # 5: adaptive scheduling learns each source's publishing rate; source health notices;
    # retention prunes old texts (identities stay)
    """
    ALTER TABLE sources ADD COLUMN publish_interval REAL;
    ALTER TABLE sources ADD COLUMN last_new TEXT;
    ALTER TABLE sources ADD COLUMN health TEXT;        -- an open notice: failing | silent
    ALTER TABLE articles ADD COLUMN pruned INTEGER NOT NULL DEFAULT 0;  -- text dropped
    CREATE TABLE notices (
        id           INTEGER PRIMARY KEY,
        source       TEXT NOT NULL,
        event        TEXT NOT NULL,        -- failing | recovered | silent | publishing
        message      TEXT NOT NULL,
        channel      TEXT NOT NULL,
        status       TEXT NOT NULL,        -- pending | sent | failed
        attempts     INTEGER NOT NULL DEFAULT 0,
        next_attempt TEXT NOT NULL,
        last_error   TEXT,
        created      TEXT NOT NULL,
        sent         TEXT
    );
    CREATE INDEX notices_due ON notices (status, next_attempt);
    """
)

MIGRATIONS.append(
    # 6: links of listing pages and sitemaps whose page could not be read, tried again later
    # and less and less often (not at every poll, and not ahead of new links)
    """
    CREATE TABLE link_failures (
        source_id  INTEGER NOT NULL REFERENCES sources(id),
        url        TEXT NOT NULL,
        failures   INTEGER NOT NULL,
        next_try   TEXT NOT NULL,
        last_error TEXT NOT NULL,
        PRIMARY KEY (source_id, url)
    );
    """
)

#: leases. A node claims due sources (owner, lease token, until when; next_due pushed to the
#: lease's end, so that a dead node's sources come due again by themselves) and pending
#: deliveries (claimed_by, claim_until) before it sends them. Standard SQL: PostgreSQL's
#: schema runs the same text (``store.postgres.schema``)
LEASES = """
    ALTER TABLE sources ADD COLUMN owner TEXT;
    ALTER TABLE sources ADD COLUMN lease TEXT;
    ALTER TABLE sources ADD COLUMN lease_until TEXT;
    ALTER TABLE sources ADD COLUMN claimed_due TEXT;  -- when it was due, at its claim
    CREATE INDEX sources_due ON sources (active, next_due);
    ALTER TABLE alerts ADD COLUMN claimed_by TEXT;
    ALTER TABLE alerts ADD COLUMN claim_until TEXT;
    ALTER TABLE notices ADD COLUMN claimed_by TEXT;
    ALTER TABLE notices ADD COLUMN claim_until TEXT;
    CREATE INDEX deliveries_at ON deliveries (at);
    CREATE TABLE state (
        key   TEXT PRIMARY KEY,               -- sources_hash: the source list last synced
        value TEXT NOT NULL
    );
    """

MIGRATIONS.append(LEASES)  # 7

MESSAGES = """
    CREATE TABLE messages (                   -- the messages each channel was given lately
        channel TEXT NOT NULL,                -- (flood control, counted over every node)
        at      TEXT NOT NULL
    );
    CREATE INDEX messages_channel ON messages (channel, at);
    """

MIGRATIONS.append(MESSAGES)  # 8

STORY_MATCHES = """
    CREATE INDEX matches_story ON matches (story_id, id);  -- a story's matches, first first
    """

MIGRATIONS.append(STORY_MATCHES)  # 9

#: what a desk says back (``monitor.desk``): verdicts on articles, kept with the article's text
#: (retention may prune it; the label must outlive it), and mutes. ``{id}``: the backend's
#: generated key
DESK = """
    CREATE TABLE verdicts (
        id         {id},
        article_id BIGINT NOT NULL UNIQUE REFERENCES articles(id),  -- the latest word stands
        kind       TEXT NOT NULL,                  -- right | wrong | missed
        actors     TEXT NOT NULL,                  -- JSON list: the actors that really fight
        reason     TEXT NOT NULL,
        match_id   BIGINT REFERENCES matches(id),  -- on an alert: its match
        rule       TEXT,
        title      TEXT NOT NULL,
        text       TEXT NOT NULL,
        url        TEXT NOT NULL,
        source     TEXT NOT NULL,
        published  TEXT,
        created    TEXT NOT NULL
    );
    CREATE INDEX verdicts_created ON verdicts (created);
    CREATE TABLE mutes (
        id      {id},
        kind    TEXT NOT NULL,                     -- pair | source | story
        target  TEXT NOT NULL,
        until   TEXT NOT NULL,
        reason  TEXT NOT NULL,
        created TEXT NOT NULL
    );
    CREATE INDEX mutes_until ON mutes (until);
    """

MIGRATIONS.append(DESK.format(id="INTEGER PRIMARY KEY"))  # 10

#: full-text search over stored articles (``store.sql.search``): FTS5, its own copy of the text
#: (an article pruned or edited is deleted from it by rowid), caught up after articles are
#: stored, never while
MIGRATIONS.append(  # 11
    """
    CREATE VIRTUAL TABLE articles_fts USING fts5(
        title, text, tokenize = 'unicode61 remove_diacritics 2'
    );
    """
)
