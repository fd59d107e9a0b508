"""Text normalisation and segmentation, shared by the text being matched and by the aliases.

Pure: no I/O. The folding applied to both sides is the same function, so a spelling that reaches
an alias reaches the text too:

* Unicode NFKC, lower case, diacritics dropped (Nübbul = Nubbul, İdlib = Idlib);
* every character that is not a letter or digit becomes a space, so curly and straight quotes,
  apostrophes, hyphens and dashes are all equal (Hay'at = Hay’at, Iran-backed = Iran–backed),
  and a possessive ``'s`` leaves the name whole (al-Assad's → "al assad s");
* soft hyphens, zero-width characters, Arabic tatweel and combining marks (tashkeel) vanish;
  Arabic alef, ya and ta marbuta variants are folded;
* whitespace runs collapse to one space; a word hyphenated across a line break is joined.

``fold`` keeps a map back to the original offsets, so explanations can point into the text.
The fast path (ASCII text with no whitespace runs) is a single ``bytes.translate``.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass

# ----------------------------------------------------------------------------- character folding

_DELETE = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff\u0640\u061c\u200e\u200f")
# apostrophe-like modifier letters (transliteration of hamza and ayn): treated as apostrophes
_APOSTROPHES = frozenset(
    "\u02bb\u02bc\u02bd\u02be\u02bf\u02b9\u02ca\u02cb\u2018\u2019\u201b\u2032\u0060\u00b4"
)
_ARABIC = {
    "\u0649": "\u064a",  # alef maksura → ya
    "\u06cc": "\u064a",  # Farsi ya → ya
    "\u0629": "\u0647",  # ta marbuta → ha
    "\u06a9": "\u0643",  # keheh → kaf
    "\u0671": "\u0627",  # alef wasla → alef
}
_NONUNIT = "\x00"  # placeholder in the fast table for characters that fold to 0 or 2+ chars


def fold_char(c: str) -> str:
    """The folded form of one character: usually one character, sometimes none or several."""
    if c in _DELETE:
        return ""
    if c in _APOSTROPHES:
        return " "
    s = unicodedata.normalize("NFKC", c)
    s = unicodedata.normalize("NFD", s)
    out = []
    for ch in s:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        ch = _ARABIC.get(ch, ch)
        for low in ch.lower():
            out.append(low if low.isalnum() else " ")
    return "".join(out)


class _FoldTable(dict[int, str]):
    """``str.translate`` table, filled lazily: 1-char folds map directly, others to a marker."""

    def __missing__(self, code: int) -> str:
        folded = fold_char(chr(code))
        value = folded if len(folded) == 1 else _NONUNIT
        self[code] = value
        return value


_TABLE = _FoldTable()
_ASCII = bytes(
    (c + 32 if 65 <= c <= 90 else c) if chr(c).isalnum() else 32 for c in range(128)
) + bytes([32] * 128)

# whitespace runs, and words hyphenated across a line break
_SPECIAL = re.compile(r"(?<=\w)-[ \t]*\r?\n[ \t]*(?=\w)|\s{2,}")
_NONUNIT_RUN = re.compile(_NONUNIT + "+")
_ARTICLE_PREFIX = re.compile(r"(?:^|\W)(?:al|el|an|ad|ar|as|ash|at|az)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Folded:
    """Folded text, padded with one space at each end, and the way back to the original."""

    #: ``" " + folded + " "``: aliases are searched for as ``" alias "``
    padded: str
    #: the original text
    original: str
    #: sorted (folded_start, folded_end, orig_start, orig_end) of the places that changed length
    _edits: tuple[tuple[int, int, int, int], ...] = ()
    _starts: tuple[int, ...] = ()

    @property
    def unit_map(self) -> bool:
        """True when every character folded to exactly one (offsets only shift by the pad)."""
        return not self._edits and len(self.padded) == len(self.original) + 2

    def to_original(self, pos: int) -> int:
        """Offset in ``original`` of the character at ``pos`` in ``padded``."""
        p = pos - 1  # the padding
        if p <= 0:
            return 0
        if not self._edits:
            return min(p, len(self.original))
        k = bisect_right(self._starts, p) - 1
        if k < 0:
            return p
        _fs, fe, os_, oe = self._edits[k]
        if p < fe:
            return os_  # inside a replaced stretch: point at its start
        return min(oe + (p - fe), len(self.original))

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original (start, end) of ``padded[start:end]`` (end exclusive)."""
        s = self.to_original(start)
        e = self.to_original(end - 1) + 1 if end > start else s
        return s, max(s, min(e, len(self.original)))


