"""One alert per story: near-duplicates measured on our stories, and copies end to end."""

from __future__ import annotations

import hashlib
import json
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest

from monitor.alert.stories import StoryPolicy, fingerprint, resemblance
from monitor.cli import main, read_article_file
from monitor.models import StoryRef
from tests.conftest import Feed, LocalServer, Request, Response, make_config

STORIES = Path(__file__).parent / "data" / "stories"


def signatures() -> dict[str, bytes]:
    out = {}
    for path in sorted(STORIES.glob("*.txt")):
        title, body = read_article_file(str(path))
        out[path.name] = fingerprint(title, body)
    return out


def test_copies_resemble_each_other_and_other_stories_do_not():
    sigs = signatures()
    same, different = [], []
    for a, b in combinations(sigs, 2):
        score = resemblance(sigs[a], sigs[b])
        (same if a[0] == b[0] == "a" else different).append((score, a, b))
    print("\n".join(f"{s:.2f} {a} ~ {b}" for s, a, b in sorted(same + different)))
    threshold = StoryPolicy().threshold
    assert min(same)[0] >= threshold + 0.2, min(same)
    assert max(different)[0] <= threshold - 0.2, max(different)


def test_fingerprints_stay_those_earlier_versions_stored():
    # signatures in existing databases were made by datasketch 2.0's MinHash (affine32, seed
    # 1, 128 permutations); the code that replaced it must make the very same bytes, or every
    # story open at an upgrade would be raised again
    sig = fingerprint(
        "Clashes near Qusayr",
        "Hezbollah fighters clashed with regime forces near Qusayr on Sunday, a monitor said.",
    )
    assert len(sig) == 4 + 128 * 8
    assert hashlib.sha256(sig).hexdigest() == (
        "0de1125512cccd07b48b1ac672850a6692d2a72eb84174c5bb1615de12144593"
    )


def test_policy_follow_ups_and_escalation():
    sig = signatures()["a0_original.txt"]
    policy = StoryPolicy(threshold=0.5, max_followups=1, escalate_at=3)
    story = StoryRef(7, sig, ("desk",), followups=0, escalated=False)
    same_outlet = policy.decide(sig, "desk", [story])
    assert (same_outlet.story_id, same_outlet.new_outlet, same_outlet.followup) == (7, False, False)
    second = policy.decide(sig, "wire", [story])
    assert (second.followup, second.escalate, second.outlets) == (True, False, 2)
    story = StoryRef(7, sig, ("desk", "wire"), followups=1, escalated=False)
    third = policy.decide(sig, "agency", [story])
    assert (third.followup, third.escalate, third.outlets) == (False, True, 3)
    other = signatures()["b0_other_incident.txt"]
    assert policy.decide(other, "wire", [story]).story_id is None


@pytest.fixture
def five_outlets(tmp_path: Path, server: LocalServer) -> dict[str, Any]:
    received: list[dict[str, Any]] = []

    def hook(req: Request) -> Response:
        received.append(req.json())
        return Response(200)

    server.route("/hook", hook)
    sources = []
    feeds = []
    for i, name in enumerate(sorted(STORIES.glob("a*.txt"))):
        title, body = read_article_file(str(name))
        feed = Feed(f"outlet {i}")
        feeds.append((feed, title, body, i))
        server.route(f"/o{i}.xml", feed)
        sources.append({"name": f"outlet-{i}", "url": server.url(f"/o{i}.xml")})
    config = make_config(
        tmp_path,
        sources=sources,
        channels={"hook": {"type": "webhook", "url": server.url("/hook")}},
        delivery={"max_followups": 3, "escalate_at": 3},
    )
    # the outlets were read once before the story broke (a first poll is a backlog, whose
    # copies of known stories join them without a word)
    assert main(["--config", str(config), "once"]) == 0
    for feed, title, body, i in feeds:
        feed.add(title, body, guid=f"urn:outlet{i}:1", link=f"https://outlet{i}.example/1")
    return {"config": str(config), "received": received}


