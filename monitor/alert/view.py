"""What an analyst reads about one alert, once, for every channel: ``AlertView``. Pure.

Each channel renders the same view in its own markup (console and email text, email HTML,
Slack blocks), so a headline is never quoted twice, keywords are listed once per word, the
parties are the sides the match set against each other (anyone else in the sentence is "also
mentioned"), and the lead of a follow-up, an escalation or an edit notice reads as a sentence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from monitor.models import Alert, Match, Span

#: how a headline or an evidence sentence is cut when it runs long
QUOTE_LIMIT = 600


@dataclass(frozen=True, slots=True)
class Quote:
    """A sentence of the article with the words that matched: (text, matched) pieces."""

    pieces: tuple[tuple[str, bool], ...]

    def plain(self) -> str:
        return "".join(t for t, _ in self.pieces)

    def marked(self, escape: Callable[[str], str], start: str, end: str) -> str:
        """Each piece escaped for the markup, the matched ones between ``start`` and ``end``
        (the marks are ours, the text is the web's)."""
        return "".join(f"{start}{escape(t)}{end}" if m else escape(t) for t, m in self.pieces)


@dataclass(frozen=True, slots=True)
class AlertView:
    #: alert | followup | escalation | edit
    kind: str
    severity: str
    rule: str
    headline: str
    #: the article's link when it is http(s), else ""
    url: str
    outlet: str
    #: "2026-11-30 09:57 UTC", or "date unknown"
    when: str
    #: the same time in the desk's timezone ("11:57 EET"), when one is configured
    when_local: str | None
    #: "Hezbollah ⟷ Syrian government: clashes"
    parties: str
    #: tracked actors in the evidence that the match did not set against each other
    also_mentioned: tuple[str, ...]
    #: the best evidence sentence, never the headline again (None: the headline is it)
    quote: Quote | None
    #: conflict words, one per word ("heavy clashes", not "Clashes, Heavy clashes, clashes")
    keywords: tuple[str, ...]
    #: for a follow-up, escalation or edit: what happened, as a sentence
    lead: str | None
    #: the title of the story's first article (follow-ups and escalations)
    story_title: str | None
    #: analysis notes ("downgraded: …"), as written by the rules engine
    notes: tuple[str, ...]
    score: float
    #: the match's own severity (an escalation is shown one higher): the story's first
    #: message's, for a reply's subject
    story_severity: str = ""

    def listed(self) -> list[tuple[str, str]]:
        """What every renderer lists after the evidence: ("keywords", "heavy clashes"),
        ("also mentioned", "Turkey"), each when there is any."""
        out = []
        if self.keywords:
            out.append(("keywords", ", ".join(self.keywords)))
        if self.also_mentioned:
            out.append(("also mentioned", ", ".join(self.also_mentioned)))
        return out

    @property
    def time_line(self) -> str:
        return f"{self.when} ({self.when_local})" if self.when_local else self.when


def view(alert: Alert, tz: ZoneInfo | None = None) -> AlertView:
    m = alert.match
    headline = " ".join((alert.article_title or "(untitled)").split())
    fighters = _fighters(m)
    return AlertView(
        kind=alert.kind,
        severity=alert.severity,
        rule=m.rule,
        headline=headline,
        url=alert.article_url if alert.article_url.startswith(("http://", "https://")) else "",
        outlet=alert.source,
        when=_utc(alert.published),
        when_local=_local(alert.published, tz),
        parties=parties_line(m),
        also_mentioned=tuple(a for a in m.actor_names if a not in fighters),
        quote=_evidence(m.spans, headline),
        keywords=keywords(m.keywords),
        lead=_lead(alert),
        story_title=alert.story_title,
        notes=m.notes,
        score=m.score,
        story_severity=m.severity,
    )


def parties_line(m: Match) -> str:
    """Who against whom, and how: the sides the role stage read (``A → B: attacked``,
    ``A ⟷ B: clashes``); without them, the actors the rule paired."""
    if not m.clashes:
        words = keywords(m.keywords)
        return " ⟷ ".join(m.actor_names) + (f": {words[0]}" if words else "")
    sides: dict[tuple[object, ...], tuple[str, list[str]]] = {}
    for c in m.clashes:
        a, b = " and ".join(c.attacker), " and ".join(c.target)
        # a mutual fight is one pair in either order, shown in the order first written
        key: tuple[object, ...] = (frozenset((a, b)),) if c.mutual else (a, b)
        shown = f"{a} ⟷ {b}" if c.mutual else f"{a} → {b}"
        sides.setdefault(key, (shown, []))[1].append(c.predicate)
    return "; ".join(f"{shown}: {', '.join(keywords(said))}" for shown, said in sides.values())


def _fighters(m: Match) -> set[str]:
    if not m.clashes:
        return set(m.actor_names)
    return {a for c in m.clashes for a in (*c.attacker, *c.target)}


def keywords(found: Sequence[str]) -> tuple[str, ...]:
    """One entry per word: case and inflection folded, and a word that a longer phrase holds
    dropped ("Clashes, Heavy clashes, clashes" → "heavy clashes")."""
    forms: dict[tuple[str, ...], str] = {}
    for k in found:
        text = " ".join(k.split())
        # a final "e" left out of the key: "trade" and "traded" ("trad") are one word
        key = tuple(_lemma(w).rstrip("e") or w for w in re.findall(r"\w+", text.lower()))
        if key and key not in forms:
            forms[key] = text if text.isupper() and len(text) > 1 else text.lower()
    keys = list(forms)
    kept = [k for k in keys if not any(o != k and _holds(o, k) for o in keys)]
    return tuple(forms[k] for k in kept)


def _lemma(word: str) -> str:
    for end, repl in (("ies", "y"), ("sses", "ss"), ("shes", "sh"), ("ches", "ch"), ("es", "e")):
        if word.endswith(end) and len(word) > len(end) + 2:
            return word[: -len(end)] + repl
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    for end in ("ing", "ed"):
        if word.endswith(end) and len(word) > len(end) + 3:
            return word[: -len(end)]
    return word


def _holds(longer: tuple[str, ...], shorter: tuple[str, ...]) -> bool:
    n = len(shorter)
    return len(longer) > n and any(longer[i : i + n] == shorter for i in range(len(longer) - n + 1))


def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _evidence(spans: Sequence[Span], headline: str) -> Quote | None:
    """The first body sentence that says more than the headline; else the title's own span
    when the headline is all there is (shown as the headline, not quoted again)."""
    title = _norm(headline)
    for span in spans:
        if span.field == "body" and _norm(span.text) != title:
            return _quote(span)
    return None


def _quote(span: Span, limit: int = QUOTE_LIMIT) -> Quote:
    pieces: list[tuple[str, bool]] = []
    pos = 0
    for start, end in sorted(span.marks):
        if start < pos:
            continue
        pieces += [(span.text[pos:start], False), (span.text[start:end], True)]
        pos = end
    pieces.append((span.text[pos:], False))
    out: list[tuple[str, bool]] = []
    size = 0
    for i, (text, marked) in enumerate(pieces):
        text = re.sub(r"\s+", " ", text)
        if i == 0:
            text = text.lstrip()
        if i == len(pieces) - 1:
            text = text.rstrip()
        if size + len(text) > limit:
            out.append((text[: max(0, limit - size)].rstrip() + "…", False))
            break
        if text:
            out.append((text, marked))
            size += len(text)
    return Quote(tuple(out))


def _utc(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else "date unknown"


def _local(at: datetime | None, tz: ZoneInfo | None) -> str | None:
    if at is None or tz is None:
        return None
    local = at.astimezone(tz)
    if local.utcoffset() == at.utcoffset() and local.tzname() in ("UTC", None):
        return None
    same_day = local.date() == at.date()
    return local.strftime("%H:%M %Z" if same_day else "%Y-%m-%d %H:%M %Z")


def _lead(alert: Alert) -> str | None:
    """A follow-up's, escalation's or edit's note as a sentence (the planner's words)."""
    note = (alert.note or "").strip()
    if not note:
        return None
    note = note[0].upper() + note[1:]
    return note if note.endswith((".", "”", "…", "?", "!")) else note + "."


def thread_subject(v: AlertView, limit: int = 200) -> str:
    """A story's later message as a reply to its first: "Re: " and the first one's subject
    (mail clients that thread by subject keep them together)."""
    head = f"Re: [{v.story_severity.upper()}] {v.parties} — {v.story_title or v.headline}"
    head = " ".join(head.split())
    return head if len(head) <= limit else head[: limit - 1] + "…"


def subject(v: AlertView, limit: int = 200) -> str:
    """One line: severity, the parties and the headline (an email subject, a notification)."""
    head = f"[{v.severity.upper()}] {v.parties} — {v.headline}"
    if v.kind == "followup":
        head = f"[{v.severity.upper()}] {v.lead or 'Also reported'} {v.headline}"
    elif v.kind == "escalation" and v.lead:
        head = f"[{v.severity.upper()}] {v.lead} {v.parties} — {v.story_title or v.headline}"
    elif v.kind == "edit" and v.lead:
        head = f"[EDITED] {v.headline}"
    head = " ".join(head.split())
    return head if len(head) <= limit else head[: limit - 1] + "…"
