"""A sentence's dependency parse as a tree the role stage can walk.

Pure: a ``Parse`` (``syntax.py``) and the sentence's actor mentions in; an index of children,
of the mention each token belongs to, of each mention's root, and the walks every stage of the
role reading shares (a verb's subject, its prepositional phrases, a word's conjuncts, a phrase
that does not enter another clause).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from monitor.match import lexicon as lx
from monitor.match.readings import Mention, Reading
from monitor.match.syntax import Parse, Token

#: dependency labels the walks read
SUBJECTS = frozenset(["nsubj", "csubj", "expl"])
PASSIVE_SUBJECTS = frozenset(["nsubjpass", "csubjpass"])
OBJECTS = frozenset(["dobj", "obj", "attr", "oprd", "dative"])
MODIFIERS = frozenset(["compound", "amod", "poss", "nmod", "npadvmod", "nummod", "appos"])
RELATIVE = frozenset(["who", "which", "that", "whom"])
PRONOUNS = frozenset(["it", "its", "they", "their", "them", "theirs", "itself", "themselves"])
#: a walk up the tree never goes further than this
DEPTH = 8


#: verbs that link a subject to a participle: "A fighters *remain* besieged"
LINKING = frozenset(["remain", "stay", "become", "get", "lie", "sit"])


class Tree:
    """Index over one parse: children, mentions by token, predicates."""

    def __init__(self, parse: Parse, mentions: Sequence[Mention], lexicon: lx.Lexicon) -> None:
        self.parse = parse
        tokens = tuple(
            tok
            if (fixed := lexicon.lemma(tok.text, tok.lemma)) == tok.lemma
            else replace(tok, lemma=fixed)
            for tok in parse.tokens
        )
        tokens = _said_after(_reduced_relative(_gerund_noun(tokens, lexicon)))
        tokens = _headline(_noun_subject(tokens, lexicon), lexicon)
        self.t = _lost_to(_fallen(_taken_from(_repaired(tokens, lexicon), lexicon)))
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

    def prep_word(self, p: int) -> str:
        """A preposition as looked up: its lemma, or as written where it is a verb's form
        ("including", "following")."""
        return self.t[p].lemma if self.t[p].pos == "ADP" else self.t[p].text.lower()

    def preps(self, i: int) -> list[tuple[str, int]]:
        """(preposition, object) for each prepositional phrase on ``i``; two-word ones too
        ("along with", "on behalf of", "out of")."""
        out = []
        for p in self.children(i, "prep", "agent", "dative"):
            word = self.prep_word(p)
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
        if self.t[v].tag != "VBN":
            return False
        # a bare participle with a by-phrase ("positions targeted by A"), or a linking verb's
        # ("A fighters *remain besieged*", "stayed encircled")
        head = self.t[self.t[v].head]
        linked = self.t[v].dep in ("acomp", "oprd") and head.lemma in LINKING
        return linked or any(self.t[c].dep == "agent" for c in kids)

    def passive_subject(self, v: int) -> list[int]:
        """Who a passive verb is done to: its own subject, or the subject of the linking verb
        whose complement it is ("A fighters *remain besieged* by B", "were *left wounded* by")."""
        own = self.children(v, *PASSIVE_SUBJECTS) or [
            s  # the subject hung on the auxiliary: "A fighters *remain* besieged" (remain: aux)
            for a in self.children(v, "auxpass", "aux")
            for s in self.children(a, "nsubj", "nsubjpass")
        ]
        if own or self.t[v].dep not in ("acomp", "oprd", "xcomp"):
            return own
        return self.children(self.t[v].head, "nsubj", "csubj", *PASSIVE_SUBJECTS)

    def subject(self, v: int) -> list[int]:
        """The subject of verb ``v``, shared or inherited when it has none of its own:
        "A stormed X and *attacked* B", "A tried to *storm* B", "rebels *who* attacked"."""
        seen = 0
        while seen < DEPTH:
            seen += 1
            subj = self.children(v, *SUBJECTS)
            if subj:
                if self.t[subj[0]].lemma in RELATIVE and self.dep(v) == "relcl":
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
                    return self.children(verb, *OBJECTS)
                v = verb
                continue
            if d in ("acl", "relcl") and self.t[v].tag != "VBN":
                return [self.head(v)]  # "fighters attacking B"
            return []
        return []


def _fallen(tokens: tuple[Token, ...]) -> tuple[Token, ...]:
    """A place that *fell to* A was taken by A: "P, which B had held for years, fell to A"
    reads as "A captured P" (a verb of taking, A its subject, P its object), so that whoever
    held P is read as for any place taken. Only a named taker ("fell to the ground" is not)."""
    out = list(tokens)
    for tok in tokens:
        if tok.lemma != "fall" or tok.pos != "VERB":
            continue
        kids = [t for t in tokens if t.head == tok.i and t.i != tok.i]
        to = [t for t in kids if t.dep == "prep" and t.lemma == "to"]
        subj = [t for t in kids if t.dep == "nsubj"]
        taker = _named_after(tokens, to)
        if subj and taker:
            _as_taking(out, tok, subj[0], taker[0], to[0])
    return tuple(out)


def _named_after(tokens: tuple[Token, ...], to: list[Token]) -> list[Token]:
    """The named object of the first "to" phrase ("fell *to A*", "lost P *to A*")."""
    return [t for t in tokens if to and t.head == to[0].i and t.dep == "pobj" and _named(tokens, t)]


def _as_taking(out: list[Token], verb: Token, taken: Token, taker: Token, to: Token) -> None:
    """Read ``verb`` as "``taker`` captured ``taken``": a verb of taking, the one "to" whom
    it went its subject, what (or who) was taken its object."""
    out[verb.i] = replace(verb, lemma="capture")
    out[taken.i] = replace(taken, dep="dobj")
    out[taker.i] = replace(taker, dep="nsubj", head=verb.i)
    out[to.i] = replace(to, dep="case", head=taker.i)


def _reduced_relative(tokens: tuple[Token, ...]) -> tuple[Token, ...]:
    """A participle of affiliation or use taken for the sentence's verb, its real verb hung on
    it ("Gunmen *affiliated* with A *attacked* B" read as "gunmen affiliated …, and attacked
    B"; "Rockets *fired* by A *hit* B positions"): the participle describes its subject, the
    verb after it is the sentence's."""
    out = list(tokens)
    root = next((t for t in tokens if t.dep == "ROOT"), None)
    if root is None or root.tag != "VBN" or root.lemma not in lx.AFFILIATION | lx.OPERATE:
        return tokens
    subj = [t for t in tokens if t.head == root.i and t.dep == "nsubj" and t.i < root.i]
    verb = [
        t
        for t in tokens
        if t.head == root.i
        and t.dep in ("conj", "advcl")
        and t.pos == "VERB"
        and t.tag == "VBD"
        and t.i > root.i
    ]
    aux = any(t.head == root.i and t.dep in ("aux", "auxpass") for t in tokens)
    if (
        subj
        and verb
        and not aux
        and not any(t.head == verb[0].i and t.dep == "nsubj" for t in tokens)
    ):
        out[verb[0].i] = replace(verb[0], dep="ROOT", head=verb[0].i)
        out[subj[0].i] = replace(subj[0], head=verb[0].i)
        out[root.i] = replace(root, dep="acl", head=subj[0].i)
        for t in tokens:  # what hung on the participle after the verb belongs to the verb
            if t.head == root.i and t.i > verb[0].i and t.dep in ("punct", "advcl", "prep"):
                out[t.i] = replace(t, head=verb[0].i)
    return tuple(out)


def _said_after(tokens: tuple[Token, ...]) -> tuple[Token, ...]:
    """A quotation and its speaker after it taken for two clauses ("*…our fighters,” B
    said*" with "said" conjoined to the quotation's verb): the speaker's verb governs the
    quotation."""
    out = list(tokens)
    root = next((t for t in tokens if t.dep == "ROOT"), None)
    if root is None:
        return tokens
    for t in tokens[root.i + 1 :]:
        if t.head != root.i or t.dep not in ("conj", "parataxis") or t.lemma not in lx.REPORTING:
            continue
        if any(c.head == t.i and c.dep == "nsubj" for c in tokens) and not any(
            c.head == root.i and c.dep == "cc" for c in tokens
        ):
            out[t.i] = replace(t, dep="ROOT", head=t.i)
            out[root.i] = replace(root, dep="ccomp", head=t.i)
        break
    return tuple(out)


def _gerund_noun(tokens: tuple[Token, ...], lexicon: lx.Lexicon) -> tuple[Token, ...]:
    """A noun of fighting in "-ing" taken for a verb on the name before it ("killed following
    *Turkish army shelling*" read as "an army *that is shelling*"): the noun, the name its
    modifier."""
    out = list(tokens)
    for tok in tokens[1:]:
        if tok.tag != "VBG" or tok.text.lower() not in lexicon.nouns:
            continue
        kids = [t for t in tokens if t.head == tok.i and t.i != tok.i]
        if any(t.dep == "dobj" for t in kids):
            continue  # "shelling the town": a verb
        head, before = tokens[tok.head], tokens[tok.i - 1]
        if tok.dep == "pobj" and head.dep == "prep":  # "locked *in fighting*": a noun
            out[tok.i] = replace(tok, pos="NOUN", tag="NN", lemma=tok.text.lower())
        elif tok.dep == "acl" and head.i == tok.i - 1 and head.dep == "pobj":
            # "following *Turkish army shelling*" as "army that is shelling"
            out[tok.i] = replace(tok, pos="NOUN", tag="NN", dep="pobj", head=head.head)
            out[head.i] = replace(head, dep="compound", head=tok.i)
            for t in tokens:  # the name's own phrases go with the noun
                if t.head == head.i and t.dep == "prep":
                    out[t.i] = replace(t, head=tok.i)
        elif (
            tok.dep in ("pcomp", "ccomp")
            and head.dep == "prep"
            and before.dep == "nsubj"
            and before.head == tok.i
            and before.pos == "PROPN"
        ):  # "following *Hezbollah shelling*" as a clause, Hezbollah its subject
            out[tok.i] = replace(tok, pos="NOUN", tag="NN", dep="pobj")
            out[before.i] = replace(before, dep="compound")
    return tuple(out)


def _noun_subject(tokens: tuple[Token, ...], lexicon: lx.Lexicon) -> tuple[Token, ...]:
    """A conflict noun after "the" taken for an adjective, its verb for another ("*The
    offensive targeted* SDF positions" read as "offensive, targeted positions"): the noun is
    the subject, the verb the sentence's root, the noun after the verb its object."""
    out = list(tokens)
    for tok in tokens[1 : len(tokens) - 1]:
        det, verb = tokens[tok.i - 1], tokens[tok.i + 1]
        if tok.pos != "ADJ" or tok.lemma not in lexicon.nouns or det.lemma not in lx.DEFINITE:
            continue
        if verb.tag not in ("VBD", "VBN") or verb.dep != "amod" or verb.head <= verb.i:
            continue
        obj = tokens[verb.head]
        if obj.dep == "ROOT":
            out[verb.i] = replace(verb, dep="ROOT", head=verb.i)
            out[obj.i] = replace(obj, dep="dobj", head=verb.i)
            out[tok.i] = replace(tok, pos="NOUN", tag="NN", dep="nsubj", head=verb.i)
            out[det.i] = replace(det, dep="det", head=tok.i)
    return tuple(out)


def _headline(tokens: tuple[Token, ...], lexicon: lx.Lexicon) -> tuple[Token, ...]:
    """A headline's verb taken for a noun, or its list of subjects broken ("A fighter, five B
    members dead in P *clashes*": "clashes" a noun with subjects, or a verb with the first
    name left hanging as "dep"): the verb with every noun before it, up to a comma, its
    subject."""
    out = list(tokens)
    for tok in tokens:
        if tok.dep != "ROOT" or tok.lemma not in lexicon.verbs:
            continue
        kids = [t for t in tokens if t.head == tok.i and t.i < tok.i and t.i != tok.i]
        if not any(t.dep == "nsubj" for t in kids):
            continue
        if tok.pos == "NOUN" and tok.tag == "NNS" and tok.lemma in lexicon.nouns:
            out[tok.i] = replace(tok, pos="VERB", tag="VBZ")
        for t in kids:
            if t.dep == "dep" and t.pos in ("NOUN", "PROPN") and tokens[t.i + 1].text == ",":
                out[t.i] = replace(t, dep="nsubj")
    return tuple(out)


def _taken_from(tokens: tuple[Token, ...], lexicon: lx.Lexicon) -> tuple[Token, ...]:
    """The one a place was taken from, hung on the taker ("P was seized by *A-backed rebels
    from B*" read as rebels who come from B): the verb's own "from" phrase."""
    out = list(tokens)
    for tok in tokens:
        entries = lexicon.verbs.get(tok.lemma, ()) if tok.pos == "VERB" else ()
        if not any("from" in cls.target for _rest, cls in entries):
            continue
        for by in (t for t in tokens if t.head == tok.i and t.dep == "agent" and t.i != tok.i):
            for agent in (t for t in tokens if t.head == by.i and t.dep == "pobj"):
                for t in tokens:
                    if t.head == agent.i and t.dep == "prep" and t.lemma == "from":
                        out[t.i] = replace(t, head=tok.i)
    return tuple(out)


def _lost_to(tokens: tuple[Token, ...]) -> tuple[Token, ...]:
    """A side that *lost* a place (or control of it) *to* a named one was driven from it: "B
    lost control of P to A" reads as "A captured B" (a verb of taking, the taker its subject,
    the loser its object). Anything else lost ("three fighters", "the support of A", "the
    match to A") is a loss suffered, no verb of taking."""
    out = list(tokens)
    for tok in tokens:
        if tok.lemma != "lose" or tok.pos != "VERB":
            continue
        kids = [t for t in tokens if t.head == tok.i and t.i != tok.i]
        subj = [t for t in kids if t.dep == "nsubj"]
        obj = [t for t in kids if t.dep == "dobj" and t.lemma not in _NOT_TAKEN]
        # "to A" on the verb, or hung on the place lost ("control of P *to A*")
        lost = _below(tokens, obj[0].i) if obj else set()
        to = [
            t
            for t in tokens
            if t.lemma == "to"
            and t.dep in ("prep", "dative")
            and (t.head == tok.i or t.head in lost)
        ]
        taker = _named_after(tokens, to)
        if not taker:  # "to *Daesh*" parsed as a clause: a name with "to" for its auxiliary
            taker = [
                t
                for t in kids
                if t.pos == "PROPN"
                and any(a.head == t.i and a.lemma == "to" and a.i < t.i for a in tokens)
            ]
            to = [a for t in taker for a in tokens if a.head == t.i and a.lemma == "to"]
        if subj and obj and taker:
            out[obj[0].i] = replace(obj[0], dep="npadvmod")  # the place, or control of it
            _as_taking(out, tok, subj[0], taker[0], to[0])  # the loser, taken from
        else:  # a loss suffered ("lost three fighters in an ambush by A"): no verb of taking
            out[tok.i] = replace(tok, lemma="suffer")
    return tuple(out)


def _below(tokens: tuple[Token, ...], i: int) -> set[int]:
    """``i`` and every word under it."""
    out = {i}
    grew = True
    while grew:
        more = {t.i for t in tokens if t.head in out and t.i not in out}
        grew = bool(more)
        out |= more
    return out


#: what is lost to someone without a fight: a game, a vote, a seat
_NOT_TAKEN = lx.NOT_ARMED | frozenset(
    "vote votes seat seats race bid case contract title election elections battle".split()
)


def _named(tokens: tuple[Token, ...], t: Token) -> bool:
    """A name, or a noun a name or a demonym qualifies ("the SDF", "Turkish forces")."""
    return t.pos == "PROPN" or any(
        c.head == t.i and c.dep in ("compound", "amod") and c.pos in ("PROPN", "ADJ")
        for c in tokens
    )


def _repaired(tokens: tuple[Token, ...], lexicon: lx.Lexicon) -> tuple[Token, ...]:
    """Mend four frequent parser errors. The later items of a list of names hung on the verb
    ("hitting areas under the control of A, *B*, and *C*" with B and C conjoined to
    "hitting"): a name conjoined to a verb joins the nearest name before it instead. A
    participle of a conflict verb taken for an adjective, with a by-phrase ("remain
    *encircled* by B"): a passive participle, its by-phrase the agent. A count conjoined to a
    verb with the participle hung on it ("were killed and *two wounded* in an ambush", the
    "were" left out): the participle is the conjoined verb, the count its subject. A headline's
    list taken for an appositive ("A fighter, five B members dead in clashes"): a list."""
    out = list(tokens)
    for tok in tokens:
        if tok.pos == "NUM" and tok.dep == "conj" and tokens[tok.head].pos in ("VERB", "AUX"):
            part = [t for t in tokens if t.head == tok.i and t.dep == "acl" and t.tag == "VBN"]
            if part:
                out[part[0].i] = replace(part[0], dep="conj", head=tok.head)
                out[tok.i] = replace(tok, dep="nsubjpass", head=part[0].i)
        if tok.pos == "ADJ" and tok.text.endswith("ed") and tok.lemma in lexicon.verbs:
            by = [
                t
                for t in tokens
                if t.head == tok.i and t.dep in ("prep", "agent") and t.lemma == "by"
            ]
            if by:
                out[tok.i] = replace(tok, pos="VERB", tag="VBN")
                out[by[0].i] = replace(by[0], dep="agent")
        head = tokens[tok.head]
        if (
            tok.dep == "appos"
            and head.dep == "ROOT"
            and head.pos in ("NOUN", "PROPN")
            and any(t.head == tok.i and t.lemma in lx.CASUALTY for t in tokens)
        ):  # a headline's list: "A fighter, five B members *dead* in clashes"
            out[tok.i] = replace(tok, dep="conj")
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


def subtree(tree: Tree, node: int) -> list[int]:
    out = [node]
    k = 0
    while k < len(out):
        out.extend(tree.kids[out[k]])
        k += 1
    return out


#: dependents that open a clause of its own, or restate a word (an appositive): what stands
#: in them is not the predicate's
_CLAUSES = frozenset(["relcl", "acl", "advcl", "ccomp", "parataxis", "csubj", "xcomp", "appos"])


def phrase(tree: Tree, node: int, stop: frozenset[int] = frozenset()) -> list[int]:
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


#: an adjective in these positions is one ("offensive weapons", "was offensive"); elsewhere a
#: conflict word tagged as an adjective is the noun ("the SDF *offensive* against B")
ADJ_DEPS = frozenset(["amod", "acomp", "advmod", "conj", "compound"])


def noun_class(tree: Tree, i: int) -> lx.PredicateClass | None:
    tok = tree.t[i]
    nounish = tok.pos in ("NOUN", "PROPN") or (tok.pos == "ADJ" and tok.dep not in ADJ_DEPS)
    if not nounish or i in tree.owner:
        return None
    return tree.lexicon.nouns.get(tok.lemma) or tree.lexicon.nouns.get(tok.text.lower())


def is_time(tree: Tree, o: int) -> bool:
    """A time phrase: "on Sunday", "on 3 May", "on the night of"."""
    tok = tree.t[o]
    return tok.lemma in lx.TIME_WORDS or tok.text.isdigit() or tok.pos == "NUM"


def tok_is_verb(tree: Tree, i: int) -> bool:
    tok = tree.t[i]
    return tok.pos in ("VERB", "AUX") or tok.tag.startswith("V")


def loose(
    tree: Tree, p: int, agent: list[int], target: list[int], placed: frozenset[str]
) -> tuple[tuple[str, str], ...]:
    """Actors in the predicate's phrase (its words and its sides' words, no clause of their
    own) that no side holds, each with the side whose words hold it."""
    where = _zones(tree, p, agent, target)
    out: dict[str, str] = {}
    held = {r for k, r in tree.root.items() if set(tree.mentions[k].actors) & placed}
    for k, root in tree.root.items():
        if tree.head(root) in held and tree.dep(root) in MODIFIERS:
            continue  # "*Iran*-backed Hezbollah" where Hezbollah has a side: its backer's
        if root in where:
            for a in tree.mentions[k].actors:
                if a not in placed:
                    out.setdefault(a, where[root])
    return tuple(out.items())


def _zones(tree: Tree, p: int, agent: list[int], target: list[int]) -> dict[int, str]:
    """Each word of the predicate's phrase, and the side whose words hold it: "attacker",
    "target", or "clause" (the phrase's own)."""
    zones: list[tuple[str, list[int], frozenset[int]]] = [
        ("attacker", agent, frozenset([p])),
        ("target", target, frozenset([p])),
        # "… left 12 dead, *including* A troops": among those hit
        ("target", [o for w, o in tree.preps(p) if w in lx.MEMBER_PREPS], frozenset()),
        # not what is coordinated with it ("positions were targeted and the air strikes …")
        ("clause", [p], frozenset(tree.children(p, "conj"))),
        ("attacker", tree.subject(p) if tok_is_verb(tree, p) else [], frozenset()),
    ]
    where: dict[int, str] = {}
    for label, words, stop in zones:
        for w in words:
            for z in phrase(tree, w, stop):
                where.setdefault(z, label)
    return where
