"""The gallery: every kind of message (alert, follow-up, escalation, edit notice, digest, source
health) rendered for every channel (console, email text and HTML, Slack, webhook) from real
matches of the example configuration, written under ``test-output/gallery/`` (or
``$MONITOR_GALLERY_DIR``) for a person to read, and checked for what an analyst must never see:
markdown markers in plain text, offsets, the headline quoted twice, a keyword listed twice,
Slack's limits broken.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from monitor.alert import alert_payload, notice_payload
from monitor.alert.console import ConsoleChannel
from monitor.alert.email import EmailSettings, build_digest, build_message, build_notice
from monitor.alert.planner import AlertPlanner
from monitor.alert.slack import (
    BLOCK_LIMIT,
    HEADER_LIMIT,
    SECTION_LIMIT,
    TEXT_LIMIT,
    SlackChannel,
    SlackSettings,
    digest_blocks,
)
from monitor.alert.stories import StoryPolicy
from monitor.compiled import load_checked
from monitor.models import Alert, AlertStatus, Article, Match, Notice
from monitor.plan import Earlier, Edit, Stored

ROOT = Path(__file__).resolve().parents[1]
GALLERY = Path(os.environ.get("MONITOR_GALLERY_DIR", ROOT / "test-output" / "gallery"))
NOW = datetime(2026, 11, 30, 9, 57, tzinfo=UTC)
BEIRUT = ZoneInfo("Asia/Beirut")

# our own sentences: the page text starts with the headline, as many sites' pages do
HEADLINE = "Hezbollah and Syrian army clash near Qusayr"
BODY = (
    f"{HEADLINE}\n\n"
    "Hezbollah fighters clashed with the Syrian army near Qusayr on Sunday, killing four, "
    "a war monitor said. Heavy clashes continued overnight and the clashes spread to two "
    "villages near the border with Lebanon.\n\n"
    "Residents said the fighting was the worst in the area for years."
)


@pytest.fixture(scope="module")
def matches() -> list[Match]:
    _, engine = load_checked(ROOT / "config" / "monitor.yaml")
    found = engine.match(HEADLINE, BODY, when=NOW)
    live = [m for m in found if m.mode == "live"]
    assert live, "the example configuration must match the gallery's article"
    return live


def stored(i: int, outlet: str, m: Match) -> Stored:
    a = Article(
        outlet, str(i), f"https://{outlet}.example/news/{i}", None, HEADLINE, BODY, NOW, NOW, str(i)
    )
    return Stored(i, a, outlet, [m], NOW)


def alerts(matches: list[Match]) -> dict[str, Alert]:
    """One alert of each kind, with the words the planner writes for them."""
    m = matches[0]
    plan = AlertPlanner(lambda _: ["desk"], StoryPolicy(escalate_at=3)).plan(
        [stored(i, o, m) for i, o in enumerate(["levant-wire", "desk-agency", "border-blog"])]
    )
    planned = [a for pm in plan.matches for a in pm.alerts]
    by_kind: dict[str, Any] = {}
    for a in planned:
        by_kind.setdefault(a.kind, a)

    def alert(kind: str, outlet: str, note: str | None, n: int) -> Alert:
        return Alert(
            n,
            "desk",
            AlertStatus.PENDING,
            0,
            NOW,
            m,
            HEADLINE,
            f"https://{outlet}.example/news/{n}",
            outlet,
            NOW,
            kind=kind,  # type: ignore[arg-type]
            story_id=1,
            note=note,
            story_title=HEADLINE,
        )

    edited = AlertPlanner(lambda _: ["desk"]).plan_edits(
        [
            Edit(
                stored(4, "levant-wire", replace(m, rule="gone-rule")),
                HEADLINE,
                BODY + "\n\nA ceasefire was agreed in the evening.",
                [Earlier(7, m.rule, "live", ("desk",))],
            )
        ]
    )
    [notice] = edited.notices
    return {
        "alert": alert("alert", "levant-wire", by_kind["alert"].note, 1),
        "followup": alert("followup", "desk-agency", by_kind["followup"].note, 2),
        "escalation": alert("escalation", "border-blog", by_kind["escalation"].note, 3),
        "edit": alert("edit", "levant-wire", notice.note, 4),
    }


HEALTH = Notice(
    9,
    "border-blog",
    "failing",
    "border-blog failed 5 polls in a row (dns: name not found); last success 2026-11-29 08:00 UTC",
    "desk",
    NOW,
)
MAIL = EmailSettings.model_validate(
    {
        "type": "email",
        "url": "smtp://127.0.0.1:25",
        "from": "monitor@desk.example",
        "to": ["analyst@desk.example"],
    }
)


def console(alert: Alert | None = None, digest: list[Alert] | None = None) -> str:
    out = io.StringIO()
    channel = ConsoleChannel("console", out, BEIRUT)
    if alert is not None:
        asyncio.run(channel.send(alert))
    if digest is not None:
        asyncio.run(channel.send_digest(digest))
    return out.getvalue()


def slack_notice(channel: SlackChannel) -> dict[str, Any]:
    """The body the Slack channel posts for a source-health notice."""
    sent: list[dict[str, Any]] = []

    async def capture(body: dict[str, Any]) -> Any:
        sent.append(body)

    channel._post = capture  # type: ignore[method-assign]  # the body, not the network
    asyncio.run(channel.send_notice(HEALTH))
    return sent[0]


def mail_parts(msg: EmailMessage) -> dict[str, str]:
    return {p.get_content_type(): p.get_content() for p in msg.walk() if not p.is_multipart()}


def slack_texts(payload: dict[str, Any]) -> Iterator[tuple[str, str, int]]:
    """(where, text, limit) of every text in a Slack payload."""
    yield "text", payload["text"], TEXT_LIMIT
    for b in payload.get("blocks", []):
        if b["type"] == "header":
            yield "header", b["text"]["text"], HEADER_LIMIT
        elif b["type"] == "section":
            yield "section", b["text"]["text"], SECTION_LIMIT
        else:
            for e in b["elements"]:
                yield "context", e["text"], SECTION_LIMIT


OFFSETS = re.compile(r"\[\d+:\d+\]|\b(title|body)\[")


def check_plain(name: str, text: str) -> None:
    assert "**" not in text and "__" not in text, f"{name}: markdown markers in plain text"
    assert not OFFSETS.search(text), f"{name}: offsets in plain text"
    assert "\\xa0" not in text and "\xa0" not in text, f"{name}: raw non-breaking spaces"
    sentences = [s.strip("“” ") for s in re.split(r"(?<=[.!?”])\s+|\n", text) if len(s) > 30]
    repeated = {s for s in sentences if sentences.count(s) > 1}
    assert not repeated, f"{name}: a sentence twice: {repeated}"


def test_every_message_for_every_channel_reads_well(matches: list[Match]):
    GALLERY.mkdir(parents=True, exist_ok=True)
    kinds = alerts(matches)
    slack = SlackChannel(
        "desk-slack", SlackSettings(type="slack", url="https://hooks.example/x"), None, BEIRUT
    )  # type: ignore[arg-type]  # rendering needs no client
    written = []

    def save(name: str, content: str) -> None:
        (GALLERY / name).write_text(content, encoding="utf-8")
        written.append(name)

    for kind, alert in kinds.items():
        text = console(alert)
        check_plain(f"console {kind}", text)
        save(f"{kind}.console.txt", text)

        msg = build_message(alert, MAIL, BEIRUT)
        body = mail_parts(msg)
        check_plain(f"email {kind}", body["text/plain"])
        assert "\n" not in msg["Subject"] and len(msg["Subject"]) <= 200
        save(f"{kind}.email.txt", f"Subject: {msg['Subject']}\n\n{body['text/plain']}")
        save(f"{kind}.email.html", body["text/html"])

        payload = slack.payload(alert)
        for where, t, limit in slack_texts(payload):
            assert len(t) <= limit, f"slack {kind} {where}: over Slack's limit"
        assert len(payload.get("blocks", [])) <= BLOCK_LIMIT
        save(f"{kind}.slack.json", json.dumps(payload, ensure_ascii=False, indent=2))
        save(f"{kind}.webhook.json", json.dumps(alert_payload(alert), ensure_ascii=False, indent=2))

        # the headline once; in an alert, the evidence sentence once and not the headline
        assert body["text/plain"].count(HEADLINE) == 1, f"email {kind}: headline twice"
        assert text.count(HEADLINE) == 1, f"console {kind}: headline twice"
        if kind in ("alert", "escalation"):
            assert "“Hezbollah fighters clashed with the Syrian army near Qusayr" in text
            assert (
                "<strong>Hezbollah</strong> fighters <strong>clashed</strong>"
                in (body["text/html"])
            )
            [keywords] = [ln for ln in text.splitlines() if ln.startswith("Keywords: ")]
            words = keywords.split(" · ")[0].removeprefix("Keywords: ").split(", ")
            assert len(words) == len({w.lower().rstrip("es") for w in words}), keywords
            # the time in UTC and in the desk's timezone
            assert "2026-11-30 09:57 UTC (11:57 EET)" in text
            sections = [t for w, t, _ in slack_texts(payload) if w == "section"]
            assert sum(HEADLINE in t for t in sections) == 1, "slack: headline twice"

    first = console(kinds["alert"]).splitlines()
    assert first[0] == "[HIGH] Hezbollah ⟷ Syrian government: clash"
    assert console(kinds["followup"]).startswith(
        "[HIGH] Also reported by desk-agency, 2 outlets so far.\n"
    )
    assert "Now reported by 3 outlets, the latest border-blog." in console(kinds["escalation"])
    assert console(kinds["edit"]).startswith(
        "[EDITED] No longer matches after an edit: a paragraph was removed: “A ceasefire"
    )

    # a digest rule's alerts: three outlets' reports of the period
    digest = [
        replace(kinds[k], kind="alert", note=None, article_title=f"{HEADLINE}, day {n}")
        for n, k in enumerate(("alert", "followup", "escalation"), 1)
    ]
    text = console(digest=digest)
    check_plain("console digest", text)
    save("digest.console.txt", text)
    msg = build_digest(digest, MAIL, BEIRUT)
    body = mail_parts(msg)
    check_plain("email digest", body["text/plain"])
    save("digest.email.txt", f"Subject: {msg['Subject']}\n\n{body['text/plain']}")
    save("digest.email.html", body["text/html"])
    blocks = digest_blocks(digest, BEIRUT)
    for where, t, limit in slack_texts({"text": "", "blocks": blocks}):
        assert len(t) <= limit, f"slack digest {where}"
    save("digest.slack.json", json.dumps(blocks, ensure_ascii=False, indent=2))

    msg = build_notice(HEALTH, MAIL)
    check_plain("email health", mail_parts(msg)["text/plain"])
    save("health.email.txt", f"Subject: {msg['Subject']}\n\n{mail_parts(msg)['text/plain']}")
    save("health.webhook.json", json.dumps(notice_payload(HEALTH), ensure_ascii=False, indent=2))
    note = slack_notice(slack)
    assert note["text"].startswith("[SOURCE FAILING] border-blog failed 5 polls in a row")
    save("health.slack.json", json.dumps(note, ensure_ascii=False, indent=2))
    assert len(written) == 27
    assert all((GALLERY / n).stat().st_size > 0 for n in written)


def test_keywords_are_listed_once_per_word():
    from monitor.alert.view import keywords

    assert keywords(["Clashes", "Heavy clashes", "clashes"]) == ("heavy clashes",)
    assert keywords(["clashed", "clash", "fighting"]) == ("clashed", "fighting")
    assert keywords(["HTS", "attacked"]) == ("HTS", "attacked")
    # a verb whose base ends in "e": "trade fire" and "traded fire" are one
    assert keywords(["trade fire", "traded fire", "exchanged fire"]) == (
        "trade fire",
        "exchanged fire",
    )


def test_a_headline_that_opens_the_text_is_not_quoted_again(matches: list[Match]):
    from monitor.alert.view import view

    alert = alerts(matches)["alert"]
    m = alert.match
    only_title = replace(m, spans=tuple(s for s in m.spans if s.field == "title"))
    v = view(replace(alert, match=only_title))
    assert v.quote is None  # the headline is the evidence: shown once, as the headline
    same = [s for s in m.spans if s.field == "title"]
    if same:
        as_body = replace(same[0], field="body")
        v = view(replace(alert, match=replace(m, spans=(as_body,))))
        assert v.quote is None
