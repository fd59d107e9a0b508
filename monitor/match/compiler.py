"""The configuration compiled into an engine, once.

Pure: validated settings in, an ``Engine`` out, or ``RuleError`` naming every problem. One
Aho-Corasick automaton holds every actor alias, exclusion, reference phrase, keyword term and
cue, so the cost of matching grows with the length of the text, not with the number of actors
and keywords.
"""

from __future__ import annotations

from typing import Any, Literal

import ahocorasick

from monitor.match import lexicon as lx
from monitor.match import text as textmod
from monitor.match.actors import (
    alias_keys,
    exclusion_keys,
    find_clashes,
    variants,
)
from monitor.match.engine import Engine
from monitor.match.rules import (
    BUILTIN_SETS,
    REFERENCES,
    ExclusionKey,
    NameKey,
    Payload,
    ReferenceKey,
    Rule,
    RuleError,
    Term,
    TermKey,
)
from monitor.match.syntax import Parser

_GAP_ANY = (0, 8)  # "fighting ... between": up to eight words in between


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
    table: dict[str, list[Payload]] = {}

    def add(payload: Payload) -> None:
        table.setdefault(payload.key, []).append(payload)

    for _loc, alias in alias_keys(settings.actors):
        add(NameKey(alias.key, alias))
    for key, actor in exclusion_keys(settings.actors):
        add(ExclusionKey(key, actor))
    for phrase, how in REFERENCES.items():
        add(ReferenceKey(f" {phrase} ", how))
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
                    add(TermKey(key, term_id, part_index, set_name, len(parts) > 1))
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


def _automaton(table: dict[str, list[Payload]]) -> Any:
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


def _compile_rule(r: Any) -> Rule:
    window = r.window_words
    within: Literal["sentence", "paragraph", "article", "words"] = (
        "words" if window is not None else r.within
    )
    return Rule(
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
