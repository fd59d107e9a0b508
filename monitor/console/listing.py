"""What the console's pages show, from what the store gives: filters read from a query string,
alert rows gathered into cards (one per alert, its delivery on each channel), exports. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from monitor.alert.view import AlertView, view
from monitor.desk import Verdict
from monitor.models import Alert
from monitor.store import AlertFilter

#: the filters the Alerts page takes, in the order its form shows them
FILTERS = ("q", "rule", "actor", "severity", "source", "status", "verdict", "since", "until")
STATUSES = ("pending", "sent", "failed", "muted")
VERDICTS = ("right", "wrong", "missed", "none")


class BadFilter(ValueError):
    """A filter that cannot be read: its name and what was expected."""


def read_filter(query: Mapping[str, str]) -> tuple[AlertFilter, str]:
    """The store's filter and the full-text words from a query string; BadFilter says which
    field is wrong."""

    def given(name: str) -> str | None:
        value = (query.get(name) or "").strip()
        return value or None

    def day(name: str, end: bool = False) -> datetime | None:
        value = given(name)
        if value is None:
            return None
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            raise BadFilter(f"{name}: expected a date such as 2026-12-01, got {value!r}") from None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        return when + timedelta(days=1) if end and len(value) == 10 else when

    status, verdict = given("status"), given("verdict")
    if status is not None and status not in STATUSES:
        raise BadFilter(f"status: one of {', '.join(STATUSES)}")
    if verdict is not None and verdict not in VERDICTS:
        raise BadFilter(f"verdict: one of {', '.join(VERDICTS)}")
    before = given("before")
    if before is not None and not before.isdigit():
        raise BadFilter("before: an alert's number")
    f = AlertFilter(
        rule=given("rule"),
        actor=given("actor"),
        severity=given("severity"),
        source=given("source"),
        status=status,
        since=day("since"),
        until=day("until", end=True),
        verdict=verdict,
        before=int(before) if before else None,
    )
    return f, given("q") or ""


@dataclass(frozen=True)
class Card:
    """One alert as the console shows it: the view every channel renders, each channel's row,
    and the desk's verdict on its article."""

    id: int
    view: AlertView
    rows: tuple[Alert, ...]
    verdict: Verdict | None
    #: the story's other outlets, in the order they reported it
    others: tuple[str, ...] = ()

    @property
    def first(self) -> Alert:
        return self.rows[0]

    @property
    def actors(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.first.match.actor_names))


def cards(
    rows: Sequence[Alert],
    verdicts: Mapping[int, Verdict],
    outlets: Mapping[int, Sequence[str]] | None = None,
    tz: ZoneInfo | None = None,
) -> list[Card]:
    """Rows (newest first, every channel's) gathered per alert, in the order given;
    ``outlets``: each story's sources; ``tz``: the desk's timezone, shown beside UTC."""
    groups: dict[tuple[int | None, str], list[Alert]] = {}
    for row in rows:
        groups.setdefault((row.match_id, row.kind), []).append(row)
    out = []
    for group in groups.values():
        group.sort(key=lambda r: r.id)
        first = group[0]
        verdict = verdicts.get(first.article_id) if first.article_id is not None else None
        told = (outlets or {}).get(first.story_id, []) if first.story_id is not None else []
        others = tuple(o for o in told if o != first.source)
        out.append(Card(group[-1].id, view(first, tz), tuple(group), verdict, others))
    return out


EXPORT_FIELDS = (
    "id",
    "created",
    "kind",
    "severity",
    "rule",
    "actors",
    "parties",
    "headline",
    "url",
    "outlet",
    "published",
    "evidence",
    "delivery",
    "verdict",
    "article_id",
    "story_id",
)


def export_row(card: Card) -> dict[str, Any]:
    """A card as a row of the CSV and JSON exports."""
    v, a = card.view, card.first
    return {
        "id": card.id,
        "created": a.created.isoformat(),
        "kind": v.kind,
        "severity": v.severity,
        "rule": v.rule,
        "actors": "; ".join(card.actors),
        "parties": v.parties,
        "headline": v.headline,
        "url": a.article_url,
        "outlet": v.outlet,
        "published": a.published.isoformat() if a.published else "",
        "evidence": v.quote.plain() if v.quote else v.headline,
        "delivery": "; ".join(f"{r.channel} {r.status.value}" for r in card.rows),
        "verdict": card.verdict.kind if card.verdict else "",
        "article_id": a.article_id,
        "story_id": a.story_id,
    }


def csv_safe(value: object) -> str:
    """A cell a spreadsheet will not run: text starting with = + - @ is quoted as text."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
