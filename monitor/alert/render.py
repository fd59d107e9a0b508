"""An alert view as plain text (console, email's text part, apprise) and as HTML (email).
Pure. Slack's blocks are drawn from the same view in ``alert.slack``.

Plain text is prose: no markdown markers, no offsets, no debug form. The rules engine's own
account of a match (offsets, forms, scores) is ``monitor alerts --json`` and ``test-rules``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from monitor.alert.view import AlertView, subject, view
from monitor.models import Alert

__all__ = ["digest_html", "digest_text", "digest_title", "html_body", "subject", "text"]


def _top(v: AlertView) -> str:
    """The first line: severity and what the alert is about."""
    if v.kind == "followup":
        return f"[{v.severity.upper()}] {v.lead or 'Also reported.'}"
    if v.kind == "edit":
        return f"[EDITED] {v.lead or 'The article was edited.'}"
    return f"[{v.severity.upper()}] {v.parties}"


def text(v: AlertView) -> str:
    """The alert as a few lines of plain prose."""
    lines = [_top(v)]
    if v.kind in ("alert", "escalation") and v.lead:
        lines.append(v.lead)
    lines.append(v.headline)
    lines.append(f"{v.outlet} · {v.time_line}")
    if v.url:
        lines.append(v.url)
    if v.kind in ("followup", "edit"):
        if v.story_title and v.story_title != v.headline:
            lines.append(f"Story: {v.story_title}")
        return "\n".join(lines)
    if v.quote is not None:
        lines += ["", f"“{v.quote.plain()}”"]
    lines.append("")
    lines.append(_facts(v))
    lines.extend(f"Note: {n}" for n in v.notes)
    return "\n".join(lines)


def _facts(v: AlertView) -> str:
    facts = [f"{label.capitalize()}: {value}" for label, value in v.listed()]
    facts.append(f"Rule: {v.rule} (score {v.score:g})")
    return " · ".join(facts)


def html_body(v: AlertView) -> str:
    """The alert as a small HTML page: the headline linked, the matched words in bold."""
    e = html.escape
    head = e(v.headline)
    linked = f'<a href="{e(v.url)}">{head}</a>' if v.url else head
    parts = [f"<p><strong>{e(_top(v))}</strong></p>"]
    if v.kind in ("alert", "escalation") and v.lead:
        parts.append(f"<p>{e(v.lead)}</p>")
    parts.append(f"<h2>{linked}</h2>")
    parts.append(f"<p>{e(v.outlet)} · {e(v.time_line)}</p>")
    if v.kind in ("followup", "edit"):
        if v.story_title and v.story_title != v.headline:
            parts.append(f"<p>Story: {e(v.story_title)}</p>")
    else:
        if v.quote is not None:
            quoted = v.quote.marked(e, "<strong>", "</strong>")
            parts.append(f"<blockquote>{quoted}</blockquote>")
        parts.append(f"<p><small>{e(_facts(v))}</small></p>")
        parts.extend(f"<p><small>Note: {e(n)}</small></p>" for n in v.notes)
    return "<!doctype html><html><body>" + "".join(parts) + "</body></html>"


def digest_title(alerts: Sequence[Alert]) -> str:
    rules = sorted({a.match.rule for a in alerts})
    n = len(alerts)
    return f"Digest: {n} alert{'s' if n != 1 else ''} ({', '.join(rules)})"


def digest_text(alerts: Sequence[Alert], tz: ZoneInfo | None = None) -> str:
    lines = [digest_title(alerts), ""]
    for a in alerts:
        v = view(a, tz)
        lines.append(f"- [{v.severity.upper()}] {v.parties} — {v.headline}")
        lines.append(f"  {v.outlet} · {v.time_line}" + (f" · {v.url}" if v.url else ""))
    return "\n".join(lines)


def digest_html(alerts: Sequence[Alert], tz: ZoneInfo | None = None) -> str:
    e = html.escape
    items = []
    for a in alerts:
        v = view(a, tz)
        head = f'<a href="{e(v.url)}">{e(v.headline)}</a>' if v.url else e(v.headline)
        items.append(
            f"<li><strong>{e(v.severity.upper())}</strong> {e(v.parties)}: {head}"
            f" <small>({e(v.outlet)} · {e(v.time_line)})</small></li>"
        )
    return (
        f"<!doctype html><html><body><h2>{e(digest_title(alerts))}</h2>"
        f"<ul>{''.join(items)}</ul></body></html>"
    )
