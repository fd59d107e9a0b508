"""What is stored, read back: ``monitor articles``, ``monitor alerts`` (and ``--retry``),
``monitor status``, ``monitor nodes``; ``monitor backtest`` opens the store here too."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from monitor.alert import alert_payload
from monitor.alert.view import view
from monitor.cli.common import EXIT_CONFIG, EXIT_OK, EXIT_PROBLEMS, iso, plural

if TYPE_CHECKING:
    from monitor.config import LoadedConfig
    from monitor.match.engine import Engine


async def show(args: argparse.Namespace, loaded: LoadedConfig, engine: Engine | None) -> int:
    """A reading command: articles, why, alerts, status, nodes or backtest (or ``alerts
    --retry``); ``engine``: the compiled rules, for those that match text (why, backtest,
    retry), None for the others (which never load the rules engine)."""
    from monitor.store import alive_nodes, open_store, sync_beside_nodes

    if args.command == "alerts" and args.retry is not None:
        assert engine is not None
        return await retry(loaded, engine, args.retry)
    since = None
    if args.command == "backtest":
        from monitor.cli.rules import parse_since

        assert engine is not None
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
        # beside running nodes that list other sources, their list stays (status shows it)
        await sync_beside_nodes(store, loaded.settings.source_records(), None)
        if args.command == "articles":
            print_articles(await store.articles(args.limit), args.json, args.text)
        elif args.command == "why":
            assert engine is not None
            return await why(store, engine, args.id, args.json, args.verbose)
        elif args.command == "alerts":
            status = "failed" if args.failed else args.status
            # --json: one row per alert and channel, as ever; a reader's listing: alerts
            rows = await store.alerts(args.limit, status, args.rule, by_alert=not args.json)
            print_alerts(rows, args.json)
        elif args.command == "status":
            configured = {s.name: s.url for s in loaded.settings.sources}
            print_status(await store.source_states(), args.json, configured)
            if not args.json:
                print_nodes(await alive_nodes(store), await store.synced_hash())
        elif args.command == "nodes":
            alive = await alive_nodes(store)
            polling = Counter(s.owner for s in await store.source_states() if s.owner)
            list_nodes(alive, await store.synced_hash(), polling, args.json)
        elif args.command == "backtest":
            from monitor.cli.rules import backtest

            assert engine is not None
            await backtest(store, engine, since, args.rule, args.json)
    finally:
        await store.close()
    return EXIT_OK


async def retry(loaded: LoadedConfig, engine: Engine, alert_id: int) -> int:
    """Make one alert pending again and run the outbox once."""
    from monitor.daemon import runtime as daemon
    from monitor.match.ruleset import RuleSet

    runtime = await daemon.Runtime.open(loaded, RuleSet(loaded.settings, engine))
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


async def why(store: Any, engine: Engine, article_id: int, as_json: bool, verbose: bool) -> int:
    """``monitor why ID``: what the rules make of a stored article, read as the daemon read
    it (as of its publication, else its fetch), each alert and why, or why none."""
    item = await store.article(article_id)
    if item is None:
        print(f"error: no article {article_id} (`monitor articles` lists them)", file=sys.stderr)
        return EXIT_PROBLEMS
    a = item.article
    if not a.text and not as_json:
        print(f"article {article_id}: its text was pruned (retention.keep_text); the title only")
    label = f"article {article_id} ({a.source}, {a.url or a.identity})"
    from monitor.cli.rules import explain

    explain(engine, label, a.title, a.text, a.dated, as_json, verbose)
    return EXIT_OK


def print_articles(items: list[Any], as_json: bool, text: bool = False) -> None:
    """One line per article (``text``: its text below it); ``--json``: one object each (with
    ``text`` when asked)."""
    for item in items:
        a = item.article
        if as_json:
            row = {
                "id": item.id,
                "source": a.source,
                "url": a.url,
                "guid": a.guid,
                "title": a.title,
                "published": iso(a.published),
                "fetched": iso(a.fetched),
                "content_hash": a.content_hash,
                "rules": list(item.rules),
            }
            if text:
                row["text"] = a.text
            print(json.dumps(row, ensure_ascii=False))
        else:
            when = (
                a.published.strftime("%Y-%m-%d %H:%M UTC")
                if a.published
                else "date unknown".ljust(20)
            )
            flag = f"  [{', '.join(item.rules)}]" if item.rules else ""
            print(f"{item.id:>6}  {when}  {a.source:<20} {a.title[:90]}{flag}")
            if text:
                print("\n".join(f"        {line}" for line in a.text.splitlines()) + "\n")
    if not items and not as_json:
        print("no articles stored yet", file=sys.stderr)


def print_alerts(items: list[Any], as_json: bool) -> None:
    """``--json``: one documented object per alert row (per channel). Otherwise one line per
    alert, its delivery on each channel at the end of the line."""
    if as_json:
        for alert in items:
            # the documented object, and how its delivery went on its channel
            row = {
                **alert_payload(alert),
                "status": alert.status.value,
                "attempts": alert.attempts,
                "last_error": alert.last_error,
                "sent": alert.sent.isoformat() if alert.sent else None,
                # what `monitor verdict --article` and `monitor why` take
                "article_id": alert.article_id,
            }
            print(json.dumps(row, ensure_ascii=False))
        return
    if not items:
        print("no alerts", file=sys.stderr)
        return
    groups: dict[tuple[object, ...], list[Any]] = {}
    for a in items:
        key = (a.kind, a.source, a.article_url, a.article_title, a.match.rule, a.note)
        groups.setdefault(key, []).append(a)
    for rows in groups.values():
        v = view(rows[0])
        kind = "" if v.kind == "alert" else f"{v.kind}: "
        head = v.headline if len(v.headline) <= 90 else v.headline[:89] + "…"
        channels = "; ".join(_delivery(a) for a in sorted(rows, key=lambda r: r.id))
        print(
            f"{rows[0].created:%Y-%m-%d %H:%M} UTC  {v.severity.upper():<8} {kind}{v.parties}"
            f" — {head} ({v.outlet})  [{channels}]"
        )


def _delivery(alert: Any) -> str:
    """``desk-slack sent #12``, ``team-hook pending #13 (2 attempts: http 500)``: each
    channel's row, its id the one ``alerts --retry`` takes."""
    state = f"{alert.channel} {alert.status.value} #{alert.id}"
    if alert.status.value in ("sent", "shadow"):
        return state
    if alert.status.value == "muted":
        return f"{state} ({alert.last_error})" if alert.last_error else state
    tries = plural(alert.attempts, "attempt")
    return f"{state} ({tries}: {alert.last_error})" if alert.last_error else state


