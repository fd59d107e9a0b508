"""Detection on sentence frames of our own (tests/frames/frames.yaml), each filled with every
pair of tracked actors in several of their names, places, days and numbers: positives alert
with their two actors, look-alikes stay silent, and a frame's fillings agree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from monitor import config
from monitor.match import frames
from monitor.match.compiler import compile_rules
from monitor.match.engine import Engine

ROOT = Path(__file__).resolve().parents[1]
TABLE = yaml.safe_load((ROOT / "tests" / "frames" / "frames.yaml").read_text())
RATCHET = json.loads((ROOT / "tests" / "data" / "ratchet" / "frames.json").read_text())


@pytest.fixture(scope="module")
def engine() -> Engine:
    return compile_rules(config.load(ROOT / "config" / "monitor.yaml", delivering=False).settings)


@pytest.fixture(scope="module")
def results(engine: Engine) -> list[frames.FrameResult]:
    return frames.run(engine, TABLE)


def test_the_table_covers_every_category_with_enough_frames():
    positives = [f for f in TABLE["frames"] if f["alert"]]
    negatives = [f for f in TABLE["frames"] if not f["alert"]]
    assert len(positives) >= 40 and len(negatives) >= 30
    assert len({f["id"] for f in TABLE["frames"]}) == len(TABLE["frames"])
    categories = {f["category"] for f in TABLE["frames"]}
    assert {"clear_positive", "noun_form", "passive", "cross_sentence", "proxy"} <= categories
    assert {
        "allies",
        "third_party",
        "denial",
        "prevention_hedge",
        "background_history",
    } <= categories


def test_every_frame_is_filled_with_other_actors_names_and_places():
    for frame, filled in frames.fill(TABLE):
        assert len(filled) >= 10, frame["id"]
        assert len({f.actors for f in filled}) >= 10, frame["id"]
        assert len({f.text for f in filled}) == len(filled), frame["id"]


def test_look_alike_frames_stay_silent_for_every_filling(results: list[frames.FrameResult]):
    summary = frames.summarise(results)
    print("\n".join(frames.report_lines(results)))
    wrong = [w for r in results if not r.positive for w in r.wrong]
    assert summary.false_alarm_share <= RATCHET["false_alarms"], wrong


def test_clash_frames_alert_with_their_actors(results: list[frames.FrameResult]):
    """The share found holds its floor over the frames some rule reads; a frame written
    ahead of any rule (``unread``: no filling found yet) is named, not hidden, and must leave
    that list as soon as a rule reads it."""
    unread = set(RATCHET.get("unread", {}))
    read = [r for r in results if r.frame not in unread]
    summary = frames.summarise(read)
    wrong = [w for r in read if r.positive for w in r.wrong]
    assert summary.found_share >= RATCHET["found"], wrong
    if summary.found_share > RATCHET["found"] + 0.001:
        print(f"above the ratchet: found {summary.found_share:.3f} (raise frames.json)")
    now_read = [r.frame for r in results if r.frame in unread and len(r.wrong) < r.fillings]
    assert not now_read, f"read now: take them out of frames.json's unread: {now_read}"


def test_fillings_of_a_frame_agree(results: list[frames.FrameResult]):
    varying = {r.frame: r.wrong for r in results if not r.invariant}
    assert set(varying) <= set(RATCHET["may_vary"]), varying


@pytest.mark.parametrize(
    ("text", "actors"),
    [
        # the shapes a desk reported silent (issue #21), in sentences of our own
        (
            "Hezbollah and HTS clashed on the outskirts of Qusayr, killing three.",
            {"Hezbollah", "HTS"},
        ),
        ("Hezbollah and HTS clashed on the frontline near Manbij.", {"Hezbollah", "HTS"}),
        ("Hezbollah and HTS exchanged fire on the border overnight.", {"Hezbollah", "HTS"}),
        ("HTS and Hezbollah clash on Syria-Lebanon border", {"Hezbollah", "HTS"}),
        (
            "Three HTS members were killed when they were ambushed by Islamic State gunmen.",
            {"HTS", "Islamic State"},
        ),
        ("Russia condemned the Turkish offensive against the SDF.", {"Turkey", "SDF"}),
        (
            "Fighting erupted between the Syrian Democratic Forces and HTS militants in the "
            "streets of Inkhil on Monday.",
            {"SDF", "HTS"},
        ),
        (
            "Syrian troops raided a depot run by Ahrar al-Sham fighters.",
            {"Syrian government", "NLF"},
        ),
    ],
)
def test_reported_silences_now_alert(engine: Engine, text: str, actors: set[str]):
    [match] = engine.match("", text, when=frames.table_date(TABLE))
    assert set(match.actor_names) == actors


@pytest.mark.parametrize(
    "text",
    [
        "غارات إسرائيلية على مواقع حزب الله والحرس الثوري",  # Israeli raids on A and B positions
        "اجتماع بين حزب الله وهيئة تحرير الشام لوقف الاشتباكات",  # a meeting to stop the clashes
        "غارات أمريكية استهدفت مواقع داعش وهيئة تحرير الشام",  # US raids targeted A and B positions
        "حذر حزب الله من اشتباكات محتملة مع هيئة تحرير الشام",  # A warned of clashes with B
        "هدد حزب الله بقصف مواقع هيئة تحرير الشام",  # A threatened to shell B's positions
        "نفى حزب الله وقوع اشتباكات مع هيئة تحرير الشام",  # A denied clashes with B
    ],
)
def test_arabic_look_alikes_stay_silent(engine: Engine, text: str):
    assert engine.match("", text, when=frames.table_date(TABLE)) == []


@pytest.mark.parametrize(
    ("text", "actors"),
    [
        # clashes between A and B in Qusayr
        ("اشتباكات بين حزب الله وهيئة تحرير الشام في القصير", {"Hezbollah", "HTS"}),
        # the SDF attacked IS positions in Deir ez-Zor (verb, the one who acts, the target)
        ("هاجمت قوات سوريا الديمقراطية مواقع لتنظيم داعش في دير الزور", {"SDF", "Islamic State"}),
        # Hezbollah's artillery shelling of HTS positions
        ("قصف مدفعي لحزب الله على مواقع هيئة تحرير الشام", {"Hezbollah", "HTS"}),
    ],
)
def test_arabic_clashes_alert(engine: Engine, text: str, actors: set[str]):
    [m] = engine.match("", text, when=frames.table_date(TABLE))
    assert set(m.actor_names) == actors


@pytest.mark.parametrize(
    ("text", "actors"),
    [
        (
            "Des combats ont éclaté entre le Hezbollah et Hayat Tahrir al-Cham près de Qousseir.",
            {"Hezbollah", "HTS"},
        ),
        (
            "Les Forces démocratiques syriennes ont attaqué des positions de l'État islamique.",
            {"SDF", "Islamic State"},
        ),
        ("L'armée turque a bombardé des positions des FDS près de Manbij.", {"Turkey", "SDF"}),
        ("De violents affrontements ont opposé les FDS à l'armée turque.", {"SDF", "Turkey"}),
    ],
)
def test_french_clashes_alert(engine: Engine, text: str, actors: set[str]):
    """French is read by word order, as Arabic is (the parser is English)."""
    [m] = engine.match("", text, when=frames.table_date(TABLE))
    assert set(m.actor_names) == actors


@pytest.mark.parametrize(
    "text",
    [
        # Israeli strikes on A and B positions: co-targets
        "Des frappes israéliennes contre des positions du Hezbollah et de Hayat Tahrir al-Cham.",
        # a meeting to end the fighting
        "Une réunion entre le Hezbollah et Hayat Tahrir al-Cham pour mettre fin aux combats.",
        # a denial
        "Le Hezbollah a démenti que ses combattants ont attaqué Hayat Tahrir al-Cham.",
        # allies together against a third
        "L'armée turque et les FDS ont combattu ensemble l'État islamique près de Raqqa.",
        # rumours of clashes
        "Des rumeurs d'affrontements entre le Hezbollah et Hayat Tahrir al-Cham circulent.",
    ],
)
def test_french_look_alikes_stay_silent(engine: Engine, text: str):
    assert engine.match("", text, when=frames.table_date(TABLE)) == []
