"""The command line. Command names, options and ``--json`` outputs are a public interface.

    monitor run                      the daemon
    monitor once [--json]            poll every source once, deliver, exit
    monitor check                    validate the configuration; exit 1 on any problem
    monitor test-rules [--json] FILE...   rules over text files (line 1 title, rest body)
    monitor articles [--json] [--limit N]
    monitor alerts [--json] [--limit N] [--rule NAME] [--status S | --failed]
    monitor status [--json]
    monitor inspect [--json] FILE|URL
    monitor health | reload
    monitor sources import FILE.opml | sources export

Exit codes: 0 success (``once`` too, when some sources failed: they are reported);
1 ``check`` found problems; 2 the configuration is unusable (or bad usage); 3 storage error.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Start-up makes some 60,000 objects that live as long as the process (modules, configuration,
# compiled rules). The cyclic collector, running while they are made, scans them ~200 times
# and finds almost nothing: ~70 ms of a 0.43 s start. So it is off while they are made (here
# and in ``main``), and then they are frozen out of its way: Python's recipe for a process
# that forks workers (the gc module's documentation, ``gc.freeze``).
_collecting = gc.isenabled()
gc.disable()
try:
    from monitor import __version__, logs
    from monitor import config as configmod
    from monitor.alert import alert_payload, render_text
    from monitor.errors import ConfigError, StorageError
    from monitor.match.engine import Engine
    from monitor.models import Match, mark_span
    from monitor.progress import Progress
finally:
    if _collecting:
        gc.enable()

EXIT_OK, EXIT_PROBLEMS, EXIT_CONFIG, EXIT_STORAGE = 0, 1, 2, 3


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="monitor",
        description="Watch news sources; alert when tracked actors turn on each other.",
    )
    p.add_argument("--version", action="version", version=f"monitor {__version__}")
    p.add_argument(
        "--config",
        "-c",
        help=f"configuration file (default: ${configmod.ENV_VAR} or {configmod.DEFAULT_PATH})",
    )
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.add_argument("--log-format", default="text", choices=["text", "json"])
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("run", help="run the daemon until SIGINT/SIGTERM")
    once = sub.add_parser("once", help="poll every source once, deliver alerts, exit")
    once.add_argument("--json", action="store_true", help="one JSON object with every outcome")
    sub.add_parser("check", help="validate the configuration; exit 1 on any problem")
    tr = sub.add_parser("test-rules", help="run the rules over text files and explain matches")
    tr.add_argument("--json", action="store_true", help="one JSON object per file")
    tr.add_argument("files", nargs="+", metavar="FILE")
    arts = sub.add_parser("articles", help="list stored articles, newest first")
    arts.add_argument("--json", action="store_true")
    arts.add_argument("--limit", type=int, default=20)
    al = sub.add_parser("alerts", help="list alerts, newest first")
    al.add_argument("--json", action="store_true")
    al.add_argument("--limit", type=int, default=20)
    al.add_argument("--rule", help="only alerts of this rule (shadow rules included)")
    group = al.add_mutually_exclusive_group()
    group.add_argument("--status", choices=["pending", "sent", "failed", "shadow"])
    group.add_argument("--failed", action="store_true", help="same as --status failed")
    group.add_argument(
        "--retry", type=int, metavar="ID", help="make alert ID pending again and deliver it now"
    )
    st = sub.add_parser("status", help="each source: url, last success, failures, next due")
    st.add_argument("--json", action="store_true")
    ev = sub.add_parser("eval", help="precision and recall of the rules on labelled articles")
    ev.add_argument("--labels", required=True, help="JSON list of {file, alert, actors}")
    ev.add_argument("dir", help="folder holding the labelled files")
    ev.add_argument("--rule", action="append", help="only this rule (shadow rules too); repeatable")
    ev.add_argument("--json", action="store_true")
    bt = sub.add_parser("backtest", help="re-run the rules over stored articles; sends nothing")
    bt.add_argument("--since", help="only articles fetched since this date (YYYY-MM-DD or ISO)")
    bt.add_argument("--rule", action="append", help="only this rule (shadow rules too); repeatable")
    bt.add_argument("--json", action="store_true")
    src = sub.add_parser("sources", help="import or export the source list as OPML")
    src_sub = src.add_subparsers(dest="action", required=True, metavar="ACTION")
    imp = src_sub.add_parser("import", help="add an OPML file's feeds to the sources")
    imp.add_argument("file", metavar="FILE.opml")
    src_sub.add_parser("export", help="print the configured sources as OPML")
    sub.add_parser("health", help="ask the running daemon if it is healthy; exit 0 or 1")
    sub.add_parser("reload", help="make the running daemon re-read its configuration")
    ins = sub.add_parser("inspect", help="what monitor would take from a feed or page")
    ins.add_argument("target", metavar="FILE|URL")
    ins.add_argument("--json", action="store_true", help="one object: kind and entries")
    return p


#: allocations between two collections of the youngest generation (Python's default: 700)
GC_YOUNG_THRESHOLD = 10_000


def main(argv: Sequence[str] | None = None) -> int:
    collecting = gc.isenabled()
    gc.disable()  # until the command has loaded what it needs (see the imports above)
    try:
        return _main(argv)
    finally:
        if collecting:
            gc.enable()


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    logs.setup(args.log_level, args.log_format)
    path = configmod.resolve_path(args.config)
    try:
        if args.command == "check":
            return _check(path)
        if args.command == "inspect":
            return _inspect(path, args.target, args.json)
        if args.command in ("health", "reload"):
            return _ask_daemon(path, args.command)
        if args.command == "sources":
            return _sources(path, args.action, getattr(args, "file", None))
        from monitor.daemon import load_checked

        loaded, engine = load_checked(path)
        if args.command in ("run", "once") and engine.alerting:
            # the first alert's fingerprint would load numpy on the event loop (~0.1 s, while
            # deliveries wait to be marked sent): load it before the loop runs
            from monitor.alert import stories

            stories.prepare()
        # modules, configuration and compiled rules live as long as the process: out of the
        # cyclic collector's way for good (a thousand-source pass spent ~0.2 s re-scanning
        # them), before any worker is forked. The few cycles start-up left behind (~2,000
        # objects) stay with them.
        gc.freeze()
        # a pass keeps thousands of young objects in flight (documents, articles, matches);
        # collecting every 700 allocations re-scanned them ~500 times in a 1,000-feed pass
        # (0.17 s of the main process), every 10,000 ~100 times (0.08 s)
        gc.set_threshold(GC_YOUNG_THRESHOLD, 10, 10)
        gc.enable()
        if args.command == "test-rules":
            return _test_rules(engine, args.files, args.json)
        if args.command == "eval":
            return _eval(engine, args.labels, args.dir, args.rule, args.json)
        # MONITOR_SLOW_CALLBACK_MS=50: asyncio's debug mode reports every callback that
        # blocks the event loop longer than that (benchmarks/feed_farm.py uses it)
        slow = os.environ.get("MONITOR_SLOW_CALLBACK_MS")
        return asyncio.run(_async_main(args, loaded, engine, slow), debug=bool(slow))
    except ConfigError as e:
        for problem in e.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    except StorageError as e:
        print(f"error: storage: {e}", file=sys.stderr)
        return EXIT_STORAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `monitor articles | head`: the reader left, nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


async def _async_main(
    args: argparse.Namespace,
    loaded: configmod.LoadedConfig,
    engine: Engine,
    slow_callback_ms: str | None = None,
) -> int:
    from monitor import daemon

    if slow_callback_ms:
        asyncio.get_running_loop().slow_callback_duration = float(slow_callback_ms) / 1000

    if args.command == "run":
        await daemon.run_forever(loaded, engine)
        return EXIT_OK
    if args.command == "once":
        progress = Progress(len(loaded.settings.sources), "sources polled")
        try:
            report = await daemon.run_once(
                loaded,
                engine,
                lambda _o: progress.advance(),
                # with --json, standard output is the report: console alerts go to stderr
                console=sys.stderr if args.json else None,
            )
        finally:
            progress.close()
        _print_once(report, args.json)
        return EXIT_OK
    from monitor.store.sqlite import open_store

    if args.command == "alerts" and args.retry is not None:
        return await _retry(loaded, engine, args.retry)
    since = None
    if args.command == "backtest":
        unknown = sorted(set(args.rule or ()) - {r.name for r in engine.rules})
        try:
            since = parse_since(args.since)
            if unknown:
                raise ValueError(f"--rule: unknown rule {', '.join(unknown)}")
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            return EXIT_CONFIG
    store = await open_store(loaded.settings.storage.url)
    try:
        await store.sync_sources(loaded.settings.source_records())
        if args.command == "articles":
            _print_articles(await store.articles(args.limit), args.json)
        elif args.command == "alerts":
            status = "failed" if args.failed else args.status
            _print_alerts(await store.alerts(args.limit, status, args.rule), args.json)
        elif args.command == "status":
            _print_status(await store.source_states(), args.json)
        elif args.command == "backtest":
            await _backtest(store, engine, since, args.rule, args.json)
    finally:
        await store.close()
    return EXIT_OK


# -- check --------------------------------------------------------------------------------


def _check(path: Path) -> int:
    from monitor.daemon import load_checked

    try:
        loaded, engine = load_checked(path)
    except ConfigError as e:
        for problem in e.problems:
            print(f"error: {problem}", file=sys.stderr)
        n = len(e.problems)
        print(f"{path}: {n} problem{'s' if n != 1 else ''}", file=sys.stderr)
        return EXIT_PROBLEMS
    s = loaded.settings
    parser = "no parser (nlp.model: null): word order decides who fights whom"
    if engine.parser is not None:
        unusable = engine.parser.problem()  # loads the model: what `run` would meet
        if unusable is None:
            parser = f"parser {engine.parser.model}"
        else:
            print(f"warning: {path}: {unusable}; until then word order decides", file=sys.stderr)
            parser = "no usable parser"
    print(
        f"{path}: ok — {len(s.sources)} sources, {len(s.actors)} actors, "
        f"{len(s.keywords) + len(s.conflict)} keyword sets, {len(engine.rules)} rules, "
        f"{len(s.channels)} channels; {parser}"
    )
    return EXIT_OK


# -- test-rules ---------------------------------------------------------------------------


def read_article_file(path: str) -> tuple[str, str]:
    """A text file as (title, body): the first line is the title."""
    raw = Path(path).read_text(encoding="utf-8", errors="replace")
    title, _, body = raw.replace("\r\n", "\n").partition("\n")
    return title.strip(), body


def match_summary(m: Match) -> dict[str, Any]:
    return {
        "rule": m.rule,
        "severity": m.severity,
        "score": m.score,
        "mode": m.mode,
        "actors": list(m.actor_names),
        "forms": {a.actor: list(a.forms) for a in m.actors},
        "keywords": list(m.keywords),
        "snippet": m.snippet(),
        "spans": [{"field": s.field, "start": s.start, "end": s.end} for s in m.spans],
        "notes": list(m.notes),
        "clashes": [c.describe() for c in m.clashes],
    }


def _test_rules(engine: Engine, files: list[str], as_json: bool) -> int:
    status = EXIT_OK
    for f in files:
        try:
            title, body = read_article_file(f)
        except OSError as e:
            print(f"error: {f}: {e.strerror or e}", file=sys.stderr)
            status = EXIT_PROBLEMS
            continue
        matches = engine.match(title, body)
        if as_json:
            print(
                json.dumps(
                    {"file": f, "alerts": [match_summary(m) for m in matches]}, ensure_ascii=False
                )
            )
            continue
        print(f"{f}: {len(matches)} alert{'s' if len(matches) != 1 else ''}")
        for m in matches:
            shadow = ", shadow" if m.mode == "shadow" else ""
            print(f"  [{m.severity}] {m.rule} (score {m.score}{shadow})")
            for a in m.actors:
                print(f"    actor  {a.actor}: {', '.join(repr(x) for x in a.forms)}")
            print(f"    words  {', '.join(m.keywords)}")
            for clash in m.clashes:
                print(f"    who    {clash.describe()}")
            for span in m.spans:
                print(f"    {span.field}[{span.start}:{span.end}]  {mark_span(span, ('**', '**'))}")
            for note in m.notes:
                print(f"    note   {note}")
        if not matches:
            for line in engine.explain_silence(title, body):
                print(f"  why not: {line}")
    return status


async def _retry(loaded: configmod.LoadedConfig, engine: Engine, alert_id: int) -> int:
    """Make one alert pending again and run the outbox once."""
    from monitor import daemon

    runtime = await daemon.Runtime.open(loaded, engine)
    try:
        if not await runtime.store.retry_alert(alert_id, runtime.now()):
            print(f"error: no alert #{alert_id} to retry", file=sys.stderr)
            return EXIT_PROBLEMS
        await runtime.deliver()
        alert = await runtime.store.get_alert(alert_id)
    finally:
        await runtime.close()
    assert alert is not None
    detail = f" ({alert.last_error})" if alert.status.value != "sent" and alert.last_error else ""
    print(f"alert #{alert_id}: {alert.status.value}{detail}")
    return EXIT_OK if alert.status.value == "sent" else EXIT_PROBLEMS


# -- eval and backtest --------------------------------------------------------------------


def _eval(
    engine: Engine, labels_path: str, folder: str, rules: list[str] | None, as_json: bool
) -> int:
    from monitor.match.evaluate import Labelled, evaluate, parse_label_date

    try:
        labels = json.loads(Path(labels_path).read_text(encoding="utf-8"))
        if not isinstance(labels, list):
            raise ValueError("expected a JSON list of {file, alert, actors}")
        items = []
        for i, entry in enumerate(labels):
            if not isinstance(entry, dict) or "file" not in entry or "alert" not in entry:
                raise ValueError(f"entry {i}: expected an object with 'file' and 'alert'")
            title, body = read_article_file(str(Path(folder) / entry["file"]))
            items.append(
                Labelled(
                    entry["file"],
                    title,
                    body,
                    bool(entry["alert"]),
                    tuple(Labelled.entry(str(a)) for a in entry.get("actors") or ()),
                    category=entry.get("category") or None,
                    published=parse_label_date(entry.get("date")),
                )
            )
    except (OSError, ValueError) as e:
        print(f"error: {labels_path}: {e}", file=sys.stderr)
        return EXIT_PROBLEMS
    unknown = sorted(set(rules or ()) - {r.name for r in engine.rules})
    if unknown:
        print(f"error: unknown rule {', '.join(unknown)}", file=sys.stderr)
        return EXIT_PROBLEMS
    report = evaluate(engine, items, rules)
    categories = report.categories()

    def expected(j: Any) -> list[str]:
        return ["|".join(entry) for entry in j.item.actors]

    def miss(j: Any) -> dict[str, Any]:
        return {
            "file": j.item.file,
            "verdict": j.verdict,
            "category": j.item.category,
            "expected_actors": expected(j),
            "alerts": [match_summary(m) for m in j.matches],
            "why_not": engine.explain_silence(j.item.title, j.item.body, when=j.item.published)
            if j.verdict == "fn"
            else [],
        }

    if as_json:
        print(
            json.dumps(
                {
                    "files": len(report.judged),
                    "precision": round(report.precision, 4),
                    "recall": round(report.recall, 4),
                    "f1": round(report.f1, 4),
                    "tp": report.count("tp"),
                    "fp": report.count("fp"),
                    "fn": report.count("fn"),
                    "wrong_actors": report.count("wrong-actors"),
                    "tn": report.count("tn"),
                    "categories": {
                        c.category: {
                            "items": c.items,
                            "positive": c.positive,
                            ("found" if c.positive else "false_alarms"): c.hits,
                        }
                        for c in categories
                    },
                    "misses": [miss(j) for j in report.misses],
                },
                ensure_ascii=False,
            )
        )
        return EXIT_OK
    _print_eval(engine, report)
    return EXIT_OK


def _print_eval(engine: Engine, report: Any) -> None:
    """The eval report for a reader: totals, figures per category, every miss explained."""
    categories = report.categories()
    wanted = report.count("tp", "fn", "wrong-actors")
    print(
        f"{len(report.judged)} files: {report.count('tp')} of {wanted} alerts with the "
        f"labelled actors; {report.count('fp')} false alarms, {report.count('tn')} correctly "
        "silent"
    )
    print(f"precision {report.precision:.3f}  recall {report.recall:.3f}  f1 {report.f1:.3f}")
    if categories:
        width = max(len(c.category) for c in categories)
        print("\nby category:")
        for c in categories:
            what = "found" if c.positive else "false alarms"
            print(f"  {c.category:<{width}}  {what:<12} {c.hits} of {c.items}")
    for j in report.misses:
        what = {"fp": "false positive", "fn": "false negative", "wrong-actors": "wrong actors"}[
            j.verdict
        ]
        where = f" ({j.item.category})" if j.item.category else ""
        print(f"\n{what}: {j.item.file}{where}")
        if j.item.actors:
            print(f"  expected actors: {', '.join('|'.join(e) for e in j.item.actors)}")
        for m in j.matches:
            print(f"  [{m.severity}] {m.rule}: {', '.join(m.actor_names)} — {m.snippet()}")
            for line in m.explanation_lines():
                print(f"    {line}")
        if j.verdict == "wrong-actors":
            missing = [e for e in j.item.actors if not set(e) & j.found_actors]
            print(f"  not found: {', '.join('|'.join(e) for e in missing)}")
        elif j.verdict == "fn":
            for line in engine.explain_silence(j.item.title, j.item.body, when=j.item.published):
                print(f"  why not: {line}")


def parse_since(text: str | None) -> datetime | None:
    """``2026-11-01`` or an ISO timestamp → UTC datetime; ValueError with a clear message."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--since: expected a date such as 2026-11-01, got {text!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


