"""A start with alerts pending: does anything hold the event loop in the first minute?

A feed of 60 alerting stories and a webhook receiver on loopback. `monitor run` is killed
(SIGKILL) as soon as the first alert reaches the receiver, which leaves the rest pending; the
feed gains 20 more stories; then `monitor run` starts again with asyncio's slow-callback
reporting at 50 ms (MONITOR_SLOW_CALLBACK_MS) and runs until every alert has arrived, at most
a minute. Printed:
the callbacks that held the loop over 50 ms and the longest, how long the pending alerts
took to arrive, and duplicates (a duplicate needs the kill to fall between the receiver's
answer and the database's "sent").

Usage: python benchmarks/restart.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

import yaml

ROOT = Path(__file__).resolve().parents[1]
STORIES = 60
#: stories the feed gains while the daemon is down
NEW = 20


def feed_xml(rng: random.Random, stories: int) -> bytes:
    items = []
    now = format_datetime(datetime.now(UTC))
    for i in range(stories):
        words = " ".join(f"w{rng.randrange(10**6)}" for _ in range(40))
        text = (
            f"Hezbollah fighters clashed with regime forces near village {i} on Sunday, "
            f"killing {i + 2} people. {words}."
        )
        items.append(
            f"<item><title>Clash {i}</title><link>https://example.org/{i}</link>"
            f"<guid>urn:restart:{i}</guid><pubDate>{now}</pubDate>"
            f"<description>{escape(text)}</description></item>"
        )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>desk</title>'
        f"<link>https://example.org/</link>{''.join(items)}</channel></rss>"
    ).encode()


class Receiver:
    """The feed and the webhook, on one loopback server."""

    def __init__(self, feed: bytes) -> None:
        self.feed = feed
        self.keys: list[str] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(receiver.feed)))
                self.end_headers()
                self.wfile.write(receiver.feed)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                time.sleep(0.05)  # a receiver that takes its time
                with receiver.lock:
                    receiver.keys.append(self.headers.get("Idempotency-Key", ""))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def count(self) -> int:
        with self.lock:
            return len(self.keys)


def start(config: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "run"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def one_round(work: Path, seed: int) -> dict[str, float]:
    receiver = Receiver(feed_xml(random.Random(seed), STORIES))
    base = yaml.safe_load((ROOT / "config" / "monitor.yaml").read_text(encoding="utf-8"))
    base.update(
        {
            "storage": {"url": f"sqlite:///{work}/monitor.db"},
            "fetch": {"allow_private": True},
            "sources": [
                {
                    "name": "desk",
                    "url": f"http://127.0.0.1:{receiver.port}/feed.xml",
                    "interval": "2s",
                }
            ],
            "channels": {
                "hook": {"type": "webhook", "url": f"http://127.0.0.1:{receiver.port}/hook"}
            },
            "delivery": {"max_per_minute": 0},
            "daemon": {"listen": "127.0.0.1:0"},
        }
    )
    base["rules"] = [{**r, "channels": ["hook"]} for r in base["rules"]]
    config = work / "monitor.yaml"
    config.write_text(yaml.safe_dump(base, allow_unicode=True), encoding="utf-8")
    first = start(config)
    deadline = time.monotonic() + 60
    while receiver.count() == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    time.sleep(0.2)
    pending = STORIES - len(set(receiver.keys))
    # more stories while it was down: the restart stores and places them while it delivers
    receiver.feed = feed_xml(random.Random(seed), STORIES + NEW)
    total = STORIES + NEW
    t0 = time.monotonic()
    second = start(config, {"MONITOR_SLOW_CALLBACK_MS": "50"})
    deadline = t0 + 60
    while len(set(receiver.keys)) < total and time.monotonic() < deadline:
        time.sleep(0.05)
    took = time.monotonic() - t0
    second.send_signal(signal.SIGTERM)
    _out, err = second.communicate(timeout=30)
    receiver.httpd.shutdown()
    slow = [float(x) for x in re.findall(r"took (\d+\.\d+) seconds", err)]
    return {
        "pending": pending,
        "delivered": len(set(receiver.keys)),
        "took": took,
        "slow": len(slow),
        "worst": max(slow, default=0.0),
        "duplicates": len(receiver.keys) - len(set(receiver.keys)),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    print(f"restart with alerts pending: {STORIES} alerting stories, webhook on loopback")
    for i in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            r = one_round(Path(tmp), i)
        print(
            f"  round {i + 1}: {r['pending']:.0f} pending at the kill, {NEW} new; "
            f"{r['delivered']:.0f} of {STORIES + NEW} delivered {r['took']:.1f} s after the "
            "restart; "
            f"{r['slow']:.0f} callbacks held the loop over 50 ms (longest "
            f"{r['worst'] * 1000:.0f} ms); {r['duplicates']:.0f} duplicates"
        )


if __name__ == "__main__":
    main()
