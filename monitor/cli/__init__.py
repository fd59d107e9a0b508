"""The command line. Command names, options and ``--json`` outputs are a public interface.

    monitor run                      the daemon
    monitor once [--json]            poll every source once, deliver, exit
    monitor check [--channels] [--model]  validate the configuration (and try each channel,
                                     load the parser's model); exit 1 on any problem
    monitor test-rules [--json] [--date DAY] FILE|URL...   rules over text files (line 1
                                     title, rest body) or fetched URLs, and why not
    monitor why [--json] ID          what the rules make of a stored article, and why not
    monitor articles [--json] [--text] [--limit N]
    monitor alerts [--json] [--limit N] [--rule NAME] [--status S | --failed]
    monitor status [--json]
    monitor nodes [--json]           the daemons on the database (PostgreSQL: several)
    monitor inspect [--json] FILE|URL
    monitor health | reload
    monitor sources import FILE.opml | sources export
    monitor migrate --to postgresql://…
    monitor help [COMMAND] | version

Global options (``--config``, ``--log-level``, ``--log-format``) go before or after the command.

Exit codes: 0 success (``once`` too, when some sources failed: they are reported);
1 ``check`` found problems; 2 the configuration is unusable (or bad usage); 3 storage error.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from monitor import __version__, configpath, logs
from monitor.cli.common import EXIT_CONFIG, EXIT_OK, EXIT_PROBLEMS, EXIT_STORAGE
from monitor.errors import ConfigError, StartRefused, StorageError

if TYPE_CHECKING:
    from monitor.config import LoadedConfig
    from monitor.match.engine import Engine
    from monitor.match.ruleset import RuleSet

__all__ = ["EXIT_CONFIG", "GC_YOUNG_THRESHOLD", "build_parser", "main", "read_article_file"]

#: commands that read text with the rules: the compiled rules (and the parser) are theirs;
#: the others (alerts, articles, status, nodes, migrate) never load the rules engine
MATCHING = frozenset(["run", "once", "test-rules", "eval", "why", "backtest", "console"])
#: what a desk says back (``cli.desk``)
DESK = frozenset(["verdict", "verdicts", "mute", "mutes", "unmute"])


def read_article_file(path: str) -> tuple[str, str]:
    """A text file as (title, body): line 1 the title (``cli.rules``, loaded on demand)."""
    from monitor.cli.rules import read_article_file as read

    return read(path)


def _global_options(parser: argparse.ArgumentParser, defaults: bool) -> None:
    """``--config``, ``--log-level``, ``--log-format``: on the program and on every command,
    so they may come before or after it. A command's copy has no defaults (a value given
    before the command stands unless given again after it)."""

    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    parser.add_argument(
        "--config",
        "-c",
        default=default(None),
        help=f"configuration file (default: ${configpath.ENV_VAR} or {configpath.DEFAULT_PATH})",
    )
    parser.add_argument(
        "--log-level",
        default=default("info"),
        choices=["debug", "info", "warning", "error"],
        help="what the log says (default: info)",
    )
    parser.add_argument(
        "--log-format",
        default=default("text"),
        choices=["text", "json"],
        help="a line of key=value fields, or JSON (default: text)",
    )


class _Commands(argparse._SubParsersAction):  # type: ignore[type-arg]
    """Every command also takes the global options (``monitor check --config FILE``)."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        kwargs.setdefault("formatter_class", _Help)
        parser = super().add_parser(name, **kwargs)
        _global_options(parser, defaults=False)
        return parser  # type: ignore[no-any-return]


