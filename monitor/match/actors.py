"""The actor index: every way a text can name a tracked actor, compiled from the configuration.

Pure. An actor has aliases (its names), forms (adjectives and demonyms such as "Iran-backed"),
metonyms (capitals, leaders: they count, but weigh less) and exclusions (longer phrases that
contain an alias but mean something else: "Turkish Hezbollah"). All-capital aliases of up to six
letters are acronyms and match as written ("IS" never matches "is"), or in lower case where they
have three letters or more and spell no English word ("hts", not "war").
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from monitor.match.text import ARABIC_PROCLITICS, is_arabic, normalise

AliasKind = Literal["alias", "form", "metonym"]
WEIGHTS: dict[AliasKind, float] = {"alias": 1.0, "form": 0.9, "metonym": 0.5}

#: acronyms that are also English words: in ALL-CAPS text they cannot be told apart
AMBIGUOUS_ACRONYMS = frozenset(
    [
        "is",
        "us",
        "as",
        "it",
        "am",
        "an",
        "or",
        "on",
        "in",
        "at",
        "no",
        "so",
        "we",
        "he",
        "me",
        "my",
        "do",
        "go",
        "if",
        "of",
        "to",
        "up",
        "be",
        "by",
    ]
)
#: acronyms of three letters or more that spell an English word: in lower case they are the
#: word ("hts", "sdf" are the acronyms; "arm", "war" are words), so they match only as written
WORD_ACRONYMS = frozenset(
    """all and any are art arm army bad bar bat bed big bit box boy but can car cat cut day did
    die dog dry due ear eat end era eye far fat few fly for fun gas get god gun guy had has hat
    her him his hit hot how ice ill its job key kid law lay led leg let lie lot low mad man map
    may men mid mix new nor not now nut odd off oil old one our out own pan pay per pet pin pit
    pop pro put ran rat raw red rid rip rob rod row run sad saw say sea see set sex she sin sit
    six sky son spy sum sun tax tea ten the tie tin tip toe ton too top toy try two use van war
    was way web wet who why win won yes yet you zip amal hama isis""".split()
)
_ARTICLES = ("al", "el", "an", "ad", "ar", "as", "ash", "at", "az")
#: an article written joined to its word by a dash: al-Sham, ash-Sham
_WRITTEN_ARTICLE = re.compile(rf"(?<!\w)({'|'.join(_ARTICLES)})[-‐‑–]", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class AliasKey:
    """One Aho-Corasick key and what it stands for."""

    #: the key searched for in folded, space-padded text: ``" hezbollah "`` (or ``" clash"``)
    key: str
    actor: str
    kind: AliasKind
    #: the alias as configured (for explanations and clash reports)
    written: str
    #: for acronyms: the exact letters the text must show (``"HTS"``); None = any case
    case: str | None = None
    #: it means this actor only in texts from ``since`` (inclusive) to ``until`` (exclusive)
    since: date | None = None
    until: date | None = None

    def valid(self, when: date | None) -> bool:
        """Does it mean this actor in a text of that date? An undated text is read as
        current: a name that stopped meaning the actor does not apply to it."""
        if when is None:
            return self.until is None
        return (self.since is None or self.since <= when) and (
            self.until is None or when < self.until
        )

    def overlaps(self, other: AliasKey) -> bool:
        lo = max(self.since or date.min, other.since or date.min)
        hi = min(self.until or date.max, other.until or date.max)
        return lo < hi


def _name(entry: Any) -> tuple[str, date | None, date | None]:
    """A configured name: a string, or a dated name (``name``, ``since``, ``until``)."""
    if isinstance(entry, str):
        return entry, None, None
    return entry.name, entry.since, entry.until


def is_acronym(alias: str) -> bool:
    letters = re.sub(r"[^A-Za-z]", "", alias)
    return 2 <= len(letters) <= 6 and letters.isupper() and " " not in alias.strip()


def letters_of(text: str) -> str:
    return "".join(c for c in text if c.isalnum())


@functools.lru_cache(maxsize=16384)
def variants(alias: str, name: bool = False) -> list[tuple[str, bool]]:
    """Folded variants of an alias, each with a stem flag (``clash*``-style, open at the end).

    "Hay'at Tahrir al-Sham" → hay at tahrir al sham, hayat tahrir al sham, … tahrir sham, …
    A ``name`` (an actor's alias, not a conflict word) is also spelt the other ways
    transliterations spell it: the article assimilated or not (al-Sham, ash-Sham, es-Sham),
    doubled letters single (Quwwat, Quwat; al-Deen, al-Din), and an Arabic adjective in its
    other endings (التركي, التركية, التركيين).
    """
    stem = alias.rstrip().endswith("*")
    base = normalise(alias.rstrip().rstrip("*"))
    if not base:
        return []
    forms = {base}
    # apostrophes inside words are often dropped: Hay'at = Hayat, Mo'arez = Moarez
    squeezed = normalise(re.sub(r"(?<=\w)['’ʼ`ʿʾ‘ʻ](?=\w)", "", alias.rstrip("*")))
    if squeezed:
        forms.add(squeezed)
    # the Arabic article: al-Assad = al Assad = Assad = alAssad (sun letters: ash-Sham)
    articles = {"al", "el"} | {m.lower() for m in _WRITTEN_ARTICLE.findall(alias)}
    out: set[str] = set()
    for f in forms:
        words = f.split()
        slots = [i for i, w in enumerate(words) if w in articles and i + 1 < len(words)]
        choices = [
            ("drop", "glue", *(_article_spellings(words[i + 1]) if name else (words[i],)))
            for i in slots[:3]
        ]
        for choice in itertools.product(*choices):
            ws = list(words)
            for i, how in sorted(zip(slots, choice, strict=False), reverse=True):
                if how == "drop" and len(ws) > 1:
                    del ws[i]
                elif how == "glue":
                    ws[i : i + 2] = [ws[i] + ws[i + 1]]
                else:
                    ws[i] = how
            out.add(" ".join(ws))
    if name and not is_acronym(alias) and not is_arabic(base):
        out |= {s for v in list(out) for s in _single_letters(v)}
    if is_arabic(base):
        if name:
            out |= {e for v in out for e in _nisba_endings(v)}
        out |= {p + v for v in list(out) for p in ARABIC_PROCLITICS}
        out |= {
            "\u0648" + p + v
            for v in list(out)
            if not v.startswith("\u0648")
            for p in ARABIC_PROCLITICS[1:]
        }
    return sorted((v, stem) for v in out if v)


#: the consonants the article assimilates to in transliteration (ash-Sham, ad-Din, an-Nusra)
_SUN = ("sh", "th", "dh", "t", "d", "r", "z", "s", "n")


def _article_spellings(word: str) -> tuple[str, ...]:
    """How the article before ``word`` is written: al, el, and assimilated (ash, esh)."""
    sun = next((c for c in _SUN if word.startswith(c) and len(word) > len(c)), None)
    if sun is None:
        return ("al", "el")
    # "sh" is also written single: as-Sham, es-Sham
    return ("al", "el", "a" + sun, "e" + sun, *(("as", "es") if sun == "sh" else ()))


def _single_letters(name: str) -> list[str]:
    """A transliterated name with its doubled letters written once (Quwwat → Quwat, Hassan →
    Hasan) and its long vowels as one letter (Deen → Din, Mujahideen → Mujahidin), word by
    word: "Hayyat Tahrir al-Shaam" is also "Hayat Tahrir al-Shaam"."""
    options = []
    for w in name.split():
        single = re.sub(r"([a-z])\1", r"\1", w.replace("ee", "i").replace("oo", "u"))
        options.append((w, single) if len(w) >= 4 and single != w else (w,))
    return [" ".join(c) for c in itertools.islice(itertools.product(*options), 16)]


def _nisba_endings(name: str) -> list[str]:
    """An Arabic name ending in a relative adjective, with its other endings: masculine,
    feminine, plural (folded: the ta marbuta is already a ha)."""
    head, _, last = name.rpartition(" ")
    if len(last) < 4 or not (last.endswith("\u064a") or last.endswith("\u064a\u0647")):
        return []
    root = last[:-1] if last.endswith("\u0647") else last
    lead = head + " " if head else ""
    return [lead + root + end for end in ("", "\u0647", "\u064a\u0646", "\u0648\u0646")]


def alias_keys(actors: Mapping[str, Any]) -> Iterator[tuple[tuple[Any, ...], AliasKey]]:
    """Every key of every actor, with the configuration path it came from.

    The other spellings of a name that no one wrote (ash-Sham for al-Sham, Hasan for Hassan)
    are left out where they would name another actor too: what is written wins.
    """
    entries = []
    owners: dict[str, set[str]] = {}
    for name, actor in actors.items():
        # the canonical name is a name too, unless it is listed dated ("Syrian government"
        # since 2024-12-08): then the dated entry says when it applies
        canonical = [] if any(_name(a)[0] == name for a in actor.aliases) else [name]
        names: list[tuple[AliasKind, str, list[Any]]] = [
            ("alias", "aliases", [*canonical, *actor.aliases]),
            ("form", "forms", list(actor.forms)),
            ("metonym", "metonyms", list(actor.metonyms)),
        ]
        for kind, field, written_list in names:
            for i, entry in enumerate(written_list):
                offset = len(canonical) if field == "aliases" else 0
                loc: tuple[Any, ...] = (
                    ("actors", name)
                    if field == "aliases" and i < offset
                    else ("actors", name, field, i - offset)
                )
                written, since, until = _name(entry)
                keys = variants(written, name=True)
                plain = set(variants(written))
                entries.append((loc, name, kind, written, since, until, keys, plain))
                for v, _stem in keys:
                    owners.setdefault(v, set()).add(name)
    for loc, name, kind, written, since, until, keys, plain in entries:
        case = letters_of(written) if is_acronym(written) else None
        for v, stem in keys:
            if (v, stem) in plain or owners[v] == {name}:
                key = " " + v + ("" if stem else " ")
                yield loc, AliasKey(key, name, kind, written, case, since, until)


def exclusion_keys(actors: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(key, actor) for every exclusion phrase."""
    for name, actor in actors.items():
        for phrase in actor.exclude:
            for v, _stem in variants(phrase, name=True):
                yield " " + v + " ", name


def find_clashes(actors: Mapping[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    """Aliases (after folding) that point to more than one actor."""
    owners: dict[tuple[str, str | None], list[AliasKey]] = {}
    problems: list[tuple[tuple[Any, ...], str]] = []
    reported: set[tuple[str, str, str]] = set()
    for loc, k in alias_keys(actors):
        ident = (k.key, k.case)
        known = owners.setdefault(ident, [])
        first = next((o for o in known if o.actor != k.actor and o.overlaps(k)), None)
        known.append(k)
        if first is not None:
            tag = (first.actor, k.actor, k.written)
            if tag not in reported:
                reported.add(tag)
                problems.append(
                    (
                        loc,
                        f"{k.written!r} of actor {k.actor!r} also names actor "
                        f"{first.actor!r} (as {first.written!r}); an alias may belong to "
                        f"one actor at a time (give each a 'since' or 'until' date)",
                    )
                )
    return problems
