"""What every store must do, whatever the database: one suite, run against each backend.

A new backend adds itself to ``BACKENDS`` below (a URL in a fresh database, and how to make a
database look as if a newer monitor had written it); every test here then runs against it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest

from monitor.alert.planner import AlertPlanner
from monitor.alert.stories import StoryPolicy
from monitor.desk import Mute, Verdict
from monitor.errors import StorageError
from monitor.models import ActorMention, AlertStatus, Article, Delivery, Match, Source, Span
from monitor.store import AlertFilter, PollRecord, SourceActivity, Store, open_store
from monitor.store.migrations import MIGRATIONS
from tests.conftest import postgres_cluster

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
TO = AlertPlanner(lambda m: ["c"])


@dataclass(frozen=True)
class Backend:
    name: str
    #: a URL naming a fresh, empty database under this folder
    url: Callable[[Path], str]
    #: make the database at this URL look as if a newer monitor had migrated it
    from_the_future: Callable[[str], Awaitable[None]]


async def _sqlite_future(url: str) -> None:
    async with aiosqlite.connect(url.removeprefix("sqlite:///")) as db:
        await db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")


async def _postgres_future(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute("INSERT INTO monitor_schema (version) VALUES (99)")
    finally:
        await conn.close()


def _postgres_url(tmp: Path) -> str:
    """A fresh database in the session's throwaway cluster (``tests.pg``)."""
    return postgres_cluster().database(f"contract_{tmp.name.lower().replace('-', '_')[-40:]}")


BACKENDS = [
    Backend("sqlite", lambda tmp: f"sqlite:///{tmp}/contract.db", _sqlite_future),
    Backend("postgresql", _postgres_url, _postgres_future),
]


@pytest.fixture(params=BACKENDS, ids=[b.name for b in BACKENDS])
def backend(request: pytest.FixtureRequest) -> Backend:
    chosen: Backend = request.param
    return chosen


@pytest.fixture
async def store(backend: Backend, tmp_path: Path) -> AsyncIterator[Store]:
    s = await open_store(backend.url(tmp_path))
    await s.sync_sources([Source("desk", "https://x.example/feed", 60)])
    yield s
    await s.close()


def article(identity: str, title: str = "t", text: str = "body", source: str = "desk") -> Article:
    return Article(
        source,
        identity,
        f"https://x.example/{identity}",
        identity,
        title,
        text,
        NOW,
        NOW,
        "h" + text,
    )


def match(rule: str = "r", mode: str = "live") -> Match:
    actors = (ActorMention("Hezbollah", ("Hizbollah",)),)
    return Match(
        rule, "high", 1.5, actors, ("clash",), (Span("body", 0, 4, "body", ((0, 4),)),), mode=mode
    )


# -- what is new -------------------------------------------------------------------------


async def test_an_article_is_stored_matched_and_alerted_once(store: Store):
    first = await store.add_articles("desk", [(article("1"), [match()])], NOW, TO)
    again = await store.add_articles("desk", [(article("1"), [match()])], NOW, TO)
    assert (first.new_articles, first.matches, first.alerts) == (1, 1, 1)
    assert (again.new_articles, again.matches, again.alerts) == (0, 0, 0)
    assert await store.unseen("desk", ["1", "2"]) == {"2"}
    assert await store.stored_hashes("desk", ["1", "2"]) == {"1": "hbody"}


async def test_articles_without_matches_are_counted_once(store: Store):
    batch = [(article(str(i)), []) for i in range(5)]
    first = await store.add_articles("desk", batch, NOW, TO)
    again = await store.add_articles("desk", [*batch, (article("new"), [])], NOW, TO)
    assert (first.new_articles, again.new_articles) == (5, 1)
    assert len(await store.articles(limit=100)) == 6


async def test_two_polls_bringing_one_article_at_once_store_it_once(store: Store):
    both = await asyncio.gather(
        *(store.add_articles("desk", [(article("1"), [match()])], NOW, TO) for _ in range(2))
    )
    assert sorted(r.new_articles for r in both) == [0, 1]
    assert len(await store.due_alerts(NOW)) == 1


