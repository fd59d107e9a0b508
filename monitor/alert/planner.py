"""What stored articles' matches become: the plan of rows a store writes (``plan``). Pure.

The store inserts the articles (it alone knows which are new: a unique constraint) and, in the
same transaction, asks the planner what follows from them: which story each alerting article
starts or joins (``alert.stories``), the match rows, and on each channel the alert rows —
an alert, or for a copy of a story already alerted an "also reported by" follow-up and an
escalation, each with its due time (digest rules wait for their period) and the words the
analyst reads. An edited article alerts for the rules its new version meets for the first time
(the note says what the edit changed), and an earlier alert whose rule no longer matches gets
an ``edit`` notice. The store writes the plan as it is given; every backend shares this code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from monitor.alert.edits import edit_note
from monitor.alert.stories import Event, event_of
from monitor.models import SEVERITIES, AlertStatus, Article, Match, StoryDecision, StoryRef
from monitor.plan import (
    Edit,
    EditNotice,
    Plan,
    PlannedAlert,
    PlannedMatch,
    Stored,
    StoryKey,
    StoryWrite,
)


class StoryDecider(Protocol):
    """Whether an alerting article starts a story or joins one (``alert.stories.StoryPolicy``)."""

    @property
    def window(self) -> float:
        """Seconds a story stays open for copies."""

    def fingerprint(self, article: Article) -> bytes: ...

    def decide(
        self,
        signature: bytes,
        source: str,
        candidates: Sequence[StoryRef],
        event: Event | None = None,
    ) -> StoryDecision: ...


@dataclass(frozen=True)
class AlertPlanner:
    """How matches become alert rows: the channels of each match, the story policy (None:
    every alerting article alerts), and when an alert is first due (default: now)."""

    channels_for: Callable[[Match], Sequence[str]]
    stories: StoryDecider | None = None
    deliver_at: Callable[[Match, datetime], datetime] | None = None
    #: the outlet a source belongs to (``alert.outlets``: one feed reached two ways is one)
    outlet_of: Callable[[str], str] | None = None
    #: old news: published longer than this (seconds) before it was seen (None: never)
    late_after: float | None = None
    #: what old news does: "lower" (lowest severity, said late), "quiet" (no alert), "alert"
    late: str = "lower"
    #: a source's backlog (its first poll): copies of stories already alerted join them
    #: without a word (a new mirror feed sends no burst of "also reported by")
    quiet_copies: bool = False
    #: seconds a follow-up waits, so that the outlets reporting a story within them are said
    #: in one message
    followup_wait: float = 0.0

    def for_backlog(self) -> AlertPlanner:
        """This planner for a source's first poll (``quiet_copies``)."""
        return replace(self, quiet_copies=True)

    @property
    def window(self) -> float | None:
        """Seconds a story stays open for copies (the recent stories a plan needs); None:
        no stories."""
        return self.stories.window if self.stories is not None else None

    def needs_stories(self, stored: Sequence[Stored]) -> bool:
        """Will planning these need the open stories (an alerting match, stories kept)?"""
        return self.stories is not None and any(m.mode == "live" for s in stored for m in s.matches)

    def plan(self, stored: Sequence[Stored], recent: Sequence[StoryRef] = ()) -> Plan:
        """The rows that follow from stored articles' matches. ``recent``: the stories still
        open (``window``), as the database holds them."""
        plan = Plan()
        stories = _Stories(list(recent), plan, self.outlet_of)
        for s in stored:
            late = self._late(s)
            if late is not None:
                old = self._old_news(s, late)
                if any(pm.alerts for pm in old):
                    plan.evidence[s.article_id] = (s.article, s.at)  # an alert's evidence
                plan.matches += old
                continue
            live = [m for m in s.matches if m.mode == "live"]
            decision: _Placed | None = None
            if live:
                plan.evidence[s.article_id] = (s.article, s.at)
                if self.stories is not None:
                    outlet = self.outlet_of(s.source) if self.outlet_of else s.source
                    decision = stories.place(self.stories, s, live, outlet)
            for m in s.matches:
                first = m is (live[0] if live else None)
                story = decision.key if decision is not None and m.mode == "live" else None
                alerts = tuple(self._alerts(m, decision, s, first))
                plan.matches.append(PlannedMatch(s.article_id, m, story, alerts, s.at))
        return plan

    def _late(self, s: Stored) -> str | None:
        """How late an article is, in words, if it is old news (None: news)."""
        published = s.article.published
        if self.late_after is None or self.late == "alert" or published is None:
            return None
        late = (s.at - published).total_seconds()
        if late <= self.late_after:
            return None
        days = late / 86400
        gap = f"{days:.0f} days" if days >= 2 else f"{late / 3600:.0f} hours"
        return f"late: published {published:%Y-%m-%d}, {gap} before it was seen"

    def _old_news(self, s: Stored, late: str) -> list[PlannedMatch]:
        """Old news seen now (a feed's backlog, an old item republished): its matches are
        kept; it alerts at the lowest severity, saying so, or not at all (``late``), and
        takes no part in stories (a copy of it is not a new report of today's event)."""
        out = []
        for m in s.matches:
            alerts: tuple[PlannedAlert, ...] = ()
            if m.mode == "live" and self.late == "lower":
                m = replace(m, severity=SEVERITIES[0])
                due = self.deliver_at(m, s.at) if self.deliver_at else s.at
                note = f"{late}; {s.note}" if s.note else late
                alerts = tuple(
                    PlannedAlert(channel, AlertStatus.PENDING, due, "alert", note)
                    for channel in self.channels_for(m)
                )
            elif m.mode == "shadow":
                alerts = tuple(self._alerts(m, None, s, False))
            out.append(PlannedMatch(s.article_id, m, None, alerts, s.at))
        return out

    def plan_edits(self, edits: Sequence[Edit], recent: Sequence[StoryRef] = ()) -> Plan:
        """An edited article alerts for the rules its new version meets for the first time,
        its note showing the edit; an earlier alert whose rule no longer matches gets an
        ``edit`` notice on each channel it went to."""
        fresh: list[Stored] = []
        notices: list[EditNotice] = []
        for e in edits:
            s = e.stored
            change = edit_note(e.old_title, e.old_text, s.article.title, s.article.text)
            note = f"edited by its publisher, and now matches: {change}"
            before = {m.rule for m in e.earlier}
            new_rules = [m for m in s.matches if m.rule not in before]
            if new_rules:
                fresh.append(Stored(s.article_id, s.article, s.source, new_rules, s.at, note))
            still = {m.rule for m in s.matches}
            gone = f"no longer matches after an edit: {change}"
            notices += [
                EditNotice(m.match_id, channel, gone, s.at)
                for m in e.earlier
                if m.mode == "live" and m.rule not in still
                for channel in m.channels
            ]
        plan = self.plan(fresh, recent)
        plan.notices = notices
        return plan

    def _alerts(
        self, m: Match, decision: _Placed | None, s: Stored, first: bool
    ) -> list[PlannedAlert]:
        if self.quiet_copies and decision is not None and not decision.created:
            return []  # a backlog's copy of a story already told: it joins without a word
        due = self.deliver_at(m, s.at) if self.deliver_at else s.at
        out = []
        for channel in self.channels_for(m):
            outlet = self.outlet_of(s.source) if self.outlet_of else s.source
            for kind, status, extra in _alert_kinds(m, decision, outlet, first):
                text = f"{extra}; {s.note}" if extra and s.note else (extra or s.note)
                when = due + timedelta(seconds=self.followup_wait) if kind == "followup" else due
                out.append(PlannedAlert(channel, status, when, kind, text))
        return out


