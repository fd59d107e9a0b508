"""Storage: what the pipeline needs from a database, and nothing SQLite-specific.

A store persists; it decides nothing about alerts. What stored articles' matches become (the
story each starts or joins, the alert rows on each channel, what the analyst reads) is planned
by pure code in the alert wing (``alert.planner``), which the store asks inside the
transaction that stores the articles, and whose plan (``monitor.plan``) it writes as given.

Contracts for every implementation (``tests/test_store_contract.py`` states them for every
backend):

* datetimes go in and come out timezone-aware UTC;
* the store decides what is new: ``add_articles`` inserts only identities it has not stored for
  that source (a unique constraint, not an in-memory set), and writes each new article's
  matches and their alert rows in the same transaction, before anything is sent;
* one ``Store`` is used from one event loop; methods may be awaited concurrently.

Backends are chosen by the scheme of ``storage.url`` (``BACKENDS``).
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from monitor.desk import Mute, Verdict
from monitor.errors import StorageError
from monitor.models import Alert, Article, Delivery, Match, Notice, Source, SourceState, StoryRef
from monitor.plan import Edit, Plan, Stored

if TYPE_CHECKING:
    from monitor.turns import HostTurns


@dataclass(frozen=True, slots=True)
class LinkFailure:
    """A link whose page could not be read: how many times in a row, when to try again."""

    failures: int
    next_try: datetime


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """Which alerts a reader wants (``find_alerts``): each field given narrows the list."""

    rule: str | None = None
    #: a configured actor among the match's (canonical name)
    actor: str | None = None
    severity: str | None = None
    source: str | None = None
    #: delivery: pending, sent, failed, muted
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    #: right, wrong, missed, or "none" (not judged yet)
    verdict: str | None = None
    story: int | None = None
    #: older than this alert id (the next page)
    before: int | None = None
    #: shadow rules' records too
    shadow: bool = False
    #: words the article must hold (full-text search over stored articles)
    search: str | None = None


@dataclass(frozen=True, slots=True)
class Version:
    """An article's text as it was: ``fetched`` when it alerted (the evidence kept), or
    ``replaced`` by an edit at ``at``."""

    what: str
    at: datetime
    title: str
    text: str


@dataclass(frozen=True, slots=True)
class SourceActivity:
    """A source's articles and alerts over a period."""

    articles: int
    alerts: int


@dataclass(frozen=True, slots=True)
class AddResult:
    new_articles: int
    matches: int
    #: alert rows written (one per alert and channel)
    alerts: int
    #: alerts: matches that alert, whatever the number of their channels
    alerted: int = 0


@dataclass(frozen=True, slots=True)
class StoredArticle:
    id: int
    article: Article
    #: rule names that matched it
    rules: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PollRecord:
    """What a poll changes in a source's state."""

    ok: bool
    next_due: datetime
    error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    #: new URL after a permanent redirect
    url: str | None = None
    #: the source answered 410 Gone: stop polling it
    gone: bool = False
    #: what ``kind: auto`` found the source to be (shown by ``monitor status``)
    detected: str | None = None
    #: forget the validators and body hash: the next poll reads the document again even if
    #: it has not changed (a listing page whose new links were not all fetched yet)
    reread: bool = False
    #: learned publishing rate and when something new last came (None: unchanged)
    publish_interval: float | None = None
    last_new: datetime | None = None
    #: the source's health changes: "failing", "silent", or "" (healthy again); None: same
    health: str | None = None
    #: health notices to send: (event, message, channel)
    notices: tuple[tuple[str, str, str], ...] = ()
    #: the lease the poll was claimed with (``claim_sources``): the record is written only
    #: while it holds (another node took the source over: dropped); None: an unleased poll
    lease: str | None = None


class Planner(Protocol):
    """What stored articles' matches become (``alert.planner.AlertPlanner``; pure)."""

    @property
    def window(self) -> float | None:
        """Seconds a story stays open for copies (None: no stories kept)."""

    def needs_stories(self, stored: Sequence[Stored]) -> bool:
        """Does planning these need the open stories?"""

    def plan(self, stored: Sequence[Stored], recent: Sequence[StoryRef] = ()) -> Plan: ...

    def plan_edits(self, edits: Sequence[Edit], recent: Sequence[StoryRef] = ()) -> Plan: ...

    def for_backlog(self) -> Planner:
        """The planner for a source's first poll: copies of known stories join silently."""