async def test_concurrent_writers_do_not_collide(store: Store):
    sources = [Source(f"s{i}", f"https://x.example/{i}", 60) for i in range(20)]
    await store.sync_sources(sources)

    async def write(i: int) -> None:
        name = f"s{i}"
        batch = [(article(f"{name}-{k}", source=name), [match()]) for k in range(5)]
        await store.add_articles(name, batch, NOW, TO)
        await store.record_poll(name, PollRecord(ok=True, next_due=NOW), NOW)

    await asyncio.gather(*(write(i) for i in range(20)))
    assert len(await store.articles(limit=1000)) == 100
    assert len(await store.due_alerts(NOW, limit=1000)) == 100
    assert all(s.last_success == NOW for s in await store.source_states())


# -- the outbox ----------------------------------------------------------------------------


async def test_the_outbox_gives_what_is_due_and_records_each_attempt(store: Store):
    await store.add_articles(
        "desk", [(article("1", "Title"), [match()])], NOW, AlertPlanner(lambda m: ["a", "b"])
    )
    due = await store.due_alerts(NOW)
    assert [a.channel for a in due] == ["a", "b"]
    assert due[0].match == match() and due[0].article_title == "Title"
    assert due[0].created.tzinfo is not None  # times come back aware, in UTC
    await store.record_delivery(due[0].id, Delivery(ok=True), NOW, None)
    later = NOW + timedelta(minutes=5)
    await store.record_delivery(
        due[1].id, Delivery(ok=False, retry=True, reason="http 503"), NOW, later
    )
    assert await store.due_alerts(NOW) == []
    assert [a.channel for a in await store.due_alerts(later)] == ["b"]
    [sent] = await store.alerts(status="sent")
    assert (sent.channel, sent.status, sent.attempts) == ("a", AlertStatus.SENT, 1)
    [pending] = await store.alerts(status="pending")
    assert pending.last_error == "http 503"
    await store.record_delivery(pending.id, Delivery(ok=False, reason="http 404"), later, None)
    assert [a.status for a in await store.alerts(status="failed")] == [AlertStatus.FAILED]
    assert await store.alert_counts() == {"sent": 1, "failed": 1}
    assert await store.retry_alert(pending.id, later) is True
    assert [a.id for a in await store.due_alerts(later)] == [pending.id]
    assert await store.retry_alert(10_000, later) is False


async def test_deferred_alerts_wait_and_shadow_matches_never_send(store: Store):
    shadow = match("quiet", mode="shadow")
    await store.add_articles("desk", [(article("1"), [match(), shadow])], NOW, TO)
    [due] = await store.due_alerts(NOW)
    await store.defer([due.id], NOW + timedelta(minutes=1))
    assert await store.due_alerts(NOW) == []
    assert len(await store.due_alerts(NOW + timedelta(minutes=1))) == 1
    assert [a.status for a in await store.alerts(rule="quiet")] == [AlertStatus.SHADOW]


async def test_a_copy_in_a_later_poll_joins_the_story_the_first_started(store: Store):
    await store.sync_sources([Source("desk", "d", 60), Source("wire", "w", 60)])
    planner = AlertPlanner(lambda m: ["c"], StoryPolicy())
    text = "Hezbollah fighters clashed with regime forces near Qusayr on Sunday, killing four."
    await store.add_articles("desk", [(article("1", "A", text), [match()])], NOW, planner)
    copy = article("9", "B", text, source="wire")
    result = await store.add_articles("wire", [(copy, [match()])], NOW, planner)
    assert result.alerts == 1
    kinds = sorted((a.kind, a.story_id) for a in await store.alerts())
    assert [k for k, _ in kinds] == ["alert", "followup"] and kinds[0][1] == kinds[1][1]
    story = kinds[0][1]
    assert story is not None
    assert await store.story_outlets([story]) == {story: ["desk", "wire"]}  # in their order
    assert [a.kind for a in await store.story_alerts(story)] == ["alert", "followup"]


async def test_an_edit_keeps_the_old_version_and_tells_of_a_rule_it_lost(store: Store):
    await store.add_articles("desk", [(article("1", "T", "first"), [match("r")])], NOW, TO)
    edited = article("1", "T", "second")
    result = await store.revise_articles("desk", [(edited, [])], NOW, TO)
    assert result.new_articles == 1 and result.alerts == 1
    notice = next(a for a in await store.alerts() if a.kind == "edit")
    assert notice.note is not None and "no longer matches after an edit" in notice.note
    assert (await store.articles())[0].article.text == "second"
    unchanged = await store.revise_articles("desk", [(edited, [])], NOW, TO)
    assert unchanged.new_articles == 0


