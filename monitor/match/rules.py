"""The compiled configuration's records: rules, keyword terms, and what the scan looks for.

Pure data, made once by ``compiler.compile_rules``: a ``Rule`` per configured rule, a ``Term``
per keyword term (a phrase, or parts with gaps between them), and the keys the Aho-Corasick
automaton holds (an actor's name, an exclusion, a reference back, a term or part of one). The
built-in cue sets (between, each other, joint, talks) and the phrases that refer back to actors
named before ("the two groups", "the group", "them") live here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from monitor.match.actors import (
    AliasKey,
)
from monitor.models import Severity

#: built-in cue sets for the ``opposed`` check (English, Arabic, French); names cannot clash with
#: configured sets, which may not start with "@"
BETWEEN = "@between"


MUTUAL = "@mutual"


JOINT = "@joint"


TALKS = "@talks"


BUILTIN_SETS: dict[str, list[str]] = {
    BETWEEN: ["between", "among", "amongst", "بين", "entre"],
    MUTUAL: [
        "each other",
        "one another",
        "pitting",
        "pitted",
        "versus",
        "vs",
        "rival",
        "rivals",
        "against each other",
    ],
    JOINT: [
        "joint",
        "jointly",
        "alongside",
        "together",
        "together with",
        "allied with",
        "in coordination with",
        "coordinated with",
        "side by side",
        "backed by",
        "supported by",
        "with the support of",
        "air cover",
        "in support of",
        "on behalf of",
        "cooperation",
        "cooperating",
        # French
        "conjointe",
        "conjointement",
        "aux côtés",
        "ensemble",
        "soutenu par",
        "soutenus par",
        "soutenues par",
        "appuyé par",
        "appuyés par",
        "avec le soutien",
        "en coordination avec",
    ],
    # talks about a fight, calls to stop or prevent it, warnings and threats of it, where no
    # parse reads the sentence (Arabic): "a meeting between A and B to stop the clashes", "A
    # warned of possible clashes with B"
    TALKS: [
        "talks",
        "meeting",
        "negotiations",
        "mediation",
        "reconciliation",
        "to stop",
        "to prevent",
        "to end",
        "to avoid",
        "اجتماع",
        "لقاء",
        "محادثات",
        "مفاوضات",
        "وساطة",
        "مصالحة",
        "تهدئة",
        "هدنة",
        "وقف",
        "منع",
        "تجنب",
        "إنهاء",
        "اتفاق",
        "حذر",
        "يحذر",
        "تحذير",
        "محتملة",
        "محتمل",
        "احتمال",
        "هدد",
        "يهدد",
        "تهدد",
        "تهديد",
        # French
        "pourparlers",
        "négociations",
        "réunion",
        "rencontre",
        "médiation",
        "réconciliation",
        "pour mettre fin",
        "mettre fin",
        "pour arrêter",
        "pour éviter",
        "pour empêcher",
        "cessez-le-feu",
        "trêve",
        "a mis en garde",
        "menace",
        "menacé",
        "éventuels",
        "éventuelles",
        "possibles",
    ],
}


#: phrases that refer back to actors named before: "each" (both of the last two), "one" (the
#: last), "own" (the last, where its own sentence names no actor before it), "kin" (the last
#: named with the same word: "A-backed rebels … the rebels") or "speaker" (the last to speak)
REFERENCES: dict[str, str] = {
    **{
        f"{det} {noun}": "each"
        for det in ("both", "the two", "the 2", "the rival", "the warring")
        for noun in (
            "sides groups factions parties forces rivals militias organizations organisations "
            "movements armies formations camps"
        ).split()
    },
    **{
        f"the {noun}": "one"
        for noun in "group militants jihadists militia movement organization organisation".split()
    },
    # "B fighters held the hills. A fighters attacked *them*": an object pronoun stands for
    # the last actor of the sentences before, when this sentence does not name it ("they",
    # a subject, is as often the speaker of the sentence before: not read)
    "them": "one",
    # "A sent reinforcements. *Its fighters* then attacked B": a group's own, in a sentence
    # that does not name it
    **{
        f"{det} {noun}": "own"
        for det in ("its", "their")
        for noun in "fighters forces troops militants gunmen units members men".split()
    },
    # "Syrian rebels backed by A … *the rebels* were battling B": the group last named with
    # the same word ("kin"), in its sentence or the two before
    **{
        f"{det} {noun}": "kin"
        for det in ("the", "these", "those")
        for noun in "rebels insurgents militiamen factions".split()
    },
    # "…,” *it added*": a statement's "it" is the one that spoke last ("the SDF said")
    **{f"{who} {verb}": "speaker" for who in ("it", "they") for verb in ("said", "added")},
}


class RuleError(ValueError):
    """The rules cannot be compiled; ``problems`` are (key path, message) pairs."""

    def __init__(self, problems: list[tuple[tuple[Any, ...], str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(m for _, m in problems))


@dataclass(frozen=True, slots=True)
class Term:
    """A keyword term: one phrase, or phrases with gaps between them."""

    set_name: str
    written: str
    #: (min, max) words allowed between consecutive parts
    gaps: tuple[tuple[int, int], ...]

    @property
    def parts(self) -> int:
        return len(self.gaps) + 1


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    any: frozenset[str]
    all: frozenset[str]
    not_: frozenset[str]
    min_actors: int
    actors: frozenset[str] | None
    pairs: tuple[frozenset[str], ...] | None
    same_camp: bool
    opposed: bool
    within: Literal["sentence", "paragraph", "article", "words"]
    window: int
    scope: Literal["title", "body", "any"]
    unless: frozenset[str]
    unless_action: Literal["suppress", "downgrade"]
    confirm: frozenset[str]
    severity: Severity
    min_score: float
    mode: Literal["live", "shadow"]
    channels: tuple[str, ...]
    digest: float | None = None
    #: a quarrel counts as it is, not only once it turns violent (``RuleSettings.quarrels``)
    quarrels: bool = False
    #: every keyword set the rule looks at; the sets whose terms anchor a match (any, all)
    sets: frozenset[str] = field(init=False)
    anchors: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "sets", self.any | self.all | self.not_ | self.unless | self.confirm
        )
        object.__setattr__(self, "anchors", self.any | self.all)


@dataclass(frozen=True, slots=True)
class NameKey:
    """An automaton key that is an actor's name."""

    kind: ClassVar[str] = "actor"
    key: str
    alias: AliasKey


@dataclass(frozen=True, slots=True)
class ExclusionKey:
    """A longer phrase that holds an actor's name but means something else."""

    kind: ClassVar[str] = "exclude"
    key: str
    actor: str


@dataclass(frozen=True, slots=True)
class ReferenceKey:
    """A phrase that refers back to actors named before ("the two groups")."""

    kind: ClassVar[str] = "ref"
    key: str
    #: "each" (both of the last two actors), "one" (the last), "own" ("its fighters"),
    #: "kin" ("the rebels": the last named with the same word) or "speaker" ("it said")
    how: str


@dataclass(frozen=True, slots=True)
class TermKey:
    """A keyword term, or one part of a gapped term ("fighting ... between")."""

    kind: ClassVar[str] = "term"
    key: str
    term: int
    part: int
    set_name: str
    gapped: bool


#: what the automaton holds for a key (several records when keys coincide)
Payload = NameKey | ExclusionKey | ReferenceKey | TermKey
