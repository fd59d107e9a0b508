"""What the role stage reads of a sentence: its records.

Pure data: the actors named in a sentence (``Mention``), the sides of one conflict predicate
(``Side``, ``Reading``) and everything read in the sentence (``SentenceReading``). Made by
``roles.read``, judged by ``decide.judge``, carried into alerts by the engine as ``Clash``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: why a quarrel ("rift", "standoff") reports no fight: nothing said it turned violent
QUARREL = "not armed: a quarrel"


@dataclass(frozen=True, slots=True)
class Mention:
    """An actor named in the sentence: where (characters from the sentence's start), and who.

    A reference to actors named before ("the two groups", "both sides") has several actors and
    ``each``: every one of them is a party of its own.
    """

    start: int
    end: int
    actors: tuple[str, ...]
    #: as written in the text
    surface: str = ""
    each: bool = False


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a predicate: its actors and how the text names them."""

    actors: frozenset[str]
    #: surfaces of the mentions, in order
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Reading:
    """One conflict predicate with its sides, as read."""

    #: the predicate as written ("attacked", "clashes", "launched … attacks")
    predicate: str
    #: its position in the sentence (characters)
    start: int
    mutual: bool
    #: the one who acts (or one side of a mutual fight), and the one acted on (or the other)
    attacker: Side
    target: Side
    #: "each" readings: every side a party of its own ("clashes between A and B")
    parties: tuple[Side, ...] = ()
    #: why it reports no fight: "denied", "hedged: could", "negated: not", "question"; or ""
    blocked: str = ""
    #: where the predicate ends (characters)
    end: int = 0
    #: its conflict class ("assault")
    kind: str = ""
    #: one-sided, and the one who acts is not named ("unidentified gunmen attacked B", "the
    #: airstrikes targeted B"): another sentence may name it
    unknown_attacker: bool = False
    #: someone claimed responsibility for it ("IS claimed responsibility for the attack")
    claimed: bool = False
    #: the unnamed attacker is a reference to an attack told elsewhere ("the airstrikes")
    definite: bool = False
    #: fought on a side, with an ally ("alongside A", "together", "on behalf of A")
    allied: bool = False
    #: the other side is there but names no actor ("A and B clashed *with rebels*")
    other_unnamed: bool = False
    #: actors in the predicate's own phrase that got no side, and where: inside the phrase of
    #: the one who acts ("attacker"), of the one acted on ("target": "raided a depot run by
    #: B" where the parse missed "run by"), or elsewhere in it ("clause")
    loose: tuple[tuple[str, str], ...] = ()

    @property
    def named(self) -> bool:
        """Does the reading place any actor on a side?"""
        return bool(self.attacker.actors or self.target.actors or self.parties)

    def covers(self, start: int, end: int) -> bool:
        """Is this predicate the word at [start, end) of the sentence?"""
        return start <= self.start < end or self.start <= start < self.end

    def pairs(self) -> list[tuple[str, str]]:
        """The pairs of distinct actors set against each other (first acts on second)."""
        out: list[tuple[str, str]] = []
        if self.parties:
            sides = [p.actors for p in self.parties if p.actors]
            for i, a in enumerate(sides):
                for b in sides[i + 1 :]:
                    out.extend((x, y) for x in sorted(a - b) for y in sorted(b - a) if x != y)
            return list(dict.fromkeys(out))
        a, b = self.attacker.actors, self.target.actors
        out.extend((x, y) for x in sorted(a - b) for y in sorted(b - a) if x != y)
        return out


@dataclass(slots=True)
class SentenceReading:
    """Everything the role stage read in one sentence."""

    readings: list[Reading] = field(default_factory=list)
    #: actors that got a side in some predicate (blocked ones included)
    placed: set[str] = field(default_factory=set)
    #: actors in a position that is no side: a speaker, a mediator, a place, a plain modifier
    aside: dict[str, str] = field(default_factory=dict)


#: the reading of a sentence not parsed yet (its batch is still being gathered)
PENDING = SentenceReading()