# -- sources -------------------------------------------------------------------------------


async def test_poll_records_and_notices_are_kept(store: Store):
    await store.record_poll("desk", PollRecord(ok=False, next_due=NOW, error="timeout"), NOW)
    failing = PollRecord(
        ok=False,
        next_due=NOW,
        error="http 500",
        health="failing",
        notices=(("failing", "down", "c"),),
    )
    await store.record_poll("desk", failing, NOW)
    state = await store.source_state("desk")
    assert (state.failures, state.last_error, state.health) == (2, "http 500", "failing")
    [notice] = await store.due_notices(NOW)
    await store.record_notice(notice.id, Delivery(ok=True), NOW, None)
    assert await store.due_notices(NOW) == []
    moved = PollRecord(ok=True, next_due=NOW, etag='"e"', url="https://moved.example/feed")
    await store.record_poll("desk", moved, NOW)
    state = await store.source_state("desk")
    assert (state.failures, state.etag, state.url, state.last_success) == (
        0,
        '"e"',
        "https://moved.example/feed",
        NOW,
    )


async def test_sources_no_longer_configured_leave_the_status(store: Store):
    await store.sync_sources([Source("other", "https://o.example/", 60)])
    assert [s.name for s in await store.source_states()] == ["other"]


async def test_failed_links_and_seen_blocks_are_remembered(store: Store):
    later = NOW + timedelta(hours=1)
    await store.record_links("desk", {"https://x.example/a": ("timeout", later)}, [])
    [(link, failure)] = (await store.link_failures("desk", ["https://x.example/a", "b"])).items()
    assert (link, failure.failures, failure.next_try) == ("https://x.example/a", 1, later)
    await store.record_links("desk", {}, ["https://x.example/a"])
    assert await store.link_failures("desk", ["https://x.example/a"]) == {}
    await store.remember_blocks("desk", ["h1", "h2"], NOW)
    assert await store.unseen_blocks("desk", ["h1", "h3"]) == {"h3"}


# -- retention and schema ------------------------------------------------------------------


async def test_pruned_articles_keep_their_identity(store: Store):
    await store.add_articles("desk", [(article("urn:1"), [])], NOW, TO)
    later = NOW + timedelta(days=100)
    assert await store.prune(later - timedelta(days=90)) == 1
    assert await store.prune(later - timedelta(days=90)) == 0  # once
    [stored] = await store.articles()
    assert stored.article.text == "" and stored.article.identity == "urn:1"
    assert await store.unseen("desk", ["urn:1", "urn:2"]) == {"urn:2"}
    await store.compact()
    assert await store.check_writable() is None


async def test_reopening_keeps_everything_and_every_article_can_be_read_back(
    backend: Backend, tmp_path: Path
):
    url = backend.url(tmp_path)
    store = await open_store(url)
    await store.sync_sources([Source("desk", "https://x.example/feed", 60)])
    await store.add_articles("desk", [(article(str(i)), []) for i in range(7)], NOW, TO)
    await store.close()
    store = await open_store(url)
    try:
        batches = [b async for b in store.iter_articles(batch=3)]
        assert [len(b) for b in batches] == [3, 3, 1]
        assert await store.article_count() == 7
    finally:
        await store.close()


async def test_a_database_from_a_newer_monitor_is_refused(backend: Backend, tmp_path: Path):
    url = backend.url(tmp_path)
    await (await open_store(url)).close()
    await backend.from_the_future(url)
    with pytest.raises(StorageError, match="newer than this monitor"):
        await open_store(url)


# -- nodes sharing a database ------------------------------------------------------------


async def test_nodes_claim_due_sources_without_overlap_and_a_dead_node_s_come_back(
    backend: Backend, tmp_path: Path
):
    url = backend.url(tmp_path)
    one, two = await open_store(url), await open_store(url)
    try:
        await one.sync_sources([Source(f"s{i}", f"https://x.example/{i}", 60) for i in range(30)])
        claims = await asyncio.gather(
            *(s.claim_sources(n, NOW, 10, 300) for n, s in (("a", one), ("b", two), ("a", one)))
        )
        names = [st.name for batch in claims for st in batch]
        assert len(names) == 30 and len(set(names)) == 30  # every source once
        assert await one.claim_sources("b", NOW, 10, 300) == []  # all held
        # a poll records under its lease, which ends it; a lost lease's record is dropped
        mine = claims[0][0]
        assert mine.lease and mine.owner == "a"
        later = NOW + timedelta(seconds=60)
        await one.record_poll(mine.name, PollRecord(True, later, lease=mine.lease), NOW)
        stale = claims[1][0]
        await two.record_poll(stale.name, PollRecord(True, later, lease="not-its-lease"), NOW)
        states = {s.name: s for s in await one.source_states()}
        assert states[mine.name].next_due == later and states[mine.name].lease is None
        assert states[stale.name].lease == stale.lease  # still held: the record was not its
        # node b dies: once its leases run out, its sources are due again, for anyone
        after = NOW + timedelta(seconds=301)
        back = await one.claim_sources("a", after, 100, 300)
        assert {s.name for s in claims[1]} <= {s.name for s in back}
    finally:
        await one.close()
        await two.close()


