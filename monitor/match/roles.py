"""Who fights whom in a sentence, read from its dependency parse.

Pure: a ``Parse`` (``syntax.py``), the actor mentions found in the sentence and the conflict
vocabulary in; a ``Reading`` out. For every conflict predicate, verb or noun, the sides are
read from the grammar, not from word order:

* the one who acts: the subject of an active verb ("A attacked B"), the agent of a passive
  ("B was ambushed *by* A"), the possessor or modifier of a noun ("A's offensive", "Turkish
  shelling"), a noun's "by"/"from" phrase ("an attack by A", "fire from A"), the subject of a
  light verb ("A *launched* an assault on B", "A *carried out* strikes");
* the one acted on: the object ("attacked B"), the passive subject, the class's target
  prepositions ("an attack *on* B", "the offensive *against* B", "captured X *from* B"), the
  side that suffered ("B members were killed *in* an attack by A", "B *came under* fire");
* for mutual predicates (clash, fight): each side of "between A and B", conjoined subjects with
  no other side ("A and B clashed"), or subject and "with"/"against" phrase.

A group counts for the actors it belongs to ("fighters *of* A", "positions *held by* A", "gunmen
*loyal to* A", "Iran-backed militias"): a backer stands on its client's side, so a backer and
its client are one side, and proxies count as their backers. Conjoined actors on one side are
allies ("A and B air forces pounded X"); actors that are both targets of someone else (a third
party) are co-targets, not foes; a speaker ("a spokesman for A said"), a mediator ("A brokered
a truce"), a place ("the Damascus countryside") has no side at all.

A predicate under a denial ("A denied attacking B", "reports of clashes are false"), a hedge or
prevention ("could lead to clashes", "to prevent infighting", "the risk of direct clashes"), a
negation or a question reports no fight: it is kept, marked, so explanations can say why
nothing was sent. A denial of *involvement* removes only the one who denies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from monitor.match import lexicon as lx
from monitor.match.syntax import Parse, Token

Verdict = Literal["opposed", "apart", "unknown"]
#: why a quarrel ("rift", "standoff") reports no fight: nothing said it turned violent
QUARREL = "not armed: a quarrel"
_SUBJECTS = frozenset(["nsubj", "csubj", "expl"])
_PASSIVE_SUBJECTS = frozenset(["nsubjpass", "csubjpass"])
_OBJECTS = frozenset(["dobj", "obj", "attr", "oprd", "dative"])
_MODIFIERS = frozenset(["compound", "amod", "poss", "nmod", "npadvmod", "nummod", "appos"])
_RELATIVE = frozenset(["who", "which", "that", "whom"])
_PRONOUNS = frozenset(["it", "its", "they", "their", "them", "theirs", "itself", "themselves"])
#: a walk up the tree never goes further than this
_DEPTH = 8


@dataclass(frozen=True, slots=True)
class Mention:
    """An actor named in the sentence: where (characters from the sentence's start), and who.

    A reference to actors named before ("the two groups", "both sides") has several actors and
    ``each``: every one of them is a party of its own.
    """

    start: int
    end: int
    actors: tuple[str, ...]
    #: as written in the text
    surface: str = ""
    each: bool = False


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a predicate: its actors and how the text names them."""

    actors: frozenset[str]
    #: surfaces of the mentions, in order
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Reading:
    """One conflict predicate with its sides, as read."""

    #: the predicate as written ("attacked", "clashes", "launched … attacks")
    predicate: str
    #: its position in the sentence (characters)
    start: int
    mutual: bool
    #: the one who acts (or one side of a mutual fight), and the one acted on (or the other)
    attacker: Side
    target: Side
    #: "each" readings: every side a party of its own ("clashes between A and B")
    parties: tuple[Side, ...] = ()
    #: why it reports no fight: "denied", "hedged: could", "negated: not", "question"; or ""
    blocked: str = ""
    #: where the predicate ends (characters)
    end: int = 0
    #: its conflict class ("assault")
    kind: str = ""
    #: one-sided, and the one who acts is not named ("unidentified gunmen attacked B", "the
    #: airstrikes targeted B"): another sentence may name it
    unknown_attacker: bool = False
    #: someone claimed responsibility for it ("IS claimed responsibility for the attack")
    claimed: bool = False
    #: the unnamed attacker is a reference to an attack told elsewhere ("the airstrikes")
    definite: bool = False
    #: fought on a side, with an ally ("alongside A", "together", "on behalf of A")
    allied: bool = False
    #: the other side is there but names no actor ("A and B clashed *with rebels*")
    other_unnamed: bool = False
    #: actors in the predicate's own phrase that got no side, and where: inside the phrase of
    #: the one who acts ("attacker"), of the one acted on ("target": "raided a depot run by
    #: B" where the parse missed "run by"), or elsewhere in it ("clause")
    loose: tuple[tuple[str, str], ...] = ()

    def covers(self, start: int, end: int) -> bool:
        """Is this predicate the word at [start, end) of the sentence?"""
        return start <= self.start < end or self.start <= start < self.end

    def pairs(self) -> list[tuple[str, str]]:
        """The pairs of distinct actors set against each other (first acts on second)."""
        out: list[tuple[str, str]] = []
        if self.parties:
            sides = [p.actors for p in self.parties if p.actors]
            for i, a in enumerate(sides):
                for b in sides[i + 1 :]:
                    out.extend((x, y) for x in sorted(a - b) for y in sorted(b - a) if x != y)
            return list(dict.fromkeys(out))
        a, b = self.attacker.actors, self.target.actors
        out.extend((x, y) for x in sorted(a - b) for y in sorted(b - a) if x != y)
        return out


@dataclass(slots=True)
class SentenceReading:
    """Everything the role stage read in one sentence."""

    readings: list[Reading] = field(default_factory=list)
    #: actors that got a side in some predicate (blocked ones included)
    placed: set[str] = field(default_factory=set)
    #: actors in a position that is no side: a speaker, a mediator, a place, a plain modifier
    aside: dict[str, str] = field(default_factory=dict)

    def clashes(self) -> list[Reading]:
        return [r for r in self.readings if not r.blocked and r.pairs()]

    def blocked(self) -> list[Reading]:
        return [r for r in self.readings if r.blocked and r.pairs()]

    def verdict(self, actors: Iterable[str]) -> Verdict:
        """``opposed``: some predicate sets two of them against each other; ``apart``: the
        parse placed them and none is opposed (allies, co-targets, backer and client, a
        speaker, a place), or the only fight between them is denied or hedged; ``unknown``:
        an actor got no role at all (a parse error, a fragment): another stage decides."""
        wanted = set(actors)
        for r in self.clashes():
            if any(a in wanted and b in wanted for a, b in r.pairs()):
                return "opposed"
        if self.blocked():
            return "apart"
        unplaced = wanted - self.placed - set(self.aside)
        return "unknown" if unplaced and len(wanted - set(self.aside)) >= 2 else "apart"


#: the reading of a sentence not parsed yet (its batch is still being gathered)
PENDING = SentenceReading()

# ------------------------------------------------------------------------------------------


class _Tree:
    """Index over one parse: children, mentions by token, predicates."""

    def __init__(self, parse: Parse, mentions: Sequence[Mention], lexicon: lx.Lexicon) -> None:
        self.parse = parse
        self.t = _repaired(
            tuple(
                tok
                if (fixed := lexicon.lemma(tok.text, tok.lemma)) == tok.lemma
                else replace(tok, lemma=fixed)
                for tok in parse.tokens
            )
        )
        self.kids: list[list[int]] = [[] for _ in self.t]
        for tok in self.t:
            if tok.head != tok.i:
                self.kids[tok.head].append(tok.i)
        self.lexicon = lexicon
        self.mentions = list(mentions)
        #: token → mention index, for tokens inside a mention
        self.owner: dict[int, int] = {}
        #: mention index → its root token
        self.root: dict[int, int] = {}
        for k, m in enumerate(self.mentions):
            toks = [x.i for x in self.t if x.start < m.end and x.end > m.start]
            if not toks:
                continue
            for i in toks:
                self.owner.setdefault(i, k)
            inside = set(toks)
            roots = [i for i in toks if self.t[i].head not in inside or self.t[i].head == i]
            self.root[k] = roots[-1] if roots else toks[-1]
        self.mention_at: dict[int, int] = {r: k for k, r in self.root.items()}
        #: readings made so far, in the order of the sentence
        self.done: list[Reading] = []

    def dep(self, i: int) -> str:
        return self.t[i].dep

    def head(self, i: int) -> int:
        return self.t[i].head

    def lemma(self, i: int) -> str:
        return self.t[i].lemma

    def children(self, i: int, *deps: str) -> list[int]:
        if not deps:
            return self.kids[i]
        return [c for c in self.kids[i] if self.t[c].dep in deps]

    def preps(self, i: int) -> list[tuple[str, int]]:
        """(preposition, object) for each prepositional phrase on ``i``; two-word ones too
        ("along with", "on behalf of", "out of")."""
        out = []
        for p in self.children(i, "prep", "agent", "dative"):
            word = self.t[p].lemma
            objs = self.children(p, "pobj", "pcomp", "dobj")
            inner = self.children(p, "prep")
            if not objs and inner:  # "along with X", "out of X"
                q = inner[0]
                word = f"{word} {self.t[q].lemma}"
                objs = self.children(q, "pobj", "pcomp")
            for o in objs:
                subj = self.children(o, "nsubj") if self.t[o].dep == "pcomp" else []
                # "clashed with A members smuggling weapons": the clause's subject is the object
                out.append((word, subj[0] if subj else o))
        return out

    def clause_preps(self, i: int, skip: int | None, depth: int = 3) -> list[tuple[str, int]]:
        """Prepositional phrases on ``i`` and on the nouns of its own phrases, ``depth``
        levels down, not entering ``skip`` or another clause: where the parser may have hung
        a phrase that belongs to ``i``."""
        out: list[tuple[str, int]] = []
        frontier = [i]
        for _ in range(depth):
            nxt: list[int] = []
            for n in frontier:
                for word, o in self.preps(n):
                    out.append((word, o))
                    if o != skip and self.t[o].pos in ("NOUN", "PROPN", "NUM"):
                        nxt.extend(x for x in self.conjuncts(o) if x != skip)
                for c in self.children(n, "npadvmod", "dobj"):
                    if c != skip and n == i:
                        nxt.append(c)
            frontier = nxt
        return out

    def conjuncts(self, i: int) -> list[int]:
        """``i`` and the words conjoined to it ("A, B and C")."""
        out = [i]
        k = 0
        while k < len(out):
            out.extend(c for c in self.children(out[k], "conj") if c not in out)
            k += 1
        return out

    def is_passive(self, v: int) -> bool:
        kids = self.children(v)
        if any(self.t[c].dep in ("auxpass", "nsubjpass") for c in kids):
            return True
        # a bare participle with a by-phrase ("positions targeted by A")
        return self.t[v].tag == "VBN" and any(self.t[c].dep == "agent" for c in kids)

    def subject(self, v: int) -> list[int]:
        """The subject of verb ``v``, shared or inherited when it has none of its own:
        "A stormed X and *attacked* B", "A tried to *storm* B", "rebels *who* attacked"."""
        seen = 0
        while seen < _DEPTH:
            seen += 1
            subj = self.children(v, *_SUBJECTS)
            if subj:
                if self.t[subj[0]].lemma in _RELATIVE and self.dep(v) == "relcl":
                    return [self.head(v)]
                return subj  # several when the parser split one: "A, which …, and B launched"
            d = self.dep(v)
            if d in ("conj", "xcomp", "advcl") and self.head(v) != v:
                v = self.head(v)
                continue
            if d == "pcomp" and self.head(self.head(v)) != self.head(v):
                # "A responded *by shelling* B" → A; "accused A *of targeting* B" → A
                prep = self.head(v)
                verb = self.head(prep)
                if self.t[prep].lemma in ("of", "for") and self.t[verb].lemma in lx.ACCUSING:
                    return self.children(verb, *_OBJECTS)
                v = verb
                continue
            if d in ("acl", "relcl") and self.t[v].tag != "VBN":
                return [self.head(v)]  # "fighters attacking B"
            return []
        return []


def _repaired(tokens: tuple[Token, ...]) -> tuple[Token, ...]:
    """Mend one frequent parser error: the later items of a list of names hung on the verb
    ("hitting areas under the control of A, *B*, and *C*" with B and C conjoined to
    "hitting"). A name conjoined to a verb joins the nearest name before it instead."""
    out = list(tokens)
    for tok in tokens:
        head = tokens[tok.head]
        if tok.dep != "conj" or tok.pos != "PROPN" or head.pos not in ("VERB", "AUX"):
            continue
        before = [
            t.i
            for t in out[head.i + 1 : tok.i]
            if t.pos in ("PROPN", "NOUN") and t.dep in ("pobj", "dobj", "conj", "appos")
        ]
        if before:
            out[tok.i] = replace(tok, head=before[-1])
    return tuple(out)


def read(
    parse: Parse, mentions: Sequence[Mention], lexicon: lx.Lexicon, year: int | None = None
) -> SentenceReading:
    """Every conflict predicate of the sentence with its sides. ``year``: when the text was
    published; a fight it dates two or more years earlier is background ("ousted IS from the
    town in 2015", in a 2018 story)."""
    tree = _Tree(parse, mentions, lexicon)
    out = SentenceReading()
    for p, cls, words in _predicates(tree):
        reading = _read_predicate(tree, p, cls, words, year)
        tree.done.append(reading)
        out.readings.append(reading)
        out.placed |= reading.attacker.actors | reading.target.actors
        for side in reading.parties:
            out.placed |= side.actors
    _non_combatants(tree, out)
    return out


def _predicates(tree: _Tree) -> Iterable[tuple[int, lx.PredicateClass, str]]:
    lex = tree.lexicon
    for tok in tree.t:
        if tok.i in tree.owner:
            continue  # part of a name ("Tiger Forces", "Islamic Resistance")
        word = tok.lemma
        if tok.pos in ("VERB", "AUX") or (tok.pos in ("NOUN", "PROPN") and tok.tag.startswith("V")):
            if any(tree.lemma(c) in lx.IDIOM_OBJECTS.get(word, ()) for c in tree.children(tok.i)):
                continue  # "took place", "took part"
            for rest, cls in lex.verbs.get(word, ()):
                if not rest:
                    yield tok.i, cls, tok.text
                    break
                objs = [c for c in tree.children(tok.i) if tree.lemma(c) == rest[-1]]
                if objs:
                    yield tok.i, cls, f"{tok.text} {tree.t[objs[0]].text}"
                    break
            continue
        if tok.pos in ("NOUN", "PROPN") and (word in lex.nouns or tok.text.lower() in lex.nouns):
            yield tok.i, lex.nouns.get(word) or lex.nouns[tok.text.lower()], tok.text
        elif tok.pos == "VERB" or tok.tag.startswith("VB"):
            continue


# -- what a word stands for -----------------------------------------------------------------


_Avoid = frozenset[int] | None


def _members(
    tree: _Tree, node: int, depth: int = 0, split: bool = False, avoid: _Avoid = None
) -> list[int]:
    """Mentions that ``node`` stands for: itself, what it belongs to or is backed by. With
    ``split``, conjoined words are not followed (the caller treats them as parties); ``avoid``
    are words not to enter."""
    if depth > 5 or (avoid is not None and node in avoid):
        return []
    k = tree.owner.get(node)
    out: list[int] = [] if k is None else [k]
    if k is None and tree.t[node].lemma in _PRONOUNS | {"we", "our", "us"}:
        return _antecedent(tree, node, depth)  # "the SDF denied that *its* fighters attacked"
    for c in tree.children(node):
        out += _child_members(tree, c, depth, split, avoid)
    for word, o in tree.preps(node):
        if word in lx.OWNER_PREPS or word in lx.MEMBER_PREPS:
            if tree.lemma(o) in lx.CONTROL_NOUNS:
                out += _owner_of_control(tree, o, depth)
            else:
                out += _members(tree, o, depth + 1, avoid=avoid)
        elif word == "under" and tree.lemma(o) in lx.CONTROL_NOUNS:
            out += _owner_of_control(tree, o, depth)
    return out


def _child_members(tree: _Tree, c: int, depth: int, split: bool, avoid: _Avoid) -> list[int]:
    """What one dependent of a word adds to what the word stands for."""
    d = tree.dep(c)
    lemma = tree.lemma(c)
    if d in ("amod", "acl", "relcl", "acomp") and lemma in lx.AFFILIATION and c not in tree.owner:
        return _affiliates(tree, c, depth, avoid)  # "gunmen loyal to A", "groups backed by A"
    if d in ("acl", "relcl") and lemma in lx.CARRYING:
        # "a convoy carrying A commanders", "a house sheltering A fighters": on A's side
        return [k for o in tree.children(c, *_OBJECTS) for k in _members(tree, o, depth + 1)]
    if d in _MODIFIERS:
        if lemma in lx.SPEAKER_NOUNS or (d == "appos" and tree.t[c].pos == "VERB"):
            return []
        return _members(tree, c, depth + 1, avoid=avoid)
    if d == "conj":
        return [] if split else _members(tree, c, depth + 1, avoid=avoid)
    if d in ("acl", "relcl", "amod", "acomp", "advcl"):
        if lemma in lx.AFFILIATION or lemma in lx.OPERATE:
            return _affiliates(tree, c, depth, avoid)  # "missiles fired by A"
        allies = [
            o for w, o in tree.preps(c) if w in lx.ALLY_PREPS - {"for"} or w in lx.ALLY_PHRASES
        ]
        if allies:  # "Syrian troops working alongside Russian special forces"
            return [k for o in allies for k in _members(tree, o, depth + 1, avoid=avoid)]
        if lemma in lx.NAMING:  # "armed groups described as remnants of the regime"
            out = [
                k
                for w, o in tree.preps(c)
                if w == "as"
                for k in _members(tree, o, depth + 1, avoid=avoid)
            ]
            for o in tree.children(c, "oprd", "attr", "xcomp"):
                out += _members(tree, o, depth + 1, avoid=avoid)
            return out
    return []


def _antecedent(tree: _Tree, pronoun: int, depth: int) -> list[int]:
    """Who "it", "its", "they", "their", "our" stands for: the one who speaks or denies in
    the clause that governs it ("The SDF said *its* fighters repelled the attack", "Turkey
    denied *its* forces fired on Russian planes")."""
    node = pronoun
    for _ in range(_DEPTH):
        tok = tree.t[node]
        if tok.head == node:
            return []
        if tok.dep in ("advcl", "conj") and tok_is_verb(tree, node) and node != pronoun:
            # "A members were killed when *they* were ambushed by B", "A entered the town
            # and *they* attacked B": the subject of the clause this one hangs on
            main = [
                s
                for s in tree.children(tok.head, *_SUBJECTS, *_PASSIVE_SUBJECTS)
                if tree.t[s].lemma not in _PRONOUNS
            ]
            found = [k for s in main for k in _members(tree, s, depth + 1)]
            if found:
                return found
        node = tok.head
        if tree.lemma(node) in lx.REPORTING or tree.lemma(node) in lx.DENIAL:
            speaker = [
                s for s in tree.subject(node) if s != pronoun and tree.t[s].lemma not in _PRONOUNS
            ]
            return [k for s in speaker for k in _members(tree, s, depth + 1)]
    return []


def _owner_of_control(tree: _Tree, control: int, depth: int) -> list[int]:
    """ "under the control of A", "under A's command" → A."""
    out = []
    for c in tree.children(control, "poss", "compound", "amod"):
        out += _members(tree, c, depth + 1)
    for word, o in tree.preps(control):
        if word == "of":
            out += _members(tree, o, depth + 1)
    return out


def _affiliates(tree: _Tree, word: int, depth: int, avoid: _Avoid = None) -> list[int]:
    """The owner named by an affiliation word: "held *by* A", "loyal *to* A", "linked *with*
    A", "A-backed", "under the control of A", "missiles fired *by* A"."""
    out: list[int] = []
    for c in tree.children(word, "npadvmod", "compound", "poss"):
        out += _members(tree, c, depth + 1, avoid=avoid)
    for w, o in tree.preps(word):
        if w in ("by", "to", "with", "of", "from"):
            out += _members(tree, o, depth + 1, avoid=avoid)
        elif w == "under" and tree.lemma(o) in lx.CONTROL_NOUNS:
            out += _owner_of_control(tree, o, depth)
    return out


def _side(tree: _Tree, nodes: Iterable[int]) -> Side:
    ks: list[int] = []
    borrowed: list[Side] = []
    for n in nodes:
        found = _members(tree, n)
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


def _parties(tree: _Tree, nodes: Iterable[int]) -> list[Side]:
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
            inside = set(_subtree(tree, deep))
            names = {tree.owner[z] for z in inside if z in tree.owner}
            inside |= {z for z, k in tree.owner.items() if k in names}
            first = _side_of(tree, _members(tree, nodes[0], split=True, avoid=frozenset(inside)))
            second = _side_of(tree, sorted(names) or _members(tree, deep))
            if first.actors and second.actors:
                return [first, second]
    if len(nodes) == 1 and tree.dep(nodes[0]) == "pobj" and len(tree.conjuncts(nodes[0])) == 1:
        split = _between_and(tree, nodes[0])
        if split:
            return split
    for n in nodes:
        for c in tree.conjuncts(n):
            ks = _members(tree, c, split=True)
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


def _subtree(tree: _Tree, node: int) -> list[int]:
    out = [node]
    k = 0
    while k < len(out):
        out.extend(tree.kids[out[k]])
        k += 1
    return out


def _distributed(tree: _Tree, head: int) -> list[Side]:
    """Parties of a word whose modifiers are conjoined: "Russian *and* Iranian forces" →
    Russia | Iran; "SDF *and* Syrian regime forces" → SDF | Assad regime (the head word goes
    with the last conjunct)."""
    coordinated = _coordinated_modifiers(tree, head)
    if coordinated:
        return coordinated
    for x in _subtree(tree, head):
        if x == head or tree.dep(x) not in _MODIFIERS | {"conj"}:
            continue
        conj = tree.children(x, "conj")
        if not conj:
            continue
        groups: list[list[int]] = []
        inside_conj = {z for y in conj for z in _subtree(tree, y)}
        first = [z for z in _subtree(tree, x) if z not in inside_conj]
        groups.append(first)
        for y in conj:
            groups.append(_subtree(tree, y))
        used = {z for g in groups for z in g}
        # the head and whatever else modifies it join the last conjunct, but for the words
        # of a name an earlier conjunct holds ("*Syrian* Democratic Forces and HTS militants")
        earlier = {tree.owner[z] for g in groups[:-1] for z in g if z in tree.owner}
        groups[-1] += [
            z for z in _subtree(tree, head) if z not in used and tree.owner.get(z) not in earlier
        ]
        sides = []
        for g in groups:
            ks = sorted({tree.owner[z] for z in g if z in tree.owner})
            sides.append(_side_of(tree, ks))
        if sum(1 for sd in sides if sd.actors) >= 2 and len({sd.actors for sd in sides}) >= 2:
            return [sd for sd in sides if sd.actors]
    return []


def _between_and(tree: _Tree, pobj: int) -> list[Side]:
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
        second = _side_of(tree, _members(tree, conj))
        first = _side_of(tree, sorted({tree.owner[z] for z in range(prep, cc) if z in tree.owner}))
        if first.actors and second.actors and first.actors != second.actors:
            return [first, second]
        return []
    return []


def _coordinated_modifiers(tree: _Tree, head: int) -> list[Side]:
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


def _deep_conj(tree: _Tree, node: int) -> int | None:
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


def _side_of(tree: _Tree, ks: Sequence[int]) -> Side:
    ks = sorted(set(ks))
    return Side(
        frozenset(a for k in ks for a in tree.mentions[k].actors),
        tuple(tree.mentions[k].surface for k in ks),
    )


# -- one predicate ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Args:
    """The words that fill a predicate's sides, before they are read as actors."""

    agent: list[int] = field(default_factory=list)
    target: list[int] = field(default_factory=list)
    #: parties each on its own side ("between A and B")
    each: list[int] = field(default_factory=list)


def _read_predicate(
    tree: _Tree, p: int, cls: lx.PredicateClass, words: str, year: int | None = None
) -> Reading:
    args = _Args()
    verb = tok_is_verb(tree, p)
    allied = _allied(tree, p)
    if verb:
        _verb_args(tree, p, cls, allied, args)
    else:
        _noun_args(tree, p, cls, args)
    _prep_args(tree, p, cls, verb, args)
    if not verb:
        _misplaced_args(tree, p, cls, args)
    _reciprocal_args(tree, p, verb, args)
    args.target += _casualties_caused(tree, p)
    if not cls.mutual:  # "hitting areas under the control of A": the controlled side is hit
        for word, o in tree.preps(p):
            if word == "under" and tree.lemma(o) in lx.CONTROL_NOUNS:
                args.target += [tree.root[k] for k in _owner_of_control(tree, o, 0)]
    # "strikes by A hit B", "an attack by A killed B": the subject is an attack of its own,
    # whose author is the one who acts here
    for a in list(args.agent):
        if a != p and _noun_class(tree, a) is not None:
            args.agent += _noun_agents(tree, a)
    if cls.mutual and not verb and not args.each:
        joined = _joined_before(tree, p)
        if len(joined) >= 2:
            args.each += joined  # "Hezbollah–Assad rift", "Russian-Turkish clashes"
            args.agent = [a for a in args.agent if a not in joined]
        elif args.target and not args.agent:
            args.agent += _adverbial_subject(tree, p)  # "A entered X after fighting with B"
    denied_by: set[str] = set()
    if cls.escalated and not _escalated(tree, p):
        blocked = QUARREL
    else:
        blocked = _blocked(tree, p, denied_by) or _background(tree, p, year)
    if cls.mutual and not (args.each or args.target or args.agent):
        args.each += _casualty_parties(tree, p)
    return _assemble(tree, p, cls, words, args, allied, blocked, denied_by)


def _allied(tree: _Tree, p: int) -> bool:
    """ "A and B fought alongside C", "advanced together": one side, with an ally."""
    return any(
        ((w in lx.ALLY_PREPS or w in lx.ALLY_PHRASES) and (w != "for" or bool(_members(tree, o))))
        or (w in ("on", "by") and tree.lemma(o) in ("side", "behalf"))
        for w, o in tree.preps(p)
    ) or any(tree.lemma(c) in ("together", "jointly") for c in tree.children(p, "advmod"))


def _verb_args(tree: _Tree, p: int, cls: lx.PredicateClass, allied: bool, args: _Args) -> None:
    if tree.is_passive(p):
        args.target += tree.children(p, *_PASSIVE_SUBJECTS)
    else:
        subj = tree.subject(p)
        if not subj:
            # a headline's subject parsed as a modifier of its verb: "HTS storms NLF positions"
            subj = [
                c
                for c in tree.children(p, "compound", "nmod", "npadvmod")
                if c < p and c in tree.owner
            ]
        if cls.mutual and subj and not _other_side(tree, p, cls) and not allied:
            args.each += subj  # "A and B clashed"
        else:
            args.agent += subj
    if tree.dep(p) in ("acl", "relcl", "amod") and tree.t[p].tag == "VBN":
        args.target.append(tree.head(p))  # "positions targeted by A", "targeted positions"
    objs = tree.children(p, *_OBJECTS)
    if tree.lemma(p) in lx.PITTING and objs:
        # "infighting pitted A against B": the object against the "against" phrase
        args.each += objs + [o for w, o in tree.preps(p) if w == "against"]
        objs = []
    args.target += [o for o in objs if tree.lemma(o) not in lx.FIRE_OBJECTS]
    args.target += _fire_object(tree, objs, cls)
    if not cls.mutual and objs and not any(_members(tree, o) for o in args.target):
        args.target += _owned_place(tree, p)


def _noun_args(tree: _Tree, p: int, cls: lx.PredicateClass, args: _Args) -> None:
    for c in tree.children(p, "poss", "compound", "amod", "nmod"):
        if tree.lemma(c) in lx.WEAPON_WORDS:  # "Russian air strikes": Russian → air → strikes
            args.agent += tree.children(c, "amod", "compound", "poss")
        else:
            args.agent.append(c)
    _governor(tree, p, cls, args)


def _prep_args(tree: _Tree, p: int, cls: lx.PredicateClass, verb: bool, args: _Args) -> None:
    for word, o in tree.preps(p):
        if _is_time(tree, o):
            continue  # "clashed on Sunday"
        if tree.lemma(o) in ("side", "behalf") and word in ("on", "by"):
            # "fought on the side of A", "on behalf of A": with A
            args.agent += [oo for w, oo in tree.preps(o) if w == "of"]
            continue
        if word in lx.BETWEEN:
            args.each.append(o)
        elif cls.mutual and word in lx.PLACE_OR_SIDE and not _names_a_side(tree, o):
            continue  # "clashed on the outskirts of X", "on the border": where, not whom
        elif word in cls.target or (word == "with" and cls.mutual):
            args.target.append(o)
        elif word in cls.agent or word in lx.ALLY_PREPS or word in lx.ALLY_PHRASES:
            args.agent.append(o)  # "by A", "from A"; "alongside A", "with A" (for one-sided)
        elif word in ("by", "with"):
            args.agent.append(o)
    tok = tree.t[p]
    if not verb and tok.dep == "pobj" and not args.agent:
        holder = tree.head(tok.head)
        if (
            tree.lemma(tok.head) in ("in", "during", "amid")
            and tree.t[holder].pos in ("NOUN", "PROPN")
            and holder != tok.head
        ):
            args.agent.append(holder)  # "Syrian forces in deadly clashes with Assad loyalists"


def _misplaced_args(tree: _Tree, p: int, cls: lx.PredicateClass, args: _Args) -> None:
    """Phrases of a noun that the parser hung elsewhere: on its verb or further ("clashes
    erupted between A and B", "clashes resumed on 15 October between A and B"), on a copula
    ("X was an invasion by A …, against B"), or on a word inside its own phrase ("an invasion
    by A in the district, against B")."""
    tok = tree.t[p]
    if tok.dep in ("attr", "acomp") and tok.head != p:
        _take(args, tree.preps(tok.head), cls.target)
    elif tok.dep in _OBJECTS and tok.head != p and not cls.mutual and not args.target:
        # "S condemned the offensive *by A against B*": the phrases went to the verb
        phrases = tree.preps(tok.head)
        _take(args, phrases, cls.target - {"on", "at", "from"})
        if args.target and not args.agent:
            args.agent += [o for w, o in phrases if w == "by"]
    if not cls.mutual and not args.target:
        # "the shelling *of* the Turkish military", "the siege of A": the one it was done to
        args.target += [
            o for w, o in tree.preps(p) if w == "of" and tree.lemma(o) not in lx.PLACE_NOUNS
        ]
    if tok.dep in _SUBJECTS | _PASSIVE_SUBJECTS and tree.lemma(tok.head) in lx.HAPPEN:
        _take(args, tree.clause_preps(tok.head, skip=p), cls.target | {"with", "against"})
    if cls.mutual and not args.each and tok.dep == "pobj":
        # "led to the most serious confrontations yet between A and B": the phrase went to
        # the verb the noun's phrase hangs on
        verb = _clause_verb(tree, p)
        if verb is not None:
            args.each += [o for w, o in tree.preps(verb) if w in lx.BETWEEN]
    if not args.each and not args.target:
        _take(args, tree.clause_preps(p, skip=None, depth=2), cls.target - {"at"})


def _take(args: _Args, phrases: Iterable[tuple[str, int]], targets: Iterable[str]) -> None:
    """Each "between" phrase's object a party; the first target phrase's the target."""
    targets = set(targets)
    for word, o in phrases:
        if word in lx.BETWEEN:
            args.each.append(o)
        elif word in targets and not args.target:
            args.target.append(o)


def _clause_verb(tree: _Tree, p: int) -> int | None:
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


def _owned_place(tree: _Tree, p: int) -> list[int]:
    """The owner named in a place phrase of the verb: "attacked a point in X village, *which
    belonged to* the Damascus government" (the parser hangs the clause on the place)."""
    out: list[int] = []
    for _w, o in tree.clause_preps(p, skip=None, depth=3):
        for z in _subtree(tree, o):
            if tree.dep(z) in ("relcl", "acl") and tree.lemma(z) in lx.AFFILIATION:
                out += [tree.root[k] for k in _affiliates(tree, z, 0) if k in tree.root]
    return out


def _reciprocal_args(tree: _Tree, p: int, verb: bool, args: _Args) -> None:
    """ "A and B attacked each other", "mutual attacks by A and B": each side acts."""
    if verb:
        reciprocal = any(
            tree.lemma(o) == "other"
            and any(tree.lemma(x) in ("each", "one") for x in tree.children(o))
            for o in tree.children(p, *_OBJECTS)
        )
    else:
        reciprocal = any(tree.lemma(c) in lx.RECIPROCAL for c in tree.children(p, "amod"))
    if reciprocal:
        args.each += args.agent
        args.agent = []


def _assemble(
    tree: _Tree,
    p: int,
    cls: lx.PredicateClass,
    words: str,
    args: _Args,
    allied: bool,
    blocked: str,
    denied_by: set[str],
) -> Reading:
    """The sides' words read as actors."""
    tok = tree.t[p]
    attacker = _side(tree, args.agent)
    victim = _side(tree, args.target)
    parties: tuple[Side, ...] = ()
    if args.each:
        found = _parties(tree, args.each)
        if cls.mutual or len(found) >= 2:
            if attacker.actors and not victim.actors:
                found = [attacker, *found]
            elif victim.actors and not attacker.actors and not cls.mutual:
                found = [*found, victim]
            parties = tuple(found)
    if denied_by:
        attacker = Side(attacker.actors - denied_by, attacker.names)
    if cls.mutual and not parties and attacker.actors and not args.target and not allied:
        # conjoined subjects of a mutual verb with no other side fight each other
        split = _parties(tree, args.agent)
        if len(split) >= 2:
            parties = tuple(split)
    return Reading(
        predicate=words,
        start=tok.start,
        mutual=cls.mutual,
        attacker=attacker,
        target=victim,
        parties=parties,
        blocked=blocked,
        end=tok.end,
        kind=cls.name,
        unknown_attacker=not cls.mutual
        and not parties
        and all(_unknown(tree, a) for a in args.agent),
        claimed=_claimed(tree, p),
        definite=_definite(tree, p, args.agent),
        allied=allied,
        other_unnamed=bool(args.target) and not victim.actors,
        loose=_loose(tree, p, args, attacker.actors | victim.actors),
    )


#: dependents that open a clause of its own, or restate a word (an appositive): what stands
#: in them is not the predicate's
_CLAUSES = frozenset(["relcl", "acl", "advcl", "ccomp", "parataxis", "csubj", "xcomp", "appos"])


def _phrase(tree: _Tree, node: int, stop: frozenset[int] = frozenset()) -> list[int]:
    """The words of ``node``'s phrase, not entering a clause of its own (nor ``stop``)."""
    out = [node]
    k = 0
    while k < len(out):
        for c in tree.kids[out[k]]:
            if (
                c in stop
                or tree.dep(c) in _CLAUSES
                or (tree.dep(c) == "conj" and tok_is_verb(tree, c))
            ):
                continue
            out.append(c)
        k += 1
    return out


def _loose(tree: _Tree, p: int, args: _Args, placed: frozenset[str]) -> tuple[tuple[str, str], ...]:
    """Actors in the predicate's phrase (its words and its sides' words, no clause of their
    own) that no side holds, each with the side whose words hold it."""
    where: dict[int, str] = {}
    for label, words in (("attacker", args.agent), ("target", args.target)):
        for w in words:
            for z in _phrase(tree, w, frozenset([p])):
                where.setdefault(z, label)
    for z in _phrase(tree, p):
        where.setdefault(z, "clause")
    if tok_is_verb(tree, p):
        for subj in tree.subject(p):
            for z in _phrase(tree, subj):
                where.setdefault(z, "attacker")
    out: dict[str, str] = {}
    held = {r for k, r in tree.root.items() if set(tree.mentions[k].actors) & placed}
    for k, root in tree.root.items():
        if tree.head(root) in held and tree.dep(root) in _MODIFIERS:
            continue  # "*Iran*-backed Hezbollah" where Hezbollah has a side: its backer's
        if root in where:
            for a in tree.mentions[k].actors:
                if a not in placed:
                    out.setdefault(a, where[root])
    return tuple(out.items())


def _definite(tree: _Tree, p: int, agent: list[int]) -> bool:
    """Does the predicate refer to an attack told elsewhere: "*the* attacks were carried out
    by A", "*the* airstrikes targeted B", "*the* attackers"?"""
    words = [a for a in agent if not _members(tree, a)]
    if not tok_is_verb(tree, p):
        words.append(p)
    return any(tree.lemma(d) in lx.DEFINITE for w in words for d in tree.children(w, "det", "poss"))


def _unknown(tree: _Tree, node: int) -> bool:
    """A side the text does not name: no word at all, or "unidentified gunmen", "the
    attackers", "unknown assailants"."""
    if _members(tree, node):
        return False
    tok = tree.t[node]
    if tok.lemma in lx.UNNAMED_ATTACKERS or _noun_class(tree, node) is not None:
        return True  # "the attackers", "the airstrikes"
    return any(tree.lemma(c) in lx.UNNAMED for c in tree.children(node, "amod", "compound"))


def _claimed(tree: _Tree, p: int) -> bool:
    """Is the predicate what someone claimed responsibility for ("IS claimed the attack")?"""
    tok = tree.t[p]
    if tok.dep in _OBJECTS and tree.lemma(tok.head) == "claim":
        return True
    if tok.dep == "pobj" and tree.lemma(tok.head) == "for":
        return tree.lemma(tree.head(tok.head)) in ("claim", "responsibility")
    return False


def _noun_class(tree: _Tree, i: int) -> lx.PredicateClass | None:
    tok = tree.t[i]
    if tok.pos not in ("NOUN", "PROPN") or i in tree.owner:
        return None
    return tree.lexicon.nouns.get(tok.lemma) or tree.lexicon.nouns.get(tok.text.lower())


def _noun_agents(tree: _Tree, q: int) -> list[int]:
    """Who a conflict noun says acted: "Turkish shelling", "A's attack", "an attack by A",
    "A carried out strikes"."""
    cls = _noun_class(tree, q)
    if cls is None:
        return []
    args = _Args()
    _noun_args(tree, q, cls, args)
    args.agent += [o for w, o in tree.preps(q) if w in ("by", "from")]
    return [a for a in args.agent if a != q]


def _fire_object(tree: _Tree, objs: Sequence[int], cls: lx.PredicateClass) -> list[int]:
    """ "fired rockets *at* B", "turned their guns *on* B": the target hangs off the object."""
    out = []
    for o in objs:
        for word, oo in tree.preps(o):
            if word in cls.target:
                out.append(oo)
    return out


def _other_side(tree: _Tree, p: int, cls: lx.PredicateClass) -> bool:
    """Has the mutual verb an object or a with/against phrase (the other side)?"""
    if any(tree.lemma(o) not in lx.FIRE_OBJECTS for o in tree.children(p, *_OBJECTS)):
        return True
    return any(
        (w in cls.target or w == "with")
        and not _is_time(tree, o)
        and (w not in lx.PLACE_OR_SIDE or _names_a_side(tree, o))
        for w, o in tree.preps(p)
    )


def _names_a_side(tree: _Tree, o: int) -> bool:
    """Does the object of "on" name someone who fights ("clashed on *the rebels*"), not a
    place ("clashed on the outskirts", "on the frontline", "on the border")?"""
    return bool(_members(tree, o)) or tree.lemma(o) in lx.GROUP_NOUNS | lx.COMBATANTS | _PRONOUNS


def _is_time(tree: _Tree, o: int) -> bool:
    """A time phrase: "on Sunday", "on 3 May", "on the night of"."""
    tok = tree.t[o]
    return tok.lemma in lx.TIME_WORDS or tok.text.isdigit() or tok.pos == "NUM"


def _governor(tree: _Tree, p: int, cls: lx.PredicateClass, args: _Args) -> None:
    """Sides that a noun predicate gets from the verb above it."""
    tok = tree.t[p]
    v = tok.head
    if v == p:
        return
    vl = tree.lemma(v)
    d = tok.dep
    if d in _OBJECTS and vl in lx.LIGHT:
        # "A launched an attack on B"
        args.agent += tree.subject(v)
        for word, o in tree.preps(v):
            if word in cls.target:
                args.target.append(o)
            elif word in lx.BETWEEN:
                args.each.append(o)
    elif d in _PASSIVE_SUBJECTS and vl in lx.LIGHT:
        # "attacks were carried out by A on B"
        for word, o in tree.preps(v):
            if word == "by":
                args.agent.append(o)
            elif word in cls.target:
                args.target.append(o)
    elif d in _OBJECTS and vl == "claim":
        args.agent += tree.subject(v)  # "IS claimed the attack"
    elif d in _OBJECTS and vl in lx.RECEIVE:
        args.target += tree.subject(v)  # "A repelled the attack", "A suffered attacks"
    elif d == "pobj" and tree.head(v) != v:
        _phrase_governor(tree, cls, tree.lemma(v), tree.head(v), args)


def _phrase_governor(
    tree: _Tree, cls: lx.PredicateClass, word: str, verb: int, args: _Args
) -> None:
    """Sides of a noun in a phrase (``word`` + noun) of ``verb``."""
    vl = tree.lemma(verb)
    if word in lx.CAUSE_PREPS and vl in lx.CASUALTY:
        # "two A members were killed in clashes with B", "A fighters died in an attack"
        sufferers = _sufferers(tree, verb)
        if tree.dep(verb) == "conj" and tree.lemma(tree.head(verb)) in lx.CASUALTY:
            # "X were killed and others injured in an attack": both suffered it
            sufferers += _sufferers(tree, tree.head(verb))
        if cls.mutual and not args.agent:
            args.agent += sufferers
        else:
            args.target += sufferers
            if not args.agent:  # "killed in an ambush by A": the parser gave "by A" to the verb
                args.agent += [o for w, o in tree.preps(verb) if w == "by" and o not in sufferers]
    elif word == "under" and vl in ("come", "be", "remain", "fall"):
        args.target += tree.subject(verb)  # "A came under attack from B"
        args.agent += [o for w, o in tree.preps(verb) if w in ("from", "by")]
    elif word == "for" and vl in ("claim", "responsibility"):
        # "A claimed responsibility for the attack"
        claimer = verb if vl == "claim" else tree.head(verb)
        args.agent += tree.subject(claimer)
    elif word == "to" and vl in ("respond", "retaliate", "reply"):
        args.target += tree.subject(verb)  # "A responded to the shelling"
    elif word in ("in", "into") and vl in ("join", "take", "participate", "engage", "involve"):
        args.agent += tree.subject(verb)  # "A took part in the offensive against B"
    elif word == "in" and _taking_part(tree, verb):
        # "A, who were active in the clashes against B"; "A were involved in the fighting"
        holder = tree.head(verb) if tree.t[verb].pos == "ADJ" else verb
        args.agent += tree.subject(holder) or tree.children(holder, *_PASSIVE_SUBJECTS)


def _taking_part(tree: _Tree, word: int) -> bool:
    """ "active in", "involved in", "engaged in": an adjective of taking part, or a form of
    "be" that has one."""
    if tree.lemma(word) in lx.TAKING_PART:
        return True
    return tree.lemma(word) == "be" and any(
        tree.lemma(c) in lx.TAKING_PART for c in tree.children(word, "acomp", "attr")
    )


def _casualties_caused(tree: _Tree, p: int) -> list[int]:
    """Whom an attack killed, told as its result: "the attack *led to the death of* X",
    "the strike *left* X dead", "the shelling *resulted in* casualties among X"."""
    tok = tree.t[p]
    out: list[int] = []
    for c in tree.children(p, "acl", "relcl"):
        # "the air strikes, which left 12 people dead, including A and B troops"
        if tree.lemma(c) in lx.CAUSING:
            out += [o for o in tree.children(c, *_OBJECTS) if tree.lemma(o) not in ("which",)]
            out += [o for w, o in tree.preps(p) if w in lx.MEMBER_PREPS]
    if tok.dep not in _SUBJECTS or tok.head == p:
        return out
    v = tok.head
    if tree.lemma(v) in ("lead", "result", "cause", "bring"):
        for word, o in tree.preps(v):
            if word in ("to", "in") and tree.lemma(o) in lx.CASUALTY_NOUNS:
                out += [oo for w, oo in tree.preps(o) if w in ("of", "among")]
        for o in tree.children(v, *_OBJECTS):
            if tree.lemma(o) in lx.CASUALTY_NOUNS:
                out += [oo for w, oo in tree.preps(o) if w in ("of", "among")]
    elif tree.lemma(v) == "leave":
        out += [o for o in tree.children(v, *_OBJECTS) if tree.lemma(o) not in lx.CASUALTY_NOUNS]
    return out


def _year_of(tree: _Tree, node: int) -> int | None:
    """The year a time phrase names: "2015", "early 2015", "March 2017"."""
    for n in [node, *tree.children(node)]:
        text = tree.t[n].text
        if len(text) == 4 and text.isdigit() and 1900 < int(text) < 2100:
            return int(text)
    return None


def _background(tree: _Tree, p: int, year: int | None) -> str:
    """A fight dated long before the text: "in 2015" (two or more years before it was
    published), "six years ago", "it has been a year since A ousted B"."""
    node = p
    for _ in range(3):
        tok = tree.t[node]
        for word, o in tree.preps(node):
            if word in ("in", "during", "since", "throughout", "by", "until"):
                when = _year_of(tree, o)
                if when is not None and year is not None and when <= year - 2:
                    return f"background: {when}"
        for c in tree.children(node, "npadvmod", "advmod"):
            if tree.lemma(c) == "ago" or any(tree.lemma(x) == "ago" for x in tree.children(c)):
                # the word as written: "years" is lemmatised to "year" ("a year ago" is news)
                unit = [x for x in tree.children(c) if tree.t[x].text.lower() in lx.LONG_AGO] + (
                    [c] if tree.t[c].text.lower() in lx.LONG_AGO else []
                )
                if unit:
                    return f"background: {tree.t[unit[0]].text} ago"
        marks = [tree.lemma(c) for c in tree.children(node, "mark")]
        if "since" in marks and tok.dep == "advcl":
            head = tok.head
            if any(
                tree.lemma(x) in lx.LONG_AGO | {"year", "month", "months"}
                for x in tree.children(head, "attr", "npadvmod", "dobj", "nsubj")
            ):
                return "background: since"
        if tok.pos in ("VERB", "AUX") or tok.head == node:
            break
        node = tok.head
    return ""


def _joined_before(tree: _Tree, p: int) -> list[int]:
    """Names joined by dashes or slashes right before a noun: "Hezbollah–Assad rift"."""
    out: list[int] = []
    i = p - 1
    while i >= 0:
        tok = tree.t[i]
        if tok.text in ("-", "–", "—", "/", "and", "&"):
            i -= 1
            continue
        k = tree.owner.get(i)
        if k is None:
            break
        root = tree.root[k]
        if root not in out:
            out.append(root)
        start = min(x for x, kk in tree.owner.items() if kk == k)
        i = start - 1
    return out


def _adverbial_subject(tree: _Tree, p: int) -> list[int]:
    """The subject of the clause a noun sits in as an adverbial phrase: "A entered X *after
    days of fighting with B*" → A."""
    node = p
    for _ in range(4):
        tok = tree.t[node]
        head = tok.head
        if head == node:
            return []
        ht = tree.t[head]
        if ht.pos in ("VERB", "AUX"):
            if tok.dep == "prep" and tok.lemma in ("after", "following", "during", "amid", "in"):
                return tree.subject(head)
            return []
        if tok.dep not in ("pobj", "prep"):
            return []
        node = head
    return []


def _escalated(tree: _Tree, p: int) -> bool:
    """Did the quarrel at ``p`` turn violent: "the rift *turned violent*", "tensions *erupted
    into gunfire*", "a dispute *escalated into a shootout*"?"""
    tok = tree.t[p]
    if tok.dep not in _SUBJECTS or tree.lemma(tok.head) not in lx.ESCALATE:
        return False
    v = tok.head
    for c in tree.children(v, "acomp", "oprd", "attr", "xcomp", "dobj"):
        if tree.lemma(c) in lx.VIOLENT:
            return True
    return any(w in ("into", "to", "in") and tree.lemma(o) in lx.VIOLENT for w, o in tree.preps(v))


def _casualty_parties(tree: _Tree, p: int) -> list[int]:
    """ "A and B died when a dispute escalated into a shootout": the fight of a clause that
    tells how people were killed has them as its sides."""
    node = p
    for _ in range(_DEPTH):
        tok = tree.t[node]
        if tok.head == node:
            return []
        if tok.dep == "advcl" and tree.lemma(tok.head) in lx.CASUALTY:
            return _sufferers(tree, tok.head)
        if tok.dep in ("conj", "ccomp", "parataxis"):
            return []
        node = tok.head
    return []


def tok_is_verb(tree: _Tree, i: int) -> bool:
    tok = tree.t[i]
    return tok.pos in ("VERB", "AUX") or tok.tag.startswith("V")


def _sufferers(tree: _Tree, verb: int) -> list[int]:
    """Who was killed, wounded, captured: the passive subject, the subject of "died", or the
    noun a participle hangs on ("people killed in the strike")."""
    if tree.is_passive(verb):
        out = tree.children(verb, *_PASSIVE_SUBJECTS)
    else:
        out = tree.children(verb, *_SUBJECTS)
    if not out and tree.dep(verb) in ("acl", "relcl"):
        out = [tree.head(verb)]
    return out


def _blocked(tree: _Tree, p: int, denied_by: set[str]) -> str:
    """Why the predicate at ``p`` reports no fight, or "": a question, a fight of words, or
    a negation, hedge or denial whose scope covers it."""
    if tree.parse.text.rstrip().endswith("?"):
        return "question"
    return _not_armed(tree, p) or _in_scope_of(tree, p, denied_by)


def _not_armed(tree: _Tree, p: int) -> str:
    """ "verbally attacked", "clashed in talks", "a verbal tussle", "negotiators clashed"."""
    for c in tree.children(p):
        if tree.lemma(c) in lx.VERBAL:
            return f"verbal: {tree.t[c].text}"
    for _w, o in tree.preps(p):
        words = [o, *tree.children(o, "amod", "compound")]
        if any(tree.lemma(x) in lx.VERBAL or tree.lemma(x) in lx.NOT_ARMED for x in words):
            return f"not armed: {tree.t[o].text}"
    if tok_is_verb(tree, p):
        for side in [*tree.subject(p), *tree.children(p, *_OBJECTS)]:
            if tree.lemma(side) in lx.TALKERS:
                return f"not armed: {tree.t[side].text}"
    return ""


def _in_scope_of(tree: _Tree, p: int, denied_by: set[str]) -> str:
    """Walk up from the predicate to its clause and the clauses that govern it: a negation
    or modal on the way, or a governing denial, hedge or "false" blocks it. A denial of
    *involvement* only removes the one who denies (``denied_by``). A coordinate clause is a
    statement of its own: the walk stops there."""
    node = p
    via_involvement = False
    came_by = ""
    for _ in range(_DEPTH):
        tok = tree.t[node]
        found = _blocking_child(tree, node, p)
        if found:
            return found
        if node != p:
            if tok.lemma in lx.ASKING and came_by not in ("xcomp", "ccomp", "for", "on"):
                pass  # "had to call in tanks to repel the attack": no call to stop it
            elif tok.lemma in lx.DENIAL:
                if via_involvement:
                    denied_by |= _side(tree, tree.subject(node)).actors
                    return ""
                return f"denied: {tok.text}"
            elif tok.lemma in lx.HEDGE and not _done(tree, node):
                return f"hedged: {tok.text}"
            if tok.lemma in lx.FALSITY and tok.pos in ("ADJ", "NOUN"):
                return f"denied: {tok.text}"
            via_involvement = via_involvement or tok.lemma in lx.INVOLVEMENT
        if tok.head == node or (tok.dep in ("conj", "parataxis", "cc") and tok_is_verb(tree, node)):
            break
        came_by = tok.lemma if tok.dep == "prep" else tok.dep
        node = tok.head
    return ""


def _done(tree: _Tree, node: int) -> bool:
    """A stop that happened: "Turkey *halted* the shelling" says there was shelling (unlike
    "called to halt", "a halt to the clashes", "to prevent infighting")."""
    tok = tree.t[node]
    if tok.lemma not in lx.STOPPING or tok.tag not in ("VBD", "VBZ", "VBP"):
        return False
    if any(tree.lemma(c) in lx.MODALS or tree.dep(c) == "neg" for c in tree.children(node)):
        return False
    return tok.dep not in ("xcomp", "ccomp", "advcl", "acl")


def _blocking_child(tree: _Tree, node: int, p: int) -> str:
    """A negation, modal, condition or "false" on the word at ``node``."""
    verbal = tree.t[node].pos != "NOUN"
    for c in tree.children(node):
        ct = tree.t[c]
        if ct.dep == "neg" or (ct.dep == "det" and ct.lemma == "no"):
            return f"negated: {ct.text}"
        if ct.dep in ("aux", "auxpass") and ct.lemma in lx.MODALS and verbal:
            return f"hedged: {ct.text}"
        if ct.dep == "mark" and ct.lemma in ("if", "unless", "whether", "lest"):
            return f"hedged: {ct.text}"
        if ct.dep in ("acomp", "attr") and ct.lemma in lx.FALSITY and node != p:
            return f"denied: {ct.text}"
    return ""


def _non_combatants(tree: _Tree, out: SentenceReading) -> None:
    """Actors that have no side here: speakers, mediators, places, modifiers of a place."""
    for k, r in tree.root.items():
        m = tree.mentions[k]
        why = _aside(tree, r)
        if why:
            for a in m.actors:
                if a not in out.placed:
                    out.aside.setdefault(a, why)


def _aside(tree: _Tree, r: int) -> str:
    node = r
    for _ in range(_DEPTH):
        tok = tree.t[node]
        head = tok.head
        if head == node:
            return ""
        ht = tree.t[head]
        if tok.dep in _SUBJECTS and ht.lemma in lx.REPORTING:
            return "speaker"
        if tok.dep in _SUBJECTS and ht.lemma in lx.MEDIATING:
            return "mediator"
        if tok.dep in ("compound", "amod", "poss") and ht.lemma in lx.PLACE_NOUNS:
            return "place"
        if tok.dep == "pobj" and ht.lemma in lx.PLACE_PREPS and tok.pos == "PROPN":
            grand = tree.t[ht.head]
            if grand.lemma not in lx.AFFILIATION:
                return "place"
        if ht.lemma in lx.SPEAKER_NOUNS and tok.dep in ("compound", "amod", "poss", "pobj", "prep"):
            node = head
            continue
        if tok.dep in ("compound", "amod", "poss", "pobj", "prep", "appos"):
            node = head
            continue
        return ""
    return ""


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