def fold(text: str) -> Folded:
    """Fold ``text`` for matching, keeping the offsets back to it."""
    if text.isascii():
        base = text.encode("ascii").translate(_ASCII).decode("ascii")
        unit_marks = False
    else:
        base = text.translate(_TABLE)
        unit_marks = _NONUNIT in base
    specials = _whitespace_spots(text)
    if unit_marks:
        for m in _NONUNIT_RUN.finditer(base):
            repl = "".join(fold_char(c) for c in text[m.start() : m.end()])
            specials.append((m.start(), m.end(), repl))
        specials.sort()
    if not specials:
        return Folded(" " + base + " ", text)
    pieces: list[str] = []
    edits: list[tuple[int, int, int, int]] = []
    pos = out = 0
    for start, end, repl in specials:
        if start < pos:  # overlapping (cannot happen, but never corrupt the map)
            continue
        pieces.append(base[pos:start])
        out += start - pos
        pieces.append(repl)
        edits.append((out, out + len(repl), start, end))
        out += len(repl)
        pos = end
    pieces.append(base[pos:])
    return Folded(" " + "".join(pieces) + " ", text, tuple(edits), tuple(e[0] for e in edits))


def _whitespace_spots(text: str) -> list[tuple[int, int, str]]:
    """Whitespace runs within a paragraph (→ one space) and words hyphenated across a line
    break (→ joined)."""
    if (
        "  " not in text
        and " \n" not in text
        and "\n " not in text
        and "-\n" not in text
        and "\t" not in text
        and "\r" not in text
        and "\x0b" not in text
        and "\x0c" not in text
    ):
        # text as the parsers leave it: single spaces, and line breaks with no space or
        # hyphen beside them, which are paragraph breaks (kept) or single (nothing to do)
        return []
    return _whitespace_scan(text)


def _whitespace_scan(text: str) -> list[tuple[int, int, str]]:
    if "\t" in text or "\r" in text or "\x0b" in text or "\x0c" in text:
        spans = [(m.start(), m.end()) for m in _SPECIAL.finditer(text)]
    else:  # the common case: str.find is far cheaper than a regex scan of every position
        spans = []
        for needle in ("\n", "  "):
            pos = text.find(needle)
            while pos != -1:
                start, end = pos, pos + 1
                while start > 0 and text[start - 1] == " ":
                    start -= 1
                while end < len(text) and text[end] in " \n":
                    end += 1
                if (
                    start > 0
                    and text[start - 1] == "-"
                    and end < len(text)
                    and text[end].isalnum()
                    and start > 1
                    and text[start - 2].isalnum()
                ):
                    spans.append((start - 1, end))
                elif end - start >= 2:
                    spans.append((start, end))
                pos = text.find(needle, end)
        spans = sorted(set(spans))
    out: list[tuple[int, int, str]] = []
    last = -1
    for start, end in spans:
        if start < last:
            continue
        last = end
        if text[start] != "-" and text.count("\n", start, end) >= 2:
            # a paragraph break: no name or phrase runs across it, so it needs no collapsing
            # (each character folds to a space, like punctuation) and offsets stay as they are
            continue
        if text[start] == "-":
            joined = not _ARTICLE_PREFIX.search(text, 0, start)
            out.append((start, end, "" if joined else " "))
        else:
            out.append((start, end, " "))
    return out


def normalise(text: str) -> str:
    """The canonical folded form of a name or phrase: folded, single-spaced, stripped."""
    return " ".join(fold(text).padded.split())


# ----------------------------------------------------------------------------- Arabic script


def is_arabic(text: str) -> bool:
    return any("\u0600" <= c <= "\u06ff" or "\u0750" <= c <= "\u077f" for c in text)


