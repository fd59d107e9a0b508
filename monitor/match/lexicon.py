"""Conflict vocabulary by class, and the small closed word lists the role stage reads.

Pure. The classes come from the configuration (``conflict:``), organised as event codebooks do
(CAMEO, PLOVER): ``fight`` (both sides act: "A clashed with B", "clashes between A and B"),
``assault`` (one side acts on the other: "A attacked B", "an attack by A on B"), ``seize``
(ground taken from a side: "A captured the town from B"), and whatever a desk adds. Each class
lists verbs in their dictionary form and nouns in the singular; the forms the lexical stage
looks for (clashed, clashes, fought…) are made here, so the two stages always agree on the
vocabulary. The prepositions of a class mark who is on which side ("an attack *on* B", "fire
*from* A").

The closed lists below (reporting verbs, light verbs, denials, hedges…) are English grammar
rather than vocabulary a desk tunes; they live here, in one place, named for what they do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from monitor.match import text as textmod

#: past tenses and participles that the regular rules (clash → clashed) do not make
IRREGULAR: dict[str, tuple[str, ...]] = {
    "fight": ("fought",),
    "strike": ("struck", "stricken"),
    "shoot": ("shot",),
    "drive": ("drove", "driven"),
    "overrun": ("overran",),
    "take": ("took", "taken"),
    "retake": ("retook", "retaken"),
    "beat": ("beaten",),
    "blow": ("blew", "blown"),
    "hit": ("hit",),
    "bring": ("brought",),
    "throw": ("threw", "thrown"),
    "lead": ("led",),
    "wage": ("waged",),
    "seize": ("seized",),
    "begin": ("began", "begun"),
    "break": ("broke", "broken"),
    "mount": ("mounted",),
    "fire": ("fired",),
    "win": ("won",),
    "lose": ("lost",),
    "bombard": ("bombarded",),
    "overtake": ("overtook", "overtaken"),
    "undertake": ("undertook", "undertaken"),
    "shell": ("shelled", "shelling"),
    "spar": ("sparred", "sparring"),
    "leave": ("left",),
}


@dataclass(frozen=True, slots=True)
class PredicateClass:
    """One class of conflict words and how its arguments line up."""

    name: str
    #: both sides act (clash, fight); otherwise one acts on the other (attack, shell)
    mutual: bool
    #: verbs (dictionary form) and nouns (singular), folded; a multi-word verb such as
    #: "exchange fire" is kept whole and read as its first word with the rest as its object
    verbs: frozenset[str]
    nouns: frozenset[str]
    #: prepositions whose object is the target (or, for a mutual class, the other side)
    target: frozenset[str]
    #: prepositions whose object is the one who acts ("an attack *by* A", "fire *from* A")
    agent: frozenset[str]
    #: a quarrel, armed only where it turned violent ("tensions erupted into gunfire")
    escalated: bool = False

    def finite_forms(self) -> set[str]:
        """The verbs as a sentence's main verb says them, folded: "clashed", "attacks",
        "exchanged fire", and the bare verb of a headline's present ("fighters *storm* B
        positions") (for the plain "A clashed with B" that needs no parse)."""
        out: set[str] = set()
        for verb in self.verbs:
            first, _, rest = verb.partition(" ")
            forms = {f for f in textmod.inflections(first) if f.endswith(("ed", "s"))}
            forms.add(first)
            forms |= set(IRREGULAR.get(first, ()))
            out |= {f"{f} {rest}".strip() for f in forms}
        return out

    def terms(self) -> tuple[list[str], list[str], list[str]]:
        """The words the lexical stage looks for, in three lists: single verbs and the
        nouns, to be inflected there (clash: clashes, clashed); verbs of several words, whose
        first word only is inflected and whose rest may come a few words later ("exchange ...
        fire": "exchanged artillery fire", "pushed the rebels back"); irregular forms, as
        they are (fought)."""
        single = {v for v in self.verbs if " " not in v} | self.nouns
        several = {
            f"{v.partition(' ')[0]} ... {v.partition(' ')[2]}" for v in self.verbs if " " in v
        }
        irregular = set()
        for v in self.verbs:
            first, _, rest = v.partition(" ")
            irregular |= {f"{f} ... {rest}" if rest else f for f in IRREGULAR.get(first, ())}
        return sorted(single), sorted(several), sorted(irregular - single - several)


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Every class, looked up by word."""

    classes: tuple[PredicateClass, ...]
    #: verb's first word → (its other words, class) for each verb entry that starts with it
    verbs: Mapping[str, tuple[tuple[tuple[str, ...], PredicateClass], ...]]
    nouns: Mapping[str, PredicateClass]
    #: every word the role stage looks up: a parser's lemma outside it is checked against
    #: the word's plain de-inflections ("raged" lemmatised as "rag" is "rage")
    known: frozenset[str] = frozenset()

    @staticmethod
    def build(classes: Iterable[PredicateClass]) -> Lexicon:
        classes = tuple(classes)
        verbs: dict[str, list[tuple[tuple[str, ...], PredicateClass]]] = {}
        nouns: dict[str, PredicateClass] = {}
        for c in classes:
            for v in sorted(c.verbs):
                first, *rest = v.split()
                verbs.setdefault(first, []).append((tuple(rest), c))
            for n in sorted(c.nouns):
                nouns.setdefault(n.split()[-1], c)
        # longer entries first: "open fire" before "open"
        ordered = {k: tuple(sorted(v, key=lambda e: -len(e[0]))) for k, v in verbs.items()}
        known = frozenset(verbs) | frozenset(nouns) | GRAMMAR_WORDS
        return Lexicon(classes, ordered, nouns, known)

    def __bool__(self) -> bool:
        return bool(self.classes)

    def lemma(self, text: str, lemma: str) -> str:
        """The parser's lemma, or the word's plain de-inflection where only that is known."""
        if lemma in self.known:
            return lemma
        for candidate in _stems(text.lower()):
            if candidate in self.known:
                return candidate
        return lemma


_IRREGULAR_BASE = {form: base for base, forms in IRREGULAR.items() for form in forms}


def _stems(word: str) -> Iterable[str]:
    """Dictionary forms a word may have: raged → rage, clashes → clash, sparred → spar."""
    yield word
    if word in _IRREGULAR_BASE:
        yield _IRREGULAR_BASE[word]
    for suffix, repl in (
        ("ies", "y"),
        ("ied", "y"),
        ("es", ""),
        ("s", ""),
        ("ed", ""),
        ("ed", "e"),
        ("ing", ""),
        ("ing", "e"),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            base = word[: len(word) - len(suffix)] + repl
            yield base
            if repl == "" and len(base) > 2 and base[-1] == base[-2]:
                yield base[:-1]  # sparred → spar


def compile_classes(config: Mapping[str, Any]) -> list[PredicateClass]:
    """Settings' ``conflict:`` section → classes."""
    out = []
    for name, c in config.items():
        out.append(
            PredicateClass(
                name=name,
                mutual=c.mutual,
                verbs=frozenset(textmod.normalise(v) for v in c.verbs if textmod.normalise(v)),
                nouns=frozenset(textmod.normalise(n) for n in c.nouns if textmod.normalise(n)),
                target=frozenset(p.lower() for p in c.target),
                agent=frozenset(p.lower() for p in c.agent),
                escalated=c.escalated,
            )
        )
    return out


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# ------------------------------------------------------------------------------- grammar lists

