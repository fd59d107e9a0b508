"""What a desk says back, from the command line: ``verdict`` (right, wrong, missed),
``verdicts`` (listed, or exported as labels), ``mute``, ``mutes`` and ``unmute``
(``monitor.desk``). None of them loads the rules engine."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from monitor.cli.common import EXIT_CONFIG, EXIT_OK, EXIT_PROBLEMS, iso
from monitor.desk import (
    Mute,
    Verdict,
    as_label,
    make_verdict,
    mute_until,
    named_actors,
    pair_target,
)
from monitor.store import NotStored, Store, judged

if TYPE_CHECKING:
    from monitor.config import LoadedConfig


async def show(args: argparse.Namespace, loaded: LoadedConfig, _engine: Any = None) -> int:
    from monitor.store import open_store

    now = datetime.now(UTC)
    store = await open_store(loaded.settings.storage.url)
    try:
        if args.command == "verdict":
            return await _verdict(store, loaded, args, now)
        if args.command == "verdicts":
            _print_verdicts(await store.verdicts(), args.json, args.labels)
        elif args.command == "mute":
            return await _mute(store, loaded, args, now)
        elif args.command == "mutes":
            _print_mutes(await store.mutes(now, ended=args.all), args.json, now)
        elif args.command == "unmute":
            if not await store.end_mute(args.id, now):
                print(f"error: no mute {args.id} in force (`monitor mutes`)", file=sys.stderr)
                return EXIT_PROBLEMS
            print(f"mute {args.id} ended")
    finally:
        await store.close()
    return EXIT_OK


async def _verdict(store: Store, loaded: LoadedConfig, args: Any, now: datetime) -> int:
    try:
        actors = named_actors(loaded.settings, args.actors)
        article_id, article, alert = await judged(store, args.alert, args.article)
        verdict = make_verdict(args.kind, actors, args.reason, article_id, article, alert)
    except ValueError as e:
        hint = f" (`monitor {e.what}s` lists them)" if isinstance(e, NotStored) else ""
        print(f"error: {e}{hint}", file=sys.stderr)
        return EXIT_CONFIG
    kept = await store.record_verdict(verdict, now)
    if args.json:
        print(json.dumps(_verdict_json(kept), ensure_ascii=False))
    else:
        print(f"verdict on article {kept.article_id}: {_describe(kept)}")
    return EXIT_OK


def _describe(v: Verdict) -> str:
    who = f" ({' against '.join(v.actors)})" if v.actors else ""
    alert = "should alert" if v.alert else "should not alert"
    return f"{v.kind}{who}: {alert}" + (f" — {v.reason}" if v.reason else "")


def _verdict_json(v: Verdict) -> dict[str, Any]:
    return {
        "id": v.id,
        "article_id": v.article_id,
        "verdict": v.kind,
        "alert": v.alert,
        "actors": list(v.actors),
        "reason": v.reason,
        "rule": v.rule,
        "title": v.title,
        "url": v.url,
        "source": v.source,
        "created": iso(v.created),
    }


def _print_verdicts(verdicts: list[Verdict], as_json: bool, labels: bool) -> None:
    if labels:  # oldest first, as a labels file grows
        print(json.dumps([as_label(v) for v in reversed(verdicts)], ensure_ascii=False, indent=1))
        return
    if as_json:
        for v in verdicts:
            print(json.dumps(_verdict_json(v), ensure_ascii=False))
        return
    if not verdicts:
        print("no verdicts yet", file=sys.stderr)
    for v in verdicts:
        when = f"{v.created:%Y-%m-%d %H:%M} UTC" if v.created else ""
        print(f"{when}  article {v.article_id}  {_describe(v)} — {v.title} ({v.source})")


async def _mute(store: Store, loaded: LoadedConfig, args: Any, now: datetime) -> int:
    try:
        until = mute_until(args.period or args.until, now)
        if args.actors:
            pair = named_actors(loaded.settings, args.actors)
            if len(pair) != 2:
                raise ValueError("a pair is two different actors")
            mute = Mute("pair", pair_target(*pair), until, args.reason)
        elif args.source:
            if args.source not in {s.name for s in loaded.settings.sources}:
                raise ValueError(f"{args.source!r} is not a configured source")
            mute = Mute("source", args.source, until, args.reason)
        else:
            mute = Mute("story", str(args.story), until, args.reason)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_CONFIG
    kept = await store.add_mute(mute, now)
    if args.json:
        print(json.dumps(_mute_json(kept, now), ensure_ascii=False))
    else:
        print(f"mute {kept.id}: {kept.describe()} (`monitor unmute {kept.id}` ends it)")
    return EXIT_OK


def _mute_json(m: Mute, now: datetime) -> dict[str, Any]:
    return {
        "id": m.id,
        "kind": m.kind,
        "target": m.target,
        "until": iso(m.until),
        "reason": m.reason,
        "created": iso(m.created),
        "active": m.until > now,
    }


def _print_mutes(mutes: list[Mute], as_json: bool, now: datetime) -> None:
    if as_json:
        for m in mutes:
            print(json.dumps(_mute_json(m, now), ensure_ascii=False))
        return
    if not mutes:
        print("no mutes in force", file=sys.stderr)
    for m in mutes:
        ended = "" if m.until > now else " (ended)"
        why = f" — {m.reason}" if m.reason else ""
        print(f"#{m.id}  {m.describe()}{ended}{why}")
