"""The lexical stage: who fights whom by word order, where no parse is needed or to be had.

Pure. Two uses. A plain sentence ("Hezbollah clashed with regime forces", "HTS attacked the
SDF") with no word anywhere that could turn it around (a negation, modal, denial, hedge, ally,
date, question) is a clash by word order alone, without a parse (``plain``). And where no
parse can be had (no parser, text in Arabic script), the order of the actors around a conflict
word decides (``opposed``): "between A and B", "A attacked B", "A and B clashed" with no
object are clashes; "a joint offensive", "strikes against A and B" (co-targets after a target
preposition), talks or a call to stop the fighting are not.
"""

from __future__ import annotations

import re
from bisect import bisect_left

from monitor.match import lexicon as lx
from monitor.match import text as textmod
from monitor.match.document import WORD, ActorHit, Document, TermHit
from monitor.match.keywords import Keywords
from monitor.match.rules import BETWEEN, JOINT, MUTUAL, TALKS
from monitor.models import Clash


class WordOrder:
    """Sentences read by the order of their words."""

    def __init__(self, keywords: Keywords, lexicon: lx.Lexicon, untracked: frozenset[str]) -> None:
        self.keywords = keywords
        self.untracked = untracked
        #: finite verb forms of the classes (not of quarrels): "clashed" → its class
        self.finite = {
            form: c for c in lexicon.classes if not c.escalated for form in c.finite_forms()
        }

    def around(self, doc: Document, kw: TermHit, by_actor: dict[str, list[ActorHit]]) -> list[str]:
        """The two sides of a mutual word read by word order alone, or none: "clashes
        *between A and B*" ("between" or "among" right after the word, then the first two
        actors within a dozen words), or "*A and B fighters* traded fire" (two actors joined
        by "and" right before the word, a unit word at most between)."""
        lo, hi = doc.sentence_at(kw.start)
        before = sorted(
            (h.start, h.end, a)
            for a, hits in by_actor.items()
            for h in hits
            if lo <= h.start and h.end <= kw.start
        )
        if len(before) >= 2:
            (_s1, e1, a1), (s2, e2, a2) = before[-2:]
            joined = doc.text[e1:s2].strip(" ,").lower() in ("and", "&")
            gap = doc.text[e2 : kw.start]
            if a1 != a2 and joined and (not gap.strip() or _PLAIN_UNIT.fullmatch(gap)):
                return [a1, a2]
        for cue in self.keywords.cues(doc, kw.end, hi, frozenset((BETWEEN,))):
            if len(WORD.findall(doc.text, kw.end, cue.start)) > 2:
                break
            after = sorted(
                (h.start, a)
                for a, hits in by_actor.items()
                for h in hits
                if h.start >= cue.end and len(WORD.findall(doc.text, cue.end, h.start)) <= 12
            )
            named = list(dict.fromkeys(a for _, a in after))
            return named[:2] if len(named) >= 2 else []
        return []

    def opposed(self, doc: Document, kw: TermHit, by_actor: dict[str, list[ActorHit]]) -> bool:
        """Does the sentence of ``kw`` set two of the actors against each other (by word
        order: the lexical stage)?"""
        lo, hi = doc.sentence_at(kw.start)
        mentions = [
            (h.start, h.end, a) for a, hits in by_actor.items() for h in hits if lo <= h.start < hi
        ]
        if len({a for _, _, a in mentions}) < 2:
            return True  # the actors meet in a wider unit: position says nothing
        if self.keywords.cues(doc, lo, hi, frozenset((TALKS,))):
            return False  # talks between them, a call to stop the fighting
        for cue in self.keywords.cues(doc, lo, hi, frozenset((BETWEEN, MUTUAL))):
            if cue.set_name == MUTUAL:
                return True
            limit = len(WORD.findall(doc.text, cue.end, hi))
            after = {
                a
                for s, _e, a in mentions
                if s >= cue.end and len(WORD.findall(doc.text, cue.end, s)) <= min(limit, 15)
            }
            if len(after) >= 2:
                return True  # "clashes between A and B"
        if self.keywords.cues(doc, lo, hi, frozenset((JOINT,))):
            return False  # "a joint offensive", "fought alongside"
        before = {a for _s, e, a in mentions if e <= kw.start}
        after = {a for s, _e, a in mentions if s >= kw.end}
        if before and after and any(x != y for x in before for y in after):
            return True  # "A attacked B", "A clashed with B"
        last_word = kw.surface.split()[-1].lower() if kw.surface.split() else ""
        if len(before) >= 2 and not after:
            return not _has_object(doc.text, kw.end, hi)  # "A and B clashed", no object
        if len(after) >= 2 and not before:
            first = min(s for s, _e, _a in mentions if s >= kw.end)
            gap = {w.lower() for w in WORD.findall(doc.text, kw.end, first)}
            return not (gap | {last_word}) & _TARGET_WORDS  # not "strikes against A and B"
        return False

    def plain(
        self, doc: Document, lo: int, hi: int, kws: list[TermHit], hits: list[ActorHit]
    ) -> list[tuple[TermHit, Clash]] | None:
        """Sentences whose grammar word order already gives. An actor right before a conflict
        verb and another right after it or its preposition ("Hezbollah clashed with regime
        forces", "HTS attacked the SDF"), with no word anywhere that could turn it around (a
        negation, modal, denial, hedge, ally, date, question), are a clash; a sentence whose
        every conflict verb has that shape and no list around its names is read whole by it
        (no clash at all when each names one actor on both sides). Anything else (None) goes
        to the parser."""
        text = doc.text
        if "?" in text[lo:hi]:
            return None
        if doc.folded.unit_map:  # the folded text, a space before and after the sentence
            if _PLAIN_BLOCKERS.search(doc.folded.padded, lo, hi + 2):
                return None
        elif _PLAIN_BLOCKERS.search(f" {textmod.normalise(text[lo:hi])} "):
            return None
        starts = [h.start for h in hits]
        found: list[tuple[TermHit, Clash]] = []
        whole = True
        for k in kws:
            if len(kws) > 1 and any(
                o.start <= k.start and k.end <= o.end and o.end - o.start > k.end - k.start
                for o in kws
            ):
                continue  # "fire" inside "exchanged fire"
            triple = self._triple(text, hits, starts, k, hi) or self._joined(
                text, hits, starts, k, hi
            )
            if triple is None:
                whole = False
                continue
            a, b, cls = triple
            if a.actor != b.actor and not self.untracked & {a.actor, b.actor}:
                named = text[a.start : k.start].strip()  # "Hezbollah fighters"
                clash = Clash(k.surface, (a.actor,), (b.actor,), cls.mutual, (named,), (b.surface,))
                found.append((k, clash))
            elif _in_list(text, hits, a, b):
                whole = False
        if found or whole:
            return found
        return None

    def _joined(
        self, text: str, hits: list[ActorHit], starts: list[int], k: TermHit, hi: int
    ) -> tuple[ActorHit, ActorHit, lx.PredicateClass] | None:
        """Two names joined right before a mutual verb with no object ("Hezbollah and HTS
        clashed near Qusayr", a headline's "Turkey, SDF exchange fire in Manbij")."""
        cls = self.finite.get(" ".join(k.surface.lower().split()))
        i = bisect_left(starts, k.start)
        if cls is None or not cls.mutual or i < 2 or _OTHER_SIDE.search(text, k.end, hi):
            return None  # "A and B clashed near X *with* rebels": one side
        if {w.lower() for w in WORD.findall(text, k.end, hi)} & _WORDS_NOT_ARMED:
            return None  # "A, B clash over X at talks": the parse reads a fight of words
        a, b = hits[i - 2], hits[i - 1]
        if i > 2 and text[hits[i - 3].end : a.start].strip(" ,&").lower() in ("", "and"):
            return None  # three or more names: a list the parser reads
        joined = text[a.end : b.start]
        gap = text[b.end : k.start]
        if joined.strip(" ").lower() not in (",", "and", "&", ", and") or a.actor == b.actor:
            return None
        if not (gap == " " or _PLAIN_UNIT.fullmatch(gap)):
            return None
        return a, b, cls

    def _triple(
        self, text: str, hits: list[ActorHit], starts: list[int], k: TermHit, hi: int
    ) -> tuple[ActorHit, ActorHit, lx.PredicateClass] | None:
        """The names right before and after a conflict verb, when nothing else stands there."""
        cls = self.finite.get(" ".join(k.surface.lower().split()))
        i = bisect_left(starts, k.start)
        if cls is None or i == 0 or i == len(hits):
            return None
        a, b = hits[i - 1], hits[i]
        between = text[a.end : k.start]
        if not (between == " " or _PLAIN_UNIT.fullmatch(between)):
            return None  # "A clashed", "Iran-backed militias attacked", "A fighters attacked"
        joint = _PLAIN_JOINT.fullmatch(text, k.end, b.start)
        if (
            joint is None
            and "from" in cls.target
            and _PLAIN_PLACE_FROM.fullmatch(text, k.end, b.start)
        ):
            pass  # "A retook Al-Bab from B": a place taken from B
        elif joint is None or (joint.group(1) and joint.group(1).lower() not in cls.target):
            return None
        if not _PLAIN_AFTER.match(text, b.end, hi):
            return None  # "attacked A's rivals"
        return a, b, cls


