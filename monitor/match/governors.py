"""Sides that a noun predicate gets from the verb above it.

Pure, a part of reading roles (``roles``): "A *launched* an attack on B" (a light verb's
subject acts), "IS *claimed* the attack", "A *repelled* the attack" (the receiving side),
"two A members were *killed in* clashes with B" (those who suffered), "A *came under* fire from
B", "A *blamed* B *for* the attack", "A *took part in* the offensive against B".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor.match import lexicon as lx
from monitor.match.members import members, suffered_by
from monitor.match.tree import (
    OBJECTS,
    PASSIVE_SUBJECTS,
    PRONOUNS,
    Tree,
    is_time,
    subtree,
    tok_is_verb,
)


@dataclass(slots=True)
class Args:
    """The words that fill a predicate's sides, before they are read as actors."""

    agent: list[int] = field(default_factory=list)
    target: list[int] = field(default_factory=list)
    #: parties each on its own side ("between A and B")
    each: list[int] = field(default_factory=list)


def governor(tree: Tree, p: int, cls: lx.PredicateClass, args: Args) -> None:
    """Sides that a noun predicate gets from the verb above it."""
    tok = tree.t[p]
    v = tok.head
    if v == p:
        return
    vl = tree.lemma(v)
    d = tok.dep
    if d in OBJECTS and vl in lx.LIGHT:
        # "A launched an attack on B"
        args.agent += tree.subject(v)
        for word, o in tree.preps(v):
            if word in cls.target:
                args.target.append(o)
            elif word in lx.BETWEEN:
                args.each.append(o)
    elif d in PASSIVE_SUBJECTS and vl in lx.LIGHT:
        # "attacks were carried out by A on B"
        for word, o in tree.preps(v):
            if word == "by":
                args.agent.append(o)
            elif word in cls.target:
                args.target.append(o)
    elif d in OBJECTS and vl == "claim":
        args.agent += tree.subject(v)  # "IS claimed the attack"
    elif d in OBJECTS and vl in lx.RECEIVE:
        args.target += tree.subject(v)  # "A repelled the attack", "A suffered attacks"
    elif d == "pobj" and tree.head(v) != v:
        _phrase_governor(tree, p, cls, tree.prep_word(v), tree.head(v), args)


def _phrase_governor(
    tree: Tree, p: int, cls: lx.PredicateClass, word: str, verb: int, args: Args
) -> None:
    """Sides of a noun in a phrase (``word`` + noun) of ``verb``."""
    vl = tree.lemma(verb)
    if word in lx.CAUSE_PREPS and vl in lx.CASUALTY:
        # "two A members were killed in clashes with B", "A fighters died in an attack"
        sufferers = suffered_by(tree, verb)
        if tree.dep(verb) == "conj" and tree.lemma(tree.head(verb)) in lx.CASUALTY:
            # "X were killed and others injured in an attack": both suffered it
            sufferers += suffered_by(tree, tree.head(verb))
        named = any(members(tree, a) for a in args.agent)  # not "Qusayr clashes"
        if cls.mutual and not named and _both_sides(tree, p, sufferers, cls):
            # "one A fighter and five B members were killed in clashes": the dead of a clash
            # with no other side named are its two sides
            args.each += sufferers
        elif cls.mutual and not args.agent:
            args.agent += sufferers
        else:
            args.target += sufferers
            if not args.agent:  # "killed in an ambush by A": the parser gave "by A" to the verb
                args.agent += [o for w, o in tree.preps(verb) if w == "by" and o not in sufferers]
    elif word == "under":
        # "A came under attack from B", "A fighters retreated (from X) under fire from B"
        holder = verb if tok_is_verb(tree, verb) else clause_verb(tree, verb)
        if holder is not None:
            args.target += tree.subject(holder)
            args.agent += [o for w, o in tree.preps(holder) if w in ("from", "by")]
    elif word == "for" and vl in lx.ACCUSING:
        args.agent += tree.children(verb, *OBJECTS)  # "A blamed B for the attack on …"
    elif word == "for" and vl in ("claim", "responsibility"):
        # "A claimed responsibility for the attack"
        claimer = verb if vl == "claim" else tree.head(verb)
        args.agent += tree.subject(claimer)
    elif word in ("amid", "against", "from") and vl in ("defend", "protect", "shield"):
        # "A defended its positions against the assault by B", "to defend our fighters amid
        # the shelling by B": what is defended was attacked
        args.target += tree.subject(verb) + tree.children(verb, *OBJECTS)
    elif word == "to" and vl in ("respond", "retaliate", "reply"):
        args.target += tree.subject(verb)  # "A responded to the shelling"
    elif word in ("in", "into") and vl in ("join", "take", "participate", "engage", "involve"):
        # "A took part in the offensive against B", "A have been engaged in clashes with B"
        args.agent += tree.subject(verb) or tree.children(verb, *PASSIVE_SUBJECTS)
    elif word == "in" and _taking_part(tree, verb):
        _taking_part_sides(tree, p, cls, verb, args)


