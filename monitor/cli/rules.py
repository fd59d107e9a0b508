"""Rules over text: ``monitor test-rules`` (files), ``monitor eval`` (labelled files: precision
and recall) and ``monitor backtest`` (stored articles; sends nothing)."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.cli.common import EXIT_OK, EXIT_PROBLEMS, iso
from monitor.config import FetchSettings
from monitor.errors import FetchError, ParseError
from monitor.match.engine import Engine
from monitor.models import Match, mark_span
from monitor.progress import Progress


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


def test_rules(
    engine: Engine,
    files: list[str],
    as_json: bool,
    verbose: bool = False,
    when: datetime | None = None,
    fetch: FetchSettings | None = None,
) -> int:
    """The rules over text files (line 1 the title) and URLs (fetched and read as the daemon
    would: a feed's entries, an article page), each read as of ``when`` (default: now; an
    entry of a URL as of its own date), exactly as the daemon would read it then."""
    status = EXIT_OK
    when = when or datetime.now(UTC)
    for f in files:
        if f.startswith(("http://", "https://")):
            try:
                texts = asyncio.run(_fetched(f, fetch or FetchSettings()))
            except (FetchError, ParseError) as e:
                print(f"error: {f}: {e}", file=sys.stderr)
                status = EXIT_PROBLEMS
                continue
            if not texts:
                print(f"{f}: a page of links, no article: `monitor inspect {f}` lists them")
            for label, title, body, dated in texts:
                explain(engine, label, title, body, dated or when, as_json, verbose)
            continue
        try:
            title, body = read_article_file(f)
        except OSError as e:
            print(f"error: {f}: {e.strerror or e}", file=sys.stderr)
            status = EXIT_PROBLEMS
            continue
        explain(engine, f, title, body, when, as_json, verbose)
    return status


async def _fetched(url: str, fetch: FetchSettings) -> list[tuple[str, str, str, datetime | None]]:
    """A URL's articles as (label, title, text, published): a feed's entries, an article."""
    from monitor.inspect import inspect

    found = await inspect(url, fetch)
    out = []
    for n, e in enumerate(found.entries, start=1):
        if not e["text"]:
            continue
        label = url if found.kind == "article" else f"{url} #{n} {e['link']}"
        published = datetime.fromisoformat(e["published"]) if e["published"] else None
        out.append((label, e["title"], e["text"], published))
    return out


def explain(
    engine: Engine,
    label: str,
    title: str,
    body: str,
    when: datetime | None,
    as_json: bool,
    verbose: bool = False,
) -> list[Match]:
    """What the rules make of one text read as of ``when``: each alert and why, or why
    none (the lines of ``test-rules``, ``why``)."""
    matches = engine.match(title, body, when=when)
    if as_json:
        print(
            json.dumps(
                {
                    "file": label,
                    "date": when.date().isoformat() if when else None,
                    "alerts": [match_summary(m) for m in matches],
                },
                ensure_ascii=False,
            )
        )
        return matches
    print(f"{label}: {len(matches)} alert{'s' if len(matches) != 1 else ''}")
    for m in matches:
        shadow = ", shadow" if m.mode == "shadow" else ""
        print(f"  [{m.severity}] {m.rule} (score {m.score}{shadow})")
        for a in m.actors:
            # as written, in quotes (a non-breaking space is a space to a reader)
            forms = ", ".join(f"“{' '.join(x.split())}”" for x in a.forms)
            print(f"    actor  {a.actor}: {forms}")
        print(f"    words  {', '.join(m.keywords)}")
        for clash in m.clashes:
            print(f"    who    {clash.describe()}")
        for span in m.spans:
            print(f"    {span.field}[{span.start}:{span.end}]  {mark_span(span, ('**', '**'))}")
        for note in m.notes:
            print(f"    note   {note}")
    if not matches:
        for line in engine.explain_silence(title, body, when=when, verbose=verbose):
            print(f"  {line}" if line.startswith("found: ") else f"  why not: {line}")
    return matches


def eval_labels(
    engine: Engine,
    labels_path: str,
    folder: str | None,
    rules: list[str] | None,
    as_json: bool,
    verbose: bool = False,
) -> int:
    """``monitor eval --labels FILE [DIR]``: the rules scored on labelled articles, each in a
    file of DIR or with its ``title`` and ``text`` in the label itself (as ``monitor verdicts
    --labels`` exports the desk's verdicts)."""
    try:
        items = read_labels(labels_path, folder)
    except (OSError, ValueError) as e:
        print(f"error: {labels_path}: {e}", file=sys.stderr)
        return EXIT_PROBLEMS
    return report_eval(engine, items, rules, as_json, verbose)


def read_labels(labels_path: str, folder: str | None) -> list[Any]:
    """The labelled articles of a labels file; ValueError says what is wrong with it."""
    labels = json.loads(Path(labels_path).read_text(encoding="utf-8"))
    if not isinstance(labels, list):
        raise ValueError("expected a JSON list of {file, alert, actors}")
    return [_labelled(entry, i, folder) for i, entry in enumerate(labels)]


def _labelled(entry: Any, i: int, folder: str | None) -> Any:
    from monitor.match.evaluate import Labelled, parse_label_date

    if not isinstance(entry, dict) or "file" not in entry or "alert" not in entry:
        raise ValueError(f"entry {i}: expected an object with 'file' and 'alert'")
    if isinstance(entry.get("text"), str):
        title, body = str(entry.get("title") or ""), entry["text"]
    elif folder is None:
        raise ValueError(f"entry {i}: no 'text' in the label, and no folder of files given")
    else:
        title, body = read_article_file(str(Path(folder) / entry["file"]))
    return Labelled(
        entry["file"],
        title,
        body,
        bool(entry["alert"]),
        tuple(Labelled.entry(str(a)) for a in entry.get("actors") or ()),
        category=entry.get("category") or None,
        published=parse_label_date(entry.get("date")),
    )


def eval_verdicts(
    engine: Engine, loaded: Any, rules: list[str] | None, as_json: bool, verbose: bool
) -> int:
    """``monitor eval --verdicts``: the rules of now scored on the desk's verdicts."""
    from monitor.desk import as_label

    verdicts = asyncio.run(_stored_verdicts(loaded.settings.storage))
    if not verdicts:
        print("no verdicts yet: mark alerts right or wrong, and missed articles, first")
        return EXIT_OK
    items = [_labelled(as_label(v), i, None) for i, v in enumerate(verdicts)]
    return report_eval(engine, items, rules, as_json, verbose)


async def _stored_verdicts(storage: Any) -> list[Any]:
    from monitor.store import open_store

    store = await open_store(storage.url, storage.pool_size)
    try:
        return list(reversed(await store.verdicts()))  # oldest first, as labels are kept
    finally:
        await store.close()


def report_eval(
    engine: Engine, items: list[Any], rules: list[str] | None, as_json: bool, verbose: bool
) -> int:
    """Score the rules on labelled items and print the report (JSON, or for a reader)."""
    from monitor.match.evaluate import evaluate

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
    print_eval(engine, report, verbose)
    return EXIT_OK


def print_eval(engine: Engine, report: Any, verbose: bool = False) -> None:
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
            lines = engine.explain_silence(
                j.item.title, j.item.body, when=j.item.published, verbose=verbose
            )
            for line in lines:
                print(f"  {line}" if line.startswith("found: ") else f"  why not: {line}")


def parse_since(text: str | None) -> datetime | None:
    """``2026-11-01`` or an ISO timestamp → UTC datetime; ValueError with a clear message."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--since: expected a date such as 2026-11-01, got {text!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


async def backtest(
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
                            "published": iso(a.published),
                            "fetched": iso(a.fetched),
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
