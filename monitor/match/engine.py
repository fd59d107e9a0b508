"""Rules over articles: compile the configuration once, then explain every match.

Pure: no I/O. ``compile_rules(settings)`` builds one Aho-Corasick automaton over every actor
alias, keyword term, cue and exclusion, so the cost of matching grows with the length of the
text, not with the number of actors and keywords. ``Engine.match(title, text)`` folds the text
once (``text.fold``), scans it once, and only when some rule could still be satisfied does it
split sentences and evaluate conditions.

A rule is satisfied in a *unit* (a sentence, a paragraph, the article, or a window of N words
around a keyword) that holds its keyword condition (``any``/``all``/``not`` over keyword sets)
and at least ``min_actors`` distinct canonical actors, optionally restricted to ``actors``,
``pairs`` or one ``camp``. ``unless`` cue sets in the same sentence suppress (or downgrade) it;
``confirm`` cue sets must appear in the sentence or the next one.
"""

from __future__ import annotations

import operator
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from itertools import chain
from typing import Any, ClassVar, Literal

import ahocorasick

from monitor.match import decide, readings, references, roles
from monitor.match import lexicon as lx
from monitor.match import text as textmod
from monitor.match.actors import (
    AMBIGUOUS_ACRONYMS,
    WEIGHTS,
    AliasKey,
    alias_keys,
    exclusion_keys,
    find_clashes,
    letters_of,
    variants,
)
from monitor.match.syntax import Parser, ParserUnavailable
from monitor.models import SEVERITIES, ActorMention, Clash, Match, Severity, Span

_WORD = re.compile(r"\w+")
#: an article's sentences parsed at most (a real one has a few candidates; a hostile one,
#: thousands): the rest are read by word order
MAX_PARSED_SENTENCES = 40
_START = operator.attrgetter("start")
_GAP_ANY = (0, 8)  # "fighting ... between": up to eight words in between

#: built-in cue sets for the ``opposed`` check (English and Arabic); names cannot clash with
#: configured sets, which may not start with "@"
BETWEEN = "@between"
MUTUAL = "@mutual"
JOINT = "@joint"
TALKS = "@talks"
BUILTIN_SETS: dict[str, list[str]] = {
    BETWEEN: ["between", "among", "amongst", "بين"],
    MUTUAL: [
        "each other",
        "one another",
        "pitting",
        "pitted",
        "versus",
        "vs",
        "rival",
        "rivals",
        "against each other",
    ],
    JOINT: [
        "joint",
        "jointly",
        "alongside",
        "together",
        "together with",
        "allied with",
        "in coordination with",
        "coordinated with",
        "side by side",
        "backed by",
        "supported by",
        "with the support of",
        "air cover",
        "in support of",
        "on behalf of",
        "cooperation",
        "cooperating",
    ],
    # talks about a fight, and calls to stop or prevent it, where no parse reads the sentence
    # (Arabic): "a meeting between A and B to stop the clashes"
    TALKS: [
        "talks",
        "meeting",
        "negotiations",
        "mediation",
        "reconciliation",
        "to stop",
        "to prevent",
        "to end",
        "to avoid",
        "اجتماع",
        "لقاء",
        "محادثات",
        "مفاوضات",
        "وساطة",
        "مصالحة",
        "تهدئة",
        "هدنة",
        "وقف",
        "منع",
        "تجنب",
        "إنهاء",
        "اتفاق",
    ],
}
#: phrases that refer back to actors named before: "each" (both of the last two) or "one"
REFERENCES: dict[str, str] = {
    **{
        f"{det} {noun}": "each"
        for det in ("both", "the two", "the 2", "the rival", "the warring")
        for noun in (
            "sides groups factions parties forces rivals militias organizations organisations "
            "movements armies formations camps"
        ).split()
    },
    **{
        f"the {noun}": "one"
        for noun in "group militants jihadists militia movement organization organisation".split()
    },
    # "B fighters held the hills. A fighters attacked *them*": an object pronoun stands for
    # the last actor of the sentences before, when this sentence does not name it ("they",
    # a subject, is as often the speaker of the sentence before: not read)
    "them": "one",
}
#: how sure a hit names its actor: an alias, an inflected form, a place (metonym), a reference
_HIT_WEIGHTS: dict[str, float] = {**dict(WEIGHTS.items()), "reference": 0.8}
#: a keyword followed by one of these has an object: "A and B clashed with rebels"; Arabic
#: "on", "against" ("غارات إسرائيلية على مواقع A و B": raids on A and B, co-targets)
_TARGET_WORDS = frozenset("with against on targeting upon into على ضد".split())
#: ...unless it is about time: "clashed on Friday", "on 3 May", "on the night of"
_TIME_WORDS = frozenset(
    """monday tuesday wednesday thursday friday saturday sunday january february march april
    may june july august september october november december jan feb mar apr jun jul aug sep
    sept oct nov dec night morning evening day weekend""".split()
)


def _has_object(text: str, pos: int, end: int) -> bool:
    """Does an object follow ``pos``: "clashed with rebels", not "clashed on Friday"?"""
    words = [w.lower() for w in _WORD.findall(text, pos, min(end, pos + 60))[:3]]
    if not words or words[0] not in _TARGET_WORDS:
        return False
    rest = [w for w in words[1:] if w != "the"]
    return not (words[0] == "on" and rest and (rest[0] in _TIME_WORDS or rest[0].isdigit()))