#: verbs of saying: their subject speaks, it does not fight
REPORTING = _words(
    """say tell report announce state claim add note confirm reveal quote cite write post
    accuse blame allege insist stress warn urge call condemn criticize criticise praise
    deny describe explain believe think hope comment respond reply declare affirm assert
    publish broadcast show indicate suggest acknowledge admit argue charge demand ask
    vow pledge threaten announce welcome"""
)
#: nouns for someone who speaks for a side ("a spokesman for A", "A's media office")
SPEAKER_NOUNS = _words(
    """spokesman spokeswoman spokesperson official officials source sources statement
    media channel tv television agency outlet newspaper website minister ministry office
    envoy ambassador embassy delegation leader president diplomat correspondent reporter
    analyst commentator presidency website account representative"""
)
#: verbs whose subject brings others together, not into a fight
MEDIATING = _words(
    """broker mediate sponsor guarantee facilitate negotiate host arbitrate reconcile
    oversee monitor"""
)
#: verbs that take a conflict noun as their object and give it their subject as the one who
#: acts: "A launched an attack on B", "A carried out strikes"
LIGHT = _words(
    """launch carry conduct stage mount wage unleash begin start continue resume step
    intensify lead spearhead make open initiate perform execute undertake commit escalate
    renew press pursue announce claim order declare"""
)
#: verbs that say a conflict noun (their subject) happened: "clashes erupted between A and B"
HAPPEN = _words(
    """erupt break take occur continue resume rage flare intensify escalate spread renew
    ensue start begin follow happen persist last broke develop turn reignite arise"""
)
#: verbs of harm whose subject is the side that suffered: "A members were killed in clashes"
CASUALTY = _words(
    """kill wound injure die lose perish fall suffer sustain capture arrest hurt martyr
    slay dead"""
)
#: verbs of bodily harm: whoever they are done to is harmed in body, whatever their office
#: ("drones killed an SDF *official*", "gunmen kidnapped a Hezbollah *commander*")
HARM = _words(
    """kill wound injure assassinate abduct kidnap shoot execute murder behead maim slay
    ambush bomb"""
)
#: verbs that take an attack as object and put their subject on the receiving side:
#: "A repelled the attack", "A came under fire"
RECEIVE = _words("repel repulse thwart foil resist counter suffer face absorb withstand")
#: participles and adjectives that tie a group to its owner or backer: "gunmen backed by A",
#: "forces loyal to A", "militias affiliated with A"
AFFILIATION = _words(
    """back support hold control lead run command fund arm train sponsor ally align link
    affiliate belong tie associate connect loyal close affiliated allied aligned linked
    belonging tied associated connected part member include comprise dominate operate
    organise organize equip finance base subordinate answerable attach affiliate"""
)
#: objects that make a conflict verb an idiom of something else: "took place", "hit hard"
IDIOM_OBJECTS: dict[str, frozenset[str]] = {
    "take": _words("place part note refuge shelter care advantage step steps measures office"),
    "fire": _words("employee employees official officials staff"),
    "launch": _words("campaign website channel app appeal investigation probe initiative"),
    "free": _words("prisoner prisoners hostage hostages detainee detainees"),
}
#: spans of time that put an event in the past of the story: "six years ago", "decades ago"
LONG_AGO = _words("years decade decades century generation")
#: objects of "exchange fire", "open fire", "turn guns": part of the verb, not a side
FIRE_OBJECTS = _words("fire gunfire gun guns weapon weapons shots shelling rockets barbs")
#: verbs of naming: "groups described as remnants of the regime"
NAMING = _words("describe call dub label identify know brand term name refer")
#: verbs of accusing: "A accused B of attacking C" (B is who attacked)
ACCUSING = _words("accuse blame charge suspect condemn criticize criticise fault")
#: nouns of harm: "led to the death of X"
CASUALTY_NOUNS = _words(
    "death deaths killing killings injury injuries casualty casualties loss losses toll life lives"
)
#: words that make a fight one of words: "a verbal tussle", "verbally attacked"
VERBAL = _words(
    """verbal verbally political politically diplomatic diplomatically rhetorical
    rhetorically war-of-words media legal"""
)
#: verbs of a quarrel turning into a fight ("turned violent", "erupted into gunfire")
ESCALATE = _words(
    """turn escalate erupt descend spill degenerate devolve boil explode flare develop
    deteriorate spiral"""
)
#: what it turned into: violent, deadly, gunfire, fighting…
VIOLENT = _words(
    """violent violence deadly bloody armed gunfire fighting clash clashes shootout firefight
    exchange battle bloodshed war fire shooting"""
)
#: attackers the text does not name, and words that say so
UNNAMED_ATTACKERS = _words(
    """attacker attackers assailant assailants perpetrator perpetrators gunman gunmen
    assassin assassins"""
)
#: participles whose object rides with the noun they describe: "a convoy *carrying* A commanders"
CARRYING = _words("carry transport ferry shelter house host harbour harbor escort")
UNNAMED = _words("unknown unidentified anonymous masked unnamed")
#: words of time: "clashed on Sunday" has no other side
TIME_WORDS = _words(
    """monday tuesday wednesday thursday friday saturday sunday january february march april
    may june july august september october november december jan feb mar apr jun jul aug sep
    sept oct nov dec night morning evening afternoon day days weekend week weeks month months
    year years dawn midnight noon today yesterday tonight eve hour hours occasion"""
)
#: verbs that set two sides against each other: "the dispute pitted A against B"
PITTING = _words("pit")
#: settings of a fight of words or a game: "clashed in talks", "clash in a qualifier"
NOT_ARMED = _words(
    """talks negotiation negotiations meeting meetings summit conference parliament session
    debate interview court hearing council election elections vote qualifier match game
    tournament league cup championship final friendly semifinal stadium pitch court tv
    television studio twitter social media press"""
)
#: people whose clashes are of words: "negotiators clashed", "diplomats clashed"
TALKERS = _words(
    """negotiator negotiators diplomat diplomats official officials minister ministers
    delegate delegates delegation lawmaker lawmakers envoy envoys spokesman spokesmen
    politician politicians leader leaders team teams player players fan fans"""
)
#: participles that tie a weapon or unit to the one who uses it: "missiles fired by A"
OPERATE = _words("fire launch use deploy send fly pilot operate man drive dispatch")
#: prepositions that join a group to what it belongs to: "fighters of A", "members from A"
OWNER_PREPS = frozenset(["of", "from"])
#: prepositions of fighting on a side: "fought alongside A", "on behalf of A"
ALLY_PREPS = frozenset(["alongside", "beside", "for", "behind"])
#: two-word prepositions of fighting on a side
ALLY_PHRASES = frozenset(["along with", "together with", "on behalf of", "in support of"])
#: adjectives that make a one-sided noun mutual: "*mutual* attacks by A and B"
RECIPROCAL = _words("mutual reciprocal")
#: prepositions of a mutual fight's parties: "clashes *between* A and B"
BETWEEN = frozenset(["between", "among", "amongst"])
#: weapons named before a conflict noun, between it and its author: "Russian *air* strikes"
WEAPON_WORDS = _words("air drone rocket artillery missile mortar naval ground")
#: prepositions of a group's members: "rebels *including* A"
MEMBER_PREPS = frozenset(["including", "such as", "like", "among"])
#: prepositions of a cause of harm: "killed *in* clashes", "wounded *by* the shelling"
CAUSE_PREPS = frozenset(["in", "during", "amid", "amidst", "after", "following", "by"])
#: nouns after which "of A" is the owner ("under the control of A", "the side of A")
CONTROL_NOUNS = _words("control command umbrella banner leadership auspices side behalf support")

