"""The plan of rows a store writes for articles it has stored: the records between the alert
planner (``alert.planner``, pure) and the store (``store``), which writes a plan as it is
given, in one transaction with the articles.

New stories have no id until they are written: a plan numbers them (``StoryKey.new``), and the
store turns the numbers into ids as it writes them, in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from monitor.models import AlertStatus, Article, Match


@dataclass(frozen=True, slots=True)
class Stored:
    """An article the store has just written: new, or the new version of an edited one."""

    article_id: int
    article: Article
    source: str
    matches: Sequence[Match]
    #: when it was stored (its poll's time)
    at: datetime
    #: for an edit: what it changed (shown with its alerts)
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Earlier:
    """A match an article had before an edit, and the channels it alerted on."""

    match_id: int
    rule: str
    mode: str
    channels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Edit:
    """An edited article as stored, the version it replaced, and its earlier matches."""

    stored: Stored
    old_title: str
    old_text: str
    earlier: Sequence[Earlier]


@dataclass(frozen=True, slots=True)
class StoryKey:
    """An existing story (``id``) or one the plan starts (``new``: its number in the plan)."""

    id: int | None = None
    new: int | None = None


@dataclass(frozen=True, slots=True)
class StoryWrite:
    """A story to create (``create``: the first write of a new one) or to update."""

    key: StoryKey
    create: bool
    signature: bytes
    #: source names that reported it, in order of arrival
    outlets: tuple[str, ...]
    followups: int
    escalated: bool
    #: when (its last_seen; for a new story also its creation)
    at: datetime
    #: a new story's first article and severity
    title: str = ""
    url: str = ""
    severity: str = "low"


@dataclass(frozen=True, slots=True)
class PlannedAlert:
    channel: str
    status: AlertStatus
    #: when it is first due (a digest rule's alerts wait for its period)
    due: datetime
    #: alert | followup | escalation
    kind: str = "alert"
    #: what the analyst reads beside it ("also reported by …", what an edit changed)
    note: str | None = None


@dataclass(frozen=True, slots=True)
class PlannedMatch:
    article_id: int
    match: Match
    #: the story of a live match of an alerting article, when stories are kept
    story: StoryKey | None
    alerts: tuple[PlannedAlert, ...]
    #: when it was found (its article's storing time)
    at: datetime


@dataclass(frozen=True, slots=True)
class EditNotice:
    """An earlier alert whose rule the edited article no longer meets: a notice on a channel
    that alert went to."""

    match_id: int
    channel: str
    note: str
    at: datetime


@dataclass(slots=True)
class Plan:
    """The rows to write, in this order: stories, matches with their alerts, notices, and the
    alerting articles kept as evidence (as they are now: they get edited or pulled later)."""

    stories: list[StoryWrite] = field(default_factory=list)
    matches: list[PlannedMatch] = field(default_factory=list)
    notices: list[EditNotice] = field(default_factory=list)
    evidence: dict[int, tuple[Article, datetime]] = field(default_factory=dict)
