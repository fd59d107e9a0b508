"""HTML fragments (feed titles, summaries, content) → plain text with paragraphs kept.

Pure. Block elements become paragraph breaks, ``<br>`` a line break; scripts, styles and other
non-text elements are dropped; entities are decoded; whitespace inside a paragraph collapses;
a paragraph printed twice is kept once.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

_BLOCK = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "td",
        "th",
        "tr",
        "ul",
    ]
)
_SKIP = frozenset(
    [
        "script",
        "style",
        "noscript",
        "template",
        "svg",
        "iframe",
        "object",
        "head",
        "select",
        "button",
    ]
)
#: elements whose content some Python versions' HTMLParser reads as raw text
_RAW = frozenset(["title", "textarea", "xmp", "plaintext", "noembed", "noframes"])
_SPACE = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
#: whitespace that _SPACE changes even alone (every kind but the plain space)
_ODD_SPACE = re.compile(r"[\t\r\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]")


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment; plain text passes through (entities decoded)."""
    if "<" not in html:
        return clean_text(unescape(html) if "&" in html else html)
    parts = _simple_parts(html)
    if parts is None:
        parser = _TextParser()
        try:
            parser.feed(html)
            parser.close()
        except (AssertionError, ValueError):  # pathological markup: keep what was read
            pass
        parts = parser.parts
    return clean_text("".join(parts))


#: a start or end tag whose attributes hold no angle brackets
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)(?:[\s/][^<>]*)?>")


def _simple_parts(html: str) -> list[str] | None:
    """The same parts as ``_TextParser`` for the common fragment (plain tags, no comments,
    scripts or stray angle brackets) in a fraction of the time; None for anything else."""
    parts: list[str] = []
    pos = 0
    for m in _TAG.finditer(html):
        if m.start() > pos:
            data = html[pos : m.start()]
            if "<" in data or ">" in data:
                return None
            parts.append(unescape(data) if "&" in data else data)
        pos = m.end()
        tag = m.group(2).lower()
        if tag in _SKIP or tag in _RAW:
            return None  # raw-text elements: the real parser knows where they end
        if tag == "br":
            if not m.group(1):
                parts.append("\n")
        elif tag in _BLOCK:
            parts.append("\n\n")
    rest = html[pos:]
    if "<" in rest or ">" in rest:
        return None
    parts.append(unescape(rest) if "&" in rest else rest)
    return parts


_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n\s*")


def clean_text(text: str) -> str:
    """Collapse whitespace inside paragraphs, drop repeated paragraphs, one blank line between."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    seen: set[str] = set()
    if "  " in text or (
        ("\t" in text or "\f" in text or "\v" in text)
        if text.isascii()
        else _ODD_SPACE.search(text)
    ):  # (most text has single plain spaces only)
        text = _SPACE.sub(" ", text)
    for block in _PARAGRAPH_BREAK.split(text):
        if "\n" in block:
            para = "\n".join(line for line in (x.strip() for x in block.split("\n")) if line)
        else:
            para = block.strip()
        if not para:
            continue
        # a printable one-line paragraph has single spaces only: it is its own key
        key = (
            para.casefold()
            if "\n" not in para and para.isprintable()
            else " ".join(para.split()).casefold()
        )
        if len(key) >= 40:
            if key in seen:
                continue
            seen.add(key)
        out.append(para)
    return "\n\n".join(out)
