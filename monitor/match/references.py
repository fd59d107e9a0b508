"""Fights told across sentences.

Pure: an attack whose author one sentence does not name ("the airstrikes targeted positions
held by A", "B's positions came under fire") and another sentence names for an attack of the
same kind, claims ("IS claimed responsibility for the attack") or is blamed for ("B blamed A
for the attack"); and an attack on a place that the next sentence says another actor held
("A launched an assault on P. The town had been held by B", ``held_by``); a counter-move
told after the taking ("B took P. A counterattack by A was repelled", ``counter_across``).
"""

from __future__ import annotations

import re
from dataclasses import replace

from monitor.match.readings import Reading, SentenceReading


def across(here: SentenceReading, there: SentenceReading) -> list[Reading]:
    """Fights told across two sentences: an attack whose author is not named in one ("the
    airstrikes targeted positions held by A") and named in the other for an attack of the
    same kind ("Russian airstrikes had targeted rebel positions"; "IS claimed responsibility
    for the attack"). Each result is the first sentence's reading with the attacker filled."""
    out = []
    # "The airstrikes took place near X and targeted positions held by A": a sentence about
    # an attack it calls "the airstrikes" refers back as a whole
    about = any(x.definite and x.unknown_attacker for x in here.readings)
    for r in here.readings:
        if r.blocked or not r.target.actors or r.attacker.actors or r.parties:
            continue  # an attack on someone, by no one named ("came under fire")
        for q in there.readings:
            if q.blocked or not q.attacker.actors or q.mutual or q.parties:
                continue
            if not (r.definite or about or q.definite or q.claimed) or (
                not r.unknown_attacker and not q.claimed
            ):
                continue  # no "the attack", no claim of responsibility: two attacks
            if q.kind != r.kind and not q.claimed:
                continue
            if q.target.actors - r.target.actors:
                continue  # the other attack hit someone else
            out.append(replace(r, attacker=q.attacker, unknown_attacker=False))
            break
    return out


#: "The town had been held by", "The city, controlled by", "The village was in the hands of":
#: a sentence that says who held the place just attacked
_HELD = re.compile(
    r"^(?:The|This|That)\s+(?:(?:[a-z]+\s+)?(?:town|city|village|area|district|base|airport|"
    r"airbase|position|neighbou?rhood|camp|hill|crossing|road|checkpoint|outpost|enclave)s?)"
    r"[,\s]+(?:(?:had|has|have)\s+been\s+|was\s+|is\s+|were\s+|are\s+|had\s+)?"
    r"(?:(?:long|largely|mostly|until\s+then|previously)\s+)?"
    r"(?:held|controlled|run|occupied|defended|in\s+the\s+hands\s+of|under\s+the\s+control\s+of)"
    r"\s+(?:by\s+)?(?:the\s+)?$"
)


def held_by(sentence: str, named: list[tuple[int, str]]) -> str | None:
    """The actor a sentence says held the place told before ("The town had been held by B
    since March"): the first actor named right after the words of holding. ``named``: the
    sentence's actors, each with where it starts in it."""
    for start, actor in named:
        if _HELD.match(sentence[:start]):
            return actor
    return None


#: moves that take back what another took: against whoever took it
_COUNTER = (
    "retake",
    "retook",
    "retaken",
    "recapture",
    "regain",
    "counteroffensive",
    "counter-offensive",
    "counterattack",
    "counter-attack",
    "win back",
    "won back",
)


#: the words of a counter-move, in a text (a sentence is read for one only where it has one)
COUNTER_WORDS = re.compile(
    r"\b(?:retake|retook|retaken|recaptur\w*|regain\w*|counter-?offensive|counter-?attack\w*|"
    r"w[oi]n\s+back)\b",
    re.IGNORECASE,
)


def counter_across(here: list[Reading], before: list[Reading]) -> list[Reading]:
    """A counter-move told in the sentence after the taking ("B fighters took P. A
    counterattack by A was repelled"): the counter-moves of ``here`` given the taker of
    ``before`` as their target; the others left out."""
    moved = counter_moves([*before, *here])[len(before) :]
    return [
        m
        for m, r in zip(moved, here, strict=True)
        if m.target.actors and not r.target.actors and not r.other_unnamed
    ]  # (not one with a place of its own: "… to regain the town of P2")


def counter_moves(readings: list[Reading]) -> list[Reading]:
    """A sentence where one actor takes a place and another moves to take it back ("two days
    after B seized P, A launched a counteroffensive to retake it"): the counter-move is
    against the one who took it. The readings, those counter-moves given that target."""
    takers = [
        q.attacker
        for q in readings
        if q.kind == "seize" and q.attacker.actors and not q.target.actors and not q.blocked
    ]
    if not takers:
        return readings
    out = []
    for r in readings:
        counter = any(w in r.predicate.lower() for w in _COUNTER)
        other = [t for t in takers if t.actors and not t.actors & r.attacker.actors]
        if counter and r.attacker.actors and not r.target.actors and not r.blocked and other:
            r = replace(r, target=other[0])
        out.append(r)
    return out