def test_five_copies_from_five_outlets_make_one_alert_and_follow_ups(
    five_outlets: dict[str, Any], capsys: pytest.CaptureFixture[str]
):
    assert main(["--config", five_outlets["config"], "once", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert sum(s["new"] for s in report["sources"]) == 5
    kinds = [m["kind"] for m in five_outlets["received"]]
    assert kinds.count("alert") == 1
    assert kinds.count("followup") == 3  # capped by max_followups
    assert kinds.count("escalation") == 1
    assert kinds[0] == "alert"  # follow-ups wait for their story's first alert
    assert len({m["story"] for m in five_outlets["received"]}) == 1
    escalation = next(m for m in five_outlets["received"] if m["kind"] == "escalation")
    assert escalation["note"].startswith("now reported by 3 outlets, the latest ")
    followup = next(m for m in five_outlets["received"] if m["kind"] == "followup")
    assert followup["note"].startswith("also reported by outlet-")
    # a second pass changes nothing
    assert main(["--config", five_outlets["config"], "once"]) == 0
    assert len(five_outlets["received"]) == 5


def test_a_home_page_and_its_own_feed_are_one_outlet(
    tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    """A site's home page announces its feed, and the desk also configured that feed: two
    sources, one outlet. Its story alerts once, with no "also reported by" itself; `check`
    says so, and `status` shows what the home page resolved to."""
    feed = Feed()
    feed.add("Regime forces and Hizbollah clash", "Regime forces clashed with Hizbollah at dawn.")
    server.route("/feed.xml", feed)
    home = (
        '<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml">'
        "</head><body><p>Levant news</p></body></html>"
    )
    server.route("/", Response(200, home.encode(), {"Content-Type": "text/html"}))
    config = make_config(
        tmp_path,
        sources=[
            {"name": "levant-home", "url": server.url("/")},
            {"name": "levant-feed", "url": server.url("/feed.xml")},
        ],
    )
    assert main(["--config", str(config), "once"]) == 0
    capsys.readouterr()
    assert main(["--config", str(config), "alerts", "--json"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [r["kind"] for r in rows] == ["alert"]
    assert main(["--config", str(config), "check"]) == 0
    err = capsys.readouterr().err
    assert "levant-home, levant-feed read the same feed" in err
    assert main(["--config", str(config), "status"]) == 0
    out = capsys.readouterr().out
    assert f"{server.url('/')} → {server.url('/feed.xml')}" in out


def _outlets(
    tmp_path: Path, server: LocalServer, n: int, **extra: Any
) -> tuple[list[Feed], list[Request], Path]:
    """``n`` outlets' feeds (outlet-0 …), empty, alerting to a receiver: the feeds, what the
    receiver got, the configuration (``extra``: more of it)."""
    feeds = [Feed(f"outlet {i}") for i in range(n)]
    for i, feed in enumerate(feeds):
        server.route(f"/o{i}.xml", feed)
    got: list[Request] = []
    server.route("/hook", lambda r: (got.append(r), Response(204))[1])
    config = make_config(
        tmp_path,
        sources=[{"name": f"outlet-{i}", "url": server.url(f"/o{i}.xml")} for i in range(n)],
        channels={"hook": {"type": "webhook", "url": server.url("/hook")}},
        **extra,
    )
    return feeds, got, config


REWRITES = [
    # (first report, the same event told in other words, a different event of the same pair)
    (
        (
            "Hezbollah and HTS fighters clash near Qusayr",
            "Fighters from Hezbollah clashed with HTS near Qusayr on Sunday, residents said.",
        ),
        (
            "Six dead as Hezbollah and HTS fighters clash near Qusayr",
            "Six people were killed when Hizbollah gunmen and HTS fighters exchanged fire on "
            "the outskirts of Qusayr overnight, a monitor said. The road to Homs was closed.",
        ),
        (
            "Hezbollah and HTS fighters clash in Zabadani",
            "Hezbollah fighters clashed with HTS in Zabadani, far from the earlier fighting.",
        ),
    ),
]


@pytest.mark.parametrize(("first", "rewrite", "elsewhere"), REWRITES)
def test_the_same_event_told_in_other_words_joins_its_story_and_another_place_does_not(
    tmp_path: Path,
    server: LocalServer,
    capsys: pytest.CaptureFixture[str],
    first: tuple[str, str],
    rewrite: tuple[str, str],
    elsewhere: tuple[str, str],
):
    """Not a copy (few shared words), but the same actors, the same place, the same hours:
    one story, a follow-up, not a second alert. The same actors elsewhere: a story of its own."""
    feeds, got, config = _outlets(tmp_path, server, 3)
    feeds[0].add(*first)
    assert main(["--config", str(config), "once"]) == 0
    feeds[1].add(*rewrite)
    feeds[2].add(*elsewhere)
    assert main(["--config", str(config), "once"]) == 0
    capsys.readouterr()
    kinds = {r.json()["title"]: (r.json()["kind"], r.json()["story"]) for r in got}
    assert kinds[first[0]][0] == "alert"
    assert kinds[rewrite[0]] == ("followup", kinds[first[0]][1])
    assert kinds[elsewhere[0]][0] == "alert" and kinds[elsewhere[0]][1] != kinds[first[0]][1]


def test_outlets_reporting_a_story_within_the_wait_are_one_follow_up(
    tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    """A story breaks on four outlets at once: its alert, then one follow-up naming the three
    others, not three follow-ups in the same minute."""
    # due by the pass's end
    feeds, got, config = _outlets(
        tmp_path, server, 4, delivery={"escalate_at": 0, "followup_wait": "1ms"}
    )
    assert main(["--config", str(config), "once"]) == 0  # read before the news
    for i, feed in enumerate(feeds):
        feed.add(
            "Hezbollah and regime forces clash near Qusayr",
            "Hezbollah fighters clashed with regime forces near Qusayr on Sunday, killing "
            "four, residents said. The road to Homs was closed for hours.",
            guid=f"urn:o{i}",
            link=f"https://outlet{i}.example/1",
        )
    assert main(["--config", str(config), "once"]) == 0
    capsys.readouterr()
    bodies = [r.json() for r in got]
    assert [b["kind"] for b in bodies] == ["alert", "followup"]
    others = sorted({f"outlet-{i}" for i in range(4)} - {bodies[0]["source"]})
    note = bodies[1]["note"]
    assert note.startswith("also reported by ") and note.endswith(", 4 outlets so far")
    assert (
        sorted(
            note[len("also reported by ") : -len(", 4 outlets so far")]
            .replace(" and ", ", ")
            .split(", ")
        )
        == others
    )
    assert main(["--config", str(config), "alerts", "--json"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert sorted(r["status"] for r in rows) == ["sent"] * 4  # each row recorded sent
