"""One article being matched, and the hits the scan finds in it.

Pure: the title and body folded once (``text.fold``), its paragraphs and sentences split on
demand, the actor and keyword hits in order of position, and the role stage's reading of each
sentence read so far. Every later stage (scan, terms, word order, roles, decision, explanation)
reads and annotates a ``Document``.
"""

from __future__ import annotations

import operator
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from monitor.match import readings
from monitor.match import text as textmod
from monitor.match.actors import (
    AliasKey,
)
from monitor.match.rules import TermKey

WORD = re.compile(r"\w+")


START = operator.attrgetter("start")


@dataclass(slots=True)
class ActorHit:
    actor: str
    #: alias, form, metonym; or reference ("the two groups")
    kind: str
    start: int
    end: int
    surface: str
    #: one of several actors a reference stands for, each a party of its own ("both sides")
    each: bool = False


@dataclass(slots=True)
class TermHit:
    term: int
    part: int
    start: int
    end: int
    surface: str
    #: the term's keyword set; whether it is a gapped term (several parts)
    set_name: str
    gapped: bool


class Document:
    """One article being matched: folded text, hits, and lazily computed segments."""

    __slots__ = (
        "_hit_starts",
        "_para_starts",
        "_paragraphs",
        "_sentence_at",
        "_sentence_starts",
        "_sentences",
        "_words",
        "actor_hits",
        "all_term_hits",
        "all_term_starts",
        "body_start",
        "folded",
        "parsed",
        "pending",
        "raw_terms",
        "readings",
        "term_hits",
        "term_starts",
        "terms_ready",
        "text",
        "title_len",
        "tracked_hits",
        "undated",
        "when",
    )

    def __init__(self, title: str, body: str, when: datetime | None = None) -> None:
        #: when it was published (or fetched): dated aliases are read at this time
        self.when = when
        #: the role stage's reading of each sentence read so far (None: not readable)
        self.readings: dict[tuple[int, int], readings.SentenceReading | None] = {}
        #: how many sentences were parsed
        self.parsed = 0
        #: dated names set aside at this text's date (for "why not"): (as written, alias)
        self.undated: list[tuple[str, AliasKey]] = []
        #: sentences to parse, gathered while matching a batch (None: parse when asked)
        self.pending: list[tuple[int, int]] | None = None
        self._hit_starts: list[int] | None = None
        self._sentence_at: dict[int, tuple[int, int]] = {}
        self.title_len = len(title)
        self.body_start = len(title) + 2 if title else 0
        self.text = f"{title}\n\n{body}" if title else body
        self.folded = textmod.fold(self.text)
        self.actor_hits: list[ActorHit] = []
        #: ...less those of parties that are not tracked (set by ``Scanner.scan``)
        self.tracked_hits: list[ActorHit] = []
        #: (where it ends in the folded text, which) of every keyword term found
        self.raw_terms: list[tuple[int, TermKey]] = []
        #: ...turned into hits (by ``Scanner.term_hits``, when a rule needs them)
        self.terms_ready = False
        self.term_hits: list[TermHit] = []
        #: every term hit, also those inside an actor's name ("regime forces" holds "forces")
        self.all_term_hits: list[TermHit] = []
        #: where each of them starts (both lists are in that order)
        self.term_starts: list[int] = []
        self.all_term_starts: list[int] = []
        self._sentences: dict[int, list[tuple[int, int]]] = {}
        self._sentence_starts: dict[int, list[int]] = {}
        self._para_starts: list[int] | None = None
        self._paragraphs: list[tuple[int, int]] | None = None
        self._words: list[int] | None = None

    def set_actor_hits(self, hits: list[ActorHit]) -> None:
        self.actor_hits = hits
        self._hit_starts = None

    def hits_in(self, lo: int, hi: int) -> list[ActorHit]:
        """The actor hits that start in [lo, hi) (hits are in order of their starts)."""
        if self._hit_starts is None:
            self._hit_starts = [h.start for h in self.actor_hits]
        return self.actor_hits[
            bisect_left(self._hit_starts, lo) : bisect_left(self._hit_starts, hi)
        ]

    def sentence_at(self, pos: int) -> tuple[int, int]:
        """The sentence holding ``pos`` (sentences are split per paragraph, on demand)."""
        found = self._sentence_at.get(pos)
        if found is None:
            p = self.paragraph_index(pos)
            sents = self._sentences_of(p)
            found = self._sentence_at[pos] = sents[
                max(0, bisect_right(self._sentence_starts[p], pos) - 1)
            ]
        return found

    def sentences_before(self, pos: int, n: int) -> list[tuple[int, int]]:
        """Up to ``n`` sentences before the one holding ``pos``, in this paragraph and the
        one before it (nearest last)."""
        p = self.paragraph_index(pos)
        out = self._sentences_of(p)[: self._sentence_index(pos)]
        if len(out) < n and p > 0:
            out = self._sentences_of(p - 1) + out
        return out[-n:] if n else []

    def sentence_after(self, pos: int) -> tuple[int, int]:
        """The sentence after the one holding ``pos`` (itself when it is the last)."""
        p = self.paragraph_index(pos)
        sents = self._sentences_of(p)
        i = self._sentence_index(pos)
        if i + 1 < len(sents):
            return sents[i + 1]
        if p + 1 < len(self.paragraphs):
            nxt = self._sentences_of(p + 1)
            if nxt:
                return nxt[0]
        return sents[i]

    def paragraph_index(self, pos: int) -> int:
        if self._para_starts is None:
            self._para_starts = [s for s, _ in self.paragraphs]
        return max(0, bisect_right(self._para_starts, pos) - 1)

    def _sentence_index(self, pos: int) -> int:
        p = self.paragraph_index(pos)
        self._sentences_of(p)
        return max(0, bisect_right(self._sentence_starts[p], pos) - 1)

    def _sentences_of(self, p: int) -> list[tuple[int, int]]:
        sents = self._sentences.get(p)
        if sents is None:
            paras = self.paragraphs
            span = paras[p] if paras else (0, len(self.text))
            sents = self._sentences[p] = textmod.sentences(self.text, within=span) or [span]
            self._sentence_starts[p] = [s for s, _ in sents]
        return sents

    @property
    def paragraphs(self) -> list[tuple[int, int]]:
        if self._paragraphs is None:
            self._paragraphs = textmod.paragraphs(self.text)
        return self._paragraphs

    @property
    def word_starts(self) -> list[int]:
        if self._words is None:
            self._words = [m.start() for m in WORD.finditer(self.text)]
        return self._words

    def field_of(self, pos: int) -> Literal["title", "body"]:
        return "title" if pos < self.title_len else "body"

    def lead_end(self) -> int:
        """End of the lead: the first body paragraph."""
        for s, e in self.paragraphs:
            if s >= self.body_start:
                return e
        return len(self.text)
