"""The records that flow between the pipeline stages.

Small, immutable and typed; no I/O and no behaviour beyond helpers. Every datetime is
timezone-aware UTC. Pydantic stays at the configuration boundary (``config.py``); inside the
pipeline these dataclasses are passed.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Literal, TypeVar

#: "auto", or the name of a kind of source (``poll.kinds.registry``: feed, sitemap, page…)
SourceKindName = str
Severity = Literal["low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high", "critical")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Source:
    """A feed or page to poll, as configured."""

    #: unique name, used in logs, the database and ``monitor status``
    name: str
    #: where to fetch it
    url: str
    #: seconds between polls
    interval: float
    #: what the document is (``auto`` detects)
    kind: SourceKindName = "auto"
    #: User-Agent for this source; None: the configured default
    user_agent: str | None = None
    #: fetch entries' pages for their full text: True, False, or "auto" (short summaries)
    full_text: bool | Literal["auto"] = "auto"
    #: listing pages: CSS selector and URL pattern narrowing the article links
    link_selector: str | None = None
    link_pattern: str | None = None
    same_site: bool = True
    #: listing pages and full text: at most this many pages fetched per poll
    max_new: int = 20
    #: pages: watch for new article ``links`` or for new ``text`` blocks
    watch: Literal["links", "text"] = "links"
    #: bounds of every poll delay, and whether to adapt to the publishing rate
    min_interval: float = 60.0
    max_interval: float = 24 * 3600.0
    adapt: bool = True
    #: silent for longer than this is reported; None: learned from the source's history
    expect_every: float | None = None


@dataclass(frozen=True, slots=True)
class SourceState:
    """What the store remembers about a source between polls."""

    name: str
    #: the URL actually polled (a permanent redirect updates it)
    url: str
    etag: str | None = None
    last_modified: str | None = None
    #: hash of the last body, to skip re-parsing unchanged documents served without 304
    body_hash: str | None = None
    last_success: datetime | None = None
    last_attempt: datetime | None = None
    #: consecutive failures; 0 after a success
    failures: int = 0
    last_error: str | None = None
    next_due: datetime | None = None
    #: when the source answered 410 Gone; it is not polled again until its URL changes
    gone: datetime | None = None
    #: what ``kind: auto`` found it to be, e.g. "feed (announced by the page)"
    detected: str | None = None
    #: typical seconds between new articles (learned), and when the last new one came
    publish_interval: float | None = None
    last_new: datetime | None = None
    #: an open health notice: "failing" or "silent" (None: healthy)
    health: str | None = None
    #: article links (of a listing page or sitemap) whose page could not be read, waiting to
    #: be tried again
    failing_links: int = 0
    #: a node's claim on the source: its lease token, the node, and until when it holds
    lease: str | None = None
    owner: str | None = None
    lease_until: datetime | None = None
    #: when the source was due at its last claim (how late claims come: lease lag)
    claimed_due: datetime | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The outcome of one HTTP fetch that got an answer we can use."""

    #: URL after redirects
    url: str
    status: int
    #: response headers, names lower-cased
    headers: dict[str, str]
    #: decoded (decompressed) body; empty when not modified
    body: bytes = b""
    #: True on 304 Not Modified
    not_modified: bool = False
    #: True when a redirect was permanent (301/308), so the source URL should follow it
    permanent_redirect: bool = False
    #: seconds the request took
    elapsed: float = 0.0


def _pickled_as_tuple(cls: type[T]) -> type[T]:
    """Pickle a slots dataclass as its constructor and field values: records cross to worker
    processes by the thousand, and dataclasses' own slots pickling looks up the fields anew
    for every object (about five times slower)."""
    names = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]
    values = operator.attrgetter(*names)  # a tuple of them, in one C call

    def __reduce__(self: T) -> tuple[type[T], tuple[object, ...]]:
        got = values(self)
        return cls, got if len(names) > 1 else (got,)

    cls.__reduce__ = __reduce__  # type: ignore[assignment,method-assign]
    return cls


