"""Whether a predicate reports a fight at all, and who has no side in it.

Pure. A predicate under a denial ("A denied attacking B", "reports of clashes are false"), a
hedge or prevention ("could lead to clashes", "to prevent infighting"), a negation, a question
or a fight of words reports no fight; one dated well before the text is background. A denial
of *involvement* removes only the one who denies. Speakers, mediators and places are set
aside: they have no side.
"""

from __future__ import annotations

from monitor.match import lexicon as lx
from monitor.match.members import side_for
from monitor.match.readings import SentenceReading
from monitor.match.tree import DEPTH, OBJECTS, SUBJECTS, Tree, tok_is_verb


def _year_of(tree: Tree, node: int) -> int | None:
    """The year a time phrase names: "2015", "early 2015", "March 2017"."""
    for n in [node, *tree.children(node)]:
        text = tree.t[n].text
        if len(text) == 4 and text.isdigit() and 1900 < int(text) < 2100:
            return int(text)
    return None


def background_of(tree: Tree, p: int, year: int | None) -> str:
    """A fight dated long before the text: "in 2015" (two or more years before it was
    published), "six years ago", "it has been a year since A ousted B", "years after A
    fought B"."""
    node = p
    for _ in range(3):
        tok = tree.t[node]
        # "in 2015"; "In 2014 A and B fought": the year right after a preposition the parser
        # left without its object
        dated = [(w, o) for w, o in tree.preps(node)] + [
            (tree.lemma(c), c + 1)
            for c in tree.children(node, "prep")
            if not tree.children(c) and c + 1 < len(tree.t)
        ]
        # "fought B in Al-Bab in 2015": the year the parser hung on the fight's place
        dated += [x for w, o in list(dated) if w in ("in", "at", "near") for x in tree.preps(o)]
        for word, o in dated:
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
        if "after" in marks and tok.dep in ("advcl", "ccomp"):  # (an "after" clause, however
            # the parser labelled it) "*Years after* A fought B, the town is rebuilding"
            span = [
                x
                for x in (tok.head, *tree.children(tok.head, "npadvmod"), *tree.children(node))
                if x < node and tree.t[x].text.lower() in lx.LONG_AGO
            ]
            if span:
                return f"background: {tree.t[span[0]].text.lower()} after"
        if tok.pos in ("VERB", "AUX") or tok.head == node:
            break
        node = tok.head
    return _remembered(tree, node)


def _remembered(tree: Tree, clause: int) -> str:
    """A fight told as a memory: "A *recalled* how it fought B", "residents *remember* the
    battle between A and B"."""
    node = clause
    for _ in range(4):
        tok = tree.t[node]
        if node != clause and tok.lemma in lx.REMEMBERING:
            return f"background: {tok.text.lower()}"
        if tok.head == node or tok.dep not in (
            "ccomp",
            "advcl",
            "xcomp",
            "pcomp",
            "dobj",
            "prep",
            "pobj",
        ):
            return ""
        node = tok.head
    return ""


def escalated(tree: Tree, p: int) -> bool:
    """Did the quarrel at ``p`` turn violent: "the rift *turned violent*", "tensions *erupted
    into gunfire*", "a dispute *escalated into a shootout*"?"""
    tok = tree.t[p]
    if tok.dep in SUBJECTS and tree.lemma(tok.head) in lx.ESCALATE:
        verbs = [tok.head]
    else:  # a headline's "tensions *boiling over* into clashes", the verb hung on the noun
        verbs = [c for c in tree.children(p, "acl") if tree.lemma(c) in lx.ESCALATE]
    for v in verbs:
        for c in tree.children(v, "acomp", "oprd", "attr", "xcomp", "dobj"):
            if tree.lemma(c) in lx.VIOLENT:
                return True
        if any(w in ("into", "to", "in") and tree.lemma(o) in lx.VIOLENT for w, o in tree.preps(v)):
            return True
    return False


def why_blocked(tree: Tree, p: int, denied_by: set[str]) -> str:
    """Why the predicate at ``p`` reports no fight, or "": a question, a fight of words, or
    a negation, hedge or denial whose scope covers it."""
    if tree.parse.text.rstrip().endswith("?"):
        return "question"
    return _not_armed(tree, p) or _in_scope_of(tree, p, denied_by)


def _not_armed(tree: Tree, p: int) -> str:
    """ "verbally attacked", "clashed in talks", "a verbal tussle", "negotiators clashed"."""
    for c in tree.children(p):
        if tree.lemma(c) in lx.VERBAL:
            return f"verbal: {tree.t[c].text}"
    for _w, o in tree.clause_preps(p, skip=None, depth=2):  # "clashed over the map *at talks*"
        words = [o, *tree.children(o, "amod", "compound")]
        if any(tree.lemma(x) in lx.VERBAL or tree.lemma(x) in lx.NOT_ARMED for x in words):
            return f"not armed: {tree.t[o].text}"
    if tok_is_verb(tree, p):
        sides = [*tree.subject(p), *tree.children(p, *OBJECTS)]
        if tree.lemma(p) in lx.HARM:
            # "drones killed an SDF official": an official harmed in body is not a talker;
            # only the one who does it can be ("officials attacked the plan")
            sides = [] if tree.is_passive(p) else tree.subject(p)
        for side in [c for s in sides for c in tree.conjuncts(s)]:  # "A and B *delegations*"
            if tree.lemma(side) in lx.TALKERS:
                return f"not armed: {tree.t[side].text}"
    return ""


