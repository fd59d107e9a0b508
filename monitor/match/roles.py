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
  side that suffered ("B members were killed *in* an attack by A", "B *came under* fire"), and
  the office of one harmed in body ("killed X, *a spokesman for B*");
* for mutual predicates (clash, fight): each side of "between A and B", conjoined subjects with
  no other side ("A and B clashed"), or subject and "with"/"against" phrase.

What a word stands for is ``members``'s (a group counts for its owner or backer); whether the
predicate reports a fight at all, and who has no side, is ``scope``'s; the parse as a tree is
``tree``'s; the sides a noun gets from the verb above it ("A *launched* an attack on B"),
``governors``'; the records are ``readings``'; fights told across two sentences,
``references``'.
Whether two actors are set against each other is decided after, in ``decide``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from monitor.match import lexicon as lx
from monitor.match.governors import (
    Args,
    cause_agents,
    clause_verb,
    governor,
    names_a_side,
    occasion_sides,
    other_side,
)
from monitor.match.members import (
    affiliates,
    among,
    casualties_caused,
    casualty_parties,
    members,
    offices,
    owner_of_control,
    parties_for,
    side_for,
)
from monitor.match.readings import QUARREL, Mention, Reading, SentenceReading, Side
from monitor.match.references import counter_moves
from monitor.match.scope import background_of, escalated, non_combatants, why_blocked
from monitor.match.syntax import Parse
from monitor.match.tree import (
    OBJECTS,
    PASSIVE_SUBJECTS,
    RELATIVE,
    SUBJECTS,
    Tree,
    is_time,
    loose,
    noun_class,
    subtree,
    tok_is_verb,
)


def read(
    parse: Parse, mentions: Sequence[Mention], lexicon: lx.Lexicon, year: int | None = None
) -> SentenceReading:
    """Every conflict predicate of the sentence with its sides. ``year``: when the text was
    published; a fight it dates two or more years earlier is background ("ousted IS from the
    town in 2015", in a 2018 story)."""
    tree = Tree(parse, mentions, lexicon)
    out = SentenceReading()
    for p, cls, words in _predicates(tree):
        reading = _read_predicate(tree, p, cls, words, year)
        tree.done.append(reading)
        out.readings.append(reading)
        out.placed |= reading.attacker.actors | reading.target.actors
        for side in reading.parties:
            out.placed |= side.actors
    out.readings = counter_moves(out.readings)  # "B seized P; A moved to retake it"
    non_combatants(tree, out)
    return out


def _predicates(tree: Tree) -> Iterable[tuple[int, lx.PredicateClass, str]]:
    lex = tree.lexicon
    for tok in tree.t:
        if tok.i in tree.owner:
            continue  # part of a name ("Tiger Forces", "Islamic Resistance")
        word = tok.lemma
        # a verb the tagger took for a noun: a V- tag, or a subject of its own ("fighters
        # *storm* B positions")
        verbish = tok.tag.startswith("V") or (
            word in lex.verbs and any(tree.dep(c) in SUBJECTS for c in tree.kids[tok.i])
        )
        if tok.pos in ("VERB", "AUX") or (tok.pos in ("NOUN", "PROPN") and verbish):
            if any(tree.lemma(c) in lx.IDIOM_OBJECTS.get(word, ()) for c in tree.children(tok.i)):
                continue  # "took place", "took part"
            if word in lx.TAKING_PART and any(
                w == "in" and noun_class(tree, o) for w, o in tree.preps(tok.i)
            ):
                continue  # "A have been engaged in clashes with B": the clashes are the fight
            for rest, cls in lex.verbs.get(word, ()):
                if not rest:
                    yield tok.i, cls, tok.text
                    break
                objs = [c for c in tree.children(tok.i) if tree.lemma(c) == rest[-1]]
                if objs:
                    yield tok.i, cls, f"{tok.text} {tree.t[objs[0]].text}"
                    break
            continue
        # a noun, or one the tagger took for an adjective ("the SDF *offensive* against B")
        noun = noun_class(tree, tok.i)
        if noun is not None:
            yield tok.i, noun, tok.text
        elif word in ("it", "this", "that") and _claimed(tree, tok.i) and "attack" in lex.nouns:
            # "blamed A for *it*": the deed told before, as an attack of unknown author's
            yield tok.i, lex.nouns["attack"], tok.text


# -- what a word stands for -----------------------------------------------------------------


# -- one predicate ----------------------------------------------------------------------------