class Store(Protocol):
    async def sync_sources(self, sources: Sequence[Source]) -> None:
        """Make the configured sources known; sources no longer configured become inactive."""

    async def source_state(self, name: str) -> SourceState: ...

    async def source_states(self) -> list[SourceState]: ...

    async def release_claims(self, node: str | None) -> None:
        """Free what ``node`` (None: anyone) held before a restart."""

    def claim_as(self, node: str, lease: float) -> None:
        """Hand out deliveries (``due_alerts``, ``due_notices``) claimed for ``node`` for
        ``lease`` seconds, and record them only while the claim holds."""

    async def claim_sources(
        self, node: str, now: datetime, limit: int, lease: float
    ) -> list[SourceState]:
        """Due sources claimed for ``node`` for ``lease`` seconds (their states carry the
        token); nodes claiming at once never get the same source."""

    async def renew_lease(self, name: str, lease: str, now: datetime, seconds: float) -> bool:
        """Extend a lease still held by its token; False when another node took it."""

    async def forget_node(self, node: str) -> None:
        """``node`` stopped cleanly: no longer listed among the nodes alive."""

    async def release_lease(self, name: str, lease: str, due: datetime) -> None:
        """A poll whose record could not be written: its source free again, due at ``due``."""

    async def shift_schedule(self, seconds: float) -> None:
        """The wall clock stepped: every due time, lease and claim moves by ``seconds``."""

    async def tell_channels(
        self, source: str, event: str, message: str, channels: Sequence[str], at: datetime
    ) -> None:
        """Notices of ``event`` about ``source`` on ``channels`` (once a day at most)."""

    async def oldest_due_alert(self, now: datetime) -> datetime | None:
        """Since when the longest-waiting pending alert has been due (None: none is)."""

    async def heartbeat(self, node: str, listed: str, now: datetime) -> None:
        """``node`` is alive, listing these sources (``sources_hash``)."""

    async def nodes(self, since: datetime) -> dict[str, tuple[str, datetime]]:
        """Nodes alive since ``since``: name → (their source list's fingerprint, last seen)."""

    async def synced_hash(self) -> str | None:
        """The fingerprint of the source list last synced (``sql.sources.sources_hash``)."""

    async def next_due(self) -> datetime | None:
        """When the next source comes due."""

    async def first_polls(self, due: Mapping[str, datetime], now: datetime) -> None:
        """Spread first polls: sources never polled, or due later than given, are due then."""

    async def record_poll(self, name: str, record: PollRecord, now: datetime) -> None:
        """Record a poll; plain records may be buffered until ``flush`` (or any read of
        sources, or close)."""

    async def flush(self) -> None:
        """Write buffered poll records."""

    async def unseen(self, source: str, identities: Sequence[str]) -> set[str]:
        """The identities not yet stored for this source."""

    async def stored_hashes(self, source: str, identities: Sequence[str]) -> dict[str, str]:
        """Content hash of each of these identities already stored for this source."""

    async def revise_articles(
        self,
        source: str,
        batch: Sequence[tuple[Article, Sequence[Match]]],
        now: datetime,
        planner: Planner,
        lease: str | None = None,
    ) -> AddResult:
        """Store edited versions of stored articles (the old version becomes a revision) and,
        in the same transaction, the planner's plan for the edits (``plan_edits``); nothing
        when ``lease``, the poll's claim on the source, has been taken over by another node."""

    async def link_failures(self, source: str, links: Sequence[str]) -> dict[str, LinkFailure]:
        """Of these links (a listing page's, a sitemap's), those whose page could not be read
        the last time it was tried."""

    async def record_links(
        self,
        source: str,
        failed: Mapping[str, tuple[str, datetime]],
        read: Sequence[str],
    ) -> None:
        """Links whose page could not be read now (link → reason, when to try again; their
        count of failures goes up) and links whose page was read (forgotten as failures)."""

    async def unseen_blocks(self, source: str, hashes: Sequence[str]) -> set[str]:
        """Of these text-block hashes of a watched page, the ones not seen before."""

    async def remember_blocks(self, source: str, hashes: Sequence[str], now: datetime) -> None:
        """Remember these text blocks of a watched page as seen."""

    async def add_articles(
        self,
        source: str,
        batch: Sequence[tuple[Article, Sequence[Match]]],
        now: datetime,
        planner: Planner,
        record: PollRecord | None = None,
    ) -> AddResult:
        """Store the articles not stored yet and, in the same transaction, the planner's plan
        for their matches (with the stories still open, when it needs them) and ``record``,
        the poll's outcome (``record_poll``); nothing, neither articles nor record, when
        ``record.lease``, the poll's claim on the source, has been taken over by another node."""

    async def due_alerts(self, now: datetime, limit: int = 100) -> list[Alert]:
        """Pending alerts whose next attempt is due, oldest first."""

    async def reserve_messages(
        self, channel: str, wanted: int, limit: int, now: datetime, window: float = 60.0
    ) -> int:
        """Up to ``wanted`` messages for ``channel`` now, so that it is given at most
        ``limit`` in any ``window`` seconds by every node together: how many it may send
        (flood control; one node decides at a time for a channel)."""

    async def record_delivery(
        self, alert_id: int, delivery: Delivery, now: datetime, next_attempt: datetime | None
    ) -> None:
        """Record an attempt: sent, pending again at ``next_attempt``, or failed (None)."""

    async def get_alert(self, alert_id: int) -> Alert | None: ...

    async def defer(self, alert_ids: Sequence[int], until: datetime) -> None:
        """Hold pending alerts until ``until`` (flood control)."""

    async def retry_alert(self, alert_id: int, now: datetime) -> bool:
        """Make an alert pending again, due now; False if there is no such alert."""

    async def articles(self, limit: int = 20) -> list[StoredArticle]: ...

    async def alerts(
        self,
        limit: int = 20,
        status: str | None = None,
        rule: str | None = None,
        by_alert: bool = False,
    ) -> list[Alert]:
        """The newest alert rows; ``by_alert``: every channel's row of the newest alerts."""

    async def article(self, article_id: int) -> StoredArticle | None:
        """The stored article of this id (None: no such article)."""

    def iter_articles(
        self, since: datetime | None = None, batch: int = 500
    ) -> AsyncIterator[list[StoredArticle]]:
        """Every stored article (fetched at or after ``since``), oldest first, in batches."""

    async def due_notices(self, now: datetime, limit: int = 100) -> list[Notice]:
        """Pending source-health notices whose next attempt is due, oldest first."""

    async def record_notice(
        self, notice_id: int, delivery: Delivery, now: datetime, next_attempt: datetime | None
    ) -> None: ...

    async def prune(self, before: datetime) -> int:
        """Drop the text of articles fetched before ``before`` (and their old revisions);
        identities, matches, alerts and evidence stay. Returns how many were pruned."""

    async def compact(self) -> None:
        """Give the space of pruned rows back to the file system."""

    async def article_count(self) -> int: ...

    async def record_verdict(self, verdict: Verdict, now: datetime) -> Verdict:
        """Keep the desk's word on an article (``monitor.desk``), replacing an earlier one."""

    async def verdicts(self, limit: int | None = None) -> list[Verdict]:
        """The desk's verdicts, newest first."""

    async def add_mute(self, mute: Mute, now: datetime) -> Mute: ...

    async def mutes(self, now: datetime, ended: bool = False) -> list[Mute]:
        """The mutes in force at ``now`` (``ended``: ended ones too), newest first."""

    async def end_mute(self, mute_id: int, now: datetime) -> bool:
        """End a mute in force now; False if there is none of this id."""

    async def mark_muted(self, alert_ids: Sequence[int], why: str) -> None:
        """Pending alerts a mute keeps from being sent: marked muted, never sent."""

    async def find_alerts(self, f: AlertFilter, limit: int = 50) -> list[Alert]:
        """Every channel's row of the newest alerts ``f`` lets through, newest first."""

    async def story_alerts(self, story_id: int) -> list[Alert]:
        """Every row of a story, in the order they were made."""

    async def verdicts_on(self, article_ids: Sequence[int]) -> dict[int, Verdict]: ...

    async def article_versions(self, article_ids: Sequence[int]) -> dict[int, list[Version]]:
        """Each article's texts as they were (evidence when it alerted; before each edit)."""

    async def story_outlets(self, story_ids: Sequence[int]) -> dict[int, list[str]]:
        """The sources that reported each story, in the order they did."""

    async def search_articles(self, text: str, limit: int = 20) -> list[StoredArticle]:
        """The newest stored articles holding every word of ``text``."""

    async def index_articles(self, limit: int = 2000) -> int:
        """Bring the full-text index up to date with up to ``limit`` articles stored since
        it last was (``store.sql.search``); how many."""

    async def source_activity(self, since: datetime) -> dict[str, SourceActivity]:
        """Each source's articles and alerts since ``since``."""

    async def alert_counts(self) -> dict[str, int]:
        """Alerts by status."""

    async def check_writable(self) -> str | None:
        """None when the database takes writes; else why not."""

    def host_turns(self) -> HostTurns | None:
        """Politeness shared by the nodes on this database (per-host limit and delay), for
        the fetcher; None when one process uses it (its fetcher's own limits hold)."""

    async def close(self) -> None: ...


