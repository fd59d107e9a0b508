"""What a desk says back: verdicts on alerts and articles, and mutes. Records and pure rules.

A **verdict** is the desk's word on one stored article: on an alert, *right* (it should have
alerted, these actors fight) or *wrong* (it should not have, or other actors fight: then they
are named); on an article that sent nothing, *missed* (it should have alerted, with the actors
that fight). The article's title and text are kept with the verdict (retention may drop the
article's text later; a labelled example must outlive it), so that the verdicts are a labelled
set on which the rules of any later day are scored (``monitor eval --verdicts``) and which is
exported in the labels format ``monitor eval`` reads.

A **mute** keeps alerts of an actor pair, a source or a story from being sent until a time:
they are stored and listed, marked muted, never sent. Every node of a shared database reads the
same mutes.

Besides the records and their rules, the two steps the command line and the console share:
actors named as a desk writes them (an alias will do, ``named_actors``), and a verdict made
from a stored article and the alert it was given on (``make_verdict``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from monitor.models import Alert, Article

if TYPE_CHECKING:
    from monitor.settings import Settings

VerdictKind = Literal["right", "wrong", "missed"]
VERDICT_KINDS: tuple[VerdictKind, ...] = ("right", "wrong", "missed")
MuteKind = Literal["pair", "source", "story"]
MUTE_KINDS: tuple[MuteKind, ...] = ("pair", "source", "story")


@dataclass(frozen=True, slots=True)
class Verdict:
    """The desk's word on one article (the latest replaces any earlier one)."""

    article_id: int
    kind: VerdictKind
    #: the actors that really fight (right: the alert's; wrong: none, or the right ones)
    actors: tuple[str, ...]
    reason: str = ""
    #: the alert's match it was given on (None: on an article that sent nothing)
    match_id: int | None = None
    #: the rule of that match
    rule: str | None = None
    # the article as it was when judged
    title: str = ""
    text: str = ""
    url: str = ""
    source: str = ""
    published: datetime | None = None
    created: datetime | None = None
    id: int | None = None

    @property
    def alert(self) -> bool:
        """Should the article have alerted?"""
        return self.kind != "wrong" or len(self.actors) >= 2


def check_verdict(kind: str, actors: tuple[str, ...]) -> str | None:
    """What is wrong with a verdict as given (None: nothing)."""
    if kind not in VERDICT_KINDS:
        return f"a verdict is one of {', '.join(VERDICT_KINDS)}, not {kind!r}"
    if kind == "missed" and len(set(actors)) < 2:
        return "a missed alert names the two (or more) actors that fight"
    if len(actors) == 1:
        return "name two actors that fight, or none"
    return None


def as_label(v: Verdict) -> dict[str, Any]:
    """The verdict as an entry of the labels that ``monitor eval`` reads, its text inline."""
    return {
        "file": f"verdict-{v.article_id}.txt",
        "alert": v.alert,
        "actors": list(v.actors) if v.alert else [],
        "category": f"desk_{v.kind}",
        "why": v.reason,
        "source": v.url,
        "date": v.published.date().isoformat() if v.published else "unknown",
        "title": v.title,
        "text": v.text,
        "rule": v.rule,
    }


@dataclass(frozen=True, slots=True)
class Mute:
    kind: MuteKind
    #: pair: the two actors joined by " | " in sorted order; source: its name; story: its id
    target: str
    until: datetime
    reason: str = ""
    created: datetime | None = None
    id: int | None = None

    def covers(self, alert: Alert) -> bool:
        """Does this mute keep ``alert`` from being sent?"""
        if self.kind == "source":
            return alert.source == self.target
        if self.kind == "story":
            return alert.story_id is not None and str(alert.story_id) == self.target
        pair = set(self.target.split(" | "))
        return pair <= set(alert.match.actor_names)

    def describe(self) -> str:
        what = {"pair": "actors", "source": "source", "story": "story"}[self.kind]
        return f"{what} {self.target} muted until {self.until:%Y-%m-%d %H:%M} UTC"


def pair_target(a: str, b: str) -> str:
    """The target of a pair's mute: the two actors in a stable order."""
    first, second = sorted((a.strip(), b.strip()))
    return f"{first} | {second}"


_PERIOD = re.compile(r"^\s*(\d+)\s*(m|min|h|d|w)\s*$", re.IGNORECASE)
_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def mute_until(text: str, now: datetime) -> datetime:
    """``1h``, ``30m``, ``2d``, ``1w`` from now, or a date (``2026-12-31``: until its end, UTC)
    or a time (``2026-12-31T08:00``); ValueError says what is expected."""
    m = _PERIOD.match(text)
    if m:
        return now + timedelta(seconds=int(m.group(1)) * _UNITS[m.group(2).lower()])
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r}: expected a period (30m, 1h, 1d, 1w) or a date (2026-12-31)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=now.tzinfo)
    if len(text.strip()) == 10:  # a day: until its end
        when += timedelta(days=1)
    if when <= now:
        raise ValueError(f"{text!r} is already past")
    return when


def canonical_actor(settings: Settings, name: str) -> str | None:
    """The configured actor a name means (its own name or an alias, in any case)."""
    wanted = name.strip().casefold()
    for actor, configured in settings.actors.items():
        names = [actor, *(a if isinstance(a, str) else a.name for a in configured.aliases)]
        if any(n.casefold() == wanted for n in names):
            return actor
    return None


def named_actors(settings: Settings, names: Sequence[str]) -> tuple[str, ...]:
    """Configured actors by the names given; ValueError names one that is not configured."""
    out = []
    for name in names:
        actor = canonical_actor(settings, name)
        if actor is None:
            raise ValueError(f"{name!r} is not a configured actor (see `actors:` in the config)")
        out.append(actor)
    return tuple(dict.fromkeys(out))


def make_verdict(
    kind: str,
    actors: tuple[str, ...],
    reason: str,
    article_id: int,
    article: Article,
    alert: Alert | None = None,
) -> Verdict:
    """The verdict to keep on a stored article (``alert``: the alert it was given on, whose
    actors a *right* verdict takes when none are named); ValueError says what is wrong."""
    match_id = rule = None
    if alert is not None:
        match_id, rule = alert.match_id, alert.match.rule
        if kind == "right" and not actors:
            actors = tuple(dict.fromkeys(alert.match.actor_names))
    if kind == "right" and len(actors) < 2:
        raise ValueError("a right verdict on an article names the actors that fight")
    problem = check_verdict(kind, actors)
    if problem:
        raise ValueError(problem)
    return Verdict(
        article_id,
        kind,  # type: ignore[arg-type]  # checked above
        actors,
        reason,
        match_id,
        rule,
        article.title,
        article.text,
        article.url,
        article.source,
        article.published,
    )
