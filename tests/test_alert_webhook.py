"""Webhooks: signed bodies, idempotency keys stable across retries, failed and retried."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import pytest

from monitor.cli import main
from tests.conftest import Feed, LocalServer, Request, Response, make_config


def setup(
    tmp_path: Path, server: LocalServer, channel: dict[str, Any] | None = None, **options: Any
) -> str:
    """A feed with one clash, and a configuration sending it to ``channel`` (by default a
    webhook to /hook with ``options``)."""
    feed = Feed()
    feed.add("Border clash", "Hizbollah fighters clashed with regime forces near Qusayr.")
    server.route("/feed.xml", feed)
    config = make_config(
        tmp_path,
        sources=[{"name": "desk", "url": server.url("/feed.xml")}],
        channels={"hook": channel or {"type": "webhook", "url": server.url("/hook"), **options}},
        delivery={"retry_base": "50ms"},
    )
    return str(config)


def test_body_is_signed_with_hmac_sha256(
    tmp_path: Path, server: LocalServer, monkeypatch: pytest.MonkeyPatch
):
    got: list[Request] = []
    server.route("/hook", lambda r: (got.append(r), Response(204))[1])
    monkeypatch.setenv("TEST_HOOK_SECRET", "correct horse")
    config = setup(tmp_path, server, secret="${TEST_HOOK_SECRET}")
    assert main(["--config", config, "once"]) == 0
    [req] = got
    expected = hmac.new(b"correct horse", req.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(req.headers["x-monitor-signature"], "sha256=" + expected)
    assert req.json()["explanation"]["rule"] == "infighting"


def test_body_tells_the_alert_not_a_delivery_state(
    tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    """A receiver used to read "status": "pending" in every body (the row's state while it
    was being sent); the body is the alert, and ``alerts --json`` tells how delivery went."""
    got: list[Request] = []
    server.route("/hook", lambda r: (got.append(r), Response(204))[1])
    config = setup(tmp_path, server)
    assert main(["--config", config, "once"]) == 0
    [req] = got
    body = req.json()
    assert "status" not in body
    assert body["kind"] == "alert" and body["actors"] == ["Hezbollah", "Assad regime"]
    capsys.readouterr()
    assert main(["--config", config, "alerts", "--json"]) == 0
    [row] = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert row["status"] == "sent" and row["id"] == body["id"] and row["attempts"] == 1


def test_idempotency_key_is_the_same_on_every_retry(tmp_path: Path, server: LocalServer):
    answers = iter([Response(503), Response(502), Response(200)])
    got: list[Request] = []
    server.route("/hook", lambda r: (got.append(r), next(answers))[1])
    config = setup(tmp_path, server)
    for _ in range(3):
        assert main(["--config", config, "once"]) == 0
        time.sleep(0.3)  # past the (50 ms, doubling) backoff
    assert len(got) == 3
    keys = {r.headers["idempotency-key"] for r in got}
    assert len(keys) == 1 and next(iter(keys)).startswith("monitor-1-")


def test_failed_alert_is_listed_and_can_be_retried(
    tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
):
    server.route("/hook", Response(400, b"bad payload"))
    config = setup(tmp_path, server)
    assert main(["--config", config, "once"]) == 0
    capsys.readouterr()
    assert main(["--config", config, "alerts", "--failed", "--json"]) == 0
    [failed] = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert failed["status"] == "failed" and failed["title"] == "Border clash"
    server.route("/hook", Response(200))
    assert main(["--config", config, "alerts", "--retry", str(failed["id"])]) == 0
    assert capsys.readouterr().out.strip() == f"alert #{failed['id']}: sent"
    assert len(server.seen("/hook")) == 2
    assert main(["--config", config, "alerts", "--retry", "999"]) == 1
    assert "no alert #999" in capsys.readouterr().err


def test_apprise_channel_delivers_through_its_json_service(tmp_path: Path, server: LocalServer):
    got: list[Request] = []
    server.route("/apprise", lambda r: (got.append(r), Response(200))[1])
    apprise = {"type": "apprise", "urls": [f"json://127.0.0.1:{server.port}/apprise"]}
    config = setup(tmp_path, server, apprise)
    assert main(["--config", config, "once"]) == 0
    [req] = got
    body = req.json()
    assert body["title"] == "[HIGH] Hezbollah ⟷ Assad regime: clashed — Border clash"
    assert "“Hizbollah fighters clashed with regime forces near Qusayr.”" in body["message"]
    assert "**" not in body["message"]  # prose: no markdown markers


def shipped_vocabulary() -> dict[str, Any]:
    import yaml

    shipped = yaml.safe_load(
        (Path(__file__).resolve().parents[1] / "config" / "monitor.yaml").read_text()
    )
    return {"conflict": shipped["conflict"], "keywords": shipped["keywords"]}


def test_body_explains_who_fights_whom(tmp_path: Path, server: LocalServer):
    got: list[Request] = []
    server.route("/hook", lambda r: (got.append(r), Response(204))[1])
    feed = Feed()
    feed.add(
        "Ambush near Qusayr",
        "On Sunday, two Hizbollah fighters were killed in an ambush by forces loyal to Assad.",
    )
    server.route("/feed.xml", feed)
    config = make_config(
        tmp_path,
        sources=[{"name": "desk", "url": server.url("/feed.xml")}],
        channels={"hook": {"type": "webhook", "url": server.url("/hook")}},
        rules=[{"name": "infighting", "any": ["assault", "fight", "clash"], "min_actors": 2}],
        **shipped_vocabulary(),
    )
    assert main(["--config", str(config), "once"]) == 0
    [req] = got
    clashes = req.json()["explanation"]["clashes"]
    assert {(tuple(c["attacker"]), tuple(c["target"])) for c in clashes} == {
        (("Assad regime",), ("Hezbollah",))
    }
    assert (
        "forces loyal to Assad [Assad regime] (attacker) → ambush → Hizbollah [Hezbollah] (target)"
        in [c["explanation"] for c in clashes]
    )


def test_a_missing_model_does_not_stop_the_daemon(tmp_path: Path, server: LocalServer):
    got: list[Request] = []
    server.route("/hook", lambda r: (got.append(r), Response(204))[1])
    feed = Feed()
    feed.add("Qusayr", "On Sunday, fighters of Hizbollah and regime forces clashed near the town.")
    server.route("/feed.xml", feed)
    config = make_config(
        tmp_path,
        sources=[{"name": "desk", "url": server.url("/feed.xml")}],
        channels={"hook": {"type": "webhook", "url": server.url("/hook")}},
        rules=[{"name": "infighting", "any": ["assault", "fight", "clash"], "min_actors": 2}],
        nlp={"model": "en_core_web_missing"},
        **shipped_vocabulary(),
    )
    assert main(["--config", str(config), "once"]) == 0
    [req] = got  # word order decided
    assert set(req.json()["actors"]) == {"Hezbollah", "Assad regime"}