#: storage backends by the scheme of ``storage.url``: module and class (loaded when used)
BACKENDS: dict[str, str] = {
    "sqlite": "monitor.store.sqlite:SQLiteStore",
    "postgresql": "monitor.store.postgres:PostgresStore",
    "postgres": "monitor.store.postgres:PostgresStore",
}


def sources_hash(sources: Sequence[Source]) -> str:
    """A fingerprint of a source list (names, URLs, kinds), whatever its order: nodes that
    share a database must list the same sources."""
    listed = sorted(f"{s.name}\t{s.url}\t{s.kind}" for s in sources)
    return hashlib.sha256("\n".join(listed).encode()).hexdigest()[:16]


#: a node not heard from for this long is taken for gone
NODE_ALIVE = 30.0
#: … and for this long is late: a node says it is alive every 10 s (``daemon.runtime``), so
#: one silent this long has missed a beat (killed, hung or cut off, most likely)
NODE_LATE = 15.0


async def sync_beside_nodes(store: Store, sources: Sequence[Source], node: str | None) -> bool:
    """Sync the configured sources unless nodes alive on the database list others (a node
    started with an older configuration must not take the running nodes' list away); False
    when it did not. A node reloading its configuration syncs regardless (``sync_sources``):
    that is how a new list reaches the nodes, each claiming nothing until it has it too."""
    mine = sources_hash(sources)
    alive = await alive_nodes(store)
    if any(listed != mine for name, (listed, _seen) in alive.items() if name != node):
        return False
    await store.sync_sources(sources)
    return True


