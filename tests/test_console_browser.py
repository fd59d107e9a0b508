"""The console in a real browser (headless Chromium from Debian's packages, driven by Selenium
through Debian's chromedriver), as an analyst uses it after a pass: alerts filtered by an actor,
a word searched, a story opened, an alert marked wrong and an article as a miss, the
Evaluation page and `monitor eval --verdicts` changed by them, a pasted text explained by the
rule tester, a failing source shown failing with its reason. Each page's screenshot is written
under ``test-output/console/`` (README's pictures are these)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.cli import main
from tests.test_console import CLASH, QUIET, TOKEN, Client
from tests.test_console import desk as desk  # the same desk: a pass, then `monitor console`

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SHOTS = Path(__file__).resolve().parents[1] / "test-output" / "console"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    if not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)):
        why = "needs chromium and chromium-driver (Debian packages; `make test` installs them)"
        if os.environ.get("MONITOR_REQUIRE_SHARED") == "1":
            pytest.fail(f"missing, and CI expects it: {why}")
        pytest.skip(why)
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium never downloads a driver here
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # headless as root; and nothing of Chromium's own reaching out (updates, sync, Google's
    # hosts): on a closed network its attempts are refused, many at a time, at every start
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium'}",
        "--window-size=1280,1400",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()


def shot(driver: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def test_an_analyst_s_session_in_the_browser(
    desk: tuple[Client, str], browser: Any, capsys: pytest.CaptureFixture[str]
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    def arrived(part: str) -> None:
        """Wait for the navigation a click or a script started (Selenium does not)."""
        WebDriverWait(b, 10).until(lambda d: part in d.current_url)

    client, config = desk
    base = f"http://127.0.0.1:{client.port}"
    b = browser
    b.get(f"{base}/alerts")
    assert CLASH[0] in b.page_source
    shot(b, "alerts")
    # no script ran from the web's text (a hostile item's title is on the page, as text)
    assert b.execute_script("return window.__pwned === undefined")
    assert "<script>" in b.find_element(By.TAG_NAME, "main").text

    # filter by an actor: the select applies itself (the page's one script)
    Select(b.find_element(By.NAME, "actor")).select_by_visible_text("Iran")
    arrived("actor=Iran")
    assert "No alerts with these filters" in b.find_element(By.TAG_NAME, "main").text
    Select(b.find_element(By.NAME, "actor")).select_by_visible_text("Hezbollah")
    arrived("actor=Hezbollah")
    assert len(b.find_elements(By.CSS_SELECTOR, "article.card")) == 2

    # search a word: the article that did not alert is listed
    b.get(f"{base}/alerts")
    box = b.find_element(By.NAME, "q")
    box.send_keys("Crescent")
    box.submit()
    arrived("q=Crescent")
    assert QUIET[0] in b.find_element(By.CSS_SELECTOR, "section.articles").text
    assert "sign in to give verdicts" in b.page_source  # reading needs nothing, writing does

    # sign in, then mark an alert wrong and the article a miss
    b.get(f"{base}/login")
    b.find_element(By.NAME, "token").send_keys(TOKEN)
    b.find_element(By.CSS_SELECTOR, "main form button").click()
    arrived("/alerts")
    b.get(f"{base}/alerts?q=Crescent")
    shot(b, "search")
    b.find_element(By.CSS_SELECTOR, "details.missed summary").click()
    missed = b.find_element(By.CSS_SELECTOR, "details.missed form")
    choose = Select(missed.find_element(By.NAME, "actors"))
    choose.select_by_visible_text("Hezbollah")
    choose.select_by_visible_text("Assad regime")
    missed.find_element(By.NAME, "reason").send_keys("a shooting at a post")
    missed.find_element(By.TAG_NAME, "button").click()
    arrived("#article-")
    assert "verdict: missed" in b.find_element(By.CSS_SELECTOR, "section.articles").text

    b.get(f"{base}/alerts?actor=Hezbollah")
    card = next(c for c in b.find_elements(By.CSS_SELECTOR, "article.card") if CLASH[0] in c.text)
    card.find_element(By.CSS_SELECTOR, "details.wrong summary").click()
    wrong = card.find_element(By.CSS_SELECTOR, "details.wrong form")
    wrong.find_element(By.NAME, "reason").send_keys("an exercise, not a clash")
    wrong.find_element(By.TAG_NAME, "button").click()
    arrived("#alert-")
    card = next(c for c in b.find_elements(By.CSS_SELECTOR, "article.card") if CLASH[0] in c.text)
    assert "Verdict: wrong" in card.text
    shot(b, "verdict")

    # the story, the evaluation, the sources, the tester
    card.find_element(By.PARTIAL_LINK_TEXT, "story").click()
    arrived("/story/")
    assert "Reported by wire" in b.page_source
    shot(b, "story")
    b.get(f"{base}/evaluation")
    evaluation = b.find_element(By.TAG_NAME, "main").text
    assert "2 verdicts." in evaluation and "rule infighting: 1" in evaluation
    assert "actor Hezbollah: 1" in evaluation  # the miss, by actor
    shot(b, "evaluation")
    assert main(["--config", config, "eval", "--verdicts", "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (report["files"], report["fp"], report["fn"]) == (2, 1, 1)

    b.get(f"{base}/sources")
    broken = next(r for r in b.find_elements(By.CSS_SELECTOR, "tbody tr") if "broken" in r.text)
    assert "failing" in broken.text and "http 500" in broken.text
    shot(b, "sources")

    b.get(f"{base}/tester")
    b.find_element(By.NAME, "text").send_keys(
        "Clashes in Qusayr\nHizbollah fighters clashed with regime forces on Monday."
    )
    b.find_element(By.CSS_SELECTOR, "main form button").click()
    WebDriverWait(b, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "section.tried"))
    tried = b.find_element(By.CSS_SELECTOR, "section.tried").text
    assert "1 alert" in tried and "infighting" in tried and "Hezbollah" in tried
    shot(b, "tester")
