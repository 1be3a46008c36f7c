"""A split by owner at many owners gives, owner by owner, the figures of the straightforward
fold of the events (figures.reference), whichever way the buckets were written: a bulk
load's first payload into an empty table (on PostgreSQL a binary COPY straight in), its
second through the upsert, and a live action after them. And every split, over years of
history with gaps, is the fold of the events however many years it sums."""

import datetime as dt

from tests import factories as f
from tests.problems.test_bulk import opinions
from zhenggai.campaigns.models import CampaignRole
from zhenggai.figures import queries
from zhenggai.figures.counters import DIMS, TOTAL
from zhenggai.figures.models import FigureBucket
from zhenggai.figures.queries import figures, figures_and_sums, shape, sums
from zhenggai.figures.reference import differences, recompute
from zhenggai.org.models import Member
from zhenggai.problems import actions as problem_actions
from zhenggai.problems.bulk import BulkEvent, BulkLoader
from zhenggai.problems.models import Problem

OWNERS = 450  # more bucket rows per payload than one statement takes (ledger._BATCH)


def history(s, owner: int, ids: list[int], day0: dt.date, k: int) -> list[BulkEvent]:
    def at(n: int, h: int = 10) -> dt.datetime:
        d = day0 + dt.timedelta(days=n)
        return f.at(d.year, d.month, d.day, h)

    ev = [BulkEvent("create", at(0), s.clerk.pk, data={
              "org": s.org.pk, "campaign": s.campaign.pk, "summary": f"问题{k}",
              "category": s.category.pk, "unit": s.furnace.pk, "opinion_ids": ids}),
          BulkEvent("assign", at(0, 11), s.clerk.pk, data={
              "owner": owner, "unit": s.furnace.pk, "measures": "措施", "scope": "common",
              "deadline": (day0 + dt.timedelta(days=5 + k % 30)).isoformat()})]
    if k % 4:
        ev.append(BulkEvent("claim", at(3 + k % 40), owner))
    if k % 4 == 2:
        ev.append(BulkEvent("verify_passed", at(5 + k % 40), s.rep.pk, data={
            "recheck_due": (day0 + dt.timedelta(days=80)).isoformat()}))
    if k % 4 == 3:
        ev.append(BulkEvent("verify_not_thorough", at(5 + k % 40), s.rep.pk,
                            reason="not_thorough"))
    return ev


def test_a_split_by_many_owners_is_the_fold_of_the_events(story):
    s = story
    Member.objects.bulk_create([Member(org=s.org, name=f"负责人{i}", unit=s.furnace)
                                for i in range(OWNERS)])
    owners = list(Member.objects.filter(org=s.org, name__startswith="负责人")
                  .order_by("pk").values_list("pk", flat=True))
    assert not FigureBucket.objects.exists()
    loader = BulkLoader(s.org.pk)
    for k in range(2 * OWNERS):
        day = dt.date(1957, 6, 1) + dt.timedelta(days=k % 150)
        ops = opinions(s, 1 + k % 3, day)
        loader.opinions(ops)
        loader.problem(history(s, owners[k % OWNERS], [o.id for o in ops], day, k))
        if k == OWNERS:
            loader.flush()  # into the empty table
    loader.finish()  # through the upsert
    assert FigureBucket.objects.filter(org=s.org.pk, dim=DIMS["owner"]).count() > 400
    # A live action on top of the loaded buckets.
    p = Problem.objects.filter(org=s.org, state="assigned").order_by("pk").first()
    CampaignRole.objects.create(campaign=s.campaign, member=p.owner, role="owner")
    problem_actions.claim(p, actor=p.owner, done="已整改", at=f.at(1957, 12, 1))
    names = dict(Member.objects.filter(org=s.org).values_list("pk", "name"))
    for day in (dt.date(1957, 7, 15), dt.date(1957, 8, 31), dt.date(1957, 11, 30),
                dt.date(1957, 12, 1), dt.date(1958, 3, 15)):
        assert differences(s.org.pk, day) == [], day
        want = recompute(s.org.pk, day)
        got = figures(s.org.pk, day, "owner")
        assert got["total"] == shape(want[TOTAL][0], day)
        by_owner = want[DIMS["owner"]]
        assert len(got["groups"]) == len(by_owner) > 100
        for g in got["groups"]:
            gkey = g["key"] or 0
            expected = shape(by_owner[gkey], day)
            # Anonymous counts are hidden the same way, by the split's rule, in both.
            assert {k: v for k, v in g.items() if k not in ("key", "label",
                                                            "anonymous_opinions")} \
                == {k: v for k, v in expected.items() if k != "anonymous_opinions"}
            assert g["label"] == (names[gkey] if gkey else None)
        # The sums of a few owners (the leaders' own problems) are theirs in the split.
        every = sums(s.org.pk, day, DIMS["owner"])
        few = [owners[3], owners[77], p.owner_id, 10**9]
        assert sums(s.org.pk, day, DIMS["owner"], keys=few) == {
            k: every[k] for k in few if k in every}
        assert sums(s.org.pk, day, DIMS["owner"], keys=[]) == {}


# Years with buckets, with gaps between them: a split sums the years before its day's year
# one bucket each (queries._label_sql on SQLite) up to queries._MAX_YEAR_ARMS of them, and
# by a GROUP BY past that.
YEARS = (1950, 1952, 1953, 1957, 1960, 1961, 1962, 1963, 1964, 1965, 1970)


def test_every_split_is_the_fold_of_the_events_over_many_years(story):
    s = story
    owners = [s.owner.pk, s.clerk.pk, s.rep.pk]
    loader = BulkLoader(s.org.pk)
    for k, year in enumerate(y for y in YEARS for _i in range(3)):
        day = dt.date(year, 1 + 5 * (k % 3), 1 + k % 28)
        ops = opinions(s, 1 + k % 3, day)
        loader.opinions(ops)
        loader.problem(history(s, owners[k % 3], [o.id for o in ops], day, k))
    loader.finish()
    many = 0
    for day in (dt.date(1950, 12, 31), dt.date(1953, 6, 30), dt.date(1958, 1, 1),
                dt.date(1960, 1, 1), dt.date(1964, 8, 30), dt.date(1965, 12, 31),
                dt.date(1971, 5, 1)):
        want = recompute(s.org.pk, day)
        years = queries._years_before(s.org.pk, day, DIMS["owner"])
        assert years == [dt.date(y, 1, 1) for y in YEARS if y < day.year][:len(years)]
        many += len(years) > queries._MAX_YEAR_ARMS
        for by, dim in DIMS.items():
            _f, rows = figures_and_sums(s.org.pk, day, by)
            assert {k: v for k, v in rows.items() if any(v)} == want.get(dim, {}), (day, by)
    assert many == 2  # both ways of reading were checked
