"""The keyword stage: which conflict words and cues an article's hits make.

Pure. A term of several parts ("fighting ... between", "turned * guns on") counts only where
its parts line up within their gaps; an ambiguous term (a set with ``confirm``: "clash",
"battle", "strike") counts only with a confirming cue in its sentence or the next, or where
the fight happened at a place ("clashed *in Qusayr*", "*for control of* the town"): fights of
words happen over things, in talks and at summits. Cue sets (a rule's ``unless`` and
``confirm``, the built-in between / each other / joint / talks) are looked up here too.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence

from monitor.match import lexicon as lx
from monitor.match.document import WORD, Document, TermHit
from monitor.match.rules import Rule, Term


class Keywords:
    """The configured terms, and the sets whose terms need a confirming cue."""

    def __init__(self, terms: Sequence[Term], set_confirm: dict[str, frozenset[str]]) -> None:
        self.terms = tuple(terms)
        self.set_confirm = set_confirm

    def complete(self, hits: list[TermHit], doc: Document) -> list[TermHit]:
        """Single-part hits as they are; gapped terms only where all parts line up."""
        out: list[TermHit] = []
        multi: list[TermHit] = []
        for h in hits:
            (multi if h.gapped else out).append(h)
        if not multi:
            return out
        for h in multi:
            if h.part != 0:
                continue
            term = self.terms[h.term]
            cur = h
            for part in range(1, term.parts):
                lo, hi = term.gaps[part - 1]
                nxt = next(
                    (
                        n
                        for n in multi
                        if n.term == h.term
                        and n.part == part
                        and n.start >= cur.end
                        and lo <= len(WORD.findall(doc.text, cur.end, n.start)) <= hi
                    ),
                    None,
                )
                if nxt is None:
                    break
                cur = nxt
            else:
                out.append(
                    TermHit(
                        h.term, 0, h.start, cur.end, doc.text[h.start : cur.end], h.set_name, True
                    )
                )
        return out

    def cues(self, doc: Document, lo: int, hi: int, sets: frozenset[str]) -> list[TermHit]:
        """Complete term hits of ``sets`` in [lo, hi), actor names included."""
        hits = doc.all_term_hits
        starts = doc.all_term_starts
        pool = [
            h for h in hits[bisect_left(starts, lo) : bisect_left(starts, hi)] if h.set_name in sets
        ]
        return self.complete(pool, doc) if pool else []

    def counts(self, doc: Document, hit: TermHit) -> bool:
        """An ambiguous term counts only with a confirming cue in its sentence or the next,
        or where it happened at a place ("clashed *in Qusayr*", "clash *on the border*"):
        fights of words happen over things, in talks and at summits."""
        needed = self.set_confirm.get(hit.set_name)
        if not needed or self.cue_near(doc, hit.start, needed):
            return True
        return _located(doc.text, hit, doc.sentence_at(hit.start)[1])

    def cue_near(self, doc: Document, pos: int, sets: frozenset[str]) -> bool:
        """A term of ``sets`` in the sentence holding ``pos`` or the next one."""
        # sentence_after is the sentence itself when it is the last one
        return bool(self.cues(doc, doc.sentence_at(pos)[0], doc.sentence_after(pos)[1], sets))

    def in_sentences(
        self, doc: Document, keywords: list[TermHit], start: int, end: int
    ) -> list[TermHit]:
        """Term hits in the sentences that hold the unit's keywords."""
        if len(keywords) == 1:
            spans = [doc.sentence_at(keywords[0].start)]
        else:
            spans = sorted({doc.sentence_at(k.start) for k in keywords}) or [(start, end)]
        hits = doc.term_hits
        starts = doc.term_starts
        pool = []
        for s, e in spans:  # sentences do not overlap: in order, each hit once
            pool.extend(hits[bisect_left(starts, s) : bisect_left(starts, e)])
        return self.complete(pool, doc)

    def confirmed(self, rule: Rule, doc: Document, keywords: list[TermHit]) -> bool:
        return any(self.cue_near(doc, k.start, rule.confirm) for k in keywords)


#: a place after a conflict word in its sentence: a preposition of place, then a name or a
#: word of ground ("clashed in Qusayr", "clash on the Syria-Lebanon border", "near the
#: frontline"), or ground fought for ("for control of X")
_LOCATED = re.compile(
    r"\b(?:(?:in|near|at|on|around|outside|inside|along|across)\s+(?:the\s+)?"
    r"(?P<place>[A-Z][\w'’-]+|(?:outskirts|border|borders|frontline|front|frontlines|village|"
    r"villages|town|towns|city|streets?|countryside|province|district|area|region|suburbs?|"
    r"neighbou?rhood|desert|mountains?|checkpoint|crossing|highway|road|(?:north|south)(?:east|west)?"
    r"|east|west)\b)"
    r"|(?:for|over)\s+(?:the\s+)?control\s+of\b)"
)


def _located(text: str, hit: TermHit, end: int) -> bool:
    """Did the fight of an ambiguous word ("clash", "battle") happen at a place? Not where
    the sentence also speaks of talks, votes or a match (``lexicon.NOT_ARMED``)."""
    window = text[hit.end : min(end, hit.end + 160)]
    words = {w.lower() for w in WORD.findall(window)}
    if words & (lx.NOT_ARMED | lx.VERBAL | {"over"}) - {"control"}:
        return False
    return any(
        not m.group("place") or m.group("place").lower() not in lx.TIME_WORDS
        for m in _LOCATED.finditer(window)
    )