class RuleError(ValueError):
    """The rules cannot be compiled; ``problems`` are (key path, message) pairs."""

    def __init__(self, problems: list[tuple[tuple[Any, ...], str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(m for _, m in problems))


@dataclass(frozen=True, slots=True)
class Term:
    """A keyword term: one phrase, or phrases with gaps between them."""

    set_name: str
    written: str
    #: (min, max) words allowed between consecutive parts
    gaps: tuple[tuple[int, int], ...]

    @property
    def parts(self) -> int:
        return len(self.gaps) + 1


@dataclass(frozen=True, slots=True)
class _Rule:
    name: str
    any: frozenset[str]
    all: frozenset[str]
    not_: frozenset[str]
    min_actors: int
    actors: frozenset[str] | None
    pairs: tuple[frozenset[str], ...] | None
    same_camp: bool
    opposed: bool
    within: Literal["sentence", "paragraph", "article", "words"]
    window: int
    scope: Literal["title", "body", "any"]
    unless: frozenset[str]
    unless_action: Literal["suppress", "downgrade"]
    confirm: frozenset[str]
    severity: Severity
    min_score: float
    mode: Literal["live", "shadow"]
    channels: tuple[str, ...]
    digest: float | None = None
    #: a quarrel counts as it is, not only once it turns violent (``RuleSettings.quarrels``)
    quarrels: bool = False
    #: every keyword set the rule looks at; the sets whose terms anchor a match (any, all)
    sets: frozenset[str] = field(init=False)
    anchors: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "sets", self.any | self.all | self.not_ | self.unless | self.confirm
        )
        object.__setattr__(self, "anchors", self.any | self.all)


@dataclass(frozen=True, slots=True)
class _NameKey:
    """An automaton key that is an actor's name."""

    kind: ClassVar[str] = "actor"
    key: str
    alias: AliasKey


@dataclass(frozen=True, slots=True)
class _ExclusionKey:
    """A longer phrase that holds an actor's name but means something else."""

    kind: ClassVar[str] = "exclude"
    key: str
    actor: str


@dataclass(frozen=True, slots=True)
class _ReferenceKey:
    """A phrase that refers back to actors named before ("the two groups")."""

    kind: ClassVar[str] = "ref"
    key: str
    #: "each" (both of the last two actors) or "one" (the last)
    how: str


@dataclass(frozen=True, slots=True)
class _TermKey:
    """A keyword term, or one part of a gapped term ("fighting ... between")."""

    kind: ClassVar[str] = "term"
    key: str
    term: int
    part: int
    set_name: str
    gapped: bool


#: what the automaton holds for a key (several records when keys coincide)
_Payload = _NameKey | _ExclusionKey | _ReferenceKey | _TermKey


@dataclass(slots=True)
class _ActorHit:
    actor: str
    #: alias, form, metonym; or reference ("the two groups")
    kind: str
    start: int
    end: int
    surface: str
    #: one of several actors a reference stands for, each a party of its own ("both sides")
    each: bool = False


@dataclass(slots=True)
class _TermHit:
    term: int
    part: int
    start: int
    end: int
    surface: str
    #: the term's keyword set; whether it is a gapped term (several parts)
    set_name: str
    gapped: bool


@dataclass(slots=True)
class _Unit:
    start: int
    end: int
    actors: dict[str, list[_ActorHit]]
    terms: list[_TermHit]
    score: float
    downgraded: bool = False
    notes: list[str] = field(default_factory=list)
    #: who fights whom, where the role stage read the sentence
    clashes: list[Clash] = field(default_factory=list)


@dataclass(slots=True)
class _Found:
    """What the opposition check gathers: the keywords kept, the actors set against each
    other, the clashes read."""

    kept: list[_TermHit] = field(default_factory=list)
    fighters: set[str] = field(default_factory=set)
    clashes: list[Clash] = field(default_factory=list)
    #: how a clash was decided where the parse did not prove it ("by default: …")
    notes: list[str] = field(default_factory=list)

    def add(self, keyword: _TermHit, clash: Clash | None, fighters: Iterable[str]) -> None:
        if keyword not in self.kept:
            self.kept.append(keyword)
        if clash is not None and clash not in self.clashes:
            self.clashes.append(clash)
        self.fighters.update(fighters)


class _Doc:
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
        self.actor_hits: list[_ActorHit] = []
        #: ...less those of parties that are not tracked (set by ``Engine._scan``)
        self.tracked_hits: list[_ActorHit] = []
        #: (where it ends in the folded text, which) of every keyword term found
        self.raw_terms: list[tuple[int, _TermKey]] = []
        #: ...turned into hits (by ``Engine._make_term_hits``, when a rule needs them)
        self.terms_ready = False
        self.term_hits: list[_TermHit] = []
        #: every term hit, also those inside an actor's name ("regime forces" holds "forces")
        self.all_term_hits: list[_TermHit] = []
        #: where each of them starts (both lists are in that order)
        self.term_starts: list[int] = []
        self.all_term_starts: list[int] = []
        self._sentences: dict[int, list[tuple[int, int]]] = {}
        self._sentence_starts: dict[int, list[int]] = {}
        self._para_starts: list[int] | None = None
        self._paragraphs: list[tuple[int, int]] | None = None
        self._words: list[int] | None = None

    def set_actor_hits(self, hits: list[_ActorHit]) -> None:
        self.actor_hits = hits
        self._hit_starts = None

    def hits_in(self, lo: int, hi: int) -> list[_ActorHit]:
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
            self._words = [m.start() for m in _WORD.finditer(self.text)]
        return self._words

    def field_of(self, pos: int) -> Literal["title", "body"]:
        return "title" if pos < self.title_len else "body"

    def lead_end(self) -> int:
        """End of the lead: the first body paragraph."""
        for s, e in self.paragraphs:
            if s >= self.body_start:
                return e
        return len(self.text)


class Engine:
    """Compiled rules. Thread-safe for reading; build a new one to change the configuration."""

    def __init__(
        self,
        rules: Sequence[_Rule],
        terms: Sequence[Term],
        automaton: Any,
        camps: dict[str, str],
        set_confirm: dict[str, frozenset[str]] | None = None,
        lexicon: lx.Lexicon | None = None,
        parser: Parser | None = None,
        untracked: frozenset[str] = frozenset(),
    ) -> None:
        self.rules = tuple(rules)
        #: parties known so that roles read right, never a side of a match
        self._untracked = untracked
        #: conflict vocabulary by class, and the parser that reads roles (None: word order)
        self.lexicon = lexicon or lx.Lexicon.build(())
        self._classes = frozenset(c.name for c in self.lexicon.classes)
        #: the classes' nouns, every form ("airstrikes")
        self._nouns = frozenset(
            w
            for c in self.lexicon.classes
            for n in c.nouns
            for w in textmod.inflections(n.split()[-1])
            if (w == n.split()[-1] or w.endswith("s"))  # the noun and its plural
            and w not in ("fire", "fires", "gunfire")  # "the … exchanged fire": no reference
        )
        #: finite verb forms of the classes (not of quarrels): "clashed" → its class
        self._finite = {
            form: c for c in self.lexicon.classes if not c.escalated for form in c.finite_forms()
        }
        self.parser = parser if self.lexicon else None
        self._terms = tuple(terms)
        self._automaton = automaton
        self._camps = camps
        self._set_confirm = set_confirm or {}
        self._by_name = {r.name: r for r in self.rules}

    def channels_for(self, rule: str) -> tuple[str, ...]:
        return self._by_name[rule].channels

    @property
    def alerting(self) -> bool:
        """Does any rule send alerts (not only record them, as shadow rules do)?"""
        return any(r.mode == "live" for r in self.rules)

    @property
    def digest_rules(self) -> dict[str, float]:
        """Rules whose alerts go out as periodic digests, with their periods in seconds."""
        return {r.name: r.digest for r in self.rules if r.digest}

    def match(
        self,
        title: str,
        text: str,
        rules: Iterable[str] | None = None,
        when: datetime | None = None,
    ) -> list[Match]:
        """Every rule that matches the article, each with its explanation. ``when``: its
        publication (or fetch) time, for aliases valid only before or after a date."""
        return self.match_many([(title, text, when)], rules)[0]

    def match_many(
        self,
        articles: Sequence[tuple[str, str, datetime | None]],
        rules: Iterable[str] | None = None,
    ) -> list[list[Match]]:
        """``match`` for several articles (title, text, when) at once: the sentences they
        need parsed are parsed together, in one batch (a sentence alone costs the parser
        about three times as much)."""
        wanted = None if rules is None else set(rules)
        docs = [_Doc(title, text, when) for title, text, when in articles]
        out: list[list[Match]] = []
        for doc in docs:
            if not self._scan(doc):
                out.append([])
                continue
            doc.pending = [] if self.parser is not None and len(docs) > 1 else None
            out.append(self._rules_on(doc, wanted))
        waiting = [d for d in docs if d.pending]
        if waiting:
            self._parse_into(waiting)
            for i, doc in enumerate(docs):
                if doc.pending:  # again, with the sentences it asked for read
                    doc.pending = None
                    out[i] = self._rules_on(doc, wanted)
        return out

    def _rules_on(self, doc: _Doc, wanted: set[str] | None) -> list[Match]:
        out = []
        for rule in self.rules:
            if wanted is not None and rule.name not in wanted:
                continue
            m = self._evaluate(rule, doc)
            if m is not None:
                out.append(m)
        return out

    def explain_silence(
        self,
        title: str,
        text: str,
        when: datetime | None = None,
        rules: Iterable[str] | None = None,
        limit: int | None = 6,
        verbose: bool = False,
    ) -> list[str]:
        """Why no live rule matched, by the nearest miss: what was found and where (tracked
        actors, conflict words, by sentence), then what stopped each rule — one actor only,
        actors in different sentences, one side, a speaker, a denial or hedge, a name outside
        its dates, a rule's ``pairs`` or ``actors``. ``verbose``: every candidate sentence,
        and no limit on lines."""
        doc = _Doc(title, text, when)
        if not self._scan(doc):
            return ["no tracked actor and no conflict word in the text"]
        self._make_term_hits(doc)
        wanted = None if rules is None else set(rules)
        live = [r for r in self.rules if r.mode == "live" and (wanted is None or r.name in wanted)]
        out = [self._found_line(doc, live)]
        for form, alias in doc.undated:
            span = " ".join(
                ([f"from {alias.since}"] if alias.since else [])
                + ([f"until {alias.until}"] if alias.until else [])
            )
            dated = f"dated {doc.when:%Y-%m-%d}" if doc.when else "undated: read as of today"
            out.append(f"“{form}” is {alias.actor} only {span}; this text is {dated}")
        tracked = sorted({h.actor for h in doc.actor_hits if h.actor not in self._untracked})
        if len(tracked) < 2:
            named = f"only {tracked[0]}" if tracked else "none"
            out.append(f"tracked actors named: {named}; a clash needs two")
            return out
        before = len(out)
        for rule in live:
            out.extend(self._why_not(rule, doc, verbose))
        if len(out) == before:
            out.append(f"{', '.join(tracked)} never meet a conflict word in one sentence")
        out = list(dict.fromkeys(out))
        return out if verbose or limit is None else out[:limit]

    def _found_line(self, doc: _Doc, rules: list[_Rule]) -> str:
        """``found: Hezbollah (“Hizbollah”, sentence 1), …; conflict words: clashed
        (sentence 2)``: sentences counted from the title (0)."""

        def where(pos: int) -> str:
            if pos < doc.title_len:
                return "title"
            p = doc.paragraph_index(pos)
            paras = doc.paragraphs
            before = sum(
                len(doc._sentences_of(q)) for q in range(p) if paras[q][0] >= doc.body_start
            )
            return str(before + doc._sentence_index(pos) + 1)

        def places(at: list[str]) -> str:
            at = list(dict.fromkeys(at))
            body = [a for a in at if a != "title"]
            out = ["title"] if "title" in at else []
            if body:
                out.append(("sentence " if len(body) == 1 else "sentences ") + ", ".join(body))
            return ", ".join(out)

        actors: dict[str, dict[str, list[str]]] = {}
        for h in doc.actor_hits:
            if h.actor not in self._untracked:
                form = " ".join(h.surface.split())
                actors.setdefault(h.actor, {}).setdefault(form, []).append(where(h.start))
        anchors = set().union(*(r.anchors for r in rules)) if rules else set()
        words: dict[str, list[str]] = {}
        for t in doc.term_hits:
            if t.set_name in anchors:
                words.setdefault(" ".join(t.surface.lower().split()), []).append(where(t.start))
        shown = "; ".join(
            f"{a} ({'; '.join(f'“{f}”, {places(at)}' for f, at in forms.items())})"
            for a, forms in actors.items()
        )
        said = "; ".join(f"{w} ({places(at)})" for w, at in words.items())
        return f"found: {shown or 'no tracked actor'}; conflict words: {said or 'none'}"

    def _why_not(self, rule: _Rule, doc: _Doc, verbose: bool = False) -> list[str]:
        out = []
        by_sentence: dict[tuple[int, int], set[str]] = {}
        for h in doc.actor_hits:
            if h.actor not in self._untracked:
                by_sentence.setdefault(doc.sentence_at(h.start), set()).add(h.actor)
        for (lo, hi), present in sorted(by_sentence.items()):
            pool = [t for t in doc.term_hits if lo <= t.start < hi and t.set_name in rule.sets]
            kws = [t for t in self._complete_terms(pool, doc) if t.set_name in rule.anchors]
            quote = " ".join(doc.text[lo:hi].split())
            quote = quote if len(quote) <= 90 else quote[:89] + "…"
            if len(present) < max(2, rule.min_actors):
                if verbose and kws:
                    out.append(f"«{quote}»: one tracked actor ({', '.join(present)})")
                continue
            if not kws:
                if verbose:
                    out.append(f"«{quote}»: {', '.join(sorted(present))} but no conflict word")
                continue
            allowed = self._rule_allows(rule, present)
            if allowed:
                out.append(f"«{quote}»: rule {rule.name}: {allowed}")
                continue
            said = self._what_was_read(doc, lo, hi, kws, present)
            if said:
                out.append(f"«{quote}»: " + "; ".join(said))
            elif verbose:
                out.append(f"«{quote}»: {rule.name} did not match")
        return out

    @staticmethod
    def _rule_allows(rule: _Rule, present: set[str]) -> str | None:
        """What a rule's own limits say about these actors (None: nothing against them)."""
        if rule.actors is not None and len(present & rule.actors) < 2:
            return f"counts only {', '.join(sorted(rule.actors))}"
        if rule.pairs is not None and not any(p <= present for p in rule.pairs):
            pairs = ", ".join("–".join(sorted(p)) for p in rule.pairs)
            return f"{'–'.join(sorted(present))} is not among its pairs ({pairs})"
        return None

    def _what_was_read(
        self, doc: _Doc, lo: int, hi: int, kws: list[_TermHit], present: set[str]
    ) -> list[str]:
        """What the role stage made of a sentence's conflict words, for "why not"."""
        reading = self._reading(doc, lo, hi)
        if reading is None:
            if self._cues(doc, lo, hi, frozenset((TALKS,))):
                return [
                    f"vetoed: talks, or a call to stop the fighting ({', '.join(sorted(present))})"
                ]
            return [f"{', '.join(sorted(present))} not set against each other"]
        said = []
        for r in reading.readings:
            if not any(r.covers(k.start - lo, k.end - lo) for k in kws):
                continue
            named = r.parties or r.attacker.actors or r.target.actors
            if r.blocked:
                if named:
                    said.append(f"{r.predicate!r} {r.blocked}")
                continue
            verdict = decide.judge(r, reading, present, self._untracked)
            if verdict.veto:
                said.append(f"{r.predicate!r} vetoed: {verdict.veto} ({_sides_text(r)})")
            elif not verdict.pairs and named:
                said.append(f"{r.predicate!r}: {_sides_text(r)}")
        said += [f"{a} is a {why}" for a, why in sorted(reading.aside.items()) if a in present]
        return said

    # -- scanning ---------------------------------------------------------------------------

    def _scan(self, doc: _Doc) -> bool:
        """Find every actor name in one pass of the automaton. Keyword terms are only noted
        (where they end, and which) and become hits when a rule needs them
        (``_make_term_hits``): about half of the articles with a keyword never name enough
        actors for any rule."""
        padded = doc.folded.padded
        original = doc.text
        unit_map = doc.folded.unit_map
        excluded: list[tuple[int, int, str]] = []
        raw_terms = doc.raw_terms
        refs: list[tuple[int, int, str]] = []
        day = doc.when.date() if doc.when is not None else None
        for end, payloads in self._automaton.iter(padded):
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
                    doc.actor_hits.append(_ActorHit(alias.actor, alias.kind, start, stop, surface))
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
        untracked = self._untracked
        doc.tracked_hits = (
            [h for h in doc.actor_hits if h.actor not in untracked] if untracked else doc.actor_hits
        )
        return True

    def _references(self, doc: _Doc, refs: list[tuple[int, int, str]]) -> None:
        """ "The two groups", "both sides" (each of the last two actors named before them, in
        this sentence or the two before) and "the group" (the last actor named in the
        sentences before) stand for those actors: hits of their own, so that a sentence
        that names its fighters only this way is read too."""
        named = [h for h in doc.actor_hits if h.actor not in self._untracked]
        added = []
        for start, stop, how in refs:
            lo = doc.sentence_at(start)[0]
            before = doc.sentences_before(start, 2)
            window_start = before[0][0] if before else lo
            earlier = [h for h in named if window_start <= h.start and h.end <= start]
            if how == "each":
                last: list[str] = []
                for h in reversed(earlier):
                    if h.actor not in last:
                        last.append(h.actor)
                if len(last) >= 2:
                    added += [
                        _ActorHit(a, "reference", start, stop, doc.text[start:stop], True)
                        for a in last[:2]
                    ]
            else:
                prior = [h for h in earlier if h.start < lo]
                if prior and prior[-1].actor not in {h.actor for h in earlier if h.start >= lo}:
                    h = prior[-1]
                    added.append(_ActorHit(h.actor, "reference", start, stop, doc.text[start:stop]))
        if added:
            doc.set_actor_hits(sorted([*doc.actor_hits, *added], key=_START))

    @staticmethod
    def _offsets(doc: _Doc, padded: str, unit_map: bool, end: int, key: str) -> tuple[int, int]:
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

    def _make_term_hits(self, doc: _Doc) -> None:
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
                _TermHit(term.term, term.part, start, stop, surface, term.set_name, term.gapped)
            )
        hits.sort(key=_START)
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

    # -- evaluating --------------------------------------------------------------------------

    def _evaluate(self, rule: _Rule, doc: _Doc) -> Match | None:
        actors = (
            doc.tracked_hits
            if rule.scope == "any"
            else [h for h in doc.tracked_hits if _in_scope(rule.scope, doc, h.start)]
        )
        if rule.actors is not None:
            actors = [h for h in actors if h.actor in rule.actors]
        if len({h.actor for h in actors}) < rule.min_actors:
            return None
        if not doc.terms_ready:
            noted = {t.set_name for _end, t in doc.raw_terms}
            if not rule.all <= noted or (rule.any and not rule.any & noted):
                return None  # a keyword the rule needs is nowhere in the article
            self._make_term_hits(doc)
        terms = [
            h
            for h in doc.term_hits
            if h.set_name in rule.sets
            and (rule.scope == "any" or _in_scope(rule.scope, doc, h.start))
        ]
        present = {h.set_name for h in terms}
        if not rule.all <= present or (rule.any and not rule.any & present):
            return None
        units = self._satisfied_units(rule, doc, actors, terms)
        if not units:
            return None
        best = sorted(units, key=lambda u: (-u.score, u.start))[:3]
        best.sort(key=lambda u: u.start)
        score = round(max(u.score for u in units) + 0.25 * (len(units) - 1), 2)
        if score < rule.min_score:
            return None
        severity = rule.severity
        notes: list[str] = []
        if all(u.downgraded for u in units):
            severity = SEVERITIES[max(0, SEVERITIES.index(rule.severity) - 1)]
        for u in best:
            notes.extend(n for n in u.notes if n not in notes)
        mentions: dict[str, list[str]] = {}
        keywords: list[str] = []
        clashes: list[Clash] = []
        for u in best:
            clashes.extend(c for c in u.clashes if c not in clashes)
        for u in units:
            for actor, hits in u.actors.items():
                forms = mentions.setdefault(actor, [])
                forms.extend(h.surface for h in hits if h.surface not in forms)
            keywords.extend(t.surface for t in u.terms if t.surface not in keywords)
        return Match(
            rule=rule.name,
            severity=severity,
            score=score,
            actors=tuple(ActorMention(a, tuple(f)) for a, f in mentions.items()),
            keywords=tuple(keywords),
            spans=tuple(self._span(doc, u) for u in best),
            mode=rule.mode,
            notes=tuple(notes),
            clashes=tuple(clashes),
        )

    def _satisfied_units(
        self, rule: _Rule, doc: _Doc, actors: list[_ActorHit], terms: list[_TermHit]
    ) -> list[_Unit]:
        keyword_rule = bool(rule.any or rule.all)
        anchors = [t for t in terms if t.set_name in rule.anchors]
        spans = self._unit_spans(rule, doc, anchors if keyword_rule else None, actors)
        out = []
        a_starts = [h.start for h in actors]
        t_starts = [h.start for h in terms]
        for s, e in spans:
            u_actors = actors[bisect_left(a_starts, s) : bisect_left(a_starts, e)]
            u_terms = terms[bisect_left(t_starts, s) : bisect_left(t_starts, e)]
            unit = self._check_unit(rule, doc, s, e, u_actors, u_terms)
            if unit is not None:
                out.append(unit)
        if not out and rule.within == "sentence" and rule.opposed and self.parser is not None:
            out = self._paired_units(rule, doc, actors, anchors)
        return out

    def _paired_units(
        self, rule: _Rule, doc: _Doc, actors: list[_ActorHit], anchors: list[_TermHit]
    ) -> list[_Unit]:
        """Fights told across sentences: an attack whose author one sentence does not name
        ("the airstrikes targeted positions held by A") and a nearby sentence does ("Russian
        airstrikes…", "IS claimed responsibility for the attack"). Only sentences that name
        an actor near a conflict word are read."""
        by_sentence: dict[tuple[int, int], list[_ActorHit]] = {}
        for h in actors:
            by_sentence.setdefault(doc.sentence_at(h.start), []).append(h)
        anchored = sorted({doc.sentence_at(t.start) for t in anchors} & set(by_sentence))
        if len(anchored) < 2:
            return []
        # only a sentence that refers back ("the airstrikes", "claimed the attack") can tell
        # one attack across two; others are not read
        if not any(self._refers_back(doc, *s) for s in anchored):
            return []
        out: list[_Unit] = []
        for i, here in enumerate(anchored):
            reading = self._reading(doc, *here)
            if reading is None or not any(
                r.unknown_attacker and r.target.actors and not r.blocked for r in reading.readings
            ):
                continue
            near = [s for s in anchored[max(0, i - 2) : i + 2] if s != here]
            # a claim of responsibility may come paragraphs later
            near += [s for s in anchored[i + 2 :] if s not in near]
            for there in near:
                other = self._reading(doc, *there)
                if other is None:
                    continue
                far = abs(anchored.index(there) - i) > 2 or there[0] - here[1] > 600
                found = [
                    r
                    for r in references.across(reading, other)
                    if not far or any(q.claimed for q in other.readings)
                ]
                unit = self._unit_across(rule, doc, here, there, by_sentence, anchors, found)
                if unit is not None:
                    out.append(unit)
                    break
        return out

    def _refers_back(self, doc: _Doc, lo: int, hi: int) -> bool:
        """Does the sentence name an attack as one told before ("*the* airstrikes", "*these*
        attacks") or a claim of it ("claimed responsibility")? Words only: no parse."""
        words = textmod.normalise(doc.text[lo:hi]).split()
        for i, w in enumerate(words):
            if w in lx.DEFINITE and any(x in self._nouns for x in words[i + 1 : i + 4]):
                return True
            if w.startswith("claim"):
                return True
        return False

    def _unit_across(
        self,
        rule: _Rule,
        doc: _Doc,
        here: tuple[int, int],
        there: tuple[int, int],
        by_sentence: dict[tuple[int, int], list[_ActorHit]],
        anchors: list[_TermHit],
        found: list[readings.Reading],
    ) -> _Unit | None:
        hits = by_sentence[here] + by_sentence[there]
        tracked = {h.actor for h in hits}
        clashes: list[Clash] = []
        fighters: set[str] = set()
        for r in found:
            pairs = [(a, b) for a, b in r.pairs() if a in tracked and b in tracked]
            if pairs:
                clashes.append(_clash_record(r, pairs))
                fighters |= {x for pair in pairs for x in pair}
        by_actor: dict[str, list[_ActorHit]] = {}
        for h in hits:
            if h.actor in fighters:
                by_actor.setdefault(h.actor, []).append(h)
        if not clashes or self._choose_actors(rule, by_actor) is None:
            return None
        lo, hi = min(here[0], there[0]), max(here[1], there[1])
        keywords = [t for t in anchors if here[0] <= t.start < here[1]]
        unit = _Unit(lo, hi, by_actor, keywords, 0.0, clashes=clashes)
        unit.notes.append("across sentences: the attacker is named in another sentence")
        unit.score = self._score(doc, unit)
        return unit

    def _unit_spans(
        self,
        rule: _Rule,
        doc: _Doc,
        anchors: list[_TermHit] | None,
        actors: list[_ActorHit],
    ) -> list[tuple[int, int]]:
        if rule.within == "article":
            return [(0, len(doc.text))]
        if rule.within == "words":
            starts = doc.word_starts
            out = []
            for t in anchors if anchors is not None else []:
                i = bisect_right(starts, t.start) - 1
                lo = starts[max(0, i - rule.window)]
                hi_i = min(len(starts) - 1, i + rule.window)
                m = _WORD.match(doc.text, starts[hi_i])
                out.append((lo, m.end() if m else len(doc.text)))
            return sorted(set(out))
        points = [t.start for t in anchors] if anchors is not None else [h.start for h in actors]
        if rule.within == "sentence":
            return sorted({doc.sentence_at(p) for p in points})
        paras = doc.paragraphs or [(0, len(doc.text))]
        return sorted({paras[doc.paragraph_index(p)] for p in points})

    def _check_unit(
        self,
        rule: _Rule,
        doc: _Doc,
        start: int,
        end: int,
        actors: list[_ActorHit],
        terms: list[_TermHit],
    ) -> _Unit | None:
        if len({h.actor for h in actors}) < rule.min_actors:
            return None  # what ``_choose_actors`` would say, before the keywords' work
        found = [t for t in self._complete_terms(terms, doc) if self._term_confirmed(doc, t)]
        present = {t.set_name for t in found}
        if not rule.all <= present or (rule.any and not rule.any & present):
            return None
        if rule.not_ & present:
            return None
        by_actor: dict[str, list[_ActorHit]] = {}
        for h in actors:
            by_actor.setdefault(h.actor, []).append(h)
        chosen = self._choose_actors(rule, by_actor)
        if chosen is None:
            return None
        by_actor = {a: by_actor[a] for a in chosen}
        keywords = [t for t in found if t.set_name in rule.anchors]
        clashes: list[Clash] = []
        notes: list[str] = []
        if rule.opposed and len(by_actor) >= 2 and keywords:
            opposed = self._opposition(doc, keywords, by_actor, rule.quarrels)
            if not opposed.kept:
                return None
            keywords, clashes, notes = opposed.kept, opposed.clashes, opposed.notes
            by_actor = {a: hits for a, hits in by_actor.items() if a in opposed.fighters}
        unit = _Unit(start, end, by_actor, keywords, 0.0, notes=notes, clashes=clashes)
        if rule.unless or rule.confirm:
            context = self._sentence_terms(doc, keywords, start, end)
            # where the parser read the sides, it also read what a denial or hedge covers
            # ("A denied any involvement in the clashes between B and C" still reports them)
            cues = [] if clashes else [t for t in context if t.set_name in rule.unless]
            if cues:
                if rule.unless_action == "suppress":
                    return None
                unit.downgraded = True
                unit.notes.append(f"downgraded: {cues[0].surface!r} in the same sentence")
            if rule.confirm and not self._confirmed(rule, doc, keywords):
                return None
        unit.score = self._score(doc, unit)
        return unit

    def _cues(self, doc: _Doc, lo: int, hi: int, sets: frozenset[str]) -> list[_TermHit]:
        """Complete term hits of ``sets`` in [lo, hi), actor names included."""
        hits = doc.all_term_hits
        starts = doc.all_term_starts
        pool = [
            h for h in hits[bisect_left(starts, lo) : bisect_left(starts, hi)] if h.set_name in sets
        ]
        return self._complete_terms(pool, doc) if pool else []

    def _term_confirmed(self, doc: _Doc, hit: _TermHit) -> bool:
        """An ambiguous term counts only with a confirming cue in its sentence or the next,
        or where it happened at a place ("clashed *in Qusayr*", "clash *on the border*"):
        fights of words happen over things, in talks and at summits."""
        needed = self._set_confirm.get(hit.set_name)
        if not needed or self._cue_near(doc, hit.start, needed):
            return True
        return _located(doc.text, hit, doc.sentence_at(hit.start)[1])

    def _cue_near(self, doc: _Doc, pos: int, sets: frozenset[str]) -> bool:
        """A term of ``sets`` in the sentence holding ``pos`` or the next one."""
        # sentence_after is the sentence itself when it is the last one
        return bool(self._cues(doc, doc.sentence_at(pos)[0], doc.sentence_after(pos)[1], sets))

    # -- who fights whom ------------------------------------------------------------------

    def _opposition(
        self,
        doc: _Doc,
        keywords: list[_TermHit],
        by_actor: dict[str, list[_ActorHit]],
        quarrels: bool = False,
    ) -> _Found:
        """The keywords whose sentences set two of the actors against each other, those
        actors, and the clashes read. A plain sentence ("A clashed with B") is read by word
        order; else, where the parser read the sentence, its reading decides; where it could
        not (no parser, Arabic script), word order does (``_opposed``), without the actors it
        found to be no side (speakers, mediators, places)."""
        if self.parser is None:  # word order alone, as before there was a parser
            kept = [k for k in keywords if self._opposed(doc, k, by_actor)]
            return _Found(kept, set(by_actor) if kept else set(), [])
        by_sentence: dict[tuple[int, int], list[_TermHit]] = {}
        for k in keywords:
            by_sentence.setdefault(doc.sentence_at(k.start), []).append(k)
        found = _Found()
        for (lo, hi), kws in by_sentence.items():
            hits = doc.hits_in(lo, hi)
            present = {h.actor for h in hits} & by_actor.keys()
            reading = None
            if len(present) >= 2:
                plain = self._plain(doc, lo, hi, kws, hits)
                if plain is not None:  # "A clashed with B": word order says it all
                    for keyword, clash in plain:
                        found.add(keyword, clash, (*clash.attacker, *clash.target))
                    continue
                reading = self._reading(doc, lo, hi)
            for k in kws:
                self._decide(doc, (lo, hi), k, reading, present, by_actor, found, quarrels)
        return found

    def _decide(
        self,
        doc: _Doc,
        sentence: tuple[int, int],
        k: _TermHit,
        reading: readings.SentenceReading | None,
        present: set[str],
        by_actor: dict[str, list[_ActorHit]],
        found: _Found,
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
                verdict = decide.judge(r, reading, present, self._untracked)
                if not verdict.pairs:
                    continue
                pairs = list(verdict.pairs)
                found.add(k, _clash_record(r, pairs, doc.hits_in(lo, hi)), {*chain(*pairs)})
                if verdict.how == decide.DEFAULT:
                    note = (
                        f"by default: {', '.join(verdict.assumed)} not placed by the parse "
                        f"around {r.predicate!r}, and no look-alike found"
                    )
                    if note not in found.notes:
                        found.notes.append(note)
            return
        if reading is not None and k.set_name in self._classes:
            return  # a conflict word the parser read as something else ("bomb shelters")
        if len(present) < 2:  # the actors meet in a wider unit: order says nothing
            found.add(k, None, by_actor)
            return
        candidates = by_actor
        if reading is not None:
            candidates = {a: h for a, h in by_actor.items() if a not in reading.aside}
        if len(present & set(candidates)) >= 2 and self._opposed(doc, k, candidates):
            found.add(k, None, present & set(candidates))

    def _plain(
        self, doc: _Doc, lo: int, hi: int, kws: list[_TermHit], hits: list[_ActorHit]
    ) -> list[tuple[_TermHit, Clash]] | None:
        """Sentences whose grammar word order already gives. An actor right before a conflict
        verb and another right after it or its preposition ("Hezbollah clashed with regime
        forces", "HTS attacked the SDF"), with no word anywhere that could turn it around (a
        negation, modal, denial, hedge, ally, date, question), are a clash; a sentence whose
        every conflict verb has that shape and no list around its names is read whole by it
        (no clash at all when each names one actor on both sides). Anything else (None) goes
        to the parser."""
        if self.parser is None:
            return None
        text = doc.text
        if "?" in text[lo:hi]:
            return None
        if doc.folded.unit_map:  # the folded text, a space before and after the sentence
            if _PLAIN_BLOCKERS.search(doc.folded.padded, lo, hi + 2):
                return None
        elif _PLAIN_BLOCKERS.search(f" {textmod.normalise(text[lo:hi])} "):
            return None
        starts = [h.start for h in hits]
        found: list[tuple[_TermHit, Clash]] = []
        whole = True
        for k in kws:
            if len(kws) > 1 and any(
                o.start <= k.start and k.end <= o.end and o.end - o.start > k.end - k.start
                for o in kws
            ):
                continue  # "fire" inside "exchanged fire"
            triple = self._triple(text, hits, starts, k, hi)
            if triple is None:
                whole = False
                continue
            a, b, cls = triple
            if a.actor != b.actor and not self._untracked & {a.actor, b.actor}:
                named = text[a.start : k.start].strip()  # "Hezbollah fighters"
                clash = Clash(k.surface, (a.actor,), (b.actor,), cls.mutual, (named,), (b.surface,))
                found.append((k, clash))
            elif _in_list(text, hits, a, b):
                whole = False
        if found or whole:
            return found
        return None

    def _triple(
        self, text: str, hits: list[_ActorHit], starts: list[int], k: _TermHit, hi: int
    ) -> tuple[_ActorHit, _ActorHit, lx.PredicateClass] | None:
        """The names right before and after a conflict verb, when nothing else stands there."""
        cls = self._finite.get(" ".join(k.surface.lower().split()))
        i = bisect_left(starts, k.start)
        if cls is None or i == 0 or i == len(hits):
            return None
        a, b = hits[i - 1], hits[i]
        between = text[a.end : k.start]
        if not (between == " " or _PLAIN_UNIT.fullmatch(between)):
            return None  # "A clashed", "Iran-backed militias attacked", "A fighters attacked"
        joint = _PLAIN_JOINT.fullmatch(text, k.end, b.start)
        if joint is None or (joint.group(1) and joint.group(1).lower() not in cls.target):
            return None
        if not _PLAIN_AFTER.match(text, b.end, hi):
            return None  # "attacked A's rivals"
        return a, b, cls

    def _turned_violent(self, doc: _Doc, end: int) -> bool:
        """Does the next sentence tell of shooting or an attack, naming no one ("locked in a
        standoff. Shots were fired and a guard was wounded")? Then the quarrel before it
        turned violent."""
        lo, hi = doc.sentence_after(end - 1)
        if lo < end:
            return False
        reading = self._reading(doc, lo, hi)
        escalated = {c.name for c in self.lexicon.classes if c.escalated}
        return reading is not None and any(
            not r.blocked
            and r.kind not in escalated
            and not (r.attacker.actors or r.target.actors or r.parties)
            for r in reading.readings
        )

    def _reading(self, doc: _Doc, lo: int, hi: int) -> readings.SentenceReading | None:
        """The role stage's reading of the sentence [lo, hi), parsed once per article; None
        when it cannot be read (no parser, text in Arabic script, the model unavailable).
        While a batch gathers what to parse (``doc.pending``), a sentence not read yet is
        noted and reads as nothing for now."""
        if (lo, hi) in doc.readings:
            return doc.readings[(lo, hi)]
        if not self._parsable(doc, lo, hi):
            doc.readings[(lo, hi)] = None
            return None
        if doc.pending is not None:
            doc.pending.append((lo, hi))
            return readings.PENDING
        self._parse_into([doc], [(lo, hi)])
        return doc.readings[(lo, hi)]

    def _parsable(self, doc: _Doc, lo: int, hi: int) -> bool:
        return (
            self.parser is not None
            and doc.parsed < MAX_PARSED_SENTENCES  # a hostile or endless text: word order
            and not textmod.is_arabic(doc.text[lo:hi])
        )

    def _parse_into(self, docs: list[_Doc], spans: list[tuple[int, int]] | None = None) -> None:
        """Parse sentences of these articles in one batch (``spans`` of the one article, or
        what each asked for) and keep their readings in the articles."""
        wanted: list[tuple[_Doc, int, int]] = []
        for doc in docs:
            for lo, hi in dict.fromkeys(spans if spans is not None else doc.pending or []):
                if (lo, hi) not in doc.readings and self._parsable(doc, lo, hi):
                    doc.parsed += 1
                    doc.readings[(lo, hi)] = None  # until read
                    wanted.append((doc, lo, hi))
        if not wanted or self.parser is None:
            return
        texts = []
        for doc, lo, hi in wanted:
            text = doc.text[lo:hi]
            if lo < doc.title_len:
                hits = doc.hits_in(lo, hi)
                text = _sentence_case(text, [(h.start - lo, h.end - lo) for h in hits])
            texts.append(text)
        try:
            parses = self.parser.parse(texts)
        except ParserUnavailable:
            self.parser = None
            return
        for (doc, lo, hi), parse in zip(wanted, parses, strict=True):
            mentions = _mentions(doc.hits_in(lo, hi), lo)
            year = doc.when.year if doc.when is not None else None
            doc.readings[(lo, hi)] = roles.read(parse, mentions, self.lexicon, year)

    def _opposed(self, doc: _Doc, kw: _TermHit, by_actor: dict[str, list[_ActorHit]]) -> bool:
        """Does the sentence of ``kw`` set two of the actors against each other (by word
        order: the lexical stage)?"""
        lo, hi = doc.sentence_at(kw.start)
        mentions = [
            (h.start, h.end, a) for a, hits in by_actor.items() for h in hits if lo <= h.start < hi
        ]
        if len({a for _, _, a in mentions}) < 2:
            return True  # the actors meet in a wider unit: position says nothing
        if self._cues(doc, lo, hi, frozenset((TALKS,))):
            return False  # talks between them, a call to stop the fighting
        for cue in self._cues(doc, lo, hi, frozenset((BETWEEN, MUTUAL))):
            if cue.set_name == MUTUAL:
                return True
            limit = len(_WORD.findall(doc.text, cue.end, hi))
            after = {
                a
                for s, _e, a in mentions
                if s >= cue.end and len(_WORD.findall(doc.text, cue.end, s)) <= min(limit, 15)
            }
            if len(after) >= 2:
                return True  # "clashes between A and B"
        if self._cues(doc, lo, hi, frozenset((JOINT,))):
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
            gap = {w.lower() for w in _WORD.findall(doc.text, kw.end, first)}
            return not (gap | {last_word}) & _TARGET_WORDS  # not "strikes against A and B"
        return False

    def _choose_actors(self, rule: _Rule, by_actor: dict[str, list[_ActorHit]]) -> list[str] | None:
        names = list(by_actor)
        if rule.pairs is not None:
            hit = [p for p in rule.pairs if p <= set(names)]
            if not hit:
                return None
            names = [n for n in names if any(n in p for p in hit)]
        if rule.same_camp:
            camps: dict[str, list[str]] = {}
            for n in names:
                if n in self._camps:
                    camps.setdefault(self._camps[n], []).append(n)
            best = max(camps.values(), key=len, default=[])
            if len(best) < max(2, rule.min_actors):
                return None
            names = best
        if len(names) < rule.min_actors:
            return None
        return names

    def _complete_terms(self, hits: list[_TermHit], doc: _Doc) -> list[_TermHit]:
        """Single-part hits as they are; gapped terms only where all parts line up."""
        out: list[_TermHit] = []
        multi: list[_TermHit] = []
        for h in hits:
            (multi if h.gapped else out).append(h)
        if not multi:
            return out
        for h in multi:
            if h.part != 0:
                continue
            term = self._terms[h.term]
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
                        and lo <= len(_WORD.findall(doc.text, cur.end, n.start)) <= hi
                    ),
                    None,
                )
                if nxt is None:
                    break
                cur = nxt
            else:
                out.append(
                    _TermHit(
                        h.term, 0, h.start, cur.end, doc.text[h.start : cur.end], h.set_name, True
                    )
                )
        return out

    def _sentence_terms(
        self, doc: _Doc, keywords: list[_TermHit], start: int, end: int
    ) -> list[_TermHit]:
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
        return self._complete_terms(pool, doc)

    def _confirmed(self, rule: _Rule, doc: _Doc, keywords: list[_TermHit]) -> bool:
        return any(self._cue_near(doc, k.start, rule.confirm) for k in keywords)

    @staticmethod
    def _score(doc: _Doc, unit: _Unit) -> float:
        if unit.start < doc.title_len:
            where = 2.0
        elif unit.start < doc.lead_end():
            where = 1.5
        else:
            where = 1.0
        weights = [max(_HIT_WEIGHTS[h.kind] for h in hits) for hits in unit.actors.values()]
        return round(where * (min(weights) if weights else 1.0), 2)

    @staticmethod
    def _span(doc: _Doc, unit: _Unit) -> Span:
        fld = doc.field_of(unit.start)
        base = 0 if fld == "title" else doc.body_start
        marks = sorted(
            {
                (h.start - unit.start, h.end - unit.start)
                for hits in unit.actors.values()
                for h in hits
            }
            | {(t.start - unit.start, t.end - unit.start) for t in unit.terms}
        )
        return Span(
            field=fld,
            start=unit.start - base,
            end=unit.end - base,
            text=doc.text[unit.start : unit.end],
            marks=tuple(marks),
        )