# ----------------------------------------------------------------------------- French

#: words only French writes often (articles, prepositions, auxiliaries); against the English
#: ones, they tell a French sentence, which the (English) parser would misread
_FRENCH = frozenset(
    """le la les des du de et dans sur avec entre contre pour par qui que est sont ont été
    une au aux ce cette ces leur leurs ne pas près selon lors depuis après l d qu""".split()
)
_ENGLISH = frozenset(
    """the of and to in on with for by was were is are that between against from has have
    had near after said""".split()
)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def is_french(text: str) -> bool:
    """Is the sentence French: more of French's small words than of English's, three at
    least ("Des combats ont éclaté entre le Hezbollah et …")?"""
    words = [w.lower() for w in _WORD.findall(text)]
    fr = sum(w in _FRENCH for w in words)  # "l'armée" counts its "l"
    return fr >= 3 and fr > sum(w in _ENGLISH for w in words)


def unparsed(text: str) -> bool:
    """Text the parser (English) cannot read: Arabic script, or French. Word order decides."""
    return is_arabic(text) or is_french(text)


#: one-letter proclitics written joined to the next word: and, so, with/in, for/to, like
ARABIC_PROCLITICS = ("\u0648", "\u0641", "\u0628", "\u0644", "\u0643")


# ----------------------------------------------------------------------------- inflection

_NO_INFLECT = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "on",
        "in",
        "at",
        "to",
        "by",
        "for",
        "from",
        "with",
        "between",
        "among",
        "against",
        "and",
        "or",
        "but",
        "not",
        "no",
        "over",
        "into",
        "onto",
        "upon",
        "within",
        "without",
        "about",
        "after",
        "before",
    ]
)


def inflections(word: str) -> set[str]:
    """Simple English inflections of a folded word: clash → clashes, clashed, clashing.

    Over-generation is harmless here (nobody writes "rifted"); missing a form is not.
    """
    w = word
    if len(w) < 3 or w in _NO_INFLECT or not w.isalpha() or not w.isascii():
        return {w}
    out = {w, w + "s", w + "ed", w + "ing"}
    if w.endswith(("s", "x", "z", "ch", "sh")):
        out |= {w + "es"}
    if w.endswith("e"):
        out |= {w + "d", w[:-1] + "ing"}
    if w.endswith("y") and len(w) > 3 and w[-2] not in "aeiou":
        out |= {w[:-1] + "ies", w[:-1] + "ied"}
    if len(w) >= 3 and w[-1] not in "aeiouwxy" and w[-2] in "aeiou" and w[-3] not in "aeiou":
        out |= {w + w[-1] + "ed", w + w[-1] + "ing"}  # spar → sparred, sparring
    if w.endswith("ies"):
        out |= {w[:-3] + "y"}
    return out


# ----------------------------------------------------------------------------- segmentation

_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "gen",
        "lt",
        "col",
        "maj",
        "capt",
        "cpt",
        "sgt",
        "brig",
        "adm",
        "gov",
        "sen",
        "rep",
        "st",
        "jr",
        "sr",
        "prof",
        "no",
        "vol",
        "fig",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "inc",
        "corp",
        "ltd",
        "co",
        "vs",
        "approx",
        "est",
        "dept",
        "univ",
        "pres",
        "rev",
        "hon",
        "cmdr",
        "cdr",
        "lieut",
        "mt",
        "ft",
        "pp",
        "sec",
    ]
)
_SENTENCE_END = re.compile(r"[.!?\u061f\u06d4…]+[\"'”’»)\]]*(?=\s)")
_WORD_BEFORE_DOT = re.compile(r"[\w.]*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*•·▪–]|\d{1,3}[.)])\s+")
_LINE = re.compile(r"[^\n]+")
_BLANK = re.compile(r"\n[ \t\r\f\v]*\n")


