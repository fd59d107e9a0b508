"""Who a word of the sentence stands for: its actors, and the sides they make.

Pure. A group counts for the actors it belongs to ("fighters *of* A", "positions *held by*
A", "gunmen *loyal to* A", "Iran-backed militias", "a convoy *carrying* A commanders"): a
backer stands on its client's side. A pronoun stands for the speaker of the clause that
governs it, or the subject of the clause its own hangs on. Conjoined words are parties of
their own where a fight is between them ("between A and B", "Russian and Iranian forces").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from monitor.match import lexicon as lx
from monitor.match.readings import Side
from monitor.match.tree import (
    DEPTH,
    MODIFIERS,
    OBJECTS,
    PASSIVE_SUBJECTS,
    PRONOUNS,
    RELATIVE,
    SUBJECTS,
    Tree,
    subtree,
    tok_is_verb,
)

_Avoid = frozenset[int] | None


def members(
    tree: Tree, node: int, depth: int = 0, split: bool = False, avoid: _Avoid = None
) -> list[int]:
    """Mentions that ``node`` stands for: itself, what it belongs to or is backed by. With
    ``split``, conjoined words are not followed (the caller treats them as parties); ``avoid``
    are words not to enter."""
    if depth > 5 or (avoid is not None and node in avoid):
        return []
    k = tree.owner.get(node)
    out: list[int] = [] if k is None else [k]
    if k is None and (tree.t[node].lemma in PRONOUNS | {"we", "our", "us"} or _itself(tree, node)):
        return _antecedent(tree, node, depth)  # "the SDF denied that *its* fighters attacked"
    for c in tree.children(node):
        out += _child_members(tree, c, depth, split, avoid)
    for word, o in tree.preps(node):
        if word in lx.OWNER_PREPS or word in lx.MEMBER_PREPS:
            if tree.lemma(o) in lx.CONTROL_NOUNS:
                out += owner_of_control(tree, o, depth)
            else:
                out += members(tree, o, depth + 1, avoid=avoid)
        elif word == "under" and tree.lemma(o) in lx.CONTROL_NOUNS:
            out += owner_of_control(tree, o, depth)
    return out


def _child_members(tree: Tree, c: int, depth: int, split: bool, avoid: _Avoid) -> list[int]:
    """What one dependent of a word adds to what the word stands for."""
    d = tree.dep(c)
    lemma = tree.lemma(c)
    if d in ("amod", "acl", "relcl", "acomp") and lemma in lx.AFFILIATION and c not in tree.owner:
        return affiliates(tree, c, depth, avoid)  # "gunmen loyal to A", "groups backed by A"
    if d in ("acl", "relcl") and lemma in lx.CARRYING:
        # "a convoy carrying A commanders", "a house sheltering A fighters": on A's side
        return [k for o in tree.children(c, *OBJECTS) for k in members(tree, o, depth + 1)]
    if d in MODIFIERS:
        if lemma in lx.SPEAKER_NOUNS or (d == "appos" and tree.t[c].pos == "VERB"):
            return []
        return members(tree, c, depth + 1, avoid=avoid)
    if d == "conj":
        return [] if split else members(tree, c, depth + 1, avoid=avoid)
    if d in ("acl", "relcl", "amod", "acomp", "advcl"):
        if lemma in lx.AFFILIATION or lemma in lx.OPERATE:
            return affiliates(tree, c, depth, avoid)  # "missiles fired by A"
        if lemma == "be":  # "gunmen *who are loyal to* A", "groups that are affiliated with A"
            return [
                k
                for a in tree.children(c, "acomp", "attr")
                if tree.lemma(a) in lx.AFFILIATION
                for k in affiliates(tree, a, depth, avoid)
            ]
        allies = [
            o for w, o in tree.preps(c) if w in lx.ALLY_PREPS - {"for"} or w in lx.ALLY_PHRASES
        ]
        if allies:  # "Syrian troops working alongside Russian special forces"
            return [k for o in allies for k in members(tree, o, depth + 1, avoid=avoid)]
        if lemma in lx.NAMING:  # "armed groups described as remnants of the regime"
            out = [
                k
                for w, o in tree.preps(c)
                if w == "as"
                for k in members(tree, o, depth + 1, avoid=avoid)
            ]
            for o in tree.children(c, "oprd", "attr", "xcomp"):
                out += members(tree, o, depth + 1, avoid=avoid)
            return out
    return []


def offices(tree: Tree, nodes: Iterable[int]) -> list[int]:
    """The offices that people harmed in body held, told beside their names ("drones killed
    Ferhat Ali, *a spokesman for the SDF*"): a speaker's office elsewhere stands apart from
    the fight ("a spokesman for A said"), but here it names the side that was harmed."""
    return [
        c for n in nodes for c in tree.children(n, "appos") if tree.lemma(c) in lx.SPEAKER_NOUNS
    ]


def _antecedent(tree: Tree, pronoun: int, depth: int) -> list[int]:
    """Who "it", "its", "they", "their", "our" stands for: the one who speaks or denies in
    the clause that governs it ("The SDF said *its* fighters repelled the attack", "Turkey
    denied *its* forces fired on Russian planes")."""
    node = pronoun
    # "we", "our" are the speaker's, never the subject of the clause above ("A tried to
    # cross the river to target *our* bases,” B said)
    first_person = tree.t[pronoun].text.lower() in ("we", "our", "us", "ours")
    for _ in range(DEPTH):
        tok = tree.t[node]
        if tok.head == node:
            return []
        if tok.dep == "prep" and tree.prep_word(node) == "from" and tok_is_verb(tree, tok.head):
            # "A expelled B from *its* posts": the one driven out held them
            held = [k for o in tree.children(tok.head, "dobj") for k in members(tree, o, depth + 1)]
            if held:
                return held
        if (
            tok.dep in ("advcl", "conj")
            and tok_is_verb(tree, node)
            and node != pronoun
            and not first_person
        ):
            # "A members were killed when *they* were ambushed by B", "A entered the town
            # and *they* attacked B": the subject of the clause this one hangs on
            main = [
                s
                for s in tree.children(tok.head, *SUBJECTS, *PASSIVE_SUBJECTS)
                if tree.t[s].lemma not in PRONOUNS
            ]
            found = [k for s in main for k in members(tree, s, depth + 1)]
            if found:
                return found
        node = tok.head
        if tok_is_verb(tree, node) and (
            tree.lemma(node) in lx.REPORTING or tree.lemma(node) in lx.DENIAL
        ):  # a verb of saying, not "its *posts*"
            speaker = [
                s
                for s in tree.subject(node)
                if s != pronoun and (tree.t[s].lemma not in PRONOUNS or s in tree.owner)
            ]  # "our bases,” *it* added": "it" a reference to the speaker before
            found = [
                k for s in speaker for k in members(tree, s, depth + 1) or _spoken_for(tree, s)
            ]
            if found:
                return found
            # a speaker that is itself "ours" ("*Our forces* affirm …," the SDF said): the
            # one who speaks further up
    return []


def _itself(tree: Tree, node: int) -> bool:
    """ "*The group*" where no group was named before (else the scan made it a reference):
    the speaker's own ("An official of A said the group had attacked B")."""
    kids = tree.children(node)  # "the group" alone, not "the groups *of A*"
    return tree.lemma(node) in _SELF and [tree.lemma(c) for c in kids] == ["the"]


_SELF = frozenset(["group", "movement", "organization", "organisation"])


def _spoken_for(tree: Tree, s: int) -> list[int]:
    """Whom a speaker speaks for: "a spokesman *for A*", "an *A* official", "*A's* envoy",
    "*A* issued a statement"."""
    if tree.lemma(s) not in lx.SPEAKER_NOUNS:
        return []
    if tree.dep(s) in OBJECTS:  # "A issued *a statement* saying its fighters …"
        return [k for x in tree.subject(tree.head(s)) for k in members(tree, x)]
    words = tree.children(s, "compound", "amod", "poss")
    words += [o for w, o in tree.preps(s) if w in ("for", "of")]
    return [k for w in words for k in members(tree, w)]


def owner_of_control(tree: Tree, control: int, depth: int) -> list[int]:
    """ "under the control of A", "under A's command" → A."""
    out = []
    for c in tree.children(control, "poss", "compound", "amod"):
        out += members(tree, c, depth + 1)
    for word, o in tree.preps(control):
        if word == "of":
            out += members(tree, o, depth + 1)
    return out


def affiliates(tree: Tree, word: int, depth: int, avoid: _Avoid = None) -> list[int]:
    """The owner named by an affiliation word: "held *by* A", "loyal *to* A", "linked *with*
    A", "A-backed", "under the control of A", "missiles fired *by* A"."""
    out: list[int] = []
    for c in tree.children(word, "npadvmod", "compound", "poss"):
        out += members(tree, c, depth + 1, avoid=avoid)
    if tok_is_verb(tree, word) and not tree.is_passive(word):
        # "the town, which *A* had held for years": the one who holds, controls, runs it
        for s in tree.children(word, "nsubj"):
            if tree.lemma(s) not in RELATIVE:
                out += members(tree, s, depth + 1, avoid=avoid)
    for w, o in tree.preps(word):
        if w in ("by", "to", "with", "of", "from"):
            out += members(tree, o, depth + 1, avoid=avoid)
        elif w == "under" and tree.lemma(o) in lx.CONTROL_NOUNS:
            out += owner_of_control(tree, o, depth)
    return out


def side_for(tree: Tree, nodes: Iterable[int]) -> Side:
    ks: list[int] = []
    borrowed: list[Side] = []
    for n in nodes:
        found = members(tree, n)
        if not found and tree.lemma(n) in lx.UNNAMED_ATTACKERS:
            # "SDF fighters battled *the attackers*": those who attacked, earlier in the sentence
            earlier = [r for r in tree.done if r.start < tree.t[n].start and r.attacker.actors]
            if earlier:
                borrowed.append(earlier[-1].attacker)
        for k in found:
            if k not in ks:
                ks.append(k)
    actors = frozenset(a for k in ks for a in tree.mentions[k].actors)
    names = tuple(tree.mentions[k].surface for k in sorted(ks))
    for b in borrowed:
        actors |= b.actors
        names += b.names
    return Side(actors, names)


def parties_for(tree: Tree, nodes: Iterable[int]) -> list[Side]:
    """Each of ``nodes`` (and its conjuncts) a party of its own; a reference to "the two
    groups" and "Russian and Iranian forces" give one party per actor."""
    out: list[Side] = []
    nodes = list(nodes)
    if len(nodes) == 1 and len(tree.conjuncts(nodes[0])) == 1 and not _distributed(tree, nodes[0]):
        # "between the troops backed by the A group and B": the parser hung "and B" on the
        # last noun of the first party; a "between" phrase has two parties, so split there
        deep = _deep_conj(tree, nodes[0])
        if deep is not None:
            # the conjunct's phrase, and every word of a name that reaches into it
            inside = set(subtree(tree, deep))
            names = {tree.owner[z] for z in inside if z in tree.owner}
            inside |= {z for z, k in tree.owner.items() if k in names}
            first = _side_of(tree, members(tree, nodes[0], split=True, avoid=frozenset(inside)))
            second = _side_of(tree, sorted(names) or members(tree, deep))
            if first.actors and second.actors:
                return [first, second]
    if len(nodes) == 1 and tree.dep(nodes[0]) == "pobj" and len(tree.conjuncts(nodes[0])) == 1:
        split = _between_and(tree, nodes[0])
        if split:
            return split
    conjuncts = [c for n in nodes for c in tree.conjuncts(n)]
    for c in conjuncts:
        ks = members(tree, c, split=True)
        # a name the parser split across two conjuncts ("between A and *B-first B-last*",
        # its last word hung on A as an appositive) is the party of the conjunct it holds
        ks = [
            k
            for k in ks
            if c in (words := _tokens(tree, k))
            or not any(c2 != c and c2 in words for c2 in conjuncts)
        ]
        each = [k for k in ks if tree.mentions[k].each]
        if each:
            for a in tree.mentions[each[0]].actors:
                out.append(Side(frozenset([a]), (tree.mentions[each[0]].surface,)))
            continue
        # "Russian and Iranian forces", "SDF and Syrian regime forces": conjoined
        # modifiers of one word, each its own party
        split = _distributed(tree, c)
        if split:
            out.extend(split)
            continue
        out.append(_side_of(tree, ks))
    return [s for s in out if s.actors]


def _tokens(tree: Tree, k: int) -> set[int]:
    """The words of mention ``k``."""
    return {z for z, owner in tree.owner.items() if owner == k}


def _distributed(tree: Tree, head: int) -> list[Side]:
    """Parties of a word whose modifiers are conjoined: "Russian *and* Iranian forces" →
    Russia | Iran; "SDF *and* Syrian regime forces" → SDF | Assad regime (the head word goes
    with the last conjunct)."""
    coordinated = _coordinated_modifiers(tree, head)
    if coordinated:
        return coordinated
    for x in subtree(tree, head):
        if x == head or tree.dep(x) not in MODIFIERS | {"conj"}:
            continue
        conj = tree.children(x, "conj")
        if not conj:
            continue
        groups: list[list[int]] = []
        inside_conj = {z for y in conj for z in subtree(tree, y)}
        first = [z for z in subtree(tree, x) if z not in inside_conj]
        groups.append(first)
        for y in conj:
            groups.append(subtree(tree, y))
        used = {z for g in groups for z in g}
        # the head and whatever else modifies it join the last conjunct, but for the words
        # of a name an earlier conjunct holds ("*Syrian* Democratic Forces and HTS militants")
        earlier = {tree.owner[z] for g in groups[:-1] for z in g if z in tree.owner}
        groups[-1] += [
            z for z in subtree(tree, head) if z not in used and tree.owner.get(z) not in earlier
        ]
        sides = []
        for g in groups:
            ks = sorted({tree.owner[z] for z in g if z in tree.owner})
            sides.append(_side_of(tree, ks))
        if sum(1 for sd in sides if sd.actors) >= 2 and len({sd.actors for sd in sides}) >= 2:
            return [sd for sd in sides if sd.actors]
    return []


def _between_and(tree: Tree, pobj: int) -> list[Side]:
    """ "between A subordinate to X and B": when the parser hung "and B" outside the phrase,
    the "and" after the first party still opens the second one."""
    prep = tree.head(pobj)
    if tree.lemma(prep) not in lx.BETWEEN:
        return []
    ands = [
        t.i
        for t in tree.t[pobj + 1 :]
        if t.dep == "cc" and t.lemma in ("and", "&") and t.i not in tree.owner
    ]
    for cc in ands:
        conj = next((t.i for t in tree.t[cc + 1 :] if t.dep == "conj"), None)
        if conj is None:
            continue
        second = _side_of(tree, members(tree, conj))
        first = _side_of(tree, sorted({tree.owner[z] for z in range(prep, cc) if z in tree.owner}))
        if first.actors and second.actors and first.actors != second.actors:
            return [first, second]
        return []
    return []


def _coordinated_modifiers(tree: Tree, head: int) -> list[Side]:
    """ "Pro-Iranian and pro-Russian forces", parsed as two modifiers of one word with "and"
    between them and no conjunct: one party each."""
    mods = [c for c in tree.children(head, "amod", "compound", "nmod", "poss") if c in tree.owner]
    ks = list(dict.fromkeys(tree.owner[c] for c in mods))
    if len(ks) < 2:
        return []
    first = min(z for z, k in tree.owner.items() if k == ks[0])
    last = max(z for z, k in tree.owner.items() if k == ks[-1])
    if not any(tree.t[z].dep == "cc" for z in range(first, last)):
        return []
    sides = [_side_of(tree, [k]) for k in ks]
    return sides if len({sd.actors for sd in sides}) >= 2 else []


def _deep_conj(tree: Tree, node: int) -> int | None:
    """The first word conjoined inside ``node``'s phrase (not to ``node`` itself)."""
    frontier = list(tree.children(node))
    for _ in range(4):
        nxt = []
        for c in frontier:
            if tree.dep(c) == "conj" and tree.t[c].pos in ("NOUN", "PROPN"):
                return c
            nxt.extend(tree.children(c))
        frontier = nxt
    return None


def _side_of(tree: Tree, ks: Sequence[int]) -> Side:
    ks = sorted(set(ks))
    return Side(
        frozenset(a for k in ks for a in tree.mentions[k].actors),
        tuple(tree.mentions[k].surface for k in ks),
    )


def casualties_caused(tree: Tree, p: int) -> list[int]:
    """Whom an attack killed, told as its result: "the attack *led to the death of* X",
    "the strike *left* X dead", "the shelling *resulted in* casualties among X"."""
    tok = tree.t[p]
    out: list[int] = []
    for c in tree.children(p, "acl", "relcl"):
        # "the air strikes, which left 12 people dead, including A and B troops"
        if tree.lemma(c) in lx.CAUSING:
            out += [o for o in tree.children(c, *OBJECTS) if tree.lemma(o) not in ("which",)]
            out += [o for w, o in tree.preps(p) if w in lx.MEMBER_PREPS]
    if tok.dep not in SUBJECTS or tok.head == p:
        return out
    v = tok.head
    if tree.lemma(v) in lx.RESULTING:
        for word, o in tree.preps(v):
            if word in ("to", "in") and tree.lemma(o) in lx.CASUALTY_NOUNS:
                out += [oo for w, oo in tree.preps(o) if w in ("of", "among")]
        for o in tree.children(v, *OBJECTS):
            if tree.lemma(o) in lx.CASUALTY_NOUNS:
                out += [oo for w, oo in tree.preps(o) if w in ("of", "among")]
    elif tree.lemma(v) == "leave":
        out += [o for o in tree.children(v, *OBJECTS) if tree.lemma(o) not in lx.CASUALTY_NOUNS]
        # "the strikes left 12 people dead (near P), *including* A fighters"
        out += [o for w, o in tree.clause_preps(v, skip=None, depth=2) if w in lx.MEMBER_PREPS]
    return out


def suffered_by(tree: Tree, verb: int) -> list[int]:
    """Who was killed, wounded, captured: the passive subject, the subject of "died", or the
    noun a participle hangs on ("people killed in the strike")."""
    if tree.is_passive(verb):
        out = tree.children(verb, *PASSIVE_SUBJECTS)
    else:
        out = tree.children(verb, *SUBJECTS)
    if not out and tree.dep(verb) in ("acl", "relcl", "amod"):
        # "people killed in the strike", a headline's "A fighter and five B members dead":
        # the noun it hangs on, and the list that noun ends
        n = tree.head(verb)
        while tree.dep(n) == "conj" and tree.head(n) != n:
            n = tree.head(n)
        out = [n]
    return [*out, *(m for n in out for m in among(tree, n))]


def among(tree: Tree, n: int) -> list[int]:
    """Those said to be among the people at ``n``: "*A commanders* were among the people
    killed"."""
    prep = tree.head(n)
    if (
        tree.dep(n) == "pobj"
        and tree.lemma(prep) == "among"
        and tree.lemma(tree.head(prep)) == "be"
    ):
        return tree.subject(tree.head(prep))
    return []


def casualty_parties(tree: Tree, p: int) -> list[int]:
    """ "A and B died when a dispute escalated into a shootout": the fight of a clause that
    tells how people were killed has them as its sides."""
    node = p
    for _ in range(DEPTH):
        tok = tree.t[node]
        if tok.head == node:
            return []
        if tok.dep == "advcl" and tree.lemma(tok.head) in lx.CASUALTY:
            return suffered_by(tree, tok.head)
        if tok.dep in ("conj", "ccomp", "parataxis"):
            return []
        node = tok.head
    return []