#: a place after a conflict word in its sentence: a preposition of place, then a name or a
#: word of ground ("clashed in Qusayr", "clash on the Syria-Lebanon border", "near the
#: frontline"), or ground fought for ("for control of X")
_LOCATED = re.compile(
    r"\b(?:(?:in|near|at|on|around|outside|inside|along|across)\s+(?:the\s+)?"
    r"(?P<place>[A-Z][\w'’-]+|(?:outskirts|border|borders|frontline|front|frontlines|village|"
    r"villages|town|towns|city|streets?|countryside|province|district|area|region|suburbs?|"
    r"neighbou?rhood|desert|mountains?|checkpoint|crossing|highway|road)\b)"
    r"|(?:for|over)\s+(?:the\s+)?control\s+of\b)"
)


def _located(text: str, hit: _TermHit, end: int) -> bool:
    """Did the fight of an ambiguous word ("clash", "battle") happen at a place? Not where
    the sentence also speaks of talks, votes or a match (``lexicon.NOT_ARMED``)."""
    window = text[hit.end : min(end, hit.end + 160)]
    words = {w.lower() for w in _WORD.findall(window)}
    if words & (lx.NOT_ARMED | lx.VERBAL | {"over"}) - {"control"}:
        return False
    return any(
        not m.group("place") or m.group("place").lower() not in lx.TIME_WORDS
        for m in _LOCATED.finditer(window)
    )


