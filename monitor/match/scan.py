"""The first stage: one pass of the automaton finds every candidate in an article.

Pure: a ``Document`` in, its hits filled in. One Aho-Corasick pass over the folded text finds
every actor name (aliases, forms, metonyms; acronyms only as written; dated names only at the
text's date, unless a word of the past sends them back), every exclusion and every keyword
term; a name inside a longer name or an exclusion is dropped, and a city that opens a
paragraph as its dateline is where the story was filed, not a side. Phrases that refer back
("the two groups", "the group", "them") stand for the actors named just before them. Keyword
terms become hits only when a rule needs them (``term_hits``): about half of the articles
with a keyword never name enough actors for any rule.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from datetime import date
from typing import Any

from monitor.match.actors import AMBIGUOUS_ACRONYMS, WORD_ACRONYMS, AliasKey, letters_of
from monitor.match.document import START, ActorHit, Document, TermHit
from monitor.match.rules import NameKey, Payload

#: "The Sunni militants are believed to be from", "The gunmen were members of": an identity
#: statement naming a group described before (its name follows it)
_IDENTITY = re.compile(
    r"\bThe (?P<group>(?:[A-Z]?[a-z]+ ){0,2}(?:militants|fighters|gunmen|rebels|insurgents|"
    r"jihadists|attackers|assailants|militiamen))\s+(?:are|were|is|was)\s+"
    r"(?:(?:believed|said|thought|reported|understood|suspected)\s+to\s+be\s+)?"
    r"(?:(?:from|members\s+of|part\s+of|fighters\s+of|affiliated\s+with|linked\s+to|loyal\s+to)"
    r"\s+)?"
)


#: words of saying, around the name in an identity statement: then it is a speaker's
_SAYING = re.compile(
    r"\b(?:said|says|say|told|according|reported|claimed)\b|\s+(?:said|says|told)\b"
)


class Scanner:
    """The automaton's pass over an article, and the hits it makes."""

    def __init__(self, automaton: Any, untracked: frozenset[str]) -> None:
        self.automaton = automaton
        #: parties known so that roles read right, never a side of a match
        self.untracked = untracked

    def scan(self, doc: Document) -> bool:
        """Find every actor name in one pass of the automaton. Keyword terms are only noted
        (where they end, and which) and become hits when a rule needs them
        (``term_hits``): about half of the articles with a keyword never name enough
        actors for any rule."""
        padded = doc.folded.padded
        original = doc.text
        unit_map = doc.folded.unit_map
        excluded: list[tuple[int, int, str]] = []
        raw_terms = doc.raw_terms
        refs: list[tuple[int, int, str]] = []
        day = doc.when.date() if doc.when is not None else None
        for end, payloads in self.automaton.iter(padded):
            for payload in payloads:
                kind = payload.kind
                if kind == "term":
                    raw_terms.append((end, payload))
                    continue
                start, stop = self._offsets(doc, padded, unit_map, end, payload.key)
                if kind == "ref":
                    refs.append((start, stop, payload.how))
                    continue
                if kind == "actor":
                    alias: AliasKey = payload.alias
                    surface = original[start:stop]
                    if alias.case is not None and not _acronym_ok(alias, surface, original, start):
                        continue
                    if (alias.since or alias.until) and not _meant(
                        alias, payloads, day, original, start
                    ):
                        doc.undated.append((original[start:stop], alias))
                        continue
                    doc.actor_hits.append(ActorHit(alias.actor, alias.kind, start, stop, surface))
                else:
                    excluded.append((start, stop, payload.actor))
        if not doc.actor_hits and not raw_terms:
            return False
        if excluded:
            doc.actor_hits = [
                h
                for h in doc.actor_hits
                if not any(s <= h.start and h.end <= e and a == h.actor for s, e, a in excluded)
            ]
        doc.actor_hits = [
            h
            for h in _outermost(doc.actor_hits)
            if h.kind != "metonym" or not _dateline(original, h)
        ]
        if refs and doc.actor_hits and raw_terms:
            self._references(doc, refs)
        if doc.actor_hits and raw_terms:
            self._identified(doc)
        untracked = self.untracked
        doc.tracked_hits = (
            [h for h in doc.actor_hits if h.actor not in untracked] if untracked else doc.actor_hits
        )
        return True

    def _references(self, doc: Document, refs: list[tuple[int, int, str]]) -> None:
        """ "The two groups", "both sides" (each of the last two actors named before them, in
        this sentence or the two before) and "the group" (the last actor named in the
        sentences before) stand for those actors: hits of their own, so that a sentence
        that names its fighters only this way is read too. "Its fighters" ("own") does so
        only where no actor comes before it in its own sentence."""
        named = [h for h in doc.actor_hits if h.actor not in self.untracked]
        added = []
        for start, stop, how in refs:
            lo = doc.sentence_at(start)[0]
            before = doc.sentences_before(start, 2)
            window_start = before[0][0] if before else lo
            earlier = [h for h in named if window_start <= h.start and h.end <= start]
            if how == "speaker":  # "…,” it added": the pronoun alone stands for the speaker
                speaker = _last_speaker(doc.text, earlier)
                stop = start + len(doc.text[start:stop].split()[0])
                if speaker is not None:
                    added.append(ActorHit(speaker, "reference", start, stop, doc.text[start:stop]))
            elif how == "kin":
                kin = _kin(doc.text, earlier, doc.text[start:stop].split()[-1])
                if kin is not None:
                    added.append(ActorHit(kin, "reference", start, stop, doc.text[start:stop]))
            elif how == "each":
                last: list[str] = []
                for h in reversed(earlier):
                    if h.actor not in last:
                        last.append(h.actor)
                if len(last) >= 2:
                    added += [
                        ActorHit(a, "reference", start, stop, doc.text[start:stop], True)
                        for a in last[:2]
                    ]
            else:
                prior = [h for h in earlier if h.start < lo]
                here = {h.actor for h in earlier if h.start >= lo}
                if how == "own" and here:
                    continue  # "A said *its* fighters …": the parse reads whose (roles)
                if prior and prior[-1].actor not in here:
                    h = prior[-1]
                    added.append(ActorHit(h.actor, "reference", start, stop, doc.text[start:stop]))
        if added:
            doc.set_actor_hits(sorted([*doc.actor_hits, *added], key=START))

    def _identified(self, doc: Document) -> None:
        """A group described before and named after: "clashes between Sunni militants and A.
        *The Sunni militants are believed to be from B*": the description, in the sentence or
        two before, stands for B."""
        added = []
        for m in _IDENTITY.finditer(doc.text):
            # the first actor named after it, in its sentence and within a dozen words ("from
            # al-Qaida's Syrian affiliate, the Nusra Front")
            end = min(doc.sentence_at(m.start())[1], m.end() + 90)
            named = doc.hits_in(m.end(), end)
            if not named or named[0].actor in self.untracked:
                continue
            between = doc.text[m.end() : named[0].start]
            if (
                between.count(",") > 1
                or _SAYING.search(between)
                or _SAYING.match(doc.text, named[0].end)
            ):
                continue  # "from a local clan, officials of A said": A speaks, it is not named
            described = m.group("group")
            lo = doc.sentence_at(m.start())[0]
            before = doc.sentences_before(m.start(), 2)
            if not before:
                continue
            pattern = re.compile(rf"\b{re.escape(described)}\b", re.IGNORECASE)
            for found in pattern.finditer(doc.text, before[0][0], lo):
                added.append(
                    ActorHit(named[0].actor, "reference", found.start(), found.end(), found.group())
                )
        if added:
            doc.set_actor_hits(sorted([*doc.actor_hits, *added], key=START))

    @staticmethod
    def _offsets(doc: Document, padded: str, unit_map: bool, end: int, key: str) -> tuple[int, int]:
        """Where in the original text the automaton's match of ``key`` ending at ``end`` is:
        a key without a trailing space is a stem, whose match runs to the end of its word."""
        p_start = end - len(key) + 2  # skip the leading space
        if key[-1] == " ":
            p_end = end
        else:
            nxt = padded.find(" ", end + 1)
            p_end = nxt if nxt != -1 else len(padded) - 1
        if unit_map:  # folding kept every length: offsets are the same, less padding
            return p_start - 1, min(p_end - 1, len(doc.text))
        return doc.folded.span(p_start, p_end)

    def term_hits(self, doc: Document) -> None:
        """Turn the keyword terms the scan noted into hits (once per article)."""
        if doc.terms_ready:
            return
        doc.terms_ready = True
        padded = doc.folded.padded
        original = doc.text
        unit_map = doc.folded.unit_map
        hits = []
        for end, term in doc.raw_terms:
            start, stop = self._offsets(doc, padded, unit_map, end, term.key)
            surface = original[start:stop]
            hits.append(
                TermHit(term.term, term.part, start, stop, surface, term.set_name, term.gapped)
            )
        hits.sort(key=START)
        doc.all_term_hits = hits
        doc.all_term_starts = [h.start for h in hits]
        actors = doc.actor_hits
        if not actors or not hits:
            doc.term_hits = list(hits)
            doc.term_starts = doc.all_term_starts
            return
        # a term inside an actor's name is part of the name ("regime forces"). The actor hits
        # are the outermost ones, in order: their starts and their ends both increase, so the
        # last one starting at or before a term is the only one that can hold it
        starts = [h.start for h in actors]
        kept = []
        for t in hits:
            i = bisect_right(starts, t.start) - 1
            if i >= 0:
                a = actors[i]
                if t.end <= a.end and (a.start != t.start or a.end != t.end):
                    continue
            kept.append(t)
        doc.term_hits = kept
        doc.term_starts = [h.start for h in kept]


