"""What each page of the console shows and what each of its forms does, read from and written
to the store (``app`` turns them into responses)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from monitor.console.listing import (
    EXPORT_FIELDS,
    FILTERS,
    STATUSES,
    VERDICTS,
    cards,
    csv_safe,
    export_row,
    read_filter,
)
from monitor.desk import (
    MUTE_KINDS,
    VERDICT_KINDS,
    Mute,
    make_verdict,
    mute_until,
    named_actors,
    pair_target,
)
from monitor.models import SEVERITIES
from monitor.store import AlertFilter, NotStored, judged

if TYPE_CHECKING:
    from monitor.console.context import Desk

#: alerts on a page of the Alerts page, and at most in an export
PAGE = 50
EXPORT_LIMIT = 10_000


async def find(desk: Desk, query: Mapping[str, str]) -> dict[str, Any]:
    """The Alerts page: the newest alerts the filters let through, a page of them."""
    f, words = read_filter(query)
    rows = await desk.store.find_alerts(_searching(f, words), PAGE)
    found = await _cards(desk, rows)
    settings = desk.settings()
    articles = await desk.store.search_articles(words, 20) if words else []
    judged = await desk.store.verdicts_on([a.id for a in articles])
    from urllib.parse import urlencode

    return {
        "cards": found,
        "articles": [(a, judged.get(a.id)) for a in articles],
        "request_query": urlencode({k: v for k, v in query.items() if k in FILTERS and v}),
        "filters": {name: query.get(name, "") for name in FILTERS},
        "options": {
            "rule": [r.name for r in settings.rules],
            "actor": sorted(settings.actors),
            "severity": list(SEVERITIES),
            "source": [s.name for s in settings.sources],
            "status": list(STATUSES),
            "verdict": list(VERDICTS),
        },
        "next": _next_page(query, found[-1].id) if len(found) >= PAGE else None,
        "mutes": await desk.store.mutes(desk.now()),
        "mute_kinds": MUTE_KINDS,
        "verdict_kinds": VERDICT_KINDS,
        "actors": sorted(settings.actors),
    }


def _searching(f: AlertFilter, words: str) -> AlertFilter:
    return replace(f, search=words) if words else f


async def _cards(desk: Desk, rows: list[Any]) -> list[Any]:
    verdicts = await desk.store.verdicts_on([r.article_id for r in rows if r.article_id])
    outlets = await desk.store.story_outlets([r.story_id for r in rows if r.story_id])
    return cards(rows, verdicts, outlets, desk.settings().delivery.zone)


def _next_page(query: Mapping[str, str], last: int) -> str:
    from urllib.parse import urlencode

    kept = {k: v for k, v in query.items() if k in FILTERS and v}
    return "/alerts?" + urlencode({**kept, "before": str(last)})


async def export(desk: Desk, query: Mapping[str, str]) -> list[dict[str, Any]]:
    """The filtered list, every page of it (up to ``EXPORT_LIMIT`` alerts), as rows."""
    f, words = read_filter(query)
    f = _searching(f, words)
    out: list[dict[str, Any]] = []
    while len(out) < EXPORT_LIMIT:
        rows = await desk.store.find_alerts(f, 500)
        if not rows:
            break
        page = await _cards(desk, rows)
        out += [export_row(c) for c in page]
        f = replace(f, before=page[-1].id)
    return out[:EXPORT_LIMIT]


def write_csv(writer: Any, rows: list[dict[str, Any]]) -> None:
    writer.writerow(EXPORT_FIELDS)
    for row in rows:
        writer.writerow([csv_safe(row[k]) for k in EXPORT_FIELDS])


async def story(desk: Desk, story_id: int) -> dict[str, Any] | None:
    """A story: every outlet's version in order of arrival, its follow-ups, escalations and
    edit notices, each with its evidence as it was fetched."""
    rows = await desk.store.story_alerts(story_id)
    if not rows:
        return None
    found = list(reversed(await _cards(desk, list(reversed(rows)))))
    outlets = list(dict.fromkeys(c.view.outlet for c in found))
    versions = await desk.store.article_versions([r.article_id for r in rows if r.article_id])
    return {
        "versions": versions,
        "story_id": story_id,
        "title": rows[0].story_title or rows[0].article_title,
        "cards": found,
        "outlets": outlets,
        "verdict_kinds": VERDICT_KINDS,
        "actors": sorted(desk.settings().actors),
    }


async def sources(desk: Desk) -> dict[str, Any]:
    """Every source's health at a glance, with its activity."""
    now = desk.now()
    states = {s.name: s for s in await desk.store.source_states()}
    week = await desk.store.source_activity(now - timedelta(days=7))
    rows = []
    for configured in desk.settings().sources:
        state = states.get(configured.name)
        activity = week.get(configured.name)
        health = "new"
        if state is not None:
            health = "gone" if state.gone else (state.health or "ok")
            if state.failures and health == "ok":
                health = "failing"
        rows.append(
            {
                "name": configured.name,
                "url": configured.url,
                "group": configured.group or "",
                "health": health,
                "state": state,
                "per_day": round(activity.articles / 7, 1) if activity else 0,
                "alerts_week": activity.alerts if activity else 0,
            }
        )
    order = {"failing": 0, "gone": 1, "silent": 2, "new": 3, "ok": 4}
    rows.sort(key=lambda r: (order.get(str(r["health"]), 5), str(r["name"])))
    counts = Counter(r["health"] for r in rows)
    return {"rows": rows, "counts": dict(counts), "now": now}


