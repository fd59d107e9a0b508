"""Rules over articles: the stages in order, and the rules' units.

Pure: no I/O. A sentence goes through the stages of ``monitor.match`` in this order, each a
module of its own:

1. ``scan``: one pass of the automaton (built once by ``compiler``) finds every actor name,
   keyword term and phrase that refers back, in a ``document.Document``;
2. ``keywords``: which terms count (parts lined up, ambiguous words confirmed);
3. ``wordorder``: a plain sentence ("A clashed with B") is a clash by word order alone;
4. ``reader`` → ``roles`` (with ``tree``, ``members``, ``governors``, ``scope``): the other
   candidate sentences are parsed and every conflict predicate read with its sides;
5. ``decide``: each predicate's verdict — a clash the parse read, or one by default, unless a
   named veto rules it out (denial, hedge, co-targets, allies, background …);
6. ``references``: fights told across two sentences;
7. ``explain``: why nothing was sent.

This module holds what joins them: ``Engine.match(title, text)`` folds and scans the text once,
and only when some rule could still be satisfied does it split sentences and evaluate them. A
rule is satisfied in a *unit* (a sentence, a paragraph, the article, or a window of N words
around a keyword) that holds its keyword condition (``any``/``all``/``not`` over keyword sets)
and at least ``min_actors`` distinct canonical actors, optionally restricted to ``actors``,
``pairs`` or one ``camp``; with ``opposed``, two of them set against each other (``decide``).
``unless`` cue sets in the same sentence suppress (or downgrade) it; ``confirm`` cue sets must
appear in the sentence or the next one.
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from monitor.match import decide, readings, references
from monitor.match import lexicon as lx
from monitor.match import text as textmod
from monitor.match.actors import WEIGHTS
from monitor.match.document import WORD, ActorHit, Document, TermHit
from monitor.match.explain import Explainer
from monitor.match.keywords import Keywords
from monitor.match.reader import Reader
from monitor.match.rules import Rule, Term
from monitor.match.scan import Scanner
from monitor.match.syntax import Parser
from monitor.match.wordorder import WordOrder
from monitor.models import SEVERITIES, ActorMention, Clash, Match, Span

#: how sure a hit names its actor: an alias, an inflected form, a place (metonym), a reference
_HIT_WEIGHTS: dict[str, float] = {**dict(WEIGHTS.items()), "reference": 0.8}


@dataclass(slots=True)
class _Unit:
    start: int
    end: int
    actors: dict[str, list[ActorHit]]
    terms: list[TermHit]
    score: float
    downgraded: bool = False
    notes: list[str] = field(default_factory=list)
    #: who fights whom, where the role stage read the sentence
    clashes: list[Clash] = field(default_factory=list)


#: "blamed A for it", "claimed responsibility for it", "claimed it": who did what was told
#: just before, named with a pronoun for the deed
_BLAMED_FOR_IT = re.compile(
    r"\b(?:blam\w*\b[^.;]{0,80}?\bfor|claim\w*(?:\s+responsibility\s+for)?)\s+(?:it|this|that)\b",
    re.IGNORECASE,
)


class Engine:
    """Compiled rules. Thread-safe for reading; build a new one to change the configuration."""

    def __init__(
        self,
        rules: Sequence[Rule],
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
        #: the classes' nouns, every form ("airstrikes")
        self._nouns = frozenset(
            w
            for c in self.lexicon.classes
            for n in c.nouns
            for w in textmod.inflections(n.split()[-1])
            if (w == n.split()[-1] or w.endswith("s"))  # the noun and its plural
            and w not in ("fire", "fires", "gunfire")  # "the … exchanged fire": no reference
        )
        self.reader = Reader(parser if self.lexicon else None, self.lexicon)
        self.keywords = Keywords(tuple(terms), set_confirm or {})
        self.scanner = Scanner(automaton, untracked)
        self.word_order = WordOrder(self.keywords, self.lexicon, untracked)
        self.decider = decide.Decider(self.reader, self.word_order, self.lexicon, untracked)
        self.explainer = Explainer(self.rules, self.scanner, self.keywords, self.reader)
        self._camps = camps
        self._by_name = {r.name: r for r in self.rules}

    @property
    def parser(self) -> Parser | None:
        """The parser of the role stage (None: word order alone, or its model did not load)."""
        return self.reader.parser

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
        docs = [Document(title, text, when) for title, text, when in articles]
        out: list[list[Match]] = []
        for doc in docs:
            if not self.scanner.scan(doc):
                out.append([])
                continue
            doc.pending = [] if self.parser is not None and len(docs) > 1 else None
            out.append(self._rules_on(doc, wanted))
        waiting = [d for d in docs if d.pending]
        if waiting:
            self.reader.parse_into(waiting)
            for i, doc in enumerate(docs):
                if doc.pending:  # again, with the sentences it asked for read
                    doc.pending = None
                    out[i] = self._rules_on(doc, wanted)
        return out

    def _rules_on(self, doc: Document, wanted: set[str] | None) -> list[Match]:
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
        """Why no live rule matched (``explain.Explainer.silence``)."""
        return self.explainer.silence(title, text, when, rules, limit, verbose)

    # -- evaluating --------------------------------------------------------------------------
    def _evaluate(self, rule: Rule, doc: Document) -> Match | None:
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
            self.scanner.term_hits(doc)
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
        self, rule: Rule, doc: Document, actors: list[ActorHit], terms: list[TermHit]
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
        self, rule: Rule, doc: Document, actors: list[ActorHit], anchors: list[TermHit]
    ) -> list[_Unit]:
        """Fights told across sentences: an attack whose author one sentence does not name
        ("the airstrikes targeted positions held by A") and a nearby sentence does ("Russian
        airstrikes…", "IS claimed responsibility for the attack"). Only sentences that name
        an actor near a conflict word are read."""
        by_sentence: dict[tuple[int, int], list[ActorHit]] = {}
        for h in actors:
            by_sentence.setdefault(doc.sentence_at(h.start), []).append(h)
        anchored = sorted({doc.sentence_at(t.start) for t in anchors} & set(by_sentence))
        held = self._held_units(rule, doc, by_sentence, anchored, anchors)
        held += self._counter_units(rule, doc, by_sentence, anchored, anchors)
        # "Local sources blamed A for it": a sentence that names who did what the one before
        # told, with no conflict word of its own
        anchored = sorted(
            {*anchored, *(s for s in by_sentence if _BLAMED_FOR_IT.search(doc.text, *s))}
        )
        if held or len(anchored) < 2:
            return held
        # only a sentence that refers back ("the airstrikes", "claimed the attack") can tell
        # one attack across two; others are not read
        if not any(self._refers_back(doc, *s) for s in anchored):
            return []
        out: list[_Unit] = []
        for i, here in enumerate(anchored):
            reading = self.reader.reading(doc, *here)
            if reading is None or not any(
                r.target.actors
                and not r.blocked
                and (r.unknown_attacker or not (r.attacker.actors or r.parties))
                for r in reading.readings
            ):
                continue
            near = [s for s in anchored[max(0, i - 2) : i + 2] if s != here]
            # a claim of responsibility may come paragraphs later
            near += [s for s in anchored[i + 2 :] if s not in near]
            for there in near:
                other = self.reader.reading(doc, *there)
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

    def _held_units(
        self,
        rule: Rule,
        doc: Document,
        by_sentence: dict[tuple[int, int], list[ActorHit]],
        anchored: list[tuple[int, int]],
        anchors: list[TermHit],
    ) -> list[_Unit]:
        """An attack on a place, and the next sentence saying who held it ("A launched an
        assault on P. *The town had been held by B* since March"): A against B."""
        out: list[_Unit] = []
        for here in anchored:
            there = doc.sentence_after(here[0])
            if there == here or there not in by_sentence:
                continue
            sentence = doc.text[there[0] : there[1]]
            named = [(h.start - there[0], h.actor) for h in by_sentence[there]]
            holder = references.held_by(sentence, named)
            reading = self.reader.reading(doc, *here) if holder is not None else None
            if holder is None or reading is None:
                continue
            found = [
                replace(r, target=readings.Side(frozenset([holder]), (holder,)))
                for r in reading.readings
                if r.attacker.actors
                and r.other_unnamed
                and not r.target.actors
                and not (r.parties or r.mutual or r.blocked)
                and holder not in r.attacker.actors
            ]
            note = "across sentences: the next sentence says who held the place attacked"
            unit = self._unit_across(rule, doc, here, there, by_sentence, anchors, found, note)
            if unit is not None:
                out.append(unit)
        return out

    def _counter_units(
        self,
        rule: Rule,
        doc: Document,
        by_sentence: dict[tuple[int, int], list[ActorHit]],
        anchored: list[tuple[int, int]],
        anchors: list[TermHit],
    ) -> list[_Unit]:
        """A counter-move in the sentence after a taking ("B fighters took P. A counterattack
        by A was repelled hours later"): A against B."""
        out: list[_Unit] = []
        for before, here in itertools.pairwise(anchored):
            if doc.sentence_after(before[0]) != here:
                continue
            if not references.COUNTER_WORDS.search(doc.text, *here):
                continue  # words first: no sentence is parsed for this without a counter-move
            reading = self.reader.reading(doc, *here)
            previous = self.reader.reading(doc, *before)
            if reading is None or previous is None:
                continue
            found = references.counter_across(reading.readings, previous.readings)
            note = "across sentences: a move to take back what the sentence before says was taken"
            unit = self._unit_across(rule, doc, here, before, by_sentence, anchors, found, note)
            if unit is not None:
                out.append(unit)
        return out

    def _refers_back(self, doc: Document, lo: int, hi: int) -> bool:
        """Does the sentence name an attack as one told before ("*the* airstrikes", "*these*
        attacks"), a claim of it ("claimed responsibility") or whom it is blamed on ("blamed A
        for it")? Words only: no parse."""
        if _BLAMED_FOR_IT.search(doc.text, lo, hi):
            return True
        words = textmod.normalise(doc.text[lo:hi]).split()
        for i, w in enumerate(words):
            if w in lx.DEFINITE and any(x in self._nouns for x in words[i + 1 : i + 4]):
                return True
            if w.startswith("claim"):
                return True
        return False

    def _unit_across(
        self,
        rule: Rule,
        doc: Document,
        here: tuple[int, int],
        there: tuple[int, int],
        by_sentence: dict[tuple[int, int], list[ActorHit]],
        anchors: list[TermHit],
        found: list[readings.Reading],
        note: str = "across sentences: the attacker is named in another sentence",
    ) -> _Unit | None:
        hits = by_sentence[here] + by_sentence[there]
        tracked = {h.actor for h in hits}
        clashes: list[Clash] = []
        fighters: set[str] = set()
        for r in found:
            pairs = [(a, b) for a, b in r.pairs() if a in tracked and b in tracked]
            if pairs:
                clashes.append(decide.clash_record(r, pairs))
                fighters |= {x for pair in pairs for x in pair}
        by_actor: dict[str, list[ActorHit]] = {}
        for h in hits:
            if h.actor in fighters:
                by_actor.setdefault(h.actor, []).append(h)
        if not clashes or self._choose_actors(rule, by_actor) is None:
            return None
        lo, hi = min(here[0], there[0]), max(here[1], there[1])
        keywords = [t for t in anchors if here[0] <= t.start < here[1]]
        unit = _Unit(lo, hi, by_actor, keywords, 0.0, clashes=clashes)
        unit.notes.append(note)
        unit.score = self._score(doc, unit)
        return unit

    def _unit_spans(
        self,
        rule: Rule,
        doc: Document,
        anchors: list[TermHit] | None,
        actors: list[ActorHit],
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
                m = WORD.match(doc.text, starts[hi_i])
                out.append((lo, m.end() if m else len(doc.text)))
            return sorted(set(out))
        points = [t.start for t in anchors] if anchors is not None else [h.start for h in actors]
        if rule.within == "sentence":
            return sorted({doc.sentence_at(p) for p in points})
        paras = doc.paragraphs or [(0, len(doc.text))]
        return sorted({paras[doc.paragraph_index(p)] for p in points})

    def _check_unit(
        self,
        rule: Rule,
        doc: Document,
        start: int,
        end: int,
        actors: list[ActorHit],
        terms: list[TermHit],
    ) -> _Unit | None:
        if len({h.actor for h in actors}) < rule.min_actors:
            return None  # what ``_choose_actors`` would say, before the keywords' work
        found = [t for t in self.keywords.complete(terms, doc) if self.keywords.counts(doc, t)]
        present = {t.set_name for t in found}
        if not rule.all <= present or (rule.any and not rule.any & present):
            return None
        if rule.not_ & present:
            return None
        by_actor: dict[str, list[ActorHit]] = {}
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
            opposed = self.decider.opposition(doc, keywords, by_actor, rule.quarrels)
            if not opposed.kept:
                return None
            keywords, clashes, notes = opposed.kept, opposed.clashes, opposed.notes
            by_actor = {a: hits for a, hits in by_actor.items() if a in opposed.fighters}
        unit = _Unit(start, end, by_actor, keywords, 0.0, notes=notes, clashes=clashes)
        if rule.unless or rule.confirm:
            context = self.keywords.in_sentences(doc, keywords, start, end)
            # where the parser read the sides, it also read what a denial or hedge covers
            # ("A denied any involvement in the clashes between B and C" still reports them)
            cues = [] if clashes else [t for t in context if t.set_name in rule.unless]
            if cues:
                if rule.unless_action == "suppress":
                    return None
                unit.downgraded = True
                unit.notes.append(f"downgraded: {cues[0].surface!r} in the same sentence")
            if rule.confirm and not self.keywords.confirmed(rule, doc, keywords):
                return None
        unit.score = self._score(doc, unit)
        return unit

    def _choose_actors(self, rule: Rule, by_actor: dict[str, list[ActorHit]]) -> list[str] | None:
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

    @staticmethod
    def _score(doc: Document, unit: _Unit) -> float:
        if unit.start < doc.title_len:
            where = 2.0
        elif unit.start < doc.lead_end():
            where = 1.5
        else:
            where = 1.0
        weights = [max(_HIT_WEIGHTS[h.kind] for h in hits) for hits in unit.actors.values()]
        return round(where * (min(weights) if weights else 1.0), 2)

    @staticmethod
    def _span(doc: Document, unit: _Unit) -> Span:
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


def _in_scope(scope: str, doc: Document, pos: int) -> bool:
    if scope == "any":
        return True
    return (pos < doc.title_len) == (scope == "title")


# ------------------------------------------------------------------------------------------
# compiling


MatchFn = Callable[[str, str], list[Match]]