async def _backtest(
    store: Any, engine: Engine, start: datetime | None, rules: list[str] | None, as_json: bool
) -> None:
    scanned = hits = 0
    progress = Progress(await store.article_count(), "articles replayed")
    async for batch in store.iter_articles(since=start):
        progress.advance(len(batch))
        found = engine.match_many(
            [(i.article.title, i.article.text, i.article.dated) for i in batch], rules
        )
        for item, matches in zip(batch, found, strict=True):
            scanned += 1
            a = item.article
            if rules is None:
                matches = [m for m in matches if m.mode == "live"]
            if not matches:
                continue
            hits += 1
            if as_json:
                print(
                    json.dumps(
                        {
                            "id": item.id,
                            "source": a.source,
                            "title": a.title,
                            "url": a.url,
                            "published": _iso(a.published),
                            "fetched": _iso(a.fetched),
                            "alerted_before": sorted(set(item.rules) & {m.rule for m in matches}),
                            "alerts": [match_summary(m) for m in matches],
                        },
                        ensure_ascii=False,
                    )
                )
                continue
            when = a.published.strftime("%Y-%m-%d") if a.published else "????-??-??"
            for m in matches:
                seen = "" if m.rule in item.rules else "  (new)"
                print(
                    f"{item.id:>6}  {when}  {a.source:<18} [{m.severity}] {m.rule}: "
                    f"{', '.join(m.actor_names)}{seen}"
                )
                print(f"        {a.title[:100]}")
                print(f"        {m.snippet(limit=240)}")
    progress.close()
    if not as_json:
        print(f"{scanned} articles scanned, {hits} would alert (nothing was sent)")