@_pickled_as_tuple
@dataclass(frozen=True, slots=True)
class Article:
    """One article (feed entry or page), cleaned, as the parse stage produces it."""

    #: name of the source it came from
    source: str
    #: stable identity within the source: guid, else canonical link, else a content hash
    identity: str
    #: canonical URL (tracking parameters and fragment removed); may be empty
    url: str
    #: the entry's own id/guid, if it had one
    guid: str | None
    title: str
    #: clean plain text; paragraphs separated by blank lines
    text: str
    #: publication time in UTC, or None when unknown (never invented)
    published: datetime | None
    #: when we fetched it
    fetched: datetime
    #: sha256 of title and text as the source gave them (for a feed entry: its own text, even
    #: when ``text`` is the page's full text), hex; an edit changes it
    content_hash: str
    #: the feed's summary when ``text`` is the full text read from the article's page
    summary: str = ""
    #: the article page as fetched (kept as evidence when it alerts), if a page was fetched
    raw_html: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def dated(self) -> datetime:
        """When it was published, or fetched when the source does not say: the date its
        names are read at (after December 2024 "the Syrian army" is the new government's)."""
        return self.published or self.fetched


@_pickled_as_tuple
@dataclass(frozen=True, slots=True)
class ActorMention:
    """One canonical actor found in a match, with the words the text used for it."""

    #: canonical actor name from the configuration
    actor: str
    #: surface forms as written in the text, in order of appearance, unique
    forms: tuple[str, ...]


@_pickled_as_tuple
@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of article text that explains a match."""

    #: ``title`` or ``body``
    field: Literal["title", "body"]
    #: character offsets into that field of the article (end exclusive)
    start: int
    end: int
    #: the text of the span itself
    text: str
    #: offsets, relative to ``start``, of the words that matched (actors, keywords)
    marks: tuple[tuple[int, int], ...] = ()


@_pickled_as_tuple
@dataclass(frozen=True, slots=True)
class Clash:
    """Who fights whom, as the role stage read it from one sentence's grammar."""

    #: the conflict word as written ("attacked", "clashes", "launched an assault")
    predicate: str
    #: canonical actors of the side that acts (for a mutual fight: one side)
    attacker: tuple[str, ...]
    #: canonical actors of the side acted on (for a mutual fight: the other side)
    target: tuple[str, ...]
    #: both sides act ("clashes between A and B"): no attacker and target
    mutual: bool = False
    #: how the text names each side, as written ("regime forces")
    attacker_text: tuple[str, ...] = ()
    target_text: tuple[str, ...] = ()

    def describe(self) -> str:
        """``Hezbollah (attacker) → attacked → regime forces [Assad regime] (target)``; a
        mutual fight: ``HTS ↔ clashes ↔ Ahrar al-Sham [NLF]``."""
        a = _side_text(self.attacker, self.attacker_text)
        b = _side_text(self.target, self.target_text)
        if self.mutual:
            return f"{a} ↔ {self.predicate} ↔ {b}"
        return f"{a} (attacker) → {self.predicate} → {b} (target)"


def _side_text(actors: tuple[str, ...], names: tuple[str, ...]) -> str:
    """The names as written, each canonical actor that none of them spells out in brackets."""
    shown = ", ".join(dict.fromkeys(" ".join(n.split()) for n in names)) or ", ".join(actors)
    folded = shown.lower()
    missing = [a for a in actors if a.lower() not in folded]
    return f"{shown} [{', '.join(missing)}]" if missing and names else shown


@_pickled_as_tuple
@dataclass(frozen=True, slots=True)
class Match:
    """A rule that matched an article, with everything needed to explain why."""

    rule: str
    severity: Severity
    #: higher is stronger; title and lead matches weigh more, metonyms less
    score: float
    actors: tuple[ActorMention, ...]
    #: keyword terms found, as written
    keywords: tuple[str, ...]
    #: the sentence(s) (or window) where the rule was satisfied
    spans: tuple[Span, ...]
    #: ``live`` rules alert; ``shadow`` rules only record
    mode: Literal["live", "shadow"] = "live"
    #: notes such as "downgraded: denial cue 'denied'"
    notes: tuple[str, ...] = ()
    #: who fights whom, where the sentence's grammar was read (the role stage)
    clashes: tuple[Clash, ...] = ()

    @property
    def actor_names(self) -> tuple[str, ...]:
        return tuple(a.actor for a in self.actors)

    def snippet(self, mark: tuple[str, str] = ("**", "**"), limit: int = 400) -> str:
        """The first span with matched words wrapped in ``mark``; trimmed to ``limit``."""
        if not self.spans:
            return ""
        return mark_span(self.spans[0], mark, limit)

    def explanation_lines(self) -> list[str]:
        """Why it matched, one line each: the roles read from the text, then the notes."""
        return [c.describe() for c in self.clashes] + list(self.notes)