def _in_scope(scope: str, doc: _Doc, pos: int) -> bool:
    if scope == "any":
        return True
    return (pos < doc.title_len) == (scope == "title")


def _outermost(hits: list[_ActorHit]) -> list[_ActorHit]:
    """Drop hits inside a longer hit: "Free Syrian Army" is not also "Syrian Army"."""
    hits.sort(key=lambda h: (h.start, -(h.end - h.start)))
    out: list[_ActorHit] = []
    reach = -1
    for h in hits:
        if h.end <= reach and out and out[-1].start <= h.start:
            continue
        out.append(h)
        reach = max(reach, h.end)
    return out


def _mentions(hits: list[_ActorHit], lo: int) -> list[readings.Mention]:
    """The role stage's mentions of a sentence's hits; "both sides" is one mention of both."""
    out: list[readings.Mention] = []
    for h in hits:
        if h.each and out and out[-1].each and out[-1].start == h.start - lo:
            last = out.pop()
            out.append(replace(last, actors=(*last.actors, h.actor)))
            continue
        out.append(readings.Mention(h.start - lo, h.end - lo, (h.actor,), h.surface, h.each))
    return out


def _sides_text(r: readings.Reading) -> str:
    """How a reading placed the actors, for "why not": "Israel (attacker); Hezbollah, Iran
    (target)", "one side: A, B"."""
    if r.parties:
        return "parties " + " | ".join(", ".join(sorted(p.actors)) for p in r.parties)
    parts = []
    if r.attacker.actors:
        parts.append(f"{', '.join(sorted(r.attacker.actors))} (attacker)")
    if r.target.actors:
        parts.append(f"{', '.join(sorted(r.target.actors))} (target)")
    if len(parts) == 1:
        parts[0] = "one side: " + parts[0]
    return "; ".join(parts)