async def test_a_late_record_of_a_lost_lease_does_not_undo_the_newer_poll(
    backend: Backend, tmp_path: Path
):
    """Node a's poll ran past its lease; node b took the source over and has polled it since.
    a's late record (a failure, an early next poll, a health notice) writes nothing."""
    store = await open_store(backend.url(tmp_path))
    try:
        await store.sync_sources([Source("desk", "https://x.example/feed", 60)])
        [a] = await store.claim_sources("a", NOW, 10, 60)
        taken = NOW + timedelta(seconds=61)
        [b] = await store.claim_sources("b", taken, 10, 60)
        newer = taken + timedelta(seconds=60)
        await store.record_poll("desk", PollRecord(True, newer, etag="b's", lease=b.lease), taken)
        late = PollRecord(
            False,
            NOW + timedelta(seconds=5),
            error="timeout",
            lease=a.lease,
            health="failing",
            notices=(("failing", "desk is failing", "hook"),),
        )
        await store.record_poll("desk", late, taken)
        [state] = await store.source_states()
        assert (state.next_due, state.etag, state.failures, state.health) == (newer, "b's", 0, None)
        assert await store.due_notices(newer) == []
    finally:
        await store.close()


async def test_claiming_nodes_never_hand_out_one_delivery_twice(backend: Backend, tmp_path: Path):
    url = backend.url(tmp_path)
    one, two = await open_store(url), await open_store(url)
    try:
        await one.sync_sources([Source("desk", "https://x.example/feed", 60)])
        batch = [(article(str(i)), [match()]) for i in range(6)]
        await one.add_articles("desk", batch, NOW, AlertPlanner(lambda m: ["a"]))
        one.claim_as("node-1", 120)
        two.claim_as("node-2", 120)
        got = await asyncio.gather(one.due_alerts(NOW, 4), two.due_alerts(NOW, 4))
        ids = [a.id for batch in got for a in batch]
        assert len(ids) == 6 and len(set(ids)) == 6
        # sent by its claimant: recorded; a claim another node holds: not recorded
        first, other = got[0][0], got[1][0]
        await one.record_delivery(first.id, Delivery(ok=True), NOW, None)
        await one.record_delivery(other.id, Delivery(ok=True), NOW, None)
        assert {a.id for a in await one.alerts(status="sent")} == {first.id}
        # a claim that ran out (its node died mid-send) is handed out again
        after = NOW + timedelta(seconds=121)
        again = {a.id for a in await one.due_alerts(after, 10)}
        assert again == set(ids) - {first.id}
    finally:
        await one.close()
        await two.close()


async def test_a_long_poll_renews_its_lease_and_a_lost_one_cannot(backend: Backend, tmp_path: Path):
    url = backend.url(tmp_path)
    store = await open_store(url)
    try:
        await store.sync_sources([Source("slow", "https://x.example/slow", 60)])
        [held] = await store.claim_sources("a", NOW, 10, 60)
        assert held.lease is not None
        later = NOW + timedelta(seconds=50)
        assert await store.renew_lease("slow", held.lease, later, 60) is True
        # renewed: not due for the others when the first lease would have run out
        assert await store.claim_sources("b", NOW + timedelta(seconds=70), 10, 60) == []
        # run out at last: another node takes it, and the old token renews nothing
        [taken] = await store.claim_sources("b", NOW + timedelta(seconds=111), 10, 60)
        assert taken.owner == "b"
        # when it was due at this claim (the lease lag is measured from it)
        assert taken.claimed_due is not None and taken.claimed_due <= NOW + timedelta(seconds=111)
        assert await store.renew_lease("slow", held.lease, later, 60) is False
    finally:
        await store.close()