@dataclass(frozen=True, slots=True)
class _Placed:
    key: StoryKey
    created: bool
    followup: bool = False
    escalate: bool = False
    outlets: int = 1


class _Stories:
    """The open stories as the plan changes them, article after article."""

    def __init__(
        self, open_: list[StoryRef], plan: Plan, outlet_of: Callable[[str], str] | None = None
    ) -> None:
        self.open = open_
        self.plan = plan
        #: the outlet of a source as known now: a story's earlier outlets are read through it
        #: too (two sources found to be one outlet after the story began)
        self.outlet_of = outlet_of
        #: a new story's number in the plan, for the refs that stand for it until written
        self._new: dict[int, int] = {}

    def place(self, policy: StoryDecider, s: Stored, live: list[Match], source: str) -> _Placed:
        article = s.article
        signature = policy.fingerprint(article)
        seen = self.open
        if self.outlet_of is not None:
            of = self.outlet_of
            seen = [replace(c, outlets=tuple(dict.fromkeys(map(of, c.outlets)))) for c in seen]
        decision = policy.decide(signature, source, seen, event_of(article, live[0], s.at))
        if decision.story_id is None:
            number = len(self._new)
            ref_id = -(number + 1)  # a stand-in id no stored story has
            self._new[ref_id] = number
            severity = max((m.severity for m in live), key=SEVERITIES.index)
            key = StoryKey(new=number)
            self.plan.stories.append(
                StoryWrite(
                    key,
                    True,
                    signature,
                    (source,),
                    0,
                    False,
                    s.at,
                    article.title,
                    article.url,
                    severity,
                )
            )
            actors = frozenset(live[0].actor_names)
            self.open.append(
                StoryRef(ref_id, signature, (source,), 0, False, article.title, actors, s.at)
            )
            return _Placed(key, created=True)
        k = next(i for i, c in enumerate(self.open) if c.id == decision.story_id)
        old = self.open[k]
        outlets = old.outlets + ((source,) if decision.new_outlet else ())
        now_ref = replace(
            old,
            outlets=outlets,
            # an escalation replaces its follow-up message: not counted against the cap
            followups=old.followups + (decision.followup and not decision.escalate),
            escalated=old.escalated or decision.escalate,
        )
        self.open[k] = now_ref
        key = StoryKey(new=self._new[old.id]) if old.id in self._new else StoryKey(id=old.id)
        self.plan.stories.append(
            StoryWrite(
                key, False, old.signature, outlets, now_ref.followups, now_ref.escalated, s.at
            )
        )
        return _Placed(key, False, decision.followup, decision.escalate, decision.outlets)


def _alert_kinds(
    m: Match, decision: _Placed | None, source: str, first: bool
) -> list[tuple[str, AlertStatus, str | None]]:
    """(kind, status, note) of the alert rows a match gets on each channel."""
    if m.mode == "shadow":
        return [("alert", AlertStatus.SHADOW, None)]
    if decision is None or decision.created:
        return [("alert", AlertStatus.PENDING, None)]
    if not first:
        return []
    if decision.escalate:  # one message: the re-raise says who reported it too
        note = f"now reported by {decision.outlets} outlets, the latest {source}"
        return [("escalation", AlertStatus.PENDING, note)]
    if decision.followup:
        note = f"also reported by {source}, {decision.outlets} outlets so far"
        return [("followup", AlertStatus.PENDING, note)]
    return []