#: the plain "A clashed with B": what may stand between the verb and the second actor, …
_PLAIN_JOINT = re.compile(r"\s+(?:(?!the\s)([A-Za-z]+)\s+)?(?:the\s+)?", re.ASCII | re.I)
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
    r"might|will|shall|should|can|cannot|must|if|whether|unless|prevent\w*|avoid\w*|risks?|"
    r"threat\w*|warn\w*|fears?|feared|alleged\w*|possibl[ey]|plann?\w*|prepar\w*|intend\w*|"
    r"urge[ds]?|call(?:s|ed)? for|halt\w*|stop\w*|ago|former|previously|since|verbal\w*|"
    r"match|game|alongside|together|jointly|backed by|supported by|loyal|behalf|side|each other|"
    r"(?:19|20)[0-9][0-9]) "
)


#: a dateline: "DAMASCUS, Syria (Reuters) –", "Damascus, SANA –", "MOSCOW, October 7. /TASS/."
_DATELINE = re.compile(r"[ ,]*(?:[A-Z][\w .'/()-]{0,40})?\s*(?:[–—-]{1,2}|:|/)\s")


def _dateline(text: str, hit: _ActorHit) -> bool:
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


def _in_list(text: str, hits: list[_ActorHit], a: _ActorHit, b: _ActorHit) -> bool:
    """Is another name listed with either side ("C and A clashed with B", "A attacked B, C")?"""
    for h in hits:
        if h is a or h is b:
            continue
        gap = text[h.end : a.start] if h.end <= a.start else text[b.end : h.start]
        if (len(gap) <= 8 and not gap.strip(" ,&")) or gap.strip().lower() in ("and", "or"):
            return True
    return False


