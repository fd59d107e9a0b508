"""Source health: when a source deserves an operational notice. Pure.

A source that fails ``after_failures`` polls in a row (or answers 410 Gone) is reported once,
and once more when it works again. A source that publishes nothing for longer than expected
(``expect_every``, else four of its usual gaps between articles and at least a day) is
reported once as silent, and once when it publishes again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.models import Source, SourceState

#: learned silence: at least this long, whatever the publishing rate
MIN_SILENCE = 24 * 3600.0

Notices = tuple[tuple[str, str, str], ...]


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    #: channels the notices go to
    channels: tuple[str, ...]
    after_failures: int = 5


def after_failure(
    policy: HealthPolicy,
    source: Source,
    state: SourceState,
    failures: int,
    error: str,
    gone: bool,
    now: datetime,
) -> tuple[str | None, Notices]:
    """(new health state or None for unchanged, notices) after a failed poll."""
    if state.health == "failing" or (failures < policy.after_failures and not gone):
        return None, ()
    since = (
        f"last success {state.last_success:%Y-%m-%d %H:%M} UTC"
        if state.last_success
        else "never polled successfully"
    )
    where = _shown(source.url)
    message = (
        f"{source.name} ({where}) answers 410 Gone and is no longer polled: {error}"
        if gone
        else f"{source.name} ({where}) failed {failures} polls in a row ({error}); {since}"
    )
    return "failing", _to(policy, "failing", message)


def after_success(
    policy: HealthPolicy,
    source: Source,
    state: SourceState,
    now: datetime,
    new: int,
    publish_interval: float | None,
) -> tuple[str | None, Notices]:
    """(new health state or None for unchanged, notices) after a successful poll."""
    notices: Notices = ()
    health: str | None = None
    if state.health == "failing":
        notices += _to(
            policy, "recovered", f"{source.name} works again after {state.failures} failed polls"
        )
        health = ""
    quiet = (now - state.last_new).total_seconds() if state.last_new else 0.0
    if new > 0:
        if state.health == "silent":
            notices += _to(
                policy,
                "publishing",
                f"{source.name} publishes again after {_span(quiet)} without anything new",
            )
            health = ""
        return health, notices
    expected = expected_every(source, publish_interval)
    if expected is not None and quiet > expected and state.health != "silent":
        notices += _to(
            policy,
            "silent",
            f"{source.name} has published nothing new for {_span(quiet)} "
            f"(expected within {_span(expected)}); its polls succeed",
        )
        health = "silent"
    return health, notices


def expected_every(source: Source, publish_interval: float | None) -> float | None:
    if source.expect_every is not None:
        return source.expect_every
    if publish_interval is None:
        return None  # no history yet: nothing to expect
    return max(4 * publish_interval, MIN_SILENCE)


def _to(policy: HealthPolicy, event: str, message: str) -> Notices:
    return tuple((event, message, channel) for channel in policy.channels)


def _span(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


def _shown(url: str) -> str:
    """A source's URL as a notice shows it: its query left out (it may carry a key)."""
    return url.split("?", 1)[0] + ("?…" if "?" in url else "")