# -- listings -----------------------------------------------------------------------------


def _sources(path: Path, action: str, file: str | None) -> int:
    """``sources export``: the configured sources as OPML. ``sources import FILE``: merge the
    file's feeds into the OPML file the configuration names (``- opml: FILE`` in sources),
    or into sources.opml beside it, saying how to name it."""
    from monitor import opml

    if action == "export":
        settings = configmod.load(path).settings
        print(opml.write_opml([(s.name, s.url) for s in settings.sources]), end="")
        return EXIT_OK
    assert file is not None
    try:
        incoming = opml.read_opml_file(Path(file))
    except opml.OpmlError as e:
        print(f"error: {file}: {e}", file=sys.stderr)
        return EXIT_PROBLEMS
    configmod.load(path)  # the configuration must be valid before it grows
    target, named = _opml_target(path)
    current = opml.read_opml_file(target) if target.exists() else []
    known = {o.url for o in current}
    fresh = [o for o in incoming if o.url not in known]
    merged = current + fresh
    names = [o.title or o.url for o in merged]
    target.write_text(
        opml.write_opml(list(zip(names, [o.url for o in merged], strict=True))), encoding="utf-8"
    )
    print(
        f"{len(fresh)} new feeds added to {target} "
        f"({len(incoming) - len(fresh)} were there already; {len(merged)} in all)"
    )
    if not named:
        print(f"to poll them, add this under sources: in {path}:\n  - opml: {target.name}")
    return EXIT_OK