def _clash_record(
    r: readings.Reading, pairs: list[tuple[str, str]], hits: Sequence[_ActorHit] = ()
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


def _sentence_case(text: str, keep: list[tuple[int, int]]) -> str:
    """A headline in Title Case as a sentence ("Hizbullah Shells Nusra Militants" → "Hizbullah
    shells Nusra militants"), which the parser reads far better; actor names, acronyms and
    the first word keep their case. Same length, so offsets hold."""
    words = list(re.finditer(r"[A-Za-z][\w'’-]*", text))
    if len(words) < 3:
        return text
    capitalised = sum(w.group(0)[0].isupper() for w in words)
    if capitalised * 3 < len(words) * 2:
        return text
    out = list(text)
    for w in words[1:]:
        s = w.start()
        word = w.group(0)
        if word.isupper() or any(a <= s < b for a, b in keep):
            continue
        out[s] = word[0].lower()
    return "".join(out)


#: words before a name that send it back to what it meant before: "the *former* Syrian army",
#: "*remnants of* the regime", "the *ousted* government"
_PAST_CUE = re.compile(
    r"(?:\b(?:former|ousted|fallen|deposed|toppled|defunct|previous|old|ex|assad[\s-]era)"
    r"|\bremnants\s+of(?:\s+the)?)[\s-]+(?:the\s+)?$",
    re.IGNORECASE,
)


def _meant(
    alias: AliasKey, payloads: Sequence[_Payload], day: date | None, original: str, start: int
) -> bool:
    """Does this dated name mean ``alias.actor`` here? By the text's date, unless a word of
    the past before it ("former", "ousted", "remnants of") sends it to its earlier meaning."""
    earlier = [p.alias for p in payloads if isinstance(p, _NameKey) and p.alias.until]
    if earlier and _PAST_CUE.search(original, max(0, start - 30), start):
        latest = max(a.until for a in earlier if a.until is not None)
        if day is None or day >= latest:
            return alias.until == latest
    return alias.valid(day)


def _acronym_ok(alias: AliasKey, surface: str, original: str, start: int) -> bool:
    if letters_of(surface) != alias.case:
        return False
    if alias.case is not None and alias.case.lower() in AMBIGUOUS_ACRONYMS:
        # in an ALL-CAPS line "IS" may be the verb: accept only with lower case on its line
        line_start = original.rfind("\n", max(0, start - 80), start) + 1 or max(0, start - 80)
        line_end = original.find("\n", start, start + 80)
        window = original[line_start : line_end if line_end != -1 else start + 80]
        if not any(c.islower() for c in window):
            return False
    return True


# ------------------------------------------------------------------------------------------
# compiling


def parse_term(written: str) -> tuple[list[str], list[tuple[int, int]]]:
    """``"turned * guns on"`` → (["turned", "guns on"], [(1, 1)]); ``"a ... b"`` → gap 0-8."""
    parts: list[str] = []
    gaps: list[tuple[int, int]] = []
    cur: list[str] = []
    stars = 0
    for word in written.split():
        if word in ("...", "…"):
            if cur:
                parts.append(" ".join(cur))
                cur = []
                gaps.append(_GAP_ANY)
            continue
        if word == "*":
            stars += 1
            continue
        if stars:
            if cur:
                parts.append(" ".join(cur))
                cur = []
                gaps.append((stars, stars))
            stars = 0
        cur.append(word)
    if cur:
        parts.append(" ".join(cur))
    return parts, gaps


def _term_keys(part: str, inflect: bool) -> set[str]:
    out: set[str] = set()
    for v, stem in variants(part):
        if stem or not inflect:
            out.add(" " + v + ("" if stem else " "))
            continue
        words = v.split()
        options = [sorted(textmod.inflections(w)) for w in words]
        combos: list[list[str]] = [[]]
        for opts in options:
            combos = [[*c, o] for c in combos for o in opts][:256]
        out |= {" " + " ".join(c) + " " for c in combos}
    return out


def compile_rules(settings: Any) -> Engine:
    """Build the engine from validated settings; raise RuleError naming every problem."""
    problems = list(find_clashes(settings.actors))
    table: dict[str, list[_Payload]] = {}

    def add(payload: _Payload) -> None:
        table.setdefault(payload.key, []).append(payload)

    for _loc, alias in alias_keys(settings.actors):
        add(_NameKey(alias.key, alias))
    for key, actor in exclusion_keys(settings.actors):
        add(_ExclusionKey(key, actor))
    for phrase, how in REFERENCES.items():
        add(_ReferenceKey(f" {phrase} ", how))
    classes = lx.compile_classes(settings.conflict)
    terms: list[Term] = []
    for set_name, set_terms, inflect in _keyword_sets(settings, classes, problems):
        for i, written in enumerate(set_terms):
            parts, gaps = parse_term(written)
            if not parts or not all(textmod.normalise(p.rstrip("*")) for p in parts):
                problems.append(
                    (("keywords", set_name, "terms", i), f"term {written!r} has no words to match")
                )
                continue
            term_id = len(terms)
            terms.append(Term(set_name, written, tuple(gaps)))
            for part_index, part in enumerate(parts):
                # "first": a verb of several words inflects its verb only ("pushed … back")
                for key in _term_keys(
                    part, inflect is True or (inflect == "first" and not part_index)
                ):
                    add(_TermKey(key, term_id, part_index, set_name, len(parts) > 1))
    if problems:
        raise RuleError(problems)
    set_confirm = {
        name: frozenset(kw.confirm)
        for name, kw in [*settings.keywords.items(), *settings.conflict.items()]
        if kw.confirm
    }
    model = settings.nlp.model
    return Engine(
        [_compile_rule(r) for r in settings.rules],
        terms,
        _automaton(table),
        {name: a.camp for name, a in settings.actors.items() if a.camp},
        set_confirm,
        lx.Lexicon.build(classes),
        Parser(model) if model and classes else None,
        frozenset(name for name, a in settings.actors.items() if not a.track),
    )


def _keyword_sets(
    settings: Any, classes: list[lx.PredicateClass], problems: list[tuple[tuple[Any, ...], str]]
) -> list[tuple[str, list[str], bool | Literal["first"]]]:
    """(name, terms, inflect) of every keyword set: configured, conflict classes, built-in.
    ``inflect``: every word, none, or the ``first`` part only."""
    out: list[tuple[str, list[str], bool | Literal["first"]]] = [
        (name, kw.terms, kw.inflect) for name, kw in settings.keywords.items()
    ]
    for name, _terms, _inflect in out:
        if name.startswith("@"):
            problems.append((("keywords", name), "keyword set names may not start with '@'"))
    for c in classes:
        single, several, irregular = c.terms()
        out += [(c.name, single, True), (c.name, several, "first"), (c.name, irregular, False)]
    out += [(name, words, False) for name, words in BUILTIN_SETS.items()]
    return out


def _automaton(table: dict[str, list[_Payload]]) -> Any:
    if not table:
        return _EmptyAutomaton()
    automaton = ahocorasick.Automaton()
    for key, payloads in table.items():
        automaton.add_word(key, tuple(payloads))
    automaton.make_automaton()
    return automaton


class _EmptyAutomaton:
    def iter(self, _text: str) -> list[Any]:
        return []


def _compile_rule(r: Any) -> _Rule:
    window = r.window_words
    within: Literal["sentence", "paragraph", "article", "words"] = (
        "words" if window is not None else r.within
    )
    return _Rule(
        name=r.name,
        any=frozenset(r.any),
        all=frozenset(r.all),
        not_=frozenset(r.not_),
        min_actors=r.min_actors,
        actors=frozenset(r.actors) if r.actors is not None else None,
        pairs=tuple(frozenset(p) for p in r.pairs) if r.pairs is not None else None,
        same_camp=r.same_camp,
        opposed=r.opposed,
        within=within,
        window=window or 0,
        scope=r.scope,
        unless=frozenset(r.unless),
        unless_action=r.unless_action,
        confirm=frozenset(r.confirm),
        severity=r.severity,
        min_score=r.min_score,
        mode=r.mode,
        channels=tuple(r.channels),
        digest=r.digest,
        quarrels=r.quarrels,
    )


MatchFn = Callable[[str, str], list[Match]]
