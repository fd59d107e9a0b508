"""Behavioural tests of detection: sentence frames filled with other actors, names and places.

Pure: a table of frames (``tests/frames/frames.yaml`` has its format) and an engine in, a
report per frame out. A frame is one way of telling a clash, or a look-alike, with slots: {A}
and {B} (the two actors; each filling takes another pair and another of their names), {P} a
place, {D} a day, {N} a number, {U} a party that is not tracked, {S} a tracked actor that only
speaks. A positive frame must alert with A and B for every filling, a negative one for none,
and every filling of a frame must give the same answer (invariance: a place, a day or a name
never changes it). The CheckList paper (Ribeiro et al., ACL 2020) calls these minimum
functionality and invariance tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from monitor.match.engine import Engine

#: fillings of each frame at least (the pairs are cycled, each time with other names)
FILLINGS = 12


@dataclass(frozen=True, slots=True)
class Filling:
    frame: str
    text: str
    #: the canonical actors that must be named (positives), or () for a look-alike
    actors: tuple[str, str]


@dataclass(frozen=True, slots=True)
class FrameResult:
    frame: str
    category: str
    positive: bool
    fillings: int
    #: fillings that alerted with the frame's actors (positives), or that alerted (negatives)
    alerted: int
    #: the fillings that gave the wrong answer, as filled
    wrong: tuple[str, ...]

    @property
    def invariant(self) -> bool:
        return self.alerted in (0, self.fillings)


def fill(
    table: Mapping[str, Any], fillings: int = FILLINGS
) -> list[tuple[dict[str, Any], list[Filling]]]:
    """Every frame of the table with its fillings."""
    names: Mapping[str, Sequence[str]] = table["names"]
    pairs: Sequence[Sequence[str]] = table["pairs"]
    out = []
    for frame in table["frames"]:
        filled = []
        for i in range(fillings):
            a, b = pairs[i % len(pairs)]
            k = i // len(pairs) + i
            slots = {
                "A": names[a][k % len(names[a])],
                "B": names[b][(k + 1) % len(names[b])],
                "P": _pick(table["places"], i),
                "D": _pick(table["days"], i),
                "N": _pick(table["numbers"], i),
                "U": _pick(table["untracked"], i),
                "S": names[_pick(table["speakers"], i)][k % 3],
            }
            text = frame["text"].format(**slots)
            filled.append(Filling(frame["id"], text, (a, b)))
        out.append((frame, filled))
    return out


def _pick(values: Sequence[Any], i: int) -> Any:
    return values[i % len(values)]


def table_date(table: Mapping[str, Any]) -> datetime | None:
    """The day the fillings are read as of (the table's ``date``)."""
    day = table.get("date")
    return datetime(day.year, day.month, day.day, tzinfo=UTC) if isinstance(day, date) else None


def run(engine: Engine, table: Mapping[str, Any], fillings: int = FILLINGS) -> list[FrameResult]:
    """Judge every filling of every frame with the live rules."""
    when = table_date(table)
    frames = fill(table, fillings)
    # a headline frame is an article's title (as a feed gives it), the others its body
    texts = [
        (f.text, "", when) if frame.get("field") == "title" else ("", f.text, when)
        for frame, filled in frames
        for f in filled
    ]
    found = iter(engine.match_many(texts))
    out = []
    for frame, filled in frames:
        positive = bool(frame["alert"])
        alerted = 0
        wrong = []
        for f in filled:
            matches = [m for m in next(found) if m.mode == "live"]
            named = {a for m in matches for a in m.actor_names}
            hit = bool(matches) and (not positive or set(f.actors) <= named)
            alerted += hit
            if hit != positive:
                wrong.append(f"{f.text!r} → {sorted(named) or 'silent'}")
        out.append(
            FrameResult(
                frame["id"], frame["category"], positive, len(filled), alerted, tuple(wrong)
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class FramesSummary:
    positive_fillings: int
    found: int
    negative_fillings: int
    false_alarms: int
    varying: tuple[str, ...]

    @property
    def found_share(self) -> float:
        return self.found / self.positive_fillings if self.positive_fillings else 1.0

    @property
    def false_alarm_share(self) -> float:
        return self.false_alarms / self.negative_fillings if self.negative_fillings else 0.0


def summarise(results: Sequence[FrameResult]) -> FramesSummary:
    pos = [r for r in results if r.positive]
    neg = [r for r in results if not r.positive]
    return FramesSummary(
        sum(r.fillings for r in pos),
        sum(r.alerted for r in pos),
        sum(r.fillings for r in neg),
        sum(r.alerted for r in neg),
        tuple(r.frame for r in results if not r.invariant),
    )


def report_lines(results: Sequence[FrameResult]) -> list[str]:
    """Found / false alarms per frame, then the totals."""
    s = summarise(results)
    width = max((len(r.frame) for r in results), default=10)
    out = []
    for r in results:
        what = "found       " if r.positive else "false alarms"
        mark = "" if r.invariant else "  (varies)"
        out.append(
            f"  {r.frame:<{width}}  {r.category:<18} {what} {r.alerted:>2} of {r.fillings}{mark}"
        )
    out.append(
        f"positive fillings found: {s.found} of {s.positive_fillings} ({s.found_share:.1%}); "
        f"negative fillings alerting: {s.false_alarms} of {s.negative_fillings} "
        f"({s.false_alarm_share:.1%}); frames that vary: {len(s.varying)} of {len(results)}"
    )
    return out
