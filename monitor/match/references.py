"""Fights told across sentences.

Pure: an attack whose author one sentence does not name ("the airstrikes targeted positions
held by A") and another sentence names for an attack of the same kind, or claims ("IS claimed
responsibility for the attack").
"""

from __future__ import annotations

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
        if r.blocked or not r.unknown_attacker or not r.target.actors:
            continue
        for q in there.readings:
            if q.blocked or not q.attacker.actors or q.mutual or q.parties:
                continue
            if not (r.definite or about or q.definite or q.claimed):
                continue  # no "the attack", no claim of responsibility: two attacks
            if q.kind != r.kind and not q.claimed:
                continue
            if q.target.actors - r.target.actors:
                continue  # the other attack hit someone else
            out.append(replace(r, attacker=q.attacker, unknown_attacker=False))
            break
    return out
