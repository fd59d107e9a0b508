"""What an edit changed, in one line a reader can take in at a glance. Pure."""

from __future__ import annotations

MAX_QUOTE = 240


def edit_note(old_title: str, old_text: str, new_title: str, new_text: str) -> str:
    """``the headline was “…”, now “…”``, or the first paragraph the edit added or removed."""
    if old_title != new_title:
        return f"the headline was “{_short(old_title)}”, now “{_short(new_title)}”"
    before = set(_paragraphs(old_text))
    after = _paragraphs(new_text)
    added = [p for p in after if p not in before]
    if added:
        return f"a paragraph was added: “{_short(added[0])}”"
    kept = set(after)
    removed = [p for p in _paragraphs(old_text) if p not in kept]
    if removed:
        return f"a paragraph was removed: “{_short(removed[0])}”"
    return "the text was changed"


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_QUOTE else text[: MAX_QUOTE - 1].rstrip() + "…"