def mark_span(span: Span, mark: tuple[str, str], limit: int = 400) -> str:
    """Wrap the marked words of a span, collapse whitespace, trim around the first mark."""
    out: list[str] = []
    pos = 0
    for start, end in sorted(span.marks):
        if start < pos:
            continue
        out.append(span.text[pos:start])
        out.append(mark[0] + span.text[start:end] + mark[1])
        pos = end
    out.append(span.text[pos:])
    text = " ".join("".join(out).split())
    if len(text) <= limit:
        return text
    first = text.find(mark[0]) if span.marks else 0
    begin = max(0, min(first - limit // 3, len(text) - limit))
    cut = text[begin : begin + limit]
    return ("…" if begin else "") + cut + ("…" if begin + limit < len(text) else "")


AlertKind = Literal["alert", "followup", "escalation"]


@dataclass(frozen=True, slots=True)
class StoryRef:
    """A story an incoming article may belong to (as the store remembers it)."""

    id: int
    #: opaque near-duplicate fingerprint of its first article
    signature: bytes
    #: source names that reported it, in order of arrival
    outlets: tuple[str, ...]
    followups: int
    escalated: bool
    #: its first article's title, the actors its first match set against each other, and
    #: when it began: the same event told in other words is found by these
    title: str = ""
    actors: frozenset[str] = frozenset()
    created: datetime | None = None


@dataclass(frozen=True, slots=True)
class StoryDecision:
    """Where an article's alerts go: a new story, or an existing one."""

    #: None: start a new story
    story_id: int | None
    #: the article's source had not reported this story yet
    new_outlet: bool = True
    #: send a short "also reported by" follow-up
    followup: bool = False
    #: re-raise the story once at a higher severity ("now reported by N outlets")
    escalate: bool = False
    #: outlets after this article
    outlets: int = 1


class AlertStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SHADOW = "shadow"
    #: kept from being sent by a mute (``monitor.desk``)
    MUTED = "muted"


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert in the outbox: one match to be delivered to one channel."""

    id: int
    channel: str
    status: AlertStatus
    attempts: int
    created: datetime
    match: Match
    #: article fields the channels show
    article_title: str
    article_url: str
    source: str
    published: datetime | None
    last_error: str | None = None
    sent: datetime | None = None
    #: alert, or a follow-up or escalation of an earlier alert's story
    kind: AlertKind = "alert"
    story_id: int | None = None
    #: for follow-ups and escalations: "also reported by …", "now reported by 5 outlets"
    note: str | None = None
    #: the channel's id of the story's first message (Slack ts, email Message-ID), to thread
    thread_ref: str | None = None
    #: the title of the story's first article
    story_title: str | None = None
    #: the stored article and match it tells of (what a verdict on it is about)
    article_id: int | None = None
    match_id: int | None = None

    @property
    def severity(self) -> Severity:
        """The match's severity; an escalation is one step higher."""
        if self.kind != "escalation":
            return self.match.severity
        return SEVERITIES[min(len(SEVERITIES) - 1, SEVERITIES.index(self.match.severity) + 1)]

    @property
    def idempotency_key(self) -> str:
        """Stable across retries of this alert, unique across databases in practice."""
        return f"monitor-{self.id}-{int(self.created.timestamp() * 1000)}"


@dataclass(frozen=True, slots=True)
class Delivery:
    """What a channel says about one delivery attempt."""

    ok: bool
    #: when not ok: True if trying again later may work (network, 5xx, 429)
    retry: bool = False
    #: short reason, shown in ``monitor alerts``; never a secret
    reason: str = ""
    #: seconds the service asked us to wait before the next attempt
    retry_after: float | None = None
    #: the channel's id for the message sent (Slack ts, email Message-ID), for threading
    external_id: str | None = None


#: "test": ``monitor check --channels`` asking a channel to carry one message
#: "channel-failing": a channel that failed for good, told on the others
NoticeEvent = Literal["failing", "recovered", "silent", "publishing", "test", "channel-failing"]


@dataclass(frozen=True, slots=True)
class Notice:
    """An operational message about a source's health (not about the news): it has failed
    N times in a row, works again, has gone silent, or publishes again."""

    id: int
    source: str
    event: NoticeEvent
    message: str
    channel: str
    created: datetime
    attempts: int = 0

    @property
    def idempotency_key(self) -> str:
        return f"monitor-notice-{self.id}"


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """The result of polling one source once."""

    source: str
    #: ``ok``, ``not-modified``, ``unchanged`` (same body, no 304) or ``error``
    status: Literal["ok", "not-modified", "unchanged", "error"]
    entries: int = 0
    new_articles: int = 0
    #: stored articles the publisher edited (kept as revisions)
    revised: int = 0
    matches: int = 0
    #: alert rows (one per alert and channel)
    alerts: int = 0
    error: str | None = None
    elapsed: float = 0.0
    #: seconds the server asked us to wait, if any
    retry_after: float | None = None
    notes: tuple[str, ...] = field(default=())
    #: how long the document took to fetch, and its size (None, 0: nothing was fetched)
    fetch_seconds: float | None = None
    fetched_bytes: int = 0
    #: False: the poll's record could not be written (the database took nothing)
    stored: bool = True
    #: alerts: matches that alert, whatever the number of their channels
    alerted: int = 0


# --------------------------------------------------------------------------- JSON round-trips


def match_to_dict(m: Match, described: bool = False) -> dict[str, object]:
    """A Match as plain JSON-able data (the documented ``explanation`` of alerts; with
    ``described``, each clash also as a sentence, for readers: the webhook body)."""
    return {
        "rule": m.rule,
        "severity": m.severity,
        "score": m.score,
        "mode": m.mode,
        "actors": [{"actor": a.actor, "forms": list(a.forms)} for a in m.actors],
        "keywords": list(m.keywords),
        "spans": [
            {
                "field": s.field,
                "start": s.start,
                "end": s.end,
                "text": s.text,
                "marks": [list(x) for x in s.marks],
            }
            for s in m.spans
        ],
        "notes": list(m.notes),
        "clashes": [
            {
                "predicate": c.predicate,
                "attacker": list(c.attacker),
                "target": list(c.target),
                "mutual": c.mutual,
                "attacker_text": list(c.attacker_text),
                "target_text": list(c.target_text),
                **({"explanation": c.describe()} if described else {}),
            }
            for c in m.clashes
        ],
    }


def match_from_dict(d: dict[str, object]) -> Match:
    actors = d.get("actors") or []
    spans = d.get("spans") or []
    assert isinstance(actors, list) and isinstance(spans, list)
    return Match(
        rule=str(d["rule"]),
        severity=d["severity"],  # type: ignore[arg-type]
        score=float(d["score"]),  # type: ignore[arg-type]
        mode=d.get("mode", "live"),  # type: ignore[arg-type]
        actors=tuple(ActorMention(a["actor"], tuple(a["forms"])) for a in actors),
        keywords=tuple(d.get("keywords") or ()),  # type: ignore[arg-type]
        spans=tuple(
            Span(s["field"], s["start"], s["end"], s["text"], tuple(tuple(x) for x in s["marks"]))
            for s in spans
        ),
        notes=tuple(d.get("notes") or ()),  # type: ignore[arg-type]
        clashes=tuple(_clash_from_dict(c) for c in d.get("clashes") or ()),  # type: ignore[attr-defined]
    )


def _clash_from_dict(c: dict[str, object]) -> Clash:
    def strings(key: str) -> tuple[str, ...]:
        value = c.get(key) or ()
        assert isinstance(value, list | tuple)
        return tuple(str(v) for v in value)

    return Clash(
        predicate=str(c.get("predicate", "")),
        attacker=strings("attacker"),
        target=strings("target"),
        mutual=bool(c.get("mutual", False)),
        attacker_text=strings("attacker_text"),
        target_text=strings("target_text"),
    )
