"""One alert per story: near-duplicate fingerprints and the follow-up and escalation policy.

Pure. A story starts with the first article that alerts; later articles whose text is a near
duplicate of it (the same wire copy with other boilerplate, light edits, repeated paragraphs)
within the window join it instead of raising a new alert. Fingerprints are MinHash signatures
(datasketch) of word 3-shingles of the folded text; resemblance is the estimated share of the
smaller text's shingles found in the other (containment), which boilerplate does not dilute
the way it dilutes plain Jaccard similarity.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.match.text import normalise
from monitor.models import Article, StoryDecision, StoryRef

NUM_PERM = 128
SHINGLE = 3
_SEED = 1
_HEADER = struct.Struct("<I")  # shingle count, before the hash values


def fingerprint(title: str, text: str) -> bytes:
    """Shingle count and MinHash hash values, as bytes for the database."""
    words = normalise(f"{title}\n{text}").split()
    shingles = {" ".join(words[i : i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}
    # imported here: datasketch loads scipy (0.3 s), which only alerting processes need
    from datasketch import MinHash

    m = MinHash(num_perm=NUM_PERM, seed=_SEED)
    m.update_batch([s.encode() for s in shingles])
    values: bytes = m.hashvalues.astype("<u8").tobytes()
    return _HEADER.pack(len(shingles)) + values


def resemblance(a: bytes, b: bytes) -> float:
    """Estimated share of the smaller document's shingles that the other one holds (0..1)."""
    (size_a,), (size_b,) = _HEADER.unpack_from(a), _HEADER.unpack_from(b)
    import numpy as np  # here: only processes that place stories need it (0.1 s to load)

    ha = np.frombuffer(a, dtype="<u8", offset=_HEADER.size)
    hb = np.frombuffer(b, dtype="<u8", offset=_HEADER.size)
    jaccard = float(np.count_nonzero(ha == hb)) / len(ha)
    if not size_a or not size_b:
        return 0.0
    overlap = jaccard * (size_a + size_b) / (1 + jaccard)
    return float(min(1.0, overlap / min(size_a, size_b)))


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
        self, signature: bytes, source: str, candidates: Sequence[StoryRef]
    ) -> StoryDecision:
        best: StoryRef | None = None
        best_score = self.threshold
        for story in candidates:
            score = resemblance(signature, story.signature)
            if score >= best_score:
                best, best_score = story, score
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