def print_nodes(nodes: dict[str, tuple[str, datetime]], synced: str | None) -> None:
    """The daemons on the database: who, seen when, and whether it lists other sources than
    the list last synced (it claims nothing then)."""
    if not nodes:
        return
    now = datetime.now(UTC)
    shown = []
    for name, (listed, seen) in sorted(nodes.items()):
        ago = (now - seen).total_seconds()
        late = ", late" if _late(ago) else ""
        differs = " (another source list: claims nothing)" if listed != synced else ""
        shown.append(f"{name} (seen {ago:.0f} s ago{late}){differs}")
    print(f"nodes: {', '.join(shown)}")


def _late(ago: float) -> bool:
    """Has a node missed a beat (killed, hung, cut off): listed until ``NODE_ALIVE``, but
    said to be late from ``NODE_LATE``."""
    from monitor.store import NODE_LATE

    return ago >= NODE_LATE


def list_nodes(
    nodes: dict[str, tuple[str, datetime]],
    synced: str | None,
    polling: Mapping[str, int],
    as_json: bool,
) -> None:
    """``monitor nodes``: each daemon alive on the database, a line each (``--json``: an
    object each: node, seen, agrees — its source list is the one last synced —, polling —
    sources it holds a lease on now —, late — it has missed a beat)."""
    from monitor.store import NODE_ALIVE

    now = datetime.now(UTC)
    if not nodes and not as_json:
        print(
            f"no daemon on this database (none seen in the last {NODE_ALIVE:.0f} s)",
            file=sys.stderr,
        )
    for name, (listed, seen) in sorted(nodes.items()):
        agrees = synced is None or listed == synced
        ago = (now - seen).total_seconds()
        if as_json:
            row = {
                "node": name,
                "seen": iso(seen),
                "agrees": agrees,
                "polling": polling.get(name, 0),
                "late": _late(ago),
            }
            print(json.dumps(row, ensure_ascii=False))
            continue
        state = "" if agrees else "; another source list: claims nothing"
        if _late(ago):
            state += f"; late: no word for {ago:.0f} s (taken for gone at {NODE_ALIVE:.0f} s)"
        print(
            f"{name}: seen {ago:.0f} s ago, "
            f"polling {plural(polling.get(name, 0), 'source')} now{state}"
        )


def print_status(
    states: list[Any], as_json: bool, configured: dict[str, str] | None = None
) -> None:
    """Each source's state; its URL as configured, and what it resolved to when that
    differs (a feed the page announced, a permanent redirect)."""
    configured = configured or {}
    if not states and not as_json:
        print("no sources configured", file=sys.stderr)
    for s in states:
        if as_json:
            print(
                json.dumps(
                    {
                        "source": s.name,
                        "url": s.url,
                        "configured_url": configured.get(s.name, s.url),
                        "last_success": iso(s.last_success),
                        "last_attempt": iso(s.last_attempt),
                        "failures": s.failures,
                        "last_error": s.last_error,
                        "next_due": iso(s.next_due),
                        "gone": iso(s.gone),
                        "detected": s.detected,
                        "health": s.health or "ok",
                        "last_new": iso(s.last_new),
                        "failing_links": s.failing_links,
                        # the node polling it now (several daemons on one database)
                        "owner": s.owner,
                    },
                    ensure_ascii=False,
                )
            )
        else:
            if s.failures:
                since = f"{s.last_success:%Y-%m-%d %H:%M} UTC" if s.last_success else "the start"
                state = f"FAILING since {since} ({plural(s.failures, 'poll')}): {s.last_error}"
            elif not s.last_success:
                state = "never polled"
            elif s.health == "silent" and s.last_new:
                state = f"SILENT since {s.last_new:%Y-%m-%d %H:%M} UTC (polls succeed)"
            else:
                state = "ok"
            if s.gone:
                state = f"GONE since {s.gone:%Y-%m-%d %H:%M} UTC (410): not polled; remove it"
            if s.owner:
                state += f"; being polled by {s.owner}"
            if s.failing_links:
                links = plural(s.failing_links, "article link")
                state += f"; {links} failing, tried again later"
            last = s.last_success.strftime("%Y-%m-%d %H:%M UTC") if s.last_success else "-"
            nxt = "-" if s.gone or not s.next_due else s.next_due.strftime("%Y-%m-%d %H:%M UTC")
            print(f"{s.name:<24} last ok {last:<19}  next {nxt:<19}  {state}")
            given = configured.get(s.name, s.url)
            url = s.url if given == s.url else f"{given} → {s.url}"
            print(f"{'':<24} {url}" + (f"  [{s.detected}]" if s.detected else ""))
