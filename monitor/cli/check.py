"""``monitor check``: the configuration validated, the rules compiled, the parser found
installed (loaded with ``--model``)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import socket
import sys
from pathlib import Path

from monitor.cli.common import EXIT_OK, EXIT_PROBLEMS, plural
from monitor.config import LoadedConfig
from monitor.errors import ConfigError, StorageError


def check(path: Path, channels: bool = False, model: bool = False) -> int:
    """``channels``: a test message through each channel, each one's result said; ``model``:
    the parser's model loaded, as ``run`` will (else only found installed: ~1 s less)."""
    from monitor.compiled import load_checked

    try:
        loaded, engine = load_checked(path)
    except ConfigError as e:
        for problem in e.problems:
            print(f"error: {problem}", file=sys.stderr)
        n = len(e.problems)
        print(f"{path}: {plural(n, 'problem')}", file=sys.stderr)
        return EXIT_PROBLEMS
    s = loaded.settings
    errors, warnings, facts = run_time_checks(loaded)
    for w in warnings:
        print(f"warning: {path}: {w}", file=sys.stderr)
    if errors:
        for error in errors:
            print(f"error: {path}: {error}", file=sys.stderr)
        print(f"{path}: {plural(len(errors), 'problem')}", file=sys.stderr)
        return EXIT_PROBLEMS
    parser = "no parser (nlp.model: null): word order decides who fights whom"
    if engine.parser is not None:
        # loading the model is what `run` would meet; found installed is what `check` says
        # unless asked (`check --model`): the load costs about a second
        unusable = engine.parser.problem() if model else engine.parser.missing()
        if unusable is None:
            loaded_note = "" if model else " (installed; `check --model` loads it)"
            parser = f"parser {engine.parser.model}{loaded_note}"
        else:
            print(f"warning: {path}: {unusable}; until then word order decides", file=sys.stderr)
            parser = "no usable parser"
    counts = ", ".join(
        [
            plural(len(s.sources), "source"),
            plural(len(s.actors), "actor"),
            plural(len(s.keywords) + len(s.conflict), "keyword set"),
            plural(len(engine.rules), "rule"),
            plural(len(s.channels), "channel"),
        ]
    )
    print(f"{path}: ok — {counts}; {parser}")
    print("  (relative paths in it follow its folder, wherever monitor runs from)")
    for fact in facts:
        print(f"  {fact}")
    if channels:
        return asyncio.run(_try_channels(loaded))
    return EXIT_OK


async def _try_channels(loaded: LoadedConfig) -> int:
    """One test message through each channel, as the daemon sends (a notice): each one's
    result in a line; exit 1 when any failed."""
    import time
    from datetime import UTC, datetime

    import httpx

    from monitor.alert.registry import build_channels, uses_http
    from monitor.models import Notice

    s = loaded.settings
    client = None
    if uses_http(s.channels):
        client = await asyncio.to_thread(
            httpx.AsyncClient, headers={"User-Agent": s.fetch.user_agent}
        )
    failed = 0
    try:
        built = build_channels(s.channels, client, None, s.delivery.zone)
        for n, (name, channel) in enumerate(built.items(), start=1):
            notice = Notice(
                id=-(int(time.time() * 1000) * 100 + n),  # its own idempotency key each run
                source="monitor check",
                event="test",
                message=f"monitor check: a test message to channel {name!r}; if you read "
                "this, alerts reach you here.",
                channel=name,
                created=datetime.now(UTC),
            )
            try:
                delivery = await channel.send_notice(notice)
            except Exception as e:  # a channel's bug: said, not raised
                ok, reason = False, f"error: {type(e).__name__}: {e}"
            else:
                ok, reason = delivery.ok, delivery.reason
            failed += not ok
            print(f"  channel {name}: {'sent' if ok else 'FAILED'} ({reason})")
    finally:
        if client is not None:
            await client.aclose()
    return EXIT_PROBLEMS if failed else EXIT_OK