async def preview(desk: Desk, url: str) -> dict[str, Any]:
    """What ``monitor inspect`` would take from an address, to add it as a source (in the
    configuration file, which stays the source of truth)."""
    url = url.strip()
    if not url.startswith(("http://", "https://")):
        return {"url": url, "error": "an address starts with http:// or https://"}
    from urllib.parse import urlsplit

    from monitor.errors import FetchError, ParseError
    from monitor.inspect import inspect

    try:
        found = await inspect(url, desk.settings().fetch, trusted=False)
    except (FetchError, ParseError) as e:
        return {"url": url, "error": str(e)}
    name = _source_name(urlsplit(url).hostname or "")
    return {
        "url": url,
        "error": None,
        "kind": found.kind,
        "feeds": found.feeds,
        "entries": found.entries[:20],
        "line": f"  - {{name: {name}, url: {json.dumps(url)}}}",
    }


def _source_name(host: str) -> str:
    """A name for a new source from its host: "feeds.bbci.co.uk" → "bbci"."""
    labels = [x for x in host.split(".") if x and x not in ("www", "feeds", "rss", "news")]
    if not labels or labels[-1].isdigit():
        return "source"  # an address, not a name
    return labels[0] if len(labels) > 1 else labels[-1]


async def try_rules(desk: Desk, form: Mapping[str, str]) -> dict[str, Any]:
    """The rule tester: each rule's matches with roles and evidence, or why none fired, as
    ``test-rules`` explains them; a text pasted, or an http(s) address fetched."""
    from monitor.match.evaluate import parse_label_date

    engine = await asyncio.to_thread(desk.engine)  # loaded the first time: not on the loop
    if engine is None:
        return {"error": "the rules are not loaded here", "texts": []}
    when = parse_label_date(form.get("date")) or desk.now()
    texts: list[tuple[str, str, str, Any]] = []
    url, text = form.get("url", "").strip(), form.get("text", "")
    if url:
        if not url.startswith(("http://", "https://")):
            return {"error": "an address starts with http:// or https://", "texts": []}
        from monitor.errors import FetchError, ParseError
        from monitor.inspect import inspect

        try:
            found = await inspect(url, desk.settings().fetch, trusted=False)
        except (FetchError, ParseError) as e:
            return {"error": f"{url}: {e}", "texts": []}
        for n, entry in enumerate(found.entries, start=1):
            if entry["text"]:
                label = url if found.kind == "article" else f"#{n} {entry['link']}"
                texts.append((label, entry["title"], entry["text"], when))
    elif text.strip():
        title, _, body = text.replace("\r\n", "\n").partition("\n")
        texts.append(("pasted text", title.strip(), body, when))
    else:
        return {
            "error": "paste a text (its first line is the title) or give an address",
            "texts": [],
        }

    def run() -> list[dict[str, Any]]:
        out = []
        for label, title, body, dated in texts[:20]:
            matches = engine.match(title, body, when=dated)
            why = [] if matches else engine.explain_silence(title, body, when=dated)
            out.append({"label": label, "title": title, "matches": matches, "why_not": why})
        return out

    return {"error": None, "texts": await asyncio.to_thread(run)}