def paragraphs(text: str) -> list[tuple[int, int]]:
    """Spans of paragraphs: blocks split at blank lines, and at line breaks that start a new
    thought (a line ending in punctuation, a short heading, a list item). A hard-wrapped line
    followed by a lower-case continuation stays in its paragraph."""
    spans: list[tuple[int, int]] = []
    for block_start, block_end in _blocks(text):
        if text.find("\n", block_start, block_end) == -1:  # one line: one paragraph
            spans.append(_trim(text, block_start, block_end))
        else:
            _block_paragraphs(text, block_start, block_end, spans)
    return [s for s in spans if s[1] > s[0]]


def _block_paragraphs(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    """The paragraphs of one block of lines, added to ``spans``."""
    cur_start: int | None = None
    cur_end = 0
    prev_line = ""
    for m in _LINE.finditer(text, start, end):
        line = m.group(0)
        if not line.strip():
            continue
        if cur_start is not None and not _continues(prev_line, line):
            spans.append(_trim(text, cur_start, cur_end))
            cur_start = None
        if cur_start is None:
            cur_start = m.start()
        cur_end = m.end()
        prev_line = line
    if cur_start is not None:
        spans.append(_trim(text, cur_start, cur_end))


def _blocks(text: str) -> list[tuple[int, int]]:
    out = []
    pos = 0
    for m in _BLANK.finditer(text):
        out.append((pos, m.start()))
        pos = m.end()
    out.append((pos, len(text)))
    return out


def _continues(prev: str, line: str) -> bool:
    """Is ``line`` the wrapped continuation of ``prev``?"""
    stripped = line.lstrip()
    if not stripped or _LIST_ITEM.match(line):
        return False
    p = prev.rstrip()
    if p.endswith("-") and p[-2:-1].isalpha() and stripped[0].isalpha():
        return True  # a word hyphenated across the line break
    if not p or p[-1] in '.!?:;"”’»)' or len(p) < 40:
        return False
    return stripped[0].islower() or (p.endswith(("-", ",")) and not stripped[0].isupper())


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    if start < end and (text[start].isspace() or text[end - 1].isspace()):
        seg = text[start:end]
        stripped = seg.lstrip()
        start += len(seg) - len(stripped)
        end = start + len(stripped.rstrip())
    return start, end


def sentences(text: str, within: tuple[int, int] | None = None) -> list[tuple[int, int]]:
    """Spans of sentences, never crossing a paragraph. Copes with "U.S.", "Gen.", initials,
    decimals, quotes after the full stop, and list items."""
    out: list[tuple[int, int]] = []
    for p_start, p_end in [within] if within else paragraphs(text):
        start = p_start
        for m in _SENTENCE_END.finditer(text, p_start, p_end):
            end = m.end()
            if not _is_boundary(text, m.start(), end, p_end):
                continue
            out.append(_trim(text, start, end))
            start = end
        if start < p_end:
            out.append(_trim(text, start, p_end))
    return [s for s in out if s[1] > s[0]]


def _is_boundary(text: str, dot: int, end: int, limit: int) -> bool:
    if text[dot] == ".":
        k = max(text.rfind(" ", 0, dot), text.rfind("\n", 0, dot)) + 1
        word = text[k:dot]
        if not word.isalnum():  # keep the trailing letters and dots: '(Gen' → 'Gen'
            m = _WORD_BEFORE_DOT.search(word)
            word = m.group(0) if m else ""
        if len(word) > 5 and "." not in word:
            return _next_starts_sentence(text, end, limit, strict=False)
        if word.lower() in _ABBREVIATIONS:
            return False
        if len(word) == 1 and word.isupper():
            return False  # an initial: "George W. Bush"
        if "." in word and all(len(x) <= 2 for x in word.split(".")):
            # U.S., U.N.: a sentence may end here only if a capitalised non-name follows
            return _next_starts_sentence(text, end, limit, strict=True)
    return _next_starts_sentence(text, end, limit, strict=False)


def _next_starts_sentence(text: str, pos: int, limit: int, strict: bool) -> bool:
    while pos < limit and text[pos].isspace():
        pos += 1
    if pos >= limit:
        return True
    c = text[pos]
    if c.islower():
        return False
    if strict:
        word = re.match(r"\w+", text[pos:limit])
        return word is not None and word.group(0) in ("The", "It", "He", "She", "They", "A", "In")
    return True
