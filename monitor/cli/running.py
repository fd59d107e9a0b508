"""The daemon's commands: ``monitor run``, ``monitor once``, and ``monitor health|reload``,
which ask a running daemon through its endpoint."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from monitor import config as configmod
from monitor.cli.common import EXIT_OK, EXIT_PROBLEMS, plural

# loaded with the command, not inside the event loop's first step (it brings the fetcher, the
# store and the channels: a long import)
from monitor.daemon.once import run_once
from monitor.daemon.serve import run_forever
from monitor.match.ruleset import RuleSet
from monitor.models import PollOutcome
from monitor.progress import Progress


async def run(args: argparse.Namespace, loaded: configmod.LoadedConfig, rules: RuleSet) -> int:
    """``run`` until SIGINT/SIGTERM, or ``once``: every source polled, the outbox drained."""
    if args.command == "run":
        await run_forever(loaded, rules)
        return EXIT_OK
    progress = Progress(len(loaded.settings.sources), "sources polled")
    try:
        report = await run_once(
            loaded,
            rules,
            lambda _o: progress.advance(),
            # with --json, standard output is the report: console alerts go to stderr
            console=sys.stderr if args.json else None,
        )
    finally:
        progress.close()
    print_once(report, args.json)
    return EXIT_OK


def ask_daemon(path: Path, command: str) -> int:
    """GET /healthz or POST /-/reload on the running daemon's endpoint (daemon.listen)."""
    import urllib.error
    import urllib.request

    daemon = configmod.load(path, delivering=False).settings.daemon  # it sends nothing
    endpoint = daemon.endpoint
    if not endpoint:
        print(f"error: {path}: daemon.listen is off: there is no endpoint to ask", file=sys.stderr)
        return EXIT_PROBLEMS
    url = endpoint + ("/healthz" if command == "health" else "/-/reload")
    request = urllib.request.Request(url, method="GET" if command == "health" else "POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            print(resp.read().decode().strip())
            return EXIT_OK
    except urllib.error.HTTPError as e:
        print(e.read().decode().strip())
        return EXIT_PROBLEMS
    except OSError as e:
        reason = getattr(e, "reason", e)
        print(f"monitor is not running (nothing answers on {daemon.listen}: {reason})")
        return EXIT_PROBLEMS


def print_once(report: Any, as_json: bool) -> None:
    if as_json:
        print(
            json.dumps(
                {
                    "sources": [
                        {
                            "source": o.source,
                            "status": o.status,
                            "entries": o.entries,
                            "new": o.new_articles,
                            "matches": o.matches,
                            "alerts": o.alerts,
                            "error": o.error,
                            "edited": o.revised,
                        }
                        for o in report.outcomes
                    ],
                    "delivery": {
                        "sent": report.delivery.sent,
                        "retrying": report.delivery.retrying,
                        "failed": report.delivery.failed,
                        # only beside a running daemon on the same database: who delivers
                        **({"left_to": report.delivery_left_to} if report.delivery_left_to else {}),
                    },
                },
                ensure_ascii=False,
            )
        )
        return
    for o in report.outcomes:
        detail = (
            o.error
            if o.status == "error"
            else (
                f"{plural(o.entries, 'entry', 'entries')}, {o.new_articles} new, "
                + (f"{o.revised} edited, " if o.revised else "")
                + f"{plural(o.matches, 'match', 'matches')}, {_alerts(o)}"
            )
        )
        print(f"{o.source:<28} {o.status:<12} {detail}")
    d = report.delivery
    failed = sum(o.status == "error" for o in report.outcomes)
    if report.delivery_left_to:
        print(
            f"{plural(len(report.outcomes), 'source')} polled, {failed} failed; alerts are "
            f"delivered by {report.delivery_left_to}"
        )
        return
    print(
        f"{plural(len(report.outcomes), 'source')} polled, {failed} failed; alerts: {d.sent} sent, "
        f"{d.retrying} to retry, {d.failed} failed"
    )


def _alerts(o: PollOutcome) -> str:
    """``2 alerts (8 messages on their channels)``: alerts, not channel rows."""
    if o.alerts == o.alerted:
        return plural(o.alerted, "alert")
    return f"{plural(o.alerted, 'alert')} ({plural(o.alerts, 'message')} on their channels)"
