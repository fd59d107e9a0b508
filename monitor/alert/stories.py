"""One alert per story: near-duplicate fingerprints and the follow-up and escalation policy.

Pure. A story starts with the first article that alerts; later articles whose text is a near
duplicate of it (the same wire copy with other boilerplate, light edits, repeated paragraphs)
within the window join it instead of raising a new alert. Fingerprints are MinHash signatures
of word 3-shingles of the folded text; resemblance is the estimated share of the smaller
text's shingles found in the other (containment), which boilerplate does not dilute the way it
dilutes plain Jaccard similarity.

The MinHash is datasketch's (2.0, scheme "affine32": SHA-1's first 32 bits of a shingle,
MurmurHash3's finalizer, 128 affine permutations modulo 2^32 drawn from seed 1), written out
here with numpy so that stored signatures compare across versions and alerting does not load
scipy, which datasketch imports.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from monitor.match.text import normalise
from monitor.models import Article, Match, StoryDecision, StoryRef

NUM_PERM = 128
SHINGLE = 3
_SEED = 1
_HEADER = struct.Struct("<I")  # shingle count, before the hash values


@cache
def _numpy() -> Any:
    """numpy and the permutations, loaded once (``prepare``, before the event loop runs)."""
    import numpy as np

    gen = np.random.RandomState(_SEED)
    a = gen.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return np, a, b


def prepare() -> None:
    """Load what fingerprints need (numpy, ~0.1 s) now rather than on the first alert."""
    _numpy()


def _fmix32(np: Any, hv: Any) -> Any:
    """MurmurHash3's 32-bit finalizer: spreads weak input bits over the whole word."""
    hv = hv ^ (hv >> np.uint32(16))
    hv = hv * np.uint32(0x85EBCA6B)
    hv = hv ^ (hv >> np.uint32(13))
    hv = hv * np.uint32(0xC2B2AE35)
    return hv ^ (hv >> np.uint32(16))


def fingerprint(title: str, text: str) -> bytes:
    """Shingle count and MinHash hash values, as bytes for the database."""
    np, a, b = _numpy()
    words = normalise(f"{title}\n{text}").split()
    shingles = {" ".join(words[i : i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}
    hv = np.fromiter(
        (int.from_bytes(hashlib.sha1(s.encode()).digest()[:4], "little") for s in shingles),
        dtype=np.uint32,
        count=len(shingles),
    )
    # one row per shingle, one column per permutation; uint32 arithmetic wraps (mod 2^32)
    permuted = _fmix32(np, hv)[:, None] * a + b
    values: bytes = permuted.min(axis=0).astype("<u8").tobytes()
    return _HEADER.pack(len(shingles)) + values


def resemblance(a: bytes, b: bytes) -> float:
    """Estimated share of the smaller document's shingles that the other one holds (0..1)."""
    (size_a,), (size_b,) = _HEADER.unpack_from(a), _HEADER.unpack_from(b)
    np = _numpy()[0]
    ha = np.frombuffer(a, dtype="<u8", offset=_HEADER.size)
    hb = np.frombuffer(b, dtype="<u8", offset=_HEADER.size)
    jaccard = float(np.count_nonzero(ha == hb)) / len(ha)
    if not size_a or not size_b:
        return 0.0
    overlap = jaccard * (size_a + size_b) / (1 + jaccard)
    return float(min(1.0, overlap / min(size_a, size_b)))


#: the same actors and the same place, this close in time: the same event told in other words
EVENT_WINDOW = 6 * 3600.0


@dataclass(frozen=True, slots=True)
class Event:
    """What an alerting article reports, to know it when told in other words: the actors
    its match sets against each other, the places its headline names, when it was seen."""

    actors: frozenset[str]
    places: frozenset[str]
    at: datetime


def event_of(article: Article, match: Match, at: datetime) -> Event:
    """An article's event. Its places: the headline's proper names that are not an actor's
    (a capitalised word the body also writes capitalised mid-sentence, so that a headline in
    title case names no place by its common words)."""
    named = {w.lower() for a in match.actors for form in a.forms for w in _WORD.findall(form)}
    body = {m.group(1) for m in _MID_SENTENCE.finditer(article.text)}
    places = {
        w.lower()
        for w in _WORD.findall(article.title)
        if w[0].isupper() and len(w) > 2 and w.lower() not in named and w in body
    }
    return Event(frozenset(match.actor_names), frozenset(places), at)


def same_event(event: Event, story: StoryRef) -> bool:
    """Does the article tell the story's event in other words: the same two or more actors,
    a place of its headline in the story's, within ``EVENT_WINDOW`` of the story's start?"""
    if len(event.actors) < 2 or event.actors != story.actors or story.created is None:
        return False
    if abs((event.at - story.created).total_seconds()) > EVENT_WINDOW:
        return False
    return bool(event.places & {w.lower() for w in _WORD.findall(story.title)})


_WORD = re.compile(r"[^\W\d_][\w'’-]*")
#: a capitalised word inside a sentence (after a lower-case word or a comma)
_MID_SENTENCE = re.compile(r"(?<=[a-z,;] )([A-Z][\w'’-]+)")


@dataclass(frozen=True, slots=True)
class StoryPolicy:
    #: seconds during which a copy joins the first alert's story
    window: float = 48 * 3600
    #: resemblance at or above which two articles are the same story
    threshold: float = 0.5
    #: at most this many "also reported by" follow-ups per story
    max_followups: int = 5
    #: re-raise once when this many distinct outlets have reported the story (0: never)
    escalate_at: int = 3

    def fingerprint(self, article: Article) -> bytes:
        return fingerprint(article.title, article.text)

    def decide(
        self,
        signature: bytes,
        source: str,
        candidates: Sequence[StoryRef],
        event: Event | None = None,
    ) -> StoryDecision:
        """The story an article joins (its copy, by resemblance; or the same event told in
        other words: ``same_event``), or a new one."""
        best: StoryRef | None = None
        best_score = self.threshold
        for story in candidates:
            score = resemblance(signature, story.signature)
            if score >= best_score:
                best, best_score = story, score
        if best is None and event is not None:
            best = next((c for c in reversed(candidates) if same_event(event, c)), None)
        if best is None:
            return StoryDecision(None)
        new_outlet = source not in best.outlets
        outlets = len(best.outlets) + new_outlet
        return StoryDecision(
            story_id=best.id,
            new_outlet=new_outlet,
            followup=new_outlet and best.followups < self.max_followups,
            escalate=new_outlet
            and not best.escalated
            and self.escalate_at > 1
            and outlets >= self.escalate_at,
            outlets=outlets,
        )