async def test_daemons_starting_together_on_a_new_database_migrate_it_once(
    backend: Backend, tmp_path: Path
):
    url = backend.url(tmp_path)
    stores = await asyncio.gather(*(open_store(url) for _ in range(4)))
    try:
        versions = {await s.schema_version() for s in stores}  # type: ignore[attr-defined]
        assert len(versions) == 1
    finally:
        for s in stores:
            await s.close()


async def test_a_poll_whose_lease_was_taken_over_stores_nothing(backend: Backend, tmp_path: Path):
    url = backend.url(tmp_path)
    store = await open_store(url)
    try:
        await store.sync_sources([Source("desk", "https://x.example/feed", 60)])
        [old] = await store.claim_sources("a", NOW, 10, 60)
        [new] = await store.claim_sources("b", NOW + timedelta(seconds=61), 10, 60)
        batch = [(article("1"), [match()])]
        due = NOW + timedelta(hours=1)
        stale = PollRecord(True, due, etag="a's", lease=old.lease, health="silent")
        lost = await store.add_articles("desk", batch, NOW, TO, stale)
        assert (lost.new_articles, lost.alerts) == (0, 0)  # node b polls it now
        [state] = await store.source_states()
        assert (state.etag, state.health, state.lease) == (None, None, new.lease)
        edit = [(article("1", text="edited"), [match()])]
        assert (await store.revise_articles("desk", edit, NOW, TO, old.lease)).new_articles == 0
        # the poll that holds the lease: its articles, alerts and record, in one transaction
        mine = PollRecord(True, due, etag="b's", lease=new.lease, health="silent")
        kept = await store.add_articles("desk", batch, NOW, TO, mine)
        assert (kept.new_articles, kept.alerts) == (1, 1)
        [state] = await store.source_states()
        assert (state.etag, state.health, state.next_due, state.lease) == (
            "b's",
            "silent",
            due,
            None,
        )
        assert (await store.revise_articles("desk", edit, NOW, TO)).new_articles == 1
    finally:
        await store.close()


async def test_nodes_reserving_a_channel_s_messages_at_once_never_exceed_its_limit(
    backend: Backend, tmp_path: Path
):
    url = backend.url(tmp_path)
    stores = [await open_store(url) for _ in range(3)]
    try:
        asks = [s.reserve_messages("hook", 4, 10, NOW) for s in stores for _ in range(3)]
        assert sum(await asyncio.gather(*asks)) == 10  # 36 wanted at once, 10 a minute
        assert await stores[0].reserve_messages("other", 5, 10, NOW) == 5  # each channel its own
        assert await stores[1].reserve_messages("hook", 1, 10, NOW + timedelta(seconds=30)) == 0
        assert await stores[2].reserve_messages("hook", 12, 10, NOW + timedelta(seconds=61)) == 10
    finally:
        for s in stores:
            await s.close()


# -- what a desk says back -------------------------------------------------------------------


async def test_a_verdict_is_kept_with_its_article_s_text_and_the_latest_stands(store: Store):
    await store.add_articles("desk", [(article("1", "Title", "the text"), [match()])], NOW, TO)
    [alert] = await store.alerts()
    said = Verdict(
        1, "wrong", (), "allies, not foes", 1, "r", "Title", "the text", "u", "desk", NOW
    )
    kept = await store.record_verdict(said, NOW)
    assert kept.id is not None and kept.created == NOW
    assert [(v.kind, v.alert, v.reason) for v in await store.verdicts()] == [
        ("wrong", False, "allies, not foes")
    ]
    later = NOW + timedelta(hours=1)
    other = Verdict(1, "wrong", ("Hezbollah", "Iran"), "other actors", alert.id)
    await store.record_verdict(other, later)
    [v] = await store.verdicts()  # one word an article: the latest
    assert (v.actors, v.alert, v.created) == (("Hezbollah", "Iran"), True, later)
    assert (v.title, v.text) == ("Title", "the text")  # the article as first judged
    await store.prune(NOW + timedelta(days=1))  # retention drops the article's text …
    await store.record_verdict(replace(said, title="", text=""), later)
    [v] = await store.verdicts()
    assert (v.kind, v.text) == ("wrong", "the text")  # … the verdict keeps it