#: the statement governs a denial: what it covers did not happen
DENIAL = _words(
    """deny refute reject dismiss disprove debunk rebut disown disclaim contest
    denial refutation rejection dismissal rebuttal"""
)
#: what is told rather than seen: "reports that A attacked B", "claims of clashes"
REPORTS = _words("report reports claim claims allegation allegations rumour rumours rumor rumors")
#: said to be false: "reports that A attacked B are false"
FALSITY = _words(
    """false untrue baseless fabricated unfounded incorrect fake unrealistic groundless lie
    lies fabrication fabrications rumour rumours rumor rumors hoax nonsense farce
    misinformation disinformation propaganda erroneous inaccurate mistaken bogus misleading"""
)
#: what is prevented, feared, planned or asked for has not happened
HEDGE = _words(
    """prevent avoid stop halt end cease avert reduce minimise minimize defuse curb
    suspend contain forestall preclude deter
    fear risk threat danger possibility prospect spectre specter likelihood chance
    warn threaten plan prepare intend want seek vow pledge promise expect predict
    forecast hope propose urge call demand ask consider mull mulls study
    rumour rumor speculation scenario option
    halt cessation end prevention avoidance de escalation deescalation ceasefire truce"""
)
#: verbs whose object or phrase tells whom an attack harmed: "*led to* the death of X", "*claimed
#: the lives* of X", "*cost the lives* of X"
RESULTING = _words("lead result cause bring claim cost take")
#: verbs that tell what an attack caused: "the strikes *left* 12 dead", "*led to* deaths"
CAUSING = _words("leave kill wound injure lead result cause bring")
#: adjectives of taking part: "active in the clashes", "involved in the fighting"
TAKING_PART = _words("active involved engaged engage involve embroiled locked lock caught")
#: verbs of remembering: the fight they govern is background ("A recalled how it fought B")
REMEMBERING = _words("recall remember reminisce commemorate mark memorialise memorialize")
#: verbs of joining a fight: "A *took part* in the attack on B"
JOINING = _words("join take participate")
#: verbs of stopping: a hedge when asked for or planned, a fact when they happened
STOPPING = _words("stop halt end cease suspend")
#: verbs of asking, a hedge only over what they ask for ("called *for* an end to the
#: fighting", "urged A *to stop* attacking B"), not over "call in tanks to repel the attack"
ASKING = _words("call ask urge demand")
#: determiners of a reference to something told before: "*the* attack", "*these* strikes"
DEFINITE = _words("the this that these those its their")
#: words that mean the claim of involvement is what is denied, not the fight itself:
#: "A denied involvement in the clashes between B and C"
INVOLVEMENT = _words("involvement role participation part responsibility presence hand link")
#: auxiliaries that put an event in the future or the possible
MODALS = _words("could might may would should will shall 'll can must")
#: negators
NEGATORS = _words("not n't never no without nor neither")
#: heads of a place phrase: an actor's name before them is a place, not a side
PLACE_NOUNS = _words(
    """countryside province governorate suburb suburbs outskirts city capital airport road
    highway gate border frontier district region area neighbourhood neighborhood embassy
    consulate airspace territory territories coast countryside desert mountains valley
    border crossing airline airlines bank university embassy street square"""
)
#: prepositions of a mutual fight that name a place unless their object names a side: "clashed
#: *on* the outskirts" (where) against "turned *on* the rebels" (whom)
PLACE_OR_SIDE = frozenset(["on", "at"])
#: people who fight, for a side that names no actor: "clashed with *gunmen*"
COMBATANTS = _words(
    """gunman gunmen soldier soldiers rebel rebels insurgent insurgents militiaman militiamen
    fighter fighters guard guards police policemen officer officers jihadist jihadists
    assailant assailants attacker attackers unit units troop troops battalion brigade
    brigades regiment division patrol patrols convoy convoys tribesmen clan clans men
    commander commanders leader leaders member members"""
)
#: prepositions of place: the actor's name after them is a place
PLACE_PREPS = frozenset(["in", "near", "at", "around", "outside", "inside", "across", "into"])
#: words for a reference back to both sides named before: "the two groups", "both sides"
BOTH = _words("both two")
#: heads of a reference to one group named before ("the group", "the militants")
GROUP_NOUNS = _words(
    """group groups side sides faction factions militia militias militants militant
    jihadists jihadist fighters movement party organisation organization force forces
    rebels insurgents army troops alliance coalition"""
)

#: every word of the lists above, for checking lemmas
GRAMMAR_WORDS = frozenset().union(
    REPORTING,
    SPEAKER_NOUNS,
    MEDIATING,
    LIGHT,
    HAPPEN,
    CASUALTY,
    RECEIVE,
    HARM,
    AFFILIATION,
    OPERATE,
    CONTROL_NOUNS,
    DENIAL,
    FALSITY,
    HEDGE,
    INVOLVEMENT,
    PLACE_NOUNS,
    GROUP_NOUNS,
    NAMING,
    ACCUSING,
    CASUALTY_NOUNS,
    VERBAL,
    FIRE_OBJECTS,
    LONG_AGO,
    NOT_ARMED,
    TALKERS,
    TIME_WORDS,
    PITTING,
    ESCALATE,
    VIOLENT,
    UNNAMED_ATTACKERS,
    UNNAMED,
    COMBATANTS,
    CARRYING,
    RESULTING,
    REMEMBERING,
    JOINING,
    REPORTS,
    *IDIOM_OBJECTS.values(),
)
