"""The scheduling policy: a pure function of the configured bounds and what polls said."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from monitor.schedule import (
    Bounds,
    Signals,
    first_run,
    learn_publish_interval,
    next_due,
    poll_delay,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
B = Bounds(interval=900, min_interval=60, max_interval=6 * 3600)


def mid() -> float:
    return 0.5  # jitter factor exactly 1.0


def test_the_configured_interval_within_the_bounds():
    assert poll_delay(B, Signals()) == 900
    assert poll_delay(Bounds(10, 60, 3600), Signals()) == 60  # below the minimum
    assert poll_delay(Bounds(7200, 60, 3600), Signals()) == 3600  # above the maximum
    assert next_due(B, NOW) == NOW + timedelta(seconds=900)


def test_busy_sources_are_polled_more_often_quiet_ones_less_within_a_factor_of_four():
    assert poll_delay(B, Signals(publish_interval=600)) == 300  # twice per new article
    assert poll_delay(B, Signals(publish_interval=10)) == 225  # at most 4x more often
    assert poll_delay(B, Signals(publish_interval=4 * 3600)) == 3600  # 4x less at most
    assert poll_delay(B, Signals(quiet_for=3 * 24 * 3600)) == 3600  # silent for days
    assert poll_delay(B, Signals(quiet_for=600)) == 900  # recently active: as configured
    fixed = Bounds(900, 60, 6 * 3600, adapt=False)
    assert poll_delay(fixed, Signals(publish_interval=60, quiet_for=10**6)) == 900
    # never beyond the global bounds, whatever the rate
    assert poll_delay(Bounds(900, 600, 1200), Signals(publish_interval=10)) == 600


def test_servers_asking_for_longer_push_the_poll_out_but_not_past_the_maximum():
    assert poll_delay(B, Signals(max_age=3600)) == 3600
    assert poll_delay(B, Signals(ttl=1800)) == 1800
    assert poll_delay(B, Signals(max_age=60)) == 900  # asking for less changes nothing
    assert poll_delay(B, Signals(ttl=10**6)) == 6 * 3600


def test_retry_after_is_honoured_up_to_seven_days():
    assert poll_delay(B, Signals(failures=1, retry_after=7200), mid) == 7200
    assert poll_delay(B, Signals(failures=1, retry_after=30 * 24 * 3600), mid) == 7 * 24 * 3600


def test_backoff_grows_with_failures_and_stops_at_the_maximum_interval():
    delays = [poll_delay(B, Signals(failures=n), mid) for n in range(1, 8)]
    assert delays == [900, 1800, 3600, 7200, 14400, 21600, 21600]
    # a source failing for days is polled at the maximum interval, never abandoned
    assert poll_delay(B, Signals(failures=500), mid) == 6 * 3600
    # and a success resets it
    assert poll_delay(B, Signals(failures=0)) == 900


@given(st.integers(1, 60), st.floats(0, 1))
def test_jittered_backoff_stays_within_bounds(failures: int, r: float):
    delay = poll_delay(B, Signals(failures=failures), lambda: r)
    assert delay is not None and B.interval <= delay <= B.max_interval


def test_gone_sources_are_never_polled_again():
    assert poll_delay(B, Signals(gone=True)) is None
    assert next_due(B, NOW, Signals(gone=True)) is None


def test_publishing_rate_is_learned_from_new_articles():
    assert learn_publish_interval(None, None, NOW, 20) is None  # the backlog teaches nothing
    an_hour_ago = NOW - timedelta(hours=1)
    assert learn_publish_interval(None, an_hour_ago, NOW, 2) == 1800
    assert learn_publish_interval(1800, an_hour_ago, NOW, 0) == 1800
    assert learn_publish_interval(1000, an_hour_ago, NOW, 1) == 0.7 * 1000 + 0.3 * 3600


def test_first_polls_are_spread_and_restarts_continue_the_schedule():
    firsts = {first_run(900, NOW, None, rand=lambda r=r: r) for r in (0.0, 0.25, 0.5, 0.99)}
    assert len(firsts) == 4 and all(NOW <= f <= NOW + timedelta(seconds=300) for f in firsts)
    later = NOW + timedelta(seconds=400)
    assert first_run(900, NOW, later) == later  # stored due time kept
    assert first_run(900, NOW, NOW + timedelta(days=3)) == NOW + timedelta(seconds=900)