class _Help(argparse.HelpFormatter):
    """Help that says each option's default, where it has one worth saying."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            action.option_strings
            and default not in (None, argparse.SUPPRESS)
            and not isinstance(default, bool)
            and "%(default)" not in text
            and "(default: " not in text  # said in its own words already
        ):
            text += " (default: %(default)s)" if text else "default: %(default)s"
        return text


class _Parser(argparse.ArgumentParser):
    """argparse's parser, with a suggestion for a mistyped command or choice ("did you mean
    `status`?") and every option's default in its help."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Help)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        import difflib
        import re

        bad = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if bad:
            choices = re.findall(r"'([^']*)'", bad.group(2)) or bad.group(2).split(", ")
            close = difflib.get_close_matches(bad.group(1), choices, n=1)
            if close:
                message += f"; did you mean {close[0]!r}?"
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="monitor",
        description="Watch news sources; alert when tracked actors turn on each other.",
        epilog="monitor help COMMAND: a command's options. Global options may also follow "
        "the command.",
    )
    p.add_argument("--version", action="version", version=f"monitor {__version__}")
    _global_options(p, defaults=True)
    p.register("action", "commands", _Commands)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", action="commands")

    sub.add_parser("run", help="run the daemon until SIGINT/SIGTERM")
    once = sub.add_parser("once", help="poll every source once, deliver alerts, exit")
    once.add_argument("--json", action="store_true", help="one JSON object with every outcome")
    ck = sub.add_parser("check", help="validate the configuration; exit 1 on any problem")
    ck.add_argument(
        "--channels",
        action="store_true",
        help="also send a test message through each channel and say how each went",
    )
    ck.add_argument(
        "--model",
        action="store_true",
        help="also load the parser's model, as `run` will (default: check it is installed)",
    )
    tr = sub.add_parser(
        "test-rules", help="run the rules over text files or URLs and explain matches"
    )
    tr.add_argument("--json", action="store_true", help="one JSON object per file")
    tr.add_argument(
        "--verbose", "-v", action="store_true", help="why not: every candidate sentence"
    )
    tr.add_argument(
        "--date",
        type=_day,
        help="read the texts as published on this day, YYYY-MM-DD (default: today; a URL's "
        "entries: their own dates)",
    )
    tr.add_argument("files", nargs="+", metavar="FILE|URL")
    why = sub.add_parser(
        "why", help="what the rules make of a stored article (monitor articles gives ids)"
    )
    why.add_argument("id", type=int, metavar="ID")
    why.add_argument("--json", action="store_true")
    why.add_argument(
        "--verbose", "-v", action="store_true", help="why not: every candidate sentence"
    )
    arts = sub.add_parser("articles", help="list stored articles, newest first")
    arts.add_argument("--json", action="store_true")
    arts.add_argument("--limit", type=int, default=20, help="how many articles")
    arts.add_argument("--text", action="store_true", help="with each article's text")
    al = sub.add_parser("alerts", help="list alerts, newest first")
    al.add_argument("--json", action="store_true")
    al.add_argument("--limit", type=int, default=20, help="how many alerts")
    al.add_argument("--rule", help="only alerts of this rule (shadow rules included)")
    group = al.add_mutually_exclusive_group()
    group.add_argument("--status", choices=["pending", "sent", "failed", "shadow", "muted"])
    group.add_argument("--failed", action="store_true", help="same as --status failed")
    group.add_argument(
        "--retry", type=int, metavar="ID", help="make alert ID pending again and deliver it now"
    )
    st = sub.add_parser("status", help="each source: url, last success, failures, next due")
    st.add_argument("--json", action="store_true")
    nd = sub.add_parser("nodes", help="the daemons on the database: seen when, polling what")
    nd.add_argument("--json", action="store_true")
    ev = sub.add_parser("eval", help="precision and recall of the rules on labelled articles")
    labelled = ev.add_mutually_exclusive_group(required=True)
    labelled.add_argument(
        "--labels", help="JSON list of {file, alert, actors} (with title and text, or files in DIR)"
    )
    labelled.add_argument(
        "--verdicts", action="store_true", help="the desk's verdicts on alerts and articles"
    )
    ev.add_argument("dir", nargs="?", help="folder holding the labelled files")
    ev.add_argument("--rule", action="append", help="only this rule (shadow rules too); repeatable")
    ev.add_argument("--json", action="store_true")
    ev.add_argument(
        "--verbose", "-v", action="store_true", help="why not: every candidate sentence"
    )
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
    mg = sub.add_parser(
        "migrate", help="copy the configured database into another (postgresql://…)"
    )
    mg.add_argument("--to", required=True, metavar="URL", help="the database to copy into")
    _desk_commands(sub)
    co = sub.add_parser("console", help="serve the desk's console from the database (no polling)")
    co.add_argument(
        "--listen", metavar="HOST:PORT", help="default: console.listen (127.0.0.1:9109)"
    )
    hp = sub.add_parser("help", help="this help, or a command's: monitor help COMMAND")
    hp.add_argument("topic", nargs="?", metavar="COMMAND")
    sub.add_parser("version", help="print the version")
    return p