#: prepositions whose event (their own object) is told as having happened, whatever the clause
#: above says ("A vowed to respond *after* the attack by B", "A will defend X *amid* the
#: shelling by B"; not "the denial came *after* reports that A attacked B")
_TOLD_AS_DONE = frozenset(["amid", "amidst", "during", "after", "following", "despite"])


def _in_scope_of(tree: Tree, p: int, denied_by: set[str]) -> str:
    """Walk up from the predicate to its clause and the clauses that govern it: a negation
    or modal on the way, or a governing denial, hedge or "false" blocks it. A denial of
    *involvement* only removes the one who denies (``denied_by``). A coordinate clause is a
    statement of its own: the walk stops there."""
    node = p
    via_involvement = False
    reported = False
    came_by = ""
    for _ in range(DEPTH):
        tok = tree.t[node]
        found = _blocking_child(tree, node, p)
        if found:
            return found
        if node == p or tok.lemma in lx.TAKING_PART | lx.JOINING:
            # "*No* A fighters attacked B", "no A fighters took part in the attack on B"
            subjects = tree.subject(node) if tok_is_verb(tree, node) else []
            nos = [d for s in subjects for d in tree.children(s, "det")]
            nos += [d for d in tree.children(node, "intj") if subjects and d < subjects[0]]
            if any(tree.lemma(d) == "no" for d in nos):
                return "negated: no"
        if node != p:
            if tok.lemma in lx.ASKING and came_by not in ("xcomp", "ccomp", "for", "on"):
                pass  # "had to call in tanks to repel the attack": no call to stop it
            elif tok.lemma in lx.DENIAL:
                if via_involvement:
                    denied_by |= side_for(tree, tree.subject(node)).actors
                    return ""
                return f"denied: {tok.text}"
            elif tok.lemma in lx.HEDGE and not _done(tree, node):
                return f"hedged: {tok.text}"
            if tok.lemma in lx.FALSITY and tok.pos in ("ADJ", "NOUN"):
                return f"denied: {tok.text}"
            # "*The denial* came after reports that A attacked B": a clause about a denial of
            # what was reported (not "the denial came after A attacked B": that is told)
            reported = reported or tok.lemma in lx.REPORTING | lx.REPORTS
            denials = [s for s in tree.subject(node) if tree.lemma(s) in lx.DENIAL]
            if denials and reported:
                return f"denied: {tree.t[denials[0]].text}"
            via_involvement = via_involvement or tok.lemma in lx.INVOLVEMENT
        if tok.head == node or (tok.dep in ("conj", "parataxis", "cc") and tok_is_verb(tree, node)):
            break
        if (
            tok.dep == "prep"
            and tree.prep_word(node) in _TOLD_AS_DONE
            and p in tree.children(node, "pobj")
        ):
            break  # "A *will* defend its fighters *amid* the shelling by B": the shelling is
        came_by = tok.lemma if tok.dep == "prep" else tok.dep
        node = tok.head
    return ""


def _done(tree: Tree, node: int) -> bool:
    """A stop that happened: "Turkey *halted* the shelling" says there was shelling (unlike
    "called to halt", "a halt to the clashes", "to prevent infighting")."""
    tok = tree.t[node]
    if tok.lemma not in lx.STOPPING or tok.tag not in ("VBD", "VBZ", "VBP"):
        return False
    if any(tree.lemma(c) in lx.MODALS or tree.dep(c) == "neg" for c in tree.children(node)):
        return False
    return tok.dep not in ("xcomp", "ccomp", "advcl", "acl")


def _blocking_child(tree: Tree, node: int, p: int) -> str:
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
        if ct.dep in ("acomp", "attr", "amod") and ct.lemma in lx.FALSITY and node != p:
            return f"denied: {ct.text}"  # "reports … are false", "the *erroneous* reports of"
    return ""


def non_combatants(tree: Tree, out: SentenceReading) -> None:
    """Actors that have no side here: speakers, mediators, places, modifiers of a place."""
    for k, r in tree.root.items():
        m = tree.mentions[k]
        why = _aside(tree, r)
        if why:
            for a in m.actors:
                if a not in out.placed:
                    out.aside.setdefault(a, why)


def _aside(tree: Tree, r: int) -> str:
    node = r
    for _ in range(DEPTH):
        tok = tree.t[node]
        head = tok.head
        if head == node:
            return ""
        ht = tree.t[head]
        if tok.dep in SUBJECTS and ht.lemma in lx.REPORTING:
            return "speaker"
        if tok.dep in SUBJECTS and ht.lemma in lx.MEDIATING:
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
        if tok.dep == "prep" and tree.prep_word(node) in lx.MEMBER_PREPS:
            return ""  # "near P, *including* A fighters": people, not a place
        if tok.dep in ("compound", "amod", "poss", "pobj", "prep", "appos"):
            node = head
            continue
        return ""
    return ""
