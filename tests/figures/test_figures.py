"""Figures from events, as of any day, split every way, and audited against the events."""

import datetime as dt

from tests import factories as f
from tests.helpers import bring_to, when
from zhenggai.figures.counters import COUNTERS
from zhenggai.figures.queries import figures
from zhenggai.figures.reference import differences
from zhenggai.problems import actions
from zhenggai.problems import lifecycle as lc


def total(s, day, by=None):
    return figures(s.org.pk, day, by)


def test_claimed_against_verified_against_false(story):
    s = story
    p1 = bring_to(s, lc.CLAIMED)  # claimed on 09-03
    p2 = bring_to(s, lc.CLAIMED)
    actions.verify(p1, actor=s.rep, passed=True, at=when(5))
    actions.verify(p2, actor=s.rep, passed=False, findings="没改", at=when(5))
    before = total(s, dt.date(1957, 9, 4))["total"]
    after = total(s, dt.date(1957, 9, 6))["total"]
    assert (before["claims"], before["claimed_resolved"], before["verified_resolved"]) == (2, 2, 0)
    assert (after["claimed_resolved"], after["verified_resolved"]) == (1, 1)
    assert (after["false_figures"], after["false_share"], after["reopened"]) == (1, 0.5, 1)
    for day in (dt.date(1957, 9, 1), dt.date(1957, 9, 4), dt.date(1957, 9, 6)):
        assert differences(s.org.pk, day) == []


def test_overdue_starts_the_day_after_the_deadline_and_ends_with_the_claim(story):
    s = story
    p = bring_to(s, lc.ASSIGNED)  # deadline 1957-10-01
    assert total(s, dt.date(1957, 10, 1))["total"]["overdue"] == 0
    assert total(s, dt.date(1957, 10, 2))["total"]["overdue"] == 1
    actions.claim(p, actor=s.owner, done="x", at=f.at(1957, 10, 5))
    assert total(s, dt.date(1957, 10, 4))["total"]["overdue"] == 1
    assert total(s, dt.date(1957, 10, 5))["total"]["overdue"] == 0
    for day in (dt.date(1957, 10, 1), dt.date(1957, 10, 2), dt.date(1957, 10, 5)):
        assert differences(s.org.pk, day) == []


def test_a_claim_before_the_deadline_is_never_overdue(story):
    s = story
    p = bring_to(s, lc.ASSIGNED)
    actions.claim(p, actor=s.owner, done="x", at=when(3))
    assert total(s, dt.date(1958, 1, 1))["total"]["overdue"] == 0
    assert differences(s.org.pk, dt.date(1958, 1, 1)) == []


def test_moving_deadline_moves_overdue(story):
    s = story
    p = bring_to(s, lc.ASSIGNED)
    actions.assign(p, actor=s.clerk, owner=s.owner, deadline=dt.date(1957, 11, 1),
             at=f.at(1957, 9, 10))
    assert total(s, dt.date(1957, 10, 15))["total"]["overdue"] == 0
    assert total(s, dt.date(1957, 11, 2))["total"]["overdue"] == 1
    assert differences(s.org.pk, dt.date(1957, 10, 15)) == []


def test_split_by_unit_category_owner_and_campaign(story):
    s = story
    p = bring_to(s, lc.CLAIMED)
    op = f.opinion(s.campaign, "办公室太冷", author=s.worker).opinion
    actions.create_problem(s.campaign, [op], actor=s.clerk, summary="办公室太冷", owner=s.owner2,
                     unit=s.office, deadline=dt.date(1957, 12, 31), at=when(3))
    day = dt.date(1957, 9, 10)
    by_unit = {g["key"]: g for g in total(s, day, "unit")["groups"]}
    assert by_unit["furnace8"]["claimed_resolved"] == 1
    assert by_unit["office"]["problems"] == 1 and by_unit["office"]["claimed_resolved"] == 0
    by_owner = {g["key"]: g for g in total(s, day, "owner")["groups"]}
    assert by_owner[s.owner.pk]["claims"] == 1 and by_owner[s.owner.pk]["label"] == "张主任"
    by_cat = {g["key"]: g for g in total(s, day, "category")["groups"]}
    assert by_cat["safety"]["problems"] == 1 and by_cat[None]["problems"] == 1
    by_camp = total(s, day, "campaign")["groups"]
    assert [g["problems"] for g in by_camp] == [2]
    assert p.pk