#: words after a mutual verb that may make its fight one of words
_WORDS_NOT_ARMED = lx.NOT_ARMED | lx.VERBAL | {"over"}
#: a word after a mutual verb that opens its other side, anywhere in the sentence
_OTHER_SIDE = re.compile(
    r"\b(?:with|against|on|upon|into|targeting)\b"
    r"(?! (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b)",
    re.IGNORECASE,
)
#: a keyword followed by one of these has an object: "A and B clashed with rebels"; Arabic
#: "on", "against" ("غارات إسرائيلية على مواقع A و B": raids on A and B, co-targets); French
#: ("des frappes contre des positions de A et de B")
_TARGET_WORDS = frozenset(
    "with against on targeting upon into على ضد مواقع مقرات نقاط تمركزات معاقل "
    "contre sur visant ciblant".split()
)


#: ...unless it is about time: "clashed on Friday", "on 3 May", "on the night of"
_TIME_WORDS = frozenset(
    """monday tuesday wednesday thursday friday saturday sunday january february march april
    may june july august september october november december jan feb mar apr jun jul aug sep
    sept oct nov dec night morning evening day weekend""".split()
)


def _has_object(text: str, pos: int, end: int) -> bool:
    """Does an object follow ``pos``: "clashed with rebels", not "clashed on Friday"?"""
    words = [w.lower() for w in WORD.findall(text, pos, min(end, pos + 60))[:3]]
    if not words or words[0] not in _TARGET_WORDS:
        return False
    rest = [w for w in words[1:] if w != "the"]
    return not (words[0] == "on" and rest and (rest[0] in _TIME_WORDS or rest[0].isdigit()))


