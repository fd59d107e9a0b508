"""The decision: does one conflict predicate set two tracked actors against each other?

Pure: a predicate as the role stage read it (``roles.Reading``), what the stage read of the
whole sentence, and the tracked actors the sentence names in; a ``Verdict`` out.

The decision **rules out look-alikes** rather than proving every role. The ways of telling a
clash are open-ended and a parser misplaces phrases ("a depot run by B", "the Turkish offensive
against B" hung on another verb), so an actor that the parse could not place is no reason for
silence. The look-alikes are a short, closed list, and each is a named veto with positive
evidence from the parse:

========================  ===============================================================
veto                      evidence
========================  ===============================================================
``denied`` ``hedged``     the predicate is under a denial, a modal, a prevention, a threat,
``negated`` ``question``  a negation, or asked (``roles._blocked``)
``verbal`` ``not armed``  a fight of words, in talks, at a match
``background``            dated well before the text ("in 2015", "six years ago")
``co-targets``            the actors are all on the receiving side of someone else
``allies``                the actors are all on the acting side (conjoined subjects of a
                          one-sided verb, "alongside", a backer and its client)
``speaker`` ``mediator``  an actor only speaks or mediates; it drops out of the parties and
``place``                 the clash between the others stands ("Russia condemned the Turkish
                          offensive against the SDF")
========================  ===============================================================

Where no veto applies, two tracked actors and a conflict predicate in one sentence are a clash
**by default**: the actor the parse placed stands against the one it could not place, and the
alert's explanation says so.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from monitor.match.readings import Reading, SentenceReading

#: how a verdict was reached, for explanations
READ = "read"
DEFAULT = "by default"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one predicate says of the sentence's tracked actors."""

    #: (first, second) pairs set against each other (first acts on second, where one acts)
    pairs: tuple[tuple[str, str], ...] = ()
    #: READ (the parse set them against each other) or DEFAULT (no look-alike found); "" when
    #: there are no pairs
    how: str = ""
    #: the look-alike found, named ("co-targets of Israel", "allies on one side", "denied:
    #: denied"): why there is no pair
    veto: str = ""
    #: the actors placed by default (not placed by the parse), for the explanation
    assumed: tuple[str, ...] = ()


def judge(
    r: Reading, sentence: SentenceReading, present: Collection[str], untracked: Collection[str]
) -> Verdict:
    """The verdict of predicate ``r`` on the tracked actors ``present`` in its sentence.
    ``untracked``: parties known only so that sides read right (Israel, the US)."""
    if r.blocked:
        return Verdict(veto=r.blocked)
    pairs = tuple((a, b) for a, b in r.pairs() if a in present and b in present)
    if pairs:
        return Verdict(pairs, READ)
    # speakers, mediators and places drop out; the others stay parties
    parties = [a for a in present if a not in sentence.aside]
    acting, acted_on = r.attacker.actors, r.target.actors
    one_side = _one_side(r, parties, acting, acted_on, untracked)
    if one_side:
        return Verdict(veto=one_side)
    if r.parties or r.allied or bool(acting) == bool(acted_on):
        return Verdict()
    # one side named: an actor of the predicate's phrase that no side holds stands on the
    # other, unless it is in the named side's own phrase ("B's funds from *A*")
    side = "attacker" if acting else "target"
    placed = sorted(a for a in acting | acted_on if a in present)
    loose = dict(r.loose)
    unplaced = tuple(
        a for a in parties if a not in sentence.placed and a in loose and loose[a] != side
    )
    if not placed or not unplaced:
        return Verdict()
    if side == "attacker":
        found = tuple((a, u) for a in placed for u in unplaced if a != u)
    else:
        found = tuple((u, a) for a in placed for u in unplaced if a != u)
    return Verdict(found, DEFAULT, assumed=unplaced) if found else Verdict()


def _one_side(
    r: Reading,
    parties: list[str],
    acting: frozenset[str],
    acted_on: frozenset[str],
    untracked: Collection[str],
) -> str:
    """The veto when the parse put two or more of the parties on one side, and none on the
    other: co-targets of whoever acts, or allies (a backer and its client among them)."""
    if r.parties:
        return ""
    ours = [a for a in parties if a in acted_on]
    if len(ours) >= 2 and not acting & set(parties):
        others = sorted(a for a in acting if a in untracked)
        if others:
            return f"co-targets of {', '.join(others)} (not tracked)"
        return "co-targets: on the receiving side together"
    ours = [a for a in parties if a in acting]
    if len(ours) >= 2 and not acted_on & set(parties):
        others = sorted(a for a in acted_on if a in untracked)
        if others:
            return f"allies: on one side against {', '.join(others)} (not tracked)"
        if r.allied:
            return "allies: fighting on one side"
        return "allies: on one side" if not r.mutual or r.other_unnamed else ""
    return ""
