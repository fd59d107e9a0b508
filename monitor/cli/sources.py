"""The source list and single documents: ``monitor sources import|export`` (OPML) and
``monitor inspect`` (what monitor would take from a file or URL)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from monitor import config as configmod
from monitor.cli.common import EXIT_OK, EXIT_PROBLEMS
from monitor.errors import ConfigError


def sources(path: Path, action: str, file: str | None) -> int:
    """``sources export``: the configured sources as OPML. ``sources import FILE``: merge the
    file's feeds into the OPML file the configuration names (``- opml: FILE`` in sources),
    or into sources.opml beside it, saying how to name it."""
    from monitor import opml

    if action == "export":
        settings = configmod.load(path, delivering=False).settings
        print(opml.write_opml([(s.name, s.url, s.group) for s in settings.sources]), end="")
        return EXIT_OK
    assert file is not None
    try:
        read = opml.read_opml_list_file(Path(file))
    except opml.OpmlError as e:
        print(f"error: {file}: {e}", file=sys.stderr)
        return EXIT_PROBLEMS
    # valid before it grows (secrets: not needed)
    configured = configmod.load(path, delivering=False).settings.sources
    target, named = _opml_target(path)
    current = opml.read_opml_file(target) if target.exists() else []
    listed = {o.url for o in current}
    by_url = {s.url: s.name for s in configured if s.url not in listed}  # in the YAML itself
    for line in read.left_out:
        print(f"{file}: {line}")
    fresh = []
    for o in read.outlines:
        if o.url in by_url:
            print(
                f"{file}: {o.title or o.url!r}: {o.url} is configured already, as source "
                f"{by_url[o.url]!r}: not added"
            )
        elif o.url not in listed:
            fresh.append(o)
    merged = current + fresh
    target.write_text(
        opml.write_opml([(o.title or o.url, o.url, o.group) for o in merged]), encoding="utf-8"
    )
    there = len(read.outlines) - len(fresh)
    print(
        f"{len(fresh)} new feeds added to {target} ({there} were there already, "
        f"{len(read.left_out)} left out; {len(merged)} in all)"
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


def inspect_target(path: Path, target: str, as_json: bool) -> int:
    """Fetch settings from the configuration when there is one; defaults otherwise."""
    from monitor.errors import FetchError, ParseError
    from monitor.inspect import inspect

    try:
        settings = configmod.load(path, delivering=False).settings.fetch
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