def _read_predicate(
    tree: Tree, p: int, cls: lx.PredicateClass, words: str, year: int | None = None
) -> Reading:
    args = Args()
    verb = tok_is_verb(tree, p)
    allied = _allied(tree, p)
    if verb:
        _verb_args(tree, p, cls, allied, args)
        if tree.is_passive(p) and not any(w == "by" for w, _ in tree.preps(p)):
            args.agent += cause_agents(tree, p)  # "besieged as a result of B's advance"
    else:
        _noun_args(tree, p, cls, args)
    _prep_args(tree, p, cls, verb, args)
    if not verb:
        _misplaced_args(tree, p, cls, args)
    _reciprocal_args(tree, p, verb, args)
    args.target += casualties_caused(tree, p)
    if not cls.mutual:  # "hitting areas under the control of A": the controlled side is hit
        for word, o in tree.preps(p):
            if word == "under" and tree.lemma(o) in lx.CONTROL_NOUNS:
                args.target += [tree.root[k] for k in owner_of_control(tree, o, 0)]
    _attacks_as_agents(tree, p, verb, args)
    if cls.mutual and not verb and not args.each:
        joined = _joined_before(tree, p)
        if len(joined) >= 2:
            args.each += joined  # "Hezbollah–Assad rift", "Russian-Turkish clashes"
            args.agent = [a for a in args.agent if a not in joined]
        elif args.target and not any(members(tree, a) for a in args.agent):
            # "A entered X after (heavy) fighting with B": "heavy" names no one
            args.agent += _adverbial_subject(tree, p)
    denied_by: set[str] = set()
    if cls.escalated and not escalated(tree, p):
        blocked = QUARREL
    else:
        blocked = why_blocked(tree, p, denied_by) or background_of(tree, p, year)
    if cls.mutual and not (args.each or args.target or args.agent):
        args.each += casualty_parties(tree, p)
    if cls.mutual and not any(members(tree, x) for x in (*args.each, *args.target, *args.agent)):
        occasion, others = occasion_sides(tree, p)  # "clashes erupted after A entered B's"
        args.agent += occasion
        args.target += others
    return _assemble(tree, p, cls, words, args, allied, blocked, denied_by)


def _attacks_as_agents(tree: Tree, p: int, verb: bool, args: Args) -> None:
    """ "Strikes by A hit B", "an attack by A killed B", "*shelling by A* killed B": the one
    who acts is an attack of its own, whose author is the one who acts here."""
    if verb and not args.agent and tree.lemma(p) in lx.CASUALTY and _fighters(tree, args.target):
        # "B fighters were killed *when A drones struck* a meeting": the attack that killed
        # them (not "a journalist was wounded when A shelled a village": a bystander)
        args.agent += [
            s
            for c in tree.children(p, "advcl")
            if tree.lemma(c) in tree.lexicon.verbs and tree.lemma(c) not in lx.CASUALTY
            for s in tree.subject(c)
        ]
    if verb and not args.agent:
        # a subjectless attack that stands where a subject would (a gerund parsed as a clause)
        args.agent += [
            c
            for c in tree.children(p, "csubj", "advcl")
            if tree.lemma(c) in tree.lexicon.verbs and not tree.children(c, *SUBJECTS)
        ]
    for a in list(args.agent):
        if a != p and noun_class(tree, a) is not None:
            args.agent += _noun_agents(tree, a)
        elif a != p and tree.dep(a) in ("csubj", "advcl") and tree.lemma(a) in tree.lexicon.verbs:
            args.agent += [o for w, o in tree.preps(a) if w in ("by", "from")]


def _fighters(tree: Tree, words: list[int]) -> bool:
    """Do the words name fighters: an actor, or people who fight ("commanders", "troops")?"""
    return any(w in tree.owner or tree.lemma(w) in lx.COMBATANTS | lx.GROUP_NOUNS for w in words)


def _allied(tree: Tree, p: int) -> bool:
    """ "A and B fought alongside C", "advanced together": one side, with an ally."""
    return any(
        ((w in lx.ALLY_PREPS or w in lx.ALLY_PHRASES) and (w != "for" or bool(members(tree, o))))
        or (w in ("on", "by") and tree.lemma(o) in ("side", "behalf"))
        for w, o in tree.preps(p)
    ) or any(tree.lemma(c) in ("together", "jointly") for c in tree.children(p, "advmod"))