def test_anonymous_counts_below_five_are_never_exact(story):
    s = story
    for _i in range(3):
        f.opinion(s.campaign, anonymous=True, channel="paper")
    result = total(s, dt.date(1957, 8, 1), "unit")
    assert result["total"]["anonymous_opinions"] == "<5"
    assert all(g["anonymous_opinions"] == "<5" for g in result["groups"])
    for _i in range(3):
        f.opinion(s.campaign, anonymous=True, channel="paper")
    assert total(s, dt.date(1957, 8, 1))["total"]["anonymous_opinions"] == 6


def test_opinions_move_with_their_problem(story):
    s = story
    op = f.opinion(s.campaign, author=s.worker, unit=s.office).opinion
    day = dt.date(1957, 9, 20)
    assert {g["key"]: g["opinions"] for g in total(s, day, "unit")["groups"]} == {"office": 1}
    actions.create_problem(s.campaign, [op], actor=s.clerk, summary="x", unit=s.furnace,
                     owner=s.owner, deadline=dt.date(1957, 12, 31), at=when(10))
    assert {g["key"]: g["opinions"] for g in total(s, day, "unit")["groups"]} == {"furnace8": 1}
    # …but as of before the grouping it was still counted where it came from.
    assert {g["key"]: g["opinions"]
            for g in total(s, dt.date(1957, 9, 5), "unit")["groups"]} == {"office": 1}
    assert differences(s.org.pk, day) == []


def test_regression_satisfaction_and_age(story):
    s = story
    p = bring_to(s, lc.VERIFIED)
    actions.record_followup(p.opinions.first(), actor=s.leader, channel="conversation",
                      outcome="satisfied", at=when(5))
    actions.consolidation_check(p, actor=s.rep2, holds=False, findings="变坏", at=when(35))
    t = total(s, dt.date(1957, 10, 20))["total"]
    assert t["regression_rate"] == 1.0 and t["deteriorated"] == 1
    assert t["satisfaction"] == 1.0 and t["followups_answered"] == 1
    # Reopened and unresolved: its age counts from the opinion (1957-07-01).
    assert t["mean_age_days"] == (dt.date(1957, 10, 20) - dt.date(1957, 7, 1)).days
    assert differences(s.org.pk, dt.date(1957, 10, 20)) == []


def test_figures_of_one_organisation_never_include_another(story):
    s = story
    bring_to(s, lc.CLAIMED)
    other = f.org("另一个厂")
    assert figures(other.pk, dt.date(1957, 12, 1))["total"]["problems"] == 0


def test_every_day_across_month_and_year_ends_agrees_with_the_events(story):
    """Day and month buckets are prefix sums in two levels (figures.ledger): every day of a
    history that crosses month ends, a leap day and a year end is summed right, split every
    way; the trend's day-by-day series and the last active day read the same buckets."""
    from tests.problems.test_bulk import lifecycle, opinions
    from zhenggai.figures.queries import last_active_day, series, shape, sums
    from zhenggai.problems.bulk import BulkLoader

    s = story
    loader = BulkLoader(s.org.pk)
    for k in range(0, 95, 4):  # 1959-12-20 .. 1960-03-23 (1960 is a leap year)
        day = dt.date(1959, 12, 20) + dt.timedelta(days=k)
        ops = opinions(s, 1 + k % 3, day)
        loader.opinions(ops)
        loader.problem(lifecycle(s, [o.id for o in ops], day))
    loader.finish()
    first, last = dt.date(1959, 12, 15), dt.date(1960, 5, 5)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    for day in days:
        assert differences(s.org.pk, day) == [], day
    trend = series(s.org.pk, first, last)
    assert [t["day"] for t in trend] == [d.isoformat() for d in days]
    for t, day in zip(trend, days, strict=True):
        want = shape(sums(s.org.pk, day).get(0, [0] * len(COUNTERS)), day)
        assert {k: want[k] for k in t if k != "day"} == {k: v for k, v in t.items() if k != "day"}
    # The last active day is the last day whose sums differ from the day before's.
    totals = {d: sums(s.org.pk, d).get(0) for d in [first - dt.timedelta(days=1), *days]}
    moved = [d for d in days if totals[d] != totals[d - dt.timedelta(days=1)]]
    for probe in (dt.date(1960, 5, 5), dt.date(1960, 4, 15), dt.date(1960, 2, 29),
                  dt.date(1960, 1, 1)):
        assert last_active_day(s.org.pk, probe) == max(d for d in moved if d <= probe)
    assert last_active_day(s.org.pk, dt.date(1959, 12, 19)) is None