async def shared_turns(store: Store, node: str | None) -> HostTurns | None:
    """The turns at hosts to take through the database while other nodes are alive on it
    (per-host limits and delays then hold for them all); None while this one is alone (its
    fetcher's own limits are exact then, and cost no statement a request)."""
    turns = store.host_turns()
    if turns is None or not any(name != node for name in await alive_nodes(store)):
        return None
    return turns


class NotStored(ValueError):
    """No stored alert or article of this id."""

    def __init__(self, what: str, ident: int) -> None:
        super().__init__(f"no {what} {ident}")
        self.what = what


async def judged(
    store: Store, alert_id: int | None, article_id: int | None
) -> tuple[int, Article, Alert | None]:
    """What a verdict is given on: an alert (its article) or an article, as stored; NotStored
    when there is none of that id."""
    alert = None
    if alert_id is not None:
        alert = await store.get_alert(alert_id)
        if alert is None or alert.article_id is None:
            raise NotStored("alert", alert_id)
        article_id = alert.article_id
    if article_id is None:
        raise ValueError("a verdict is on an alert or an article")
    stored = await store.article(article_id)
    if stored is None:
        raise NotStored("article", article_id)
    return article_id, stored.article, alert


async def alive_nodes(store: Store) -> dict[str, tuple[str, datetime]]:
    """The nodes that said they were alive lately: name → (source list hash, when)."""
    return await store.nodes(datetime.now(UTC) - timedelta(seconds=NODE_ALIVE))


def scheme_of(url: str) -> str:
    return url.partition(":")[0].lower()


async def open_store(url: str, pool_size: int = 4) -> Store:
    """The store a ``storage.url`` names, opened (and migrated); ``pool_size``: connections
    a server database's store keeps (``storage.pool_size``; SQLite has one)."""
    where = BACKENDS.get(scheme_of(url))
    if where is None:
        known = ", ".join(f"{s}://" for s in BACKENDS)
        raise StorageError(f"no storage backend for {url!r} (known: {known})")
    module, _, name = where.partition(":")
    # imported in a thread: a backend's code and its driver take a while to load, which must
    # not happen inside a step of the event loop
    backend = getattr(await asyncio.to_thread(importlib.import_module, module), name)
    store: Store = await backend.open(url, pool_size=pool_size)
    return store