#: the plain "A clashed with B": what may stand between the verb and the second actor, …
_PLAIN_JOINT = re.compile(r"\s+(?:(?!the\s)([A-Za-z]+)\s+)?(?:the\s+)?", re.ASCII | re.I)


#: … or, for a verb of taking, a place's name and "from" ("A retook *Al-Bab from* B")
_PLAIN_PLACE_FROM = re.compile(
    r"\s+(?:the\s+(?:town|city|village|district)\s+of\s+)?[A-Z][\w'’-]*"
    r"(?:\s+(?:al-|el-|ad-|as-|ar-|at-)?[A-Z][\w'’-]*){0,3}\s+from\s+(?:the\s+)?"
)


#: … what may stand between an adjective form and the verb ("Iran-backed *militias* attacked")
_PLAIN_UNIT = re.compile(
    r" (?:forces|troops|militias?|fighters|militants|jets|warplanes|drones|units|soldiers|"
    r"gunmen|rebels|factions|artillery|army) ",
    re.IGNORECASE,
)


#: … what must follow the second (not a possessive: "attacked A's rivals") …
_PLAIN_AFTER = re.compile(r"(?!['’]s\b)(?![-‐])")


#: … and words anywhere in the sentence that send it to the parser (folded, padded text)
_PLAIN_BLOCKERS = re.compile(
    r" (?:not|no|never|n t|without|nor|deny|denies|denied|denial|refute[ds]?|reject(?:s|ed)?|"
    r"dismiss(?:es|ed)?|false|fake|untrue|lies?|fabricated|baseless|rumou?rs?|could|would|may|"
    r"erroneous|inaccurate|incorrect|mistaken|bogus|misleading|unfounded|groundless|hoax|"
    r"\w*information|propaganda|nonsense|unrealistic|"
    r"might|will|shall|should|can|cannot|must|if|whether|unless|prevent\w*|avoid\w*|risks?|"
    r"threat\w*|warn\w*|fears?|feared|alleged\w*|possibl[ey]|plann?\w*|prepar\w*|intend\w*|"
    r"urge[ds]?|call(?:s|ed)? for|halt\w*|stop\w*|ago|former|previously|since|"
    r"(?:years|decades?) (?:after|before|earlier)|verbal\w*|"
    r"match|game|alongside|together|jointly|backed by|supported by|loyal|close to|behalf|side|"
    r"each other|(?:19|20)[0-9][0-9]) "
)


def _in_list(text: str, hits: list[ActorHit], a: ActorHit, b: ActorHit) -> bool:
    """Is another name listed with either side ("C and A clashed with B", "A attacked B, C")?"""
    for h in hits:
        if h is a or h is b:
            continue
        gap = text[h.end : a.start] if h.end <= a.start else text[b.end : h.start]
        if (len(gap) <= 8 and not gap.strip(" ,&")) or gap.strip().lower() in ("and", "or"):
            return True
    return False
