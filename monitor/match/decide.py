"""The decision: does one conflict predicate set two tracked actors against each other?

Pure. ``judge``: a predicate as the role stage read it (``readings.Reading``), what the stage
read of the whole sentence, and the tracked actors the sentence names in; a ``Verdict`` out.
``Decider``: the same for every conflict word of a unit's sentences, with the stages that read
them — word order for a plain sentence (``wordorder``), the parse's reading where there is one
(``reader``), word order again where there is none (Arabic, no parser) — gathered as the
keywords kept, the actors set against each other and the ``Clash`` records alerts carry.

The decision **rules out look-alikes** rather than proving every role. The ways of telling a
clash are open-ended and a parser misplaces phrases ("a depot run by B", "the Turkish offensive
against B" hung on another verb), so an actor that the parse could not place is no reason for
silence. The look-alikes are a short, closed list, and each is a named veto with positive
evidence from the parse:

========================  ===============================================================
veto                      evidence
========================  ===============================================================
``denied`` ``hedged``     the predicate is under a denial, a modal, a prevention, a threat,
``negated`` ``question``  a negation, or asked (``scope.why_blocked``)
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

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from itertools import chain

from monitor.match import lexicon as lx
from monitor.match import readings
from monitor.match.document import ActorHit, Document, TermHit
from monitor.match.reader import Reader
from monitor.match.readings import Reading, SentenceReading
from monitor.match.syntax import Parser
from monitor.match.wordorder import WordOrder
from monitor.models import Clash

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


@dataclass(slots=True)
class Found:
    """What the opposition check gathers: the keywords kept, the actors set against each
    other, the clashes read."""

    kept: list[TermHit] = field(default_factory=list)
    fighters: set[str] = field(default_factory=set)
    clashes: list[Clash] = field(default_factory=list)
    #: how a clash was decided where the parse did not prove it ("by default: …")
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def add(self, keyword: TermHit, clash: Clash | None, fighters: Iterable[str]) -> None:
        if keyword not in self.kept:
            self.kept.append(keyword)
        if clash is not None and clash not in self.clashes:
            self.clashes.append(clash)
        self.fighters.update(fighters)


def clash_record(
    r: readings.Reading, pairs: list[tuple[str, str]], hits: Sequence[ActorHit] = ()
) -> Clash:
    """A reading as the record alerts carry, with only the actors set against each other.
    A side the parse did not place (a clash by default) is named as the sentence names it."""
    first = tuple(dict.fromkeys(a for a, _ in pairs))
    second = tuple(dict.fromkeys(b for _, b in pairs))
    if r.parties:
        names_a = tuple(n for p in r.parties if p.actors & set(first) for n in p.names)
        names_b = tuple(n for p in r.parties if p.actors & set(second) for n in p.names)
        return Clash(r.predicate, first, second, True, names_a, names_b)

    def names(side: readings.Side, actors: tuple[str, ...]) -> tuple[str, ...]:
        if side.actors & set(actors):
            return side.names
        return tuple(dict.fromkeys(h.surface for h in hits if h.actor in actors))

    return Clash(
        r.predicate,
        first,
        second,
        r.mutual,
        names(r.attacker, first),
        names(r.target, second),
    )


class Decider:
    """Decides, sentence by sentence, which conflict words set two actors against each
    other, with the stages that read the sentence."""

    def __init__(
        self, reader: Reader, word_order: WordOrder, lexicon: lx.Lexicon, untracked: frozenset[str]
    ) -> None:
        self.reader = reader
        self.word_order = word_order
        self.lexicon = lexicon
        self.classes = frozenset(c.name for c in lexicon.classes)
        self.untracked = untracked

    @property
    def parser(self) -> Parser | None:
        return self.reader.parser

    # -- who fights whom ------------------------------------------------------------------
    def opposition(
        self,
        doc: Document,
        keywords: list[TermHit],
        by_actor: dict[str, list[ActorHit]],
        quarrels: bool = False,
    ) -> Found:
        """The keywords whose sentences set two of the actors against each other, those
        actors, and the clashes read. A plain sentence ("A clashed with B") is read by word
        order; else, where the parser read the sentence, its reading decides; where it could
        not (no parser, Arabic script), word order does (``_opposed``), without the actors it
        found to be no side (speakers, mediators, places)."""
        if self.parser is None:  # word order alone, as before there was a parser
            kept = [k for k in keywords if self.word_order.opposed(doc, k, by_actor)]
            return Found(kept, set(by_actor) if kept else set(), [])
        by_sentence: dict[tuple[int, int], list[TermHit]] = {}
        for k in keywords:
            by_sentence.setdefault(doc.sentence_at(k.start), []).append(k)
        found = Found()
        for (lo, hi), kws in by_sentence.items():
            hits = doc.hits_in(lo, hi)
            present = {h.actor for h in hits} & by_actor.keys()
            reading = None
            if len(present) >= 2:
                plain = self.word_order.plain(doc, lo, hi, kws, hits)
                if plain is not None:  # "A clashed with B": word order says it all
                    for keyword, clash in plain:
                        found.add(keyword, clash, (*clash.attacker, *clash.target))
                    continue
                reading = self.reader.reading(doc, lo, hi)
            for k in kws:
                self._decide(doc, (lo, hi), k, reading, present, by_actor, found, quarrels)
        return found

    def _decide(
        self,
        doc: Document,
        sentence: tuple[int, int],
        k: TermHit,
        reading: readings.SentenceReading | None,
        present: set[str],
        by_actor: dict[str, list[ActorHit]],
        found: Found,
        quarrels: bool = False,
    ) -> None:
        """Does one keyword set two of the sentence's actors against each other? (A quarrel
        does where it turned violent, or as it is for a rule of ``quarrels``.)"""
        lo, hi = sentence
        read = [
            r
            for r in (reading.readings if reading is not None else ())
            if r.covers(k.start - lo, k.end - lo)
        ]
        if reading is readings.PENDING:
            return  # read once the batch is parsed
        if read:  # the parser took the keyword for a predicate: ruled out, or a clash
            assert reading is not None
            for r in read:
                if r.blocked == readings.QUARREL and (quarrels or self._turned_violent(doc, hi)):
                    r = replace(r, blocked="")
                self._judged(doc, sentence, k, r, reading, present, by_actor, found)
            return
        if reading is not None and k.set_name in self.classes:
            return  # a conflict word the parser read as something else ("bomb shelters")
        if len(present) < 2:  # the actors meet in a wider unit: order says nothing
            found.add(k, None, by_actor)
            return
        candidates = by_actor
        if reading is not None:
            candidates = {a: h for a, h in by_actor.items() if a not in reading.aside}
        if len(present & set(candidates)) >= 2 and self.word_order.opposed(doc, k, candidates):
            found.add(k, None, present & set(candidates))

    def _judged(
        self,
        doc: Document,
        sentence: tuple[int, int],
        k: TermHit,
        r: Reading,
        reading: SentenceReading,
        present: set[str],
        by_actor: dict[str, list[ActorHit]],
        found: Found,
    ) -> None:
        """One predicate's verdict on the sentence's actors, added to what was found."""
        verdict = judge(r, reading, present, self.untracked)
        if not verdict.pairs and not verdict.veto and r.mutual and not r.named:
            # the parse placed no one around a mutual word: "clashes between A and B", "A
            # and B fighters traded fire" still say who, by word order
            sides = self.word_order.around(doc, k, by_actor)
            if len(sides) >= 2:
                found.add(k, None, sides)
                found.note(f"by word order: {' and '.join(sides)} around {r.predicate!r}")
        if not verdict.pairs:
            return
        pairs = list(verdict.pairs)
        found.add(k, clash_record(r, pairs, doc.hits_in(*sentence)), {*chain(*pairs)})
        if verdict.how == DEFAULT:
            found.note(
                f"by default: {', '.join(verdict.assumed)} not placed by the parse "
                f"around {r.predicate!r}, and no look-alike found"
            )

    def _turned_violent(self, doc: Document, end: int) -> bool:
        """Does the next sentence tell of shooting or an attack, naming no one ("locked in a
        standoff. Shots were fired and a guard was wounded")? Then the quarrel before it
        turned violent."""
        lo, hi = doc.sentence_after(end - 1)
        if lo < end:
            return False
        reading = self.reader.reading(doc, lo, hi)
        escalated = {c.name for c in self.lexicon.classes if c.escalated}
        return reading is not None and any(
            not r.blocked
            and r.kind not in escalated
            and not (r.attacker.actors or r.target.actors or r.parties)
            for r in reading.readings
        )