def _verb_args(tree: Tree, p: int, cls: lx.PredicateClass, allied: bool, args: Args) -> None:
    if tree.is_passive(p):
        args.target += tree.passive_subject(p)
    else:
        subj = tree.subject(p)
        if not subj:
            # a headline's subject parsed as a modifier of its verb: "HTS storms NLF positions"
            subj = [
                c
                for c in tree.children(p, "compound", "nmod", "npadvmod")
                if c < p and c in tree.owner
            ]
        if cls.mutual and subj and not other_side(tree, p, cls) and not allied:
            args.each += subj  # "A and B clashed"
        else:
            args.agent += subj
    if tree.dep(p) in ("acl", "relcl", "amod") and tree.t[p].tag == "VBN":
        # "positions targeted by A", "targeted positions"; "B were among the people killed"
        args.target += [tree.head(p), *among(tree, tree.head(p))]
    objs = tree.children(p, *OBJECTS)
    if tree.lemma(p) in lx.PITTING and objs:
        # "infighting pitted A against B": the object against the "against" phrase
        args.each += objs + [
            o for x in (p, *objs) for w, o in tree.preps(x) if w == "against"
        ]  # the "against" phrase on the verb, or hung on its object
        objs = []
    args.target += [o for o in objs if tree.lemma(o) not in lx.FIRE_OBJECTS]
    args.target += _fire_object(tree, objs, cls)
    if tree.lemma(p) in lx.HARM:  # "killed Ferhat Ali, a spokesman for the SDF"
        args.target += offices(tree, args.target)
    if not cls.mutual and objs and not any(members(tree, o) for o in args.target):
        args.target += _owned_place(tree, p)


def _noun_args(tree: Tree, p: int, cls: lx.PredicateClass, args: Args) -> None:
    for c in tree.children(p, "poss", "compound", "amod", "nmod"):
        if tree.lemma(c) in lx.WEAPON_WORDS:  # "Russian air strikes": Russian → air → strikes
            args.agent += tree.children(c, "amod", "compound", "poss")
        else:
            args.agent.append(c)
    for c in tree.children(p, "relcl", "acl"):
        if tree.lemma(c) == "claim":  # "the attack, which A claimed"
            args.agent += [s for s in tree.subject(c) if tree.lemma(s) not in RELATIVE]
        elif tree.t[c].tag == "VBG":  # "the shelling targeting P *by A*": the noun's "by"
            args.agent += [o for w, o in tree.preps(c) if w == "by"]
    governor(tree, p, cls, args)


def _prep_args(tree: Tree, p: int, cls: lx.PredicateClass, verb: bool, args: Args) -> None:
    for word, o in tree.preps(p):
        if is_time(tree, o):
            continue  # "clashed on Sunday"
        if tree.lemma(o) in ("side", "behalf") and word in ("on", "by"):
            # "fought on the side of A", "on behalf of A": with A
            args.agent += [oo for w, oo in tree.preps(o) if w == "of"]
            continue
        if word in lx.BETWEEN:
            args.each.append(o)
        elif cls.mutual and word in lx.PLACE_OR_SIDE and not names_a_side(tree, o):
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


def _misplaced_args(tree: Tree, p: int, cls: lx.PredicateClass, args: Args) -> None:
    """Phrases of a noun that the parser hung elsewhere: on its verb or further ("clashes
    erupted between A and B", "clashes resumed on 15 October between A and B"), on a copula
    ("X was an invasion by A …, against B"), or on a word inside its own phrase ("an invasion
    by A in the district, against B")."""
    tok = tree.t[p]
    if tok.dep in ("attr", "acomp") and tok.head != p:
        _take(args, tree.preps(tok.head), cls.target)
    elif tok.dep in OBJECTS and tok.head != p and not cls.mutual:
        # "S condemned the offensive *by A against B*": the phrases went to the verb
        phrases = tree.preps(tok.head)
        if not args.target:
            _take(args, phrases, cls.target - {"on", "at", "from"})
        if not args.agent:
            args.agent += [o for w, o in phrases if w == "by"]
    if not cls.mutual and not args.target:
        # "an attack by A *on B*": the parser hung the target's phrase on the one who acts
        for a in list(args.agent):
            _take(args, tree.preps(a), cls.target - {"at", "from"})
    if not cls.mutual and not args.target:
        # "the shelling *of* the Turkish military", "the siege of A": the one it was done to
        args.target += [
            o for w, o in tree.preps(p) if w == "of" and tree.lemma(o) not in lx.PLACE_NOUNS
        ]
    if tok.dep in SUBJECTS | PASSIVE_SUBJECTS and tree.lemma(tok.head) in lx.HAPPEN:
        _take(args, tree.clause_preps(tok.head, skip=p), cls.target | {"with", "against"})
    if cls.mutual and not args.each and tok.dep == "pobj":
        # "led to the most serious confrontations yet between A and B": the phrase went to
        # the verb the noun's phrase hangs on
        verb = clause_verb(tree, p)
        if verb is not None:
            args.each += [o for w, o in tree.preps(verb) if w in lx.BETWEEN]
    if not args.each and not args.target:
        _take(args, tree.clause_preps(p, skip=None, depth=2), cls.target - {"at"})