async def test_a_mute_keeps_alerts_from_being_sent_until_it_ends(store: Store):
    await store.sync_sources([Source("desk", "d", 60), Source("wire", "w", 60)])
    await store.add_articles("desk", [(article("1"), [match()])], NOW, TO)
    mute = await store.add_mute(Mute("source", "desk", NOW + timedelta(hours=1), "noisy"), NOW)
    assert [m.id for m in await store.mutes(NOW)] == [mute.id]
    assert await store.mutes(NOW + timedelta(hours=2)) == []  # it ran out
    [due] = await store.due_alerts(NOW)
    assert mute.covers(due) and not Mute("source", "wire", NOW).covers(due)
    await store.mark_muted([due.id], mute.describe())
    assert await store.due_alerts(NOW) == []
    [muted] = await store.alerts(status="muted")
    assert muted.status is AlertStatus.MUTED and "muted until" in (muted.last_error or "")
    assert await store.end_mute(mute.id or 0, NOW) is True
    assert await store.end_mute(mute.id or 0, NOW) is False  # already ended
    assert await store.mutes(NOW) == [] and len(await store.mutes(NOW, ended=True)) == 1


async def test_alerts_are_found_by_what_they_are_about_and_articles_by_their_words(store: Store):
    await store.sync_sources([Source("desk", "d", 60), Source("wire", "w", 60)])
    fight = article("1", "Clash", "fighters clashed near Qusayr")
    calm = article("2", "Calm", "a convoy reached Homs")
    await store.add_articles("desk", [(fight, [match()]), (calm, [])], NOW, TO)
    other = article("3", "Other", "shelling in Idlib", source="wire")
    await store.add_articles("wire", [(other, [match("r2")])], NOW, TO)

    def titles(alerts: list) -> list[str]:
        return [a.article_title for a in alerts]

    assert titles(await store.find_alerts(AlertFilter())) == ["Other", "Clash"]  # newest first
    assert titles(await store.find_alerts(AlertFilter(source="wire"))) == ["Other"]
    assert titles(await store.find_alerts(AlertFilter(rule="r2"))) == ["Other"]
    assert titles(await store.find_alerts(AlertFilter(actor="Hezbollah"))) == ["Other", "Clash"]
    assert await store.find_alerts(AlertFilter(actor="Iran")) == []
    [newest, oldest] = await store.find_alerts(AlertFilter())
    assert titles(await store.find_alerts(AlertFilter(before=newest.id))) == ["Clash"]
    assert titles(await store.find_alerts(AlertFilter(search="QUSAYR"))) == ["Clash"]
    assert await store.find_alerts(AlertFilter(search="Homs")) == []  # an article, no alert
    assert [s.article.title for s in await store.search_articles("convoy Homs")] == ["Calm"]
    assert await store.search_articles("convoy Idlib") == []  # every word, in one article
    assert await store.search_articles('"; DROP TABLE articles; --') == []
    await store.record_verdict(Verdict(oldest.article_id or 0, "wrong", ()), NOW)
    assert titles(await store.find_alerts(AlertFilter(verdict="wrong"))) == ["Clash"]
    assert titles(await store.find_alerts(AlertFilter(verdict="none"))) == ["Other"]
    activity = await store.source_activity(NOW - timedelta(days=1))
    assert activity["desk"] == SourceActivity(2, 1) and activity["wire"] == SourceActivity(1, 1)

    # an edit is found by its new words only; a pruned article by none
    edited = article("2", "Calm", "a convoy reached Hama")
    await store.revise_articles("desk", [(edited, [])], NOW, TO)
    assert await store.search_articles("Homs") == []
    assert [s.article.title for s in await store.search_articles("Hama")] == ["Calm"]
    await store.prune(NOW + timedelta(days=1))
    assert await store.search_articles("Hama") == []


async def test_an_article_s_texts_as_they_were_are_kept(store: Store):
    await store.add_articles("desk", [(article("1", "T", "first"), [match()])], NOW, TO)
    later = NOW + timedelta(hours=1)
    await store.revise_articles("desk", [(article("1", "T2", "second"), [match()])], later, TO)
    [stored] = await store.articles()
    versions = (await store.article_versions([stored.id]))[stored.id]
    assert (versions[0].what, versions[0].at, versions[0].text) == ("fetched", NOW, "first")
    assert ("replaced", later, "first") in [(v.what, v.at, v.text) for v in versions]
    assert await store.article_versions([]) == {}