def run_time_checks(loaded: LoadedConfig) -> tuple[list[str], list[str], list[str]]:
    """What would fail or do nothing at run time, found now: (errors, warnings, facts)."""
    s = loaded.settings
    errors: list[str] = []
    warnings: list[str] = []
    if not loaded.text.strip() or not any(
        line.strip() and not line.lstrip().startswith("#") for line in loaded.text.splitlines()
    ):
        errors.append("the file is empty: nothing to watch (config/monitor.yaml is an example)")
        return errors, warnings, []
    if not s.sources:
        warnings.append("no sources: nothing will be polled (add some under sources:)")
    if not s.rules:
        warnings.append("no rules: nothing will alert (add some under rules:)")
    elif not s.channels:
        warnings.append("no channels: matches are stored but sent nowhere (add channels:)")
    warnings += _one_outlet(loaded)
    warnings += _opml_left_out(loaded)
    facts = []
    database = _database(s.storage.url, errors)
    if database:
        facts.append(f"database: {database}")
    if s.daemon.listen:
        problem = _listen_problem(s.daemon.listen)
        if problem and not problem.startswith("in use"):
            errors.append(f"daemon.listen {s.daemon.listen}: {problem}")
        else:
            if problem:
                warnings.append(f"daemon.listen {s.daemon.listen}: {problem}")
            facts.append(f"endpoint: http://{s.daemon.listen}/healthz")
            if s.console_served():
                writes = "verdicts and mutes" if s.console.token else "read-only: no console.token"
                facts.append(f"console: http://{s.daemon.listen}/ ({writes})")
    refusal = s.console_refusal()
    if refusal:
        errors.append(refusal)
    return errors, warnings, facts


def _one_outlet(loaded: LoadedConfig) -> list[str]:
    """Sources with the same URL, or that resolved to the same feed when last polled (the
    database says): one outlet for stories, polled twice."""
    from monitor.alert.outlets import Outlets

    names = [s.name for s in loaded.settings.sources]
    configured = Outlets(names)
    for s in loaded.settings.sources:
        configured.note(s.name, s.url)
    out = [
        f"{', '.join(same)} have the same URL {url}: one outlet, polled twice"
        for url, same in configured.shared()
    ]
    resolved = Outlets(names)
    wanted = set(names)
    for name, url in _resolved_urls(loaded.settings.storage.url).items():
        if name in wanted:
            resolved.note(name, url)
    told = {tuple(same) for _url, same in configured.shared()}
    out += [
        f"{', '.join(same)} read the same feed {url} (one announces it): one outlet for "
        "stories; keep one of them"
        for url, same in resolved.shared()
        if tuple(same) not in told
    ]
    return out


def _resolved_urls(url: str) -> dict[str, str]:
    """What each source read when last polled, from an existing database ({} when none)."""
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).is_file():
        return {}
    from monitor.store import open_store

    async def read() -> dict[str, str]:
        store = await open_store(url)
        try:
            return {s.name: s.url for s in await store.source_states()}
        finally:
            await store.close()

    try:
        return asyncio.run(read())
    except StorageError:
        return {}


def _database(url: str, errors: list[str]) -> str | None:
    """Where a SQLite database will be, and whether it can be: an error when it cannot."""
    if not url.startswith("sqlite:///") or url.endswith(":memory:"):
        return url.split("@")[-1] if "://" in url else url  # a server: no credentials shown
    path = Path(url[len("sqlite:///") :])
    if path.is_dir():
        errors.append(f"storage.url: {path} is a folder, not a database file")
        return None
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            errors.append(f"storage.url: {path} cannot be written by this user")
            return None
        return f"{path} (exists, {path.stat().st_size / 1e6:.1f} MB)"
    from monitor.store.sqlite import nearest_folder  # (the SQLite backend: only for a file)

    folder = nearest_folder(path)
    if not folder.is_dir():
        errors.append(f"storage.url: cannot create {path}: {folder} is a file, not a folder")
        return None
    if not os.access(folder, os.W_OK | os.X_OK):
        errors.append(f"storage.url: cannot create {path}: {folder} is not writable")
        return None
    return f"{path} (will be created)"


def _listen_problem(listen: str) -> str | None:
    """Can the daemon's endpoint listen there? None, or why not."""
    host, _, port = listen.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    try:
        infos = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)
    except (OSError, ValueError) as e:
        return f"not an address: {getattr(e, 'strerror', None) or e}"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                return "in use (is a daemon already running? `monitor health` asks it)"
            if e.errno == errno.EADDRNOTAVAIL:
                return f"{host} is not an address of this machine"
            return e.strerror or str(e)
    return None


def _opml_left_out(loaded: LoadedConfig) -> list[str]:
    """Entries of the OPML lists named in ``sources`` that are not polled, and why: an
    xmlUrl that is not a URL, a feed listed twice."""
    import yaml

    from monitor.opml import OpmlError, read_opml_list_file

    data = yaml.safe_load(loaded.text) or {}
    out = []
    for entry in data.get("sources") or [] if isinstance(data, dict) else []:
        if isinstance(entry, dict) and isinstance(entry.get("opml"), str):
            file = loaded.path.parent / entry["opml"]
            with contextlib.suppress(OpmlError):  # the configuration's own error says so
                out += [f"{entry['opml']}: {line}" for line in read_opml_list_file(file).left_out]
    return out