def _opml_target(path: Path) -> tuple[Path, bool]:
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for entry in data.get("sources") or []:
        if isinstance(entry, dict) and isinstance(entry.get("opml"), str):
            return path.parent / entry["opml"], True
    return path.parent / "sources.opml", False


def _ask_daemon(path: Path, command: str) -> int:
    """GET /healthz or POST /-/reload on the running daemon's endpoint (daemon.listen)."""
    import urllib.error
    import urllib.request

    listen = configmod.load(path).settings.daemon.listen
    if not listen:
        print(f"error: {path}: daemon.listen is off: there is no endpoint to ask", file=sys.stderr)
        return EXIT_PROBLEMS
    host, _, port = listen.rpartition(":")
    if host in ("0.0.0.0", "::", "[::]"):
        host = "127.0.0.1"
    url = f"http://{host}:{port}" + ("/healthz" if command == "health" else "/-/reload")
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
        print(f"monitor is not running (nothing answers on {listen}: {reason})")
        return EXIT_PROBLEMS


def _inspect(path: Path, target: str, as_json: bool) -> int:
    """Fetch settings from the configuration when there is one; defaults otherwise."""
    from monitor.errors import FetchError, ParseError
    from monitor.inspect import inspect

    try:
        settings = configmod.load(path).settings.fetch
    except ConfigError:
        settings = configmod.FetchSettings()
    try:
        found = asyncio.run(inspect(target, settings))
    except (FetchError, ParseError) as err:
        print(f"error: {target}: {err}", file=sys.stderr)
        return EXIT_PROBLEMS
    if as_json:
        print(json.dumps(found.as_json(), ensure_ascii=False))
        return EXIT_OK
    print(f"{found.kind}: {found.url}")
    for feed in found.feeds:
        print(f"  announces feed {feed}")
    for entry in found.entries:
        print(f"- {entry['title'] or entry['link']}")
        if entry["title"]:
            print(f"  {entry['link'] or '(no link)'}")
        print(f"  id {entry['id']}  published {entry['published'] or 'unknown'}")
        if found.kind == "article":
            print("", *(f"  {line}" for line in entry["text"].splitlines()), sep="\n")
    return EXIT_OK