def _outermost(hits: list[ActorHit]) -> list[ActorHit]:
    """Drop hits inside a longer hit: "Free Syrian Army" is not also "Syrian Army"."""
    hits.sort(key=lambda h: (h.start, -(h.end - h.start)))
    out: list[ActorHit] = []
    reach = -1
    for h in hits:
        if h.end <= reach and out and out[-1].start <= h.start:
            continue
        out.append(h)
        reach = max(reach, h.end)
    return out


#: a dateline: "DAMASCUS, Syria (Reuters) –", "Damascus, SANA –", "MOSCOW, October 7. /TASS/."
_DATELINE = re.compile(r"[ ,]*(?:[A-Z][\w .'/()-]{0,40})?\s*(?:[–—-]{1,2}|:|/)\s")


def _dateline(text: str, hit: ActorHit) -> bool:
    """A place name that opens a paragraph as the story's dateline is where it was filed,
    not a side: the city ("Damascus", "Moscow", "Ankara") is followed by a comma or a dash
    and a short run of names before the dash."""
    if hit.kind != "metonym":
        return False
    line_start = text.rfind("\n", 0, hit.start) + 1
    if text[line_start : hit.start].strip(" \t\"“'(") or hit.end >= len(text):
        return False
    if text[hit.end] not in ",–—-:/ ":
        return False
    return _DATELINE.match(text, hit.end, min(len(text), hit.end + 60)) is not None