def _taking_part_sides(tree: Tree, p: int, cls: lx.PredicateClass, verb: int, args: Args) -> None:
    """ "A, who were active in the clashes against B"; "A were involved in the fighting";
    "A and B have been locked in fighting" (each a side, no other named)."""
    holder = tree.head(verb) if tree.t[verb].pos == "ADJ" else verb
    takers = tree.subject(holder) or tree.children(holder, *PASSIVE_SUBJECTS)
    if cls.mutual and _both_sides(tree, p, takers, cls):
        args.each += takers
    else:
        args.agent += takers


def _both_sides(tree: Tree, p: int, sufferers: list[int], cls: lx.PredicateClass) -> bool:
    """Are the dead of a mutual fight two parties joined by "and", the fight naming no other
    side ("A and B fighters were killed in clashes", not "… in clashes *with* C")?"""
    joined = [c for s in sufferers for c in tree.conjuncts(s)]
    return len(joined) > 1 and not other_side(tree, p, cls)


def _taking_part(tree: Tree, word: int) -> bool:
    """ "active in", "involved in", "engaged in": an adjective of taking part, or a form of
    "be" ("A are in a fierce battle with B", "A were active in the clashes")."""
    return tree.lemma(word) in lx.TAKING_PART or tree.lemma(word) == "be"


def clause_verb(tree: Tree, p: int) -> int | None:
    """The verb whose phrases a noun sits in: "led to some of the confrontations" → led."""
    node = p
    for _ in range(6):
        tok = tree.t[node]
        if tok.head == node or tok.dep not in ("pobj", "prep"):
            return None
        node = tok.head
        if tok_is_verb(tree, node):
            return node
    return None


def other_side(tree: Tree, p: int, cls: lx.PredicateClass) -> bool:
    """Has the mutual verb an object or a with/against phrase (the other side)?"""
    if any(tree.lemma(o) not in lx.FIRE_OBJECTS for o in tree.children(p, *OBJECTS)):
        return True
    return any(
        (w in cls.target or w == "with")
        and not is_time(tree, o)
        and (w not in lx.PLACE_OR_SIDE or names_a_side(tree, o))
        for w, o in tree.preps(p)
    )


def names_a_side(tree: Tree, o: int) -> bool:
    """Does the object of "on" name someone who fights ("clashed on *the rebels*"), not a
    place ("clashed on the outskirts", "on the frontline", "on the border")?"""
    return bool(members(tree, o)) or tree.lemma(o) in lx.GROUP_NOUNS | lx.COMBATANTS | PRONOUNS


def cause_agents(tree: Tree, v: int) -> list[int]:
    """Who a passive verb with no "by" was done by, told as its cause: "A fighters remain
    besieged *as a result of B's* offensive", "were killed *because of B* shelling": the
    owner or modifier of the cause, or the cause itself where it names an actor."""
    causes: list[int] = []
    for c in tree.children(v, "prep", "advmod", "amod"):
        word = tree.lemma(c)
        if word == "as":  # "as a result of X"
            for r in tree.children(c, "pobj"):
                if tree.lemma(r) == "result":
                    causes += [o for w, o in tree.preps(r) if w == "of"]
        elif word == "because":  # "because of X" (X hung on "of", or on "because" itself)
            causes += [o for w, o in tree.preps(c) if w == "of"] + tree.children(c, "pobj")
    out = [x for o in causes for x in (o, *tree.children(o, "poss", "compound", "amod"))]
    return [o for o in out if members(tree, o)]


#: words that open a clause telling what set a fight off: "clashes erupted *after* A …"
_OCCASION = frozenset(["after", "when", "as"])


def occasion_sides(tree: Tree, p: int) -> tuple[list[int], list[int]]:
    """The sides of a fight that names none, told by the clause of what set it off:
    "Clashes erupted *after A fighters tried to enter a B checkpoint*" → (A, B): the
    clause's subject on one side, every other actor the clause names on the other."""
    if tree.dep(p) not in ("nsubj", "nsubjpass") or tree.lemma(tree.head(p)) not in lx.HAPPEN:
        return [], []
    for c in tree.children(tree.head(p), "advcl"):
        if not any(tree.lemma(m) in _OCCASION for m in tree.children(c, "mark")):
            continue
        subject = tree.subject(c)
        mine = {k for s in subject for k in members(tree, s)}
        inside = subtree(tree, c)
        others = sorted(
            {tree.root[k] for i in inside if (k := tree.owner.get(i)) is not None}
            - {tree.root[k] for k in mine}
        )
        if mine and others:
            return subject, others
    return [], []