def _iso(dt: Any) -> str | None:
    return dt.isoformat() if dt is not None else None


def _print_once(report: Any, as_json: bool) -> None:
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
                f"{o.entries} entries, {o.new_articles} new, "
                + (f"{o.revised} edited, " if o.revised else "")
                + f"{o.matches} matches, {o.alerts} alerts"
            )
        )
        print(f"{o.source:<28} {o.status:<12} {detail}")
    d = report.delivery
    failed = sum(o.status == "error" for o in report.outcomes)
    print(
        f"{len(report.outcomes)} sources polled, {failed} failed; alerts: {d.sent} sent, "
        f"{d.retrying} to retry, {d.failed} failed"
    )


def _print_articles(items: list[Any], as_json: bool) -> None:
    for item in items:
        a = item.article
        if as_json:
            print(
                json.dumps(
                    {
                        "id": item.id,
                        "source": a.source,
                        "url": a.url,
                        "guid": a.guid,
                        "title": a.title,
                        "published": _iso(a.published),
                        "fetched": _iso(a.fetched),
                        "content_hash": a.content_hash,
                        "rules": list(item.rules),
                    },
                    ensure_ascii=False,
                )
            )
        else:
            when = a.published.strftime("%Y-%m-%d %H:%M") if a.published else "????-??-?? ??:??"
            flag = f"  [{', '.join(item.rules)}]" if item.rules else ""
            print(f"{item.id:>6}  {when}  {a.source:<20} {a.title[:90]}{flag}")