async def evaluation(desk: Desk) -> dict[str, Any]:
    """The desk's verdicts: precision week by week, false alarms and misses by rule and
    actor, and the rules of now scored on them (``monitor eval --verdicts``)."""
    verdicts = await desk.store.verdicts()
    weeks: dict[str, Counter[str]] = defaultdict(Counter)
    wrong_by: Counter[str] = Counter()
    missed_by: Counter[str] = Counter()
    for v in verdicts:
        if v.created is not None:
            week = f"{v.created.isocalendar().year}-W{v.created.isocalendar().week:02d}"
            weeks[week][v.kind] += 1
        if v.kind == "wrong":
            wrong_by[f"rule {v.rule or '?'}"] += 1
            for a in v.actors:
                wrong_by[f"actor {a}"] += 1
        elif v.kind == "missed":
            for a in v.actors:
                missed_by[f"actor {a}"] += 1
    precision: list[dict[str, Any]] = []
    for week in sorted(weeks):
        c = weeks[week]
        judged = c["right"] + c["wrong"]
        share = c["right"] / judged if judged else None
        counts: dict[str, int] = {k: c[k] for k in VERDICT_KINDS}
        precision.append({"week": week, **counts, "precision": share})
    return {
        "verdicts": verdicts[:200],
        "total": len(verdicts),
        "precision": precision,
        "wrong_by": wrong_by.most_common(20),
        "missed_by": missed_by.most_common(20),
        "score": await _score(desk, verdicts),
    }


async def _score(desk: Desk, verdicts: list[Any]) -> dict[str, Any] | None:
    """The rules of now on the verdicts (at most the 2,000 newest), in a thread; kept until
    the rules or the verdicts change (a reload of the page does not run them again)."""
    if not verdicts:
        return None
    engine = await asyncio.to_thread(desk.engine)  # loaded the first time: not on the loop
    if engine is None:
        return None
    key = (id(engine), len(verdicts), verdicts[0].created)
    if key in desk.scored:
        return desk.scored[key]
    from monitor.desk import as_label
    from monitor.match.evaluate import Labelled, evaluate, parse_label_date

    items = []
    for v in verdicts[:2000]:
        label = as_label(v)
        items.append(
            Labelled(
                label["file"],
                v.title,
                v.text,
                v.alert,
                tuple(Labelled.entry(a) for a in label["actors"]),
                category=label["category"],
                published=parse_label_date(label["date"]),
            )
        )
    report = await asyncio.to_thread(evaluate, engine, items, None)
    desk.scored.clear()
    desk.scored[key] = {
        "items": len(items),
        "precision": report.precision,
        "recall": report.recall,
        "misses": [(j.item.file, j.verdict) for j in report.misses][:50],
    }
    return desk.scored[key]


async def give_verdict(desk: Desk, form: Mapping[str, list[Any]]) -> str | None:
    """A verdict from a form (on an alert, or on an article); what is wrong, or None."""
    settings = desk.settings()
    kind = _one(form, "kind")
    try:
        actors = named_actors(settings, [a for a in form.get("actors", []) if str(a).strip()])
        alert_id, article_id = (
            int(v) if v.isdigit() else None for v in (_one(form, "alert"), _one(form, "article"))
        )
        article_id, article, alert = await judged(desk.store, alert_id, article_id)
        verdict = make_verdict(kind, actors, _one(form, "reason"), article_id, article, alert)
    except NotStored as e:
        return f"no such {e.what}"
    except ValueError as e:
        return str(e)
    await desk.store.record_verdict(verdict, desk.now())
    return None


async def add_mute(desk: Desk, form: Mapping[str, list[Any]]) -> str | None:
    """A mute from a form: an actor pair, a source or a story, for a period."""
    settings = desk.settings()
    kind, target = _one(form, "kind"), _one(form, "target")
    if _one(form, "kind_target"):  # the alert's own choices: "pair A|B", "source S", "story 3"
        kind, _, target = _one(form, "kind_target").partition(" ")
    try:
        until = mute_until(_one(form, "until") or _one(form, "period") or "1d", desk.now())
        if kind == "pair":
            pair = named_actors(settings, [a for a in target.split("|") if a.strip()])
            if len(pair) != 2:
                return "a pair is two different actors"
            target = pair_target(*pair)
        elif kind == "source":
            if target not in {s.name for s in settings.sources}:
                return "no such source"
        elif kind == "story":
            if not target.isdigit():
                return "a story is given by its number"
        else:
            return f"a mute is on one of {', '.join(MUTE_KINDS)}"
    except ValueError as e:
        return str(e)
    mute = Mute(kind, target, until, _one(form, "reason"))  # type: ignore[arg-type]  # checked
    await desk.store.add_mute(mute, desk.now())
    return None


async def end_mute(desk: Desk, form: Mapping[str, list[Any]]) -> str | None:
    """A mute ended now, from its form."""
    mute = _one(form, "id")
    if not mute.isdigit() or not await desk.store.end_mute(int(mute), desk.now()):
        return "no such mute in force"
    return None


def _one(form: Mapping[str, list[Any]], name: str) -> str:
    values = form.get(name) or [""]
    return str(values[0]).strip()
