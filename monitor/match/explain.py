"""The last stage, for a reader: why nothing was sent.

Pure. For an article no live rule matched, the nearest miss: what was found and where (the
tracked actors, as written, and the conflict words, by sentence), names outside their dates,
then what stopped each rule in each sentence that has two actors and a conflict word — a
rule's own ``actors`` or ``pairs``, the veto that ruled the clash out (``decide``: denied,
hedged, co-targets of an untracked party, allies on one side …), one side only, a speaker or
a place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from monitor.match import decide, readings
from monitor.match.document import Document, TermHit
from monitor.match.keywords import Keywords
from monitor.match.reader import Reader
from monitor.match.rules import TALKS, Rule
from monitor.match.scan import Scanner


class Explainer:
    """Says why an article raised no alert, with the stages that decided it."""

    def __init__(
        self, rules: Sequence[Rule], scanner: Scanner, keywords: Keywords, reader: Reader
    ) -> None:
        self.rules = tuple(rules)
        self.scanner = scanner
        self.keywords = keywords
        self.reader = reader
        self.untracked = scanner.untracked

    def silence(
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
        doc = Document(title, text, when)
        if not self.scanner.scan(doc):
            return ["no tracked actor and no conflict word in the text"]
        self.scanner.term_hits(doc)
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
        tracked = sorted({h.actor for h in doc.actor_hits if h.actor not in self.untracked})
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

    def _found_line(self, doc: Document, rules: list[Rule]) -> str:
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
            if h.actor not in self.untracked:
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

    def _why_not(self, rule: Rule, doc: Document, verbose: bool = False) -> list[str]:
        out = []
        by_sentence: dict[tuple[int, int], set[str]] = {}
        for h in doc.actor_hits:
            if h.actor not in self.untracked:
                by_sentence.setdefault(doc.sentence_at(h.start), set()).add(h.actor)
        for (lo, hi), present in sorted(by_sentence.items()):
            pool = [t for t in doc.term_hits if lo <= t.start < hi and t.set_name in rule.sets]
            kws = [t for t in self.keywords.complete(pool, doc) if t.set_name in rule.anchors]
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
    def _rule_allows(rule: Rule, present: set[str]) -> str | None:
        """What a rule's own limits say about these actors (None: nothing against them)."""
        if rule.actors is not None and len(present & rule.actors) < 2:
            return f"counts only {', '.join(sorted(rule.actors))}"
        if rule.pairs is not None and not any(p <= present for p in rule.pairs):
            pairs = ", ".join("–".join(sorted(p)) for p in rule.pairs)
            return f"{'–'.join(sorted(present))} is not among its pairs ({pairs})"
        return None

    def _what_was_read(
        self, doc: Document, lo: int, hi: int, kws: list[TermHit], present: set[str]
    ) -> list[str]:
        """What the role stage made of a sentence's conflict words, for "why not"."""
        reading = self.reader.reading(doc, lo, hi)
        if reading is None:
            if self.keywords.cues(doc, lo, hi, frozenset((TALKS,))):
                who = ", ".join(sorted(present))
                return [
                    f"vetoed: talks, a call to stop the fighting, a warning or a threat ({who})"
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
            verdict = decide.judge(r, reading, present, self.untracked)
            if verdict.veto:
                said.append(f"{r.predicate!r} vetoed: {verdict.veto} ({_sides_text(r)})")
            elif not verdict.pairs and named:
                said.append(f"{r.predicate!r}: {_sides_text(r)}")
        said += [f"{a} is a {why}" for a, why in sorted(reading.aside.items()) if a in present]
        return said


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