def _print_alerts(items: list[Any], as_json: bool) -> None:
    for alert in items:
        if as_json:
            print(json.dumps(alert_payload(alert), ensure_ascii=False))
        else:
            extra = f" · {alert.last_error}" if alert.last_error else ""
            print(
                f"#{alert.id} {alert.status.value} → {alert.channel} "
                f"(attempts {alert.attempts}){extra}"
            )
            print(render_text(alert))
            print()


def _print_status(states: list[Any], as_json: bool) -> None:
    for s in states:
        if as_json:
            print(
                json.dumps(
                    {
                        "source": s.name,
                        "url": s.url,
                        "last_success": _iso(s.last_success),
                        "last_attempt": _iso(s.last_attempt),
                        "failures": s.failures,
                        "last_error": s.last_error,
                        "next_due": _iso(s.next_due),
                        "gone": _iso(s.gone),
                        "detected": s.detected,
                        "health": s.health or "ok",
                        "last_new": _iso(s.last_new),
                        "failing_links": s.failing_links,
                    },
                    ensure_ascii=False,
                )
            )
        else:
            if s.failures:
                since = f"{s.last_success:%Y-%m-%d %H:%M}" if s.last_success else "the start"
                state = f"FAILING since {since} ({s.failures} polls): {s.last_error}"
            elif not s.last_success:
                state = "never polled"
            elif s.health == "silent" and s.last_new:
                state = f"SILENT since {s.last_new:%Y-%m-%d %H:%M} (polls succeed)"
            else:
                state = "ok"
            if s.gone:
                state = f"GONE since {s.gone:%Y-%m-%d %H:%M} (410): not polled; remove it"
            if s.failing_links:
                state += f"; {s.failing_links} article link(s) failing, tried again later"
            last = s.last_success.strftime("%Y-%m-%d %H:%M:%S") if s.last_success else "-"
            nxt = "-" if s.gone or not s.next_due else s.next_due.strftime("%Y-%m-%d %H:%M:%S")
            print(f"{s.name:<24} last ok {last:<19}  next {nxt:<19}  {state}")
            print(f"{'':<24} {s.url}" + (f"  [{s.detected}]" if s.detected else ""))