#: words before a name that send it back to what it meant before: "the *former* Syrian army",
#: "*remnants of* the regime", "the *ousted* government"
_PAST_CUE = re.compile(
    r"(?:\b(?:former|ousted|fallen|deposed|toppled|defunct|previous|old|ex|assad[\s-]era)"
    r"|\bremnants\s+of(?:\s+the)?)[\s-]+(?:the\s+)?$",
    re.IGNORECASE,
)


def _meant(
    alias: AliasKey, payloads: Sequence[Payload], day: date | None, original: str, start: int
) -> bool:
    """Does this dated name mean ``alias.actor`` here? By the text's date, unless a word of
    the past before it ("former", "ousted", "remnants of") sends it to its earlier meaning."""
    earlier = [p.alias for p in payloads if isinstance(p, NameKey) and p.alias.until]
    if earlier and _PAST_CUE.search(original, max(0, start - 30), start):
        latest = max(a.until for a in earlier if a.until is not None)
        if day is None or day >= latest:
            return alias.until == latest
    return alias.valid(day)


def _acronym_ok(alias: AliasKey, surface: str, original: str, start: int) -> bool:
    if letters_of(surface) != alias.case:
        # "hts", "sdf" written in lower case (a slug, a post, a hurried line): an acronym of
        # three letters or more that spells no English word; "is", "us" never
        return (
            alias.case is not None
            and len(alias.case) >= 3
            and letters_of(surface) == alias.case.lower()
            and alias.case.lower() not in WORD_ACRONYMS
        )
    if alias.case is not None and alias.case.lower() in AMBIGUOUS_ACRONYMS:
        # in an ALL-CAPS line "IS" may be the verb: accept only with lower case on its line
        line_start = original.rfind("\n", max(0, start - 80), start) + 1 or max(0, start - 80)
        line_end = original.find("\n", start, start + 80)
        window = original[line_start : line_end if line_end != -1 else start + 80]
        if not any(c.islower() for c in window):
            return False
    return True


def _kin(text: str, earlier: list[ActorHit], noun: str) -> str | None:
    """The actor last named with ``noun`` ("rebels"): "*A-backed* rebels", "*A* rebels",
    "rebels backed by *A*", "rebels loyal to *A*"; a reference itself is not one."""
    stem = re.escape(noun.lower().removesuffix("s"))
    after = re.compile(rf"[\s-]*(?:[A-Za-z]+\s+)?{stem}s?\b", re.IGNORECASE)
    before = re.compile(
        rf"\b{stem}s?\s+(?:(?:backed|supported|armed|funded|trained|sponsored)\s+by|loyal\s+to)"
        r"\s+(?:the\s+)?$",
        re.IGNORECASE,
    )
    own = re.compile(rf"\b{stem}s?$", re.IGNORECASE)  # the name itself: "A-backed rebels"
    for h in reversed(earlier):
        if h.kind == "reference":
            continue
        if (
            own.search(h.surface)
            or after.match(text, h.end)
            or before.search(text, max(0, h.start - 60), h.start)
        ):
            return h.actor
    return None


#: words of saying right after a name: "the SDF *said*", "Turkey *added*"
_SAID = re.compile(r"\s+(?:has\s+|had\s+)?(?:said|added|stated|announced|told|claimed)\b")


def _last_speaker(text: str, earlier: list[ActorHit]) -> str | None:
    """The actor last named as one who spoke ("… ,” *the SDF said* in a statement")."""
    for h in reversed(earlier):
        if h.kind != "reference" and _SAID.match(text, h.end):
            return h.actor
    return None
