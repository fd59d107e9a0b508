"""Accuracy of the rules on labelled articles: precision, recall, F1, and every miss explained.

Pure: labelled texts and an engine in, a report out. An article labelled ``alert: true`` is a
true positive when a rule fires and its actors include every labelled actor; a fired alert
whose actors miss a labelled one counts as a false negative *and* as a wrong alert (false
positive), since the analyst would be told the wrong thing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from monitor.match.engine import Engine
from monitor.models import Match

Verdict = Literal["tp", "tn", "fp", "fn", "wrong-actors"]


@dataclass(frozen=True, slots=True)
class Labelled:
    file: str
    title: str
    body: str
    alert: bool
    actors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Judged:
    item: Labelled
    matches: tuple[Match, ...]
    verdict: Verdict

    @property
    def found_actors(self) -> set[str]:
        return {a for m in self.matches for a in m.actor_names}


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


def evaluate(
    engine: Engine, items: Iterable[Labelled], rules: Sequence[str] | None = None
) -> EvalReport:
    """Judge every item. Without ``rules``, only live rules count (shadow rules send nothing)."""
    judged = []
    for item in items:
        matches = engine.match(item.title, item.body, rules)
        if rules is None:
            matches = [m for m in matches if m.mode == "live"]
        found = {a for m in matches for a in m.actor_names}
        if item.alert:
            if not matches:
                verdict: Verdict = "fn"
            elif set(item.actors) <= found:
                verdict = "tp"
            else:
                verdict = "wrong-actors"
        else:
            verdict = "fp" if matches else "tn"
        judged.append(Judged(item, tuple(matches), verdict))
    return EvalReport(tuple(judged))
