"""Accuracy of the rules on labelled articles: precision, recall, F1, per category, and every
miss explained.

Pure: labelled texts and an engine in, a report out. A label names the actors that fight; an
entry may give alternatives (``"Assad regime|Syrian government"``: any one of them counts), for
wording that fits more than one canonical actor. An article labelled ``alert: true`` is a true
positive when a rule fires and its actors satisfy every entry; a fired alert whose actors miss
an entry counts as a miss (``wrong-actors``), not as a false alarm, and lowers precision too,
since the analyst would be told the wrong thing. An article's ``date``, when the label has one,
is its publication date (aliases valid only before or after a date are read with it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from monitor.match.engine import Engine
from monitor.models import Match

Verdict = Literal["tp", "tn", "fp", "fn", "wrong-actors"]
_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


@dataclass(frozen=True, slots=True)
class Labelled:
    file: str
    title: str
    body: str
    alert: bool
    #: one entry per fighting actor, each the canonical names any one of which satisfies it
    actors: tuple[tuple[str, ...], ...]
    #: the kind of item ("passive", "third_party"…), for figures per category
    category: str | None = None
    #: when it was published, if the label says (a year alone: its first of July)
    published: datetime | None = None

    @staticmethod
    def entry(actor: str) -> tuple[str, ...]:
        """``"Assad regime|Syrian government"`` → ("Assad regime", "Syrian government")."""
        return tuple(a.strip() for a in actor.split("|") if a.strip())


def parse_label_date(value: Any) -> datetime | None:
    """``2025-03-08``, ``2025-03`` or ``2025`` → a UTC datetime; ``unknown`` or None → None."""
    m = _DATE.match(str(value or "").strip())
    if not m:
        return None
    year, month, day = int(m.group(1)), m.group(2), m.group(3)
    if month is None:
        return datetime(year, 7, 1, tzinfo=UTC)
    return datetime(year, int(month), int(day or 15), tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Judged:
    item: Labelled
    matches: tuple[Match, ...]
    verdict: Verdict

    @property
    def found_actors(self) -> set[str]:
        return {a for m in self.matches for a in m.actor_names}


@dataclass(frozen=True, slots=True)
class CategoryScore:
    """How one category of items fared: positives found, or negatives that alerted."""

    category: str
    items: int
    #: for a positive category, items found with their actors; for a negative one, false alarms
    hits: int
    positive: bool


@dataclass(frozen=True, slots=True)
class EvalReport:
    judged: tuple[Judged, ...]

    def count(self, *verdicts: Verdict) -> int:
        return sum(j.verdict in verdicts for j in self.judged)

    @property
    def precision(self) -> float:
        fired = self.count("tp", "fp", "wrong-actors")
        return self.count("tp") / fired if fired else 1.0

    @property
    def recall(self) -> float:
        wanted = self.count("tp", "fn", "wrong-actors")
        return self.count("tp") / wanted if wanted else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def misses(self) -> list[Judged]:
        return [j for j in self.judged if j.verdict in ("fp", "fn", "wrong-actors")]

    def categories(self) -> list[CategoryScore]:
        """Per category (in order of first appearance), when the labels have categories. A
        category is positive when most of its items should alert."""
        groups: dict[str, list[Judged]] = {}
        for j in self.judged:
            if j.item.category:
                groups.setdefault(j.item.category, []).append(j)
        out = []
        for name, items in groups.items():
            positive = sum(j.item.alert for j in items) * 2 > len(items)
            wanted: tuple[Verdict, ...] = ("tp",) if positive else ("fp",)
            hits = sum(j.verdict in wanted for j in items)
            out.append(CategoryScore(name, len(items), hits, positive))
        return out


def judge(item: Labelled, matches: Sequence[Match]) -> Verdict:
    found = {a for m in matches for a in m.actor_names}
    if not item.alert:
        return "fp" if matches else "tn"
    if not matches:
        return "fn"
    if all(found & set(entry) for entry in item.actors):
        return "tp"
    return "wrong-actors"


def evaluate(
    engine: Engine, items: Iterable[Labelled], rules: Sequence[str] | None = None
) -> EvalReport:
    """Judge every item. Without ``rules``, only live rules count (shadow rules send nothing)."""
    items = list(items)
    found = engine.match_many([(i.title, i.body, i.published) for i in items], rules)
    judged = []
    for item, matches in zip(items, found, strict=True):
        if rules is None:
            matches = [m for m in matches if m.mode == "live"]
        judged.append(Judged(item, tuple(matches), judge(item, matches)))
    return EvalReport(tuple(judged))