def _take(args: Args, phrases: Iterable[tuple[str, int]], targets: Iterable[str]) -> None:
    """Each "between" phrase's object a party; the first target phrase's the target."""
    targets = set(targets)
    for word, o in phrases:
        if word in lx.BETWEEN:
            args.each.append(o)
        elif word in targets and not args.target:
            args.target.append(o)


def _owned_place(tree: Tree, p: int) -> list[int]:
    """The owner named in a place the verb acts on or in: "attacked a point in X village,
    *which belonged to* the Damascus government", "stormed X, *which B had held*"."""
    out: list[int] = []
    places = [o for _w, o in tree.clause_preps(p, skip=None, depth=3)]
    for o in places + tree.children(p, *OBJECTS):  # "stormed X, which B had held"
        for z in subtree(tree, o):
            if tree.dep(z) in ("relcl", "acl") and tree.lemma(z) in lx.AFFILIATION:
                out += [tree.root[k] for k in affiliates(tree, z, 0) if k in tree.root]
    return out


def _reciprocal_args(tree: Tree, p: int, verb: bool, args: Args) -> None:
    """ "A and B attacked each other", "mutual attacks by A and B": each side acts."""
    if verb:
        reciprocal = any(
            tree.lemma(o) == "other"
            and any(tree.lemma(x) in ("each", "one") for x in tree.children(o))
            for o in tree.children(p, *OBJECTS)
        )
    else:
        reciprocal = any(tree.lemma(c) in lx.RECIPROCAL for c in tree.children(p, "amod"))
    if reciprocal:
        args.each += args.agent
        args.agent = []


def _assemble(
    tree: Tree,
    p: int,
    cls: lx.PredicateClass,
    words: str,
    args: Args,
    allied: bool,
    blocked: str,
    denied_by: set[str],
) -> Reading:
    """The sides' words read as actors."""
    tok = tree.t[p]
    attacker = side_for(tree, args.agent)
    victim = side_for(tree, args.target)
    parties: tuple[Side, ...] = ()
    if args.each:
        found = parties_for(tree, args.each)
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
        split = parties_for(tree, args.agent)
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
        loose=loose(tree, p, args.agent, args.target, attacker.actors | victim.actors),
    )


def _definite(tree: Tree, p: int, agent: list[int]) -> bool:
    """Does the predicate refer to an attack told elsewhere: "*the* attacks were carried out
    by A", "*the* airstrikes targeted B", "*the* attackers"?"""
    words = [a for a in agent if not members(tree, a)]
    if not tok_is_verb(tree, p):
        words.append(p)
    return any(tree.lemma(d) in lx.DEFINITE for w in words for d in tree.children(w, "det", "poss"))


def _unknown(tree: Tree, node: int) -> bool:
    """A side the text does not name: no word at all, or "unidentified gunmen", "the
    attackers", "unknown assailants"."""
    if members(tree, node):
        return False
    tok = tree.t[node]
    if tok.lemma in lx.UNNAMED_ATTACKERS or noun_class(tree, node) is not None:
        return True  # "the attackers", "the airstrikes"
    return any(tree.lemma(c) in lx.UNNAMED for c in tree.children(node, "amod", "compound"))


def _claimed(tree: Tree, p: int) -> bool:
    """Is the predicate what someone claimed, or was blamed for ("IS claimed the attack",
    "blamed A for the attack")?"""
    tok = tree.t[p]
    if tok.dep in OBJECTS and tree.lemma(tok.head) == "claim":
        return True
    if tok.dep == "pobj" and tree.lemma(tok.head) == "for":
        return tree.lemma(tree.head(tok.head)) in ("claim", "responsibility", "blame")
    return False


def _noun_agents(tree: Tree, q: int) -> list[int]:
    """Who a conflict noun says acted: "Turkish shelling", "A's attack", "an attack by A",
    "A carried out strikes"."""
    cls = noun_class(tree, q)
    if cls is None:
        return []
    args = Args()
    _noun_args(tree, q, cls, args)
    args.agent += [o for w, o in tree.preps(q) if w in ("by", "from")]
    return [a for a in args.agent if a != q]


def _fire_object(tree: Tree, objs: Sequence[int], cls: lx.PredicateClass) -> list[int]:
    """ "fired rockets *at* B", "turned their guns *on* B": the target hangs off the object."""
    out = []
    for o in objs:
        for word, oo in tree.preps(o):
            if word in cls.target:
                out.append(oo)
    return out


def _joined_before(tree: Tree, p: int) -> list[int]:
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


def _adverbial_subject(tree: Tree, p: int) -> list[int]:
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
