"""What README promises a developer: a new channel, or a new kind of source, is one module and
one line of its registry."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Literal

import pytest

from monitor.alert import ChannelContext, ChannelKind, registry
from monitor.cli import main
from monitor.config import load
from monitor.configbase import ChannelSettingsBase
from monitor.errors import ConfigError
from monitor.models import Alert, Delivery, Notice, Source, SourceState
from monitor.parse.feeds import make_article
from monitor.poll.context import PipelineContext
from monitor.poll.kinds import Entry, Fetched, Harvest, SourceKind
from monitor.poll.kinds import registry as source_kinds
from tests.conftest import Feed, LocalServer, Response, make_config

# -- a toy channel, as a new module would declare it ---------------------------------------


class NotebookSettings(ChannelSettingsBase):
    type: Literal["notebook"]
    #: a prefix for every line it writes
    heading: str = "ALERT"


class NotebookChannel:
    def __init__(self, name: str, settings: NotebookSettings) -> None:
        self.name = name
        self.settings = settings

    async def send(self, alert: Alert) -> Delivery:
        PAGES.append(f"{self.settings.heading}: {alert.article_title}")
        return Delivery(ok=True, reason="written")

    async def send_digest(self, alerts: Sequence[Alert]) -> Delivery:
        PAGES.append(f"{self.settings.heading}: {len(alerts)} alerts")
        return Delivery(ok=True, reason="written")

    async def send_notice(self, notice: Notice) -> Delivery:
        return Delivery(ok=True, reason="written")


def build(name: str, settings: NotebookSettings, _context: ChannelContext) -> NotebookChannel:
    return NotebookChannel(name, settings)


KIND = ChannelKind("notebook", NotebookSettings, build)
PAGES: list[str] = []


@pytest.fixture
def notebook(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setitem(registry.KINDS, KIND.type, KIND)  # the registry's one line
    PAGES.clear()
    return PAGES


def test_a_registered_channel_is_configured_and_receives_alerts(
    tmp_path: Path, server: LocalServer, notebook: list[str]
):
    feed = Feed()
    feed.add("Border clash", "Hezbollah fighters clashed with regime forces near Qusayr.")
    server.route("/feed.xml", feed)
    config = make_config(
        tmp_path,
        sources=[{"name": "desk", "url": server.url("/feed.xml")}],
        channels={"book": {"type": "notebook", "heading": "DESK"}},
    )
    assert main(["--config", str(config), "once"]) == 0
    assert notebook == ["DESK: Border clash"]


def test_its_settings_are_checked_like_any_channel_s(tmp_path: Path, notebook: list[str]):
    config = make_config(tmp_path, channels={"book": {"type": "notebook", "headng": "DESK"}})
    with pytest.raises(ConfigError) as e:
        load(config)
    assert "channels.book.headng: unknown key 'headng' (did you mean 'heading'?)" in str(e.value)


def test_an_unregistered_type_names_the_ones_there_are(tmp_path: Path):
    config = make_config(tmp_path, channels={"book": {"type": "notebook"}})
    with pytest.raises(ConfigError) as e:
        load(config)
    assert "channels.book: expected 'type' to be one of: console, webhook, slack, email" in str(
        e.value
    )


# -- a toy kind of source: a plain-text bulletin, one item per line ----------------------------


async def bulletin(
    source: Source, _ctx: PipelineContext, _state: SourceState, doc: Fetched, now: datetime
) -> Harvest:
    lines = [line for line in doc.body.decode().splitlines() if line.strip()]
    return Harvest(
        [Entry(make_article(source.name, line, doc.url, line, line, None, now)) for line in lines]
    )


BULLETIN = SourceKind("bulletin", bulletin)


def test_a_registered_kind_of_source_is_polled_stored_and_matched(
    tmp_path: Path,
    server: LocalServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    monkeypatch.setitem(source_kinds.KINDS, BULLETIN.name, BULLETIN)  # the registry's one line
    text = "Markets reopened in Idlib.\nHezbollah fighters clashed with regime forces.\n"
    server.route("/bulletin.txt", Response(200, text.encode(), {"Content-Type": "text/plain"}))
    config = make_config(
        tmp_path, sources=[{"name": "wire", "url": server.url("/bulletin.txt"), "kind": "bulletin"}]
    )
    assert main(["--config", str(config), "once", "--json"]) == 0
    [report] = json.loads(capsys.readouterr().out)["sources"]
    assert (report["status"], report["new"], report["matches"]) == ("ok", 2, 1)


def test_a_kind_no_one_registered_is_a_configuration_error(tmp_path: Path):
    config = make_config(
        tmp_path, sources=[{"name": "wire", "url": "http://x.example/", "kind": "bulletin"}]
    )
    with pytest.raises(ConfigError) as e:
        load(config)
    assert (
        "sources[0].kind: expected one of: auto, sitemap, feed, page, text; got 'bulletin'"
        in str(e.value)
    )
