"""The alert planner, without a database: what stored articles' matches become."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from monitor.alert.planner import AlertPlanner
from monitor.alert.stories import StoryPolicy
from monitor.models import ActorMention, AlertStatus, Article, Match, Span, StoryRef
from monitor.plan import Earlier, Edit, Stored

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
WIRE = (
    "Hezbollah fighters clashed with regime forces near Qusayr on Sunday, killing four, "
    "a war monitor said. The fighting lasted several hours and spread to two villages."
)


def article(identity: str, title: str, text: str) -> Article:
    return Article(
        "desk", identity, f"https://x.example/{identity}", identity, title, text, NOW, NOW, identity
    )


def match(rule: str = "clash", mode: str = "live") -> Match:
    actors = (ActorMention("Hezbollah", ("Hezbollah",)), ActorMention("Assad regime", ("regime",)))
    return Match(
        rule, "high", 1.0, actors, ("clashed",), (Span("body", 0, 9, "Hezbollah", ()),), mode=mode
    )


def test_copies_from_other_outlets_join_the_first_alert_s_story_within_one_plan():
    planner = AlertPlanner(lambda m: ["desk-slack"], StoryPolicy(escalate_at=3))
    stored = [
        Stored(i + 1, article(str(i), f"Clash {i}", WIRE), outlet, [match()], NOW)
        for i, outlet in enumerate(["wire", "agency", "blog"])
    ]
    plan = planner.plan(stored)
    kinds = [[(a.kind, a.note) for a in pm.alerts] for pm in plan.matches]
    assert kinds == [
        [("alert", None)],
        [("followup", "also reported by agency, 2 outlets so far")],
        [("escalation", "now reported by 3 outlets, the latest blog")],  # one message, not two
    ]
    # one story, started by the first article and joined by the others (no id until written)
    assert [(w.create, w.key.new, w.outlets) for w in plan.stories] == [
        (True, 0, ("wire",)),
        (False, 0, ("wire", "agency")),
        (False, 0, ("wire", "agency", "blog")),
    ]
    assert {pm.story for pm in plan.matches} == {plan.stories[0].key}
    assert sorted(plan.evidence) == [1, 2, 3]


def test_shadow_matches_are_recorded_never_sent():
    planner = AlertPlanner(lambda m: ["a", "b"])
    plan = planner.plan([Stored(1, article("1", "t", WIRE), "wire", [match(mode="shadow")], NOW)])
    assert [(a.channel, a.status) for a in plan.matches[0].alerts] == [
        ("a", AlertStatus.SHADOW),
        ("b", AlertStatus.SHADOW),
    ]
    assert not plan.stories and not plan.evidence


def test_an_edit_alerts_for_new_rules_and_notices_for_rules_it_lost():
    planner = AlertPlanner(lambda m: ["hook"])
    new = article("1", "Clash near Qusayr", WIRE)
    edit = Edit(
        Stored(5, new, "wire", [match("clash")], NOW),
        old_title="Clash near Qusayr",
        old_text="Markets reopened.",
        earlier=[Earlier(9, "rift", "live", ("hook", "mail"))],
    )
    plan = planner.plan_edits([edit])
    [pm] = plan.matches
    assert pm.match.rule == "clash" and pm.alerts[0].note.startswith(
        "edited by its publisher, and now matches: a paragraph was added: “"
    )
    assert [(n.match_id, n.channel) for n in plan.notices] == [(9, "hook"), (9, "mail")]
    assert all(n.note.startswith("no longer matches after an edit: ") for n in plan.notices)


def test_old_news_alerts_at_the_lowest_severity_saying_how_late_or_not_at_all():
    old = replace(
        article("1", "Hezbollah and regime forces clash", WIRE), published=NOW.replace(year=2025)
    )
    fresh = replace(article("2", "Hezbollah and regime forces clash again", WIRE), published=NOW)
    undated = replace(article("3", "Hezbollah clash, no date", WIRE), published=None)
    stored = [Stored(i + 1, a, "wire", [match()], NOW) for i, a in enumerate([old, fresh, undated])]
    lower = AlertPlanner(lambda m: ["hook"], StoryPolicy(), late_after=3 * 86400, late="lower")
    plan = lower.plan(stored)
    late, news, unknown = plan.matches
    assert late.match.severity == "low" and late.story is None
    assert [a.note for a in late.alerts] == [
        "late: published 2025-11-22, 365 days before it was seen"
    ]
    assert news.match.severity == "high" and news.alerts[0].note is None  # today's news
    assert unknown.match.severity == "high"  # no date: never taken for old news
    quiet = AlertPlanner(lambda m: ["hook"], late_after=3 * 86400, late="quiet").plan(stored)
    assert quiet.matches[0].alerts == () and quiet.matches[0].match.rule == "clash"
    assert len(quiet.matches[1].alerts) == 1
    same = AlertPlanner(lambda m: ["hook"], late_after=3 * 86400, late="alert").plan(stored)
    assert same.matches[0].match.severity == "high" and same.matches[0].alerts[0].note is None


def test_a_sources_backlog_joins_known_stories_without_a_word():
    """A new source's first poll (its backlog): a copy of a story already alerted joins it
    with no "also reported by"; a story of its own still alerts."""
    planner = AlertPlanner(lambda m: ["hook"], StoryPolicy(escalate_at=3))
    first = planner.plan([Stored(1, article("1", "Clash", WIRE), "wire", [match()], NOW)])
    known = StoryRef(7, first.stories[0].signature, ("wire",), 0, False)
    other = "IRGC units fought Russian military police at a checkpoint east of Deir ez-Zor."
    backlog = planner.for_backlog().plan(
        [
            Stored(2, article("2", "Clash", WIRE), "mirror", [match()], NOW),
            Stored(3, article("3", "Checkpoint fight", other), "mirror", [match()], NOW),
        ],
        [known],
    )
    copy, own = backlog.matches
    assert copy.alerts == () and copy.story is not None  # joined, silently
    assert [a.kind for a in own.alerts] == ["alert"]
    later = planner.plan(
        [Stored(4, article("4", "Clash", WIRE), "mirror", [match()], NOW)], [known]
    )
    assert [a.kind for a in later.matches[0].alerts] == ["followup"]  # no longer its backlog