def _about(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """``monitor help [COMMAND]``, ``monitor version``."""
    if args.command == "version":
        print(f"monitor {__version__}")
        return EXIT_OK
    topic = args.topic
    if topic is None:
        parser.print_help()
        return EXIT_OK
    commands = next(a for a in parser._actions if isinstance(a, _Commands)).choices
    if topic not in commands:
        known = ", ".join(sorted(commands))
        print(f"monitor help: no command {topic!r} (commands: {known})", file=sys.stderr)
        return EXIT_CONFIG
    commands[topic].print_help()
    return EXIT_OK


#: allocations between two collections of the youngest generation (Python's default: 700)
GC_YOUNG_THRESHOLD = 10_000


def _day(value: str) -> datetime:
    """``--date YYYY-MM-DD``: that day, at noon UTC."""
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(hour=12, tzinfo=UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a day as YYYY-MM-DD, not {value!r}") from None


def main(argv: Sequence[str] | None = None) -> int:
    collecting = gc.isenabled()
    gc.disable()  # until the command has loaded what it needs (see ``monitor.__main__``)
    try:
        return _main(argv)
    finally:
        if collecting:
            gc.enable()


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command in ("help", "version"):
        return _about(parser, args)
    logs.setup(args.log_level, args.log_format)
    try:
        return _command(args, configpath.resolve_path(args.config))
    except ConfigError as e:
        for problem in e.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    except StorageError as e:
        print(f"error: storage: {e}", file=sys.stderr)
        return EXIT_STORAGE
    except StartRefused as e:  # (another daemon holds the database: ``AlreadyRunning``)
        print(f"error: {e}", file=sys.stderr)
        return EXIT_PROBLEMS
    except KeyboardInterrupt:
        if args.command == "once":
            print(
                "\ninterrupted: what was polled is stored; alerts not yet delivered stay "
                "pending and go out with the next `monitor once` or `monitor run`",
                file=sys.stderr,
            )
        return 130
    except BrokenPipeError:  # `monitor articles | head`: the reader left, nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _command(args: argparse.Namespace, path: Path) -> int:
    """Run a command, importing only what it uses (``monitor alerts`` never loads the
    fetcher, the daemon, aiohttp or the rules engine)."""
    if args.command == "check":
        from monitor.cli import check

        return check.check(path, channels=args.channels, model=args.model)
    if args.command in ("inspect", "sources"):
        from monitor.cli import sources

        if args.command == "inspect":
            return sources.inspect_target(path, args.target, args.json)
        return sources.sources(path, args.action, getattr(args, "file", None))
    if args.command in ("health", "reload"):
        from monitor.cli import running

        return running.ask_daemon(path, args.command)
    from monitor.compiled import load_checked, load_config, load_rules

    # a command that delivers nothing does not need delivery secrets
    retry = getattr(args, "retry", None) is not None
    delivering = args.command in ("run", "once") or retry
    engine: Engine | RuleSet | None = None
    if args.command in ("run", "once"):  # a pass loads the engine when it reads text
        loaded, engine = load_rules(path, delivering=delivering)
    elif args.command in MATCHING or retry:
        loaded, engine = load_checked(path, delivering=delivering)
    else:
        loaded = load_config(path, delivering=delivering)
    if args.command in ("run", "once") and engine is not None and engine.alerting:
        # the first alert's fingerprint would load numpy on the event loop, while
        # deliveries wait to be marked sent: load it before the loop runs
        from monitor.alert import stories

        stories.prepare()
    # the command's own modules (the daemon, the fetcher: ~0.3 s) load here, before the event
    # loop runs (an import inside it holds it) and before they are frozen below
    module = _module_of(args.command)
    # modules, configuration and compiled rules live as long as the process: out of the
    # cyclic collector's way for good, before any worker is forked (the few cycles
    # start-up left behind stay with them)
    gc.freeze()
    # a pass keeps thousands of young objects in flight (documents, articles, matches):
    # collected less often, they are re-scanned less often (benchmarks/README.md)
    gc.set_threshold(GC_YOUNG_THRESHOLD, 10, 10)
    gc.enable()
    if args.command in ("test-rules", "eval"):
        rules = module
        assert engine is not None
        if args.command == "eval":
            a = args
            if a.verdicts:
                return int(rules.eval_verdicts(engine, loaded, a.rule, a.json, a.verbose))
            return int(rules.eval_labels(engine, a.labels, a.dir, a.rule, a.json, a.verbose))
        fetch = loaded.settings.fetch
        return int(rules.test_rules(engine, args.files, args.json, args.verbose, args.date, fetch))
    import asyncio

    # MONITOR_SLOW_CALLBACK_MS=50: asyncio's debug mode reports every callback that
    # blocks the event loop longer than that (benchmarks/feed_farm.py uses it)
    slow = os.environ.get("MONITOR_SLOW_CALLBACK_MS")
    return asyncio.run(_async_main(args, module, loaded, engine, slow), debug=bool(slow))


def _desk_commands(sub: Any) -> None:
    """What a desk says back (``cli.desk``): verdicts and mutes."""
    vd = sub.add_parser("verdict", help="say an alert was right or wrong, or an article missed")
    target = vd.add_mutually_exclusive_group(required=True)
    target.add_argument("--alert", type=int, metavar="ID", help="an alert (#ID in `alerts`)")
    target.add_argument("--article", type=int, metavar="ID", help="an article (`articles`)")
    kind = vd.add_mutually_exclusive_group(required=True)
    for word, meaning in (
        ("right", "it should have alerted (these actors fight)"),
        ("wrong", "it should not have alerted, or other actors fight (--actors)"),
        ("missed", "it should have alerted and did not (--actors: who fights)"),
    ):
        kind.add_argument(f"--{word}", dest="kind", action="store_const", const=word, help=meaning)
    vd.add_argument("--actors", nargs="+", metavar="ACTOR", default=[], help="who fights")
    vd.add_argument("--reason", default="", help="why, in a few words")
    vd.add_argument("--json", action="store_true")
    vs = sub.add_parser("verdicts", help="the desk's verdicts, newest first")
    vs.add_argument("--json", action="store_true", help="one object per verdict")
    vs.add_argument(
        "--labels", action="store_true", help="as a labels file for `monitor eval --labels`"
    )
    mu = sub.add_parser("mute", help="keep an actor pair's, a source's or a story's alerts unsent")
    what = mu.add_mutually_exclusive_group(required=True)
    what.add_argument("--actors", nargs=2, metavar=("ACTOR", "ACTOR"), help="a pair of actors")
    what.add_argument("--source", metavar="NAME", help="a configured source")
    what.add_argument("--story", type=int, metavar="ID", help="a story")
    until = mu.add_mutually_exclusive_group(required=True)
    until.add_argument("--for", dest="period", metavar="PERIOD", help="30m, 1h, 1d, 1w")
    until.add_argument("--until", metavar="DATE", help="a date (2026-12-31) or time")
    mu.add_argument("--reason", default="", help="why, in a few words")
    mu.add_argument("--json", action="store_true")
    ms = sub.add_parser("mutes", help="the mutes in force")
    ms.add_argument("--all", action="store_true", help="ended ones too")
    ms.add_argument("--json", action="store_true")
    um = sub.add_parser("unmute", help="end a mute now")
    um.add_argument("id", type=int, metavar="ID", help="the mute's id (`mutes` lists them)")


def _module_of(command: str) -> Any:
    """The module that runs ``command`` (imported now)."""
    if command in ("run", "once"):
        from monitor.cli import running

        if command == "run":  # the daemon serves the console on its endpoint
            import monitor.console.app  # noqa: F401
        return running
    if command == "migrate":
        from monitor.cli import migrate

        return migrate
    if command in ("test-rules", "eval"):
        from monitor.cli import rules

        return rules
    if command in DESK:
        from monitor.cli import desk

        return desk
    if command == "console":
        from monitor.cli import console

        return console
    from monitor.cli import reading

    return reading


async def _async_main(
    args: argparse.Namespace,
    module: Any,
    loaded: LoadedConfig,
    engine: Engine | RuleSet | None,
    slow_callback_ms: str | None = None,
) -> int:
    import asyncio

    if slow_callback_ms:
        asyncio.get_running_loop().slow_callback_duration = float(slow_callback_ms) / 1000
    if args.command in ("run", "once"):
        assert engine is not None
        return int(await module.run(args, loaded, engine))
    if args.command == "migrate":
        return int(await module.migrate(loaded, args.to))
    return int(await module.show(args, loaded, engine))
