"""Issue 13: pages that mix days or disagree with themselves, and the organisation's clock.
Everything on a page with `as_of` is as of that day (or says "now"); shares are percentages
with their denominator in words, the same everywhere; one stall definition, on the page and
pushed to the leaders; the ledger's closing day; the forecast on complete days."""

import datetime as dt
import json

from click.testing import CliRunner

from tests import factories as f
from tests.helpers import bring_to, when
from zhenggai.figures.stall import VERIFICATION, campaign_stall
from zhenggai.notifications import schedules
from zhenggai.notifications.models import Notification
from zhenggai.org import clock
from zhenggai.org.models import Organisation
from zhenggai.problems import actions, lifecycle
from zhenggai.problems.models import Problem


def _pin(org, day):
    Organisation.objects.filter(pk=org.pk).update(clock_day=day)
    org.refresh_from_db()


# -- 6. /leader/?as_of=DAY: every panel as of that day ------------------------------------

def test_the_leader_board_as_of_a_past_day_shows_that_day(story, as_member):
    s = story
    op = f.opinion(s.campaign, author=s.worker, day=dt.date(1957, 6, 3)).opinion
    old = actions.create_problem(s.campaign, [op], actor=s.clerk, summary="多年的老问题",
                           owner=s.owner, deadline=dt.date(1957, 12, 1),
                           first_raised=dt.date(1955, 4, 1), at=when(0))
    bring_to(s, lifecycle.CLAIMED)  # another problem, claimed 09-03
    actions.claim(old, actor=s.owner, done="修好了", at=when(1))
    rnd_day = dt.date(1957, 9, 10)
    rnd = actions.start_review_round(s.campaign, actor=s.leader, name="复查一轮", starts_on=rnd_day,
                               ends_on=rnd_day + dt.timedelta(days=4))
    for item in rnd.items.select_related("problem"):
        actions.verify(item.problem, actor=item.assignee, passed=True, at=when(10))
    actions.record_followup(Problem.objects.get(pk=old.pk).opinions.get(), actor=s.leader,
                      channel="home_visit", outcome="satisfied", at=when(12))
    c = as_member(s.leader)
    c.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    def page(day):
        return c.get(f"/leader/?as_of={day}").content.decode()

    before = page("1957-09-05")
    assert "Raised a year or more ago: 0 solved, 1 still open." in before
    assert "复查一轮" not in before and "No review round had started by this day." in before
    assert "No follow-up yet." in before
    assert "now, not as of the day above" in before
    during = page("1957-09-10")
    assert "0 of 2 checked, 0 failed" in during and "No follow-up yet." in during
    after = page("1957-09-11")
    assert "2 of 2 checked, 0 failed" in after and "1 solved, 0 still open" in after
    assert "No follow-up yet." in after
    assert "home visit" in page("1957-09-13")
    now = c.get("/leader/").content.decode()
    assert "2 of 2 checked" in now and "now, not as of the day above" not in now


# -- 7. Shares as percentages, the denominator named, the same everywhere ------------------

def test_the_false_share_names_its_denominator_everywhere(story, as_member, client):
    s = story
    bring_to(s, lifecycle.REOPENED)  # one claim, found false
    p = bring_to(s, lifecycle.VERIFIED)  # another claim, passed
    assert p
    _pin(s.org, dt.date(1957, 9, 20))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    words = "50.0% of 2 claims ever made"
    assert words in as_member(s.leader).get("/leader/").content.decode()
    assert words in client.get("/board/").content.decode()
    assert words in client.get("/").content.decode()
    from zhenggai.cli import main

    out = CliRunner().invoke(main, ["figures", "--org", str(s.org.pk)]).output
    assert "false figures 1 (50.0% of 2 claims ever made)" in out
    data = json.loads(CliRunner().invoke(main, ["figures", "--org", str(s.org.pk), "--format",
                                                "json"]).output)
    assert data["denominators"]["false_share"] == "claims"
    assert data["total"]["false_share"] == 0.5 and data["total"]["claims"] == 2


# -- 8. The stall: claims pile up, nobody verifies; pushed to the leaders ------------------

def _pile_up(s, n=6):
    for k in range(n):
        op = f.opinion(s.campaign, author=s.worker).opinion
        p = actions.create_problem(
            s.campaign,
            [op],
            actor=s.clerk,
            summary=f"问题{k}",
            owner=s.owner,
            deadline=dt.date(1957, 12, 1),
            at=when(0),
        )
        actions.claim(p, actor=s.owner, done="改了", at=when(k))


def test_claims_piling_up_with_nobody_verifying_is_a_stall(story, as_member):
    s = story
    _pile_up(s)
    day = dt.date(1957, 10, 1)
    stall = campaign_stall(s.org.pk, day)
    assert stall is not None and stall.reason == VERIFICATION and stall.waiting == 6
    # One verification in two weeks does not count as moving.
    actions.verify(Problem.objects.filter(state=lifecycle.CLAIMED).first(), actor=s.rep,
             passed=True, at=f.at(1957, 9, 25))
    assert campaign_stall(s.org.pk, day) is not None
    page = as_member(s.leader).get("/leader/?as_of=1957-10-01",
                                   HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The campaign has stalled: 5 claims are waiting for verification" in page
    # Verifying them moves it again.
    for p in Problem.objects.filter(state=lifecycle.CLAIMED):
        actions.verify(p, actor=s.rep, passed=True, at=f.at(1957, 9, 28))
    assert campaign_stall(s.org.pk, day) is None


def test_the_stall_is_pushed_to_the_leaders_once_a_week(story):
    s = story
    _pile_up(s)
    day = dt.date(1957, 10, 1)  # a Tuesday
    assert schedules.sweep_org(s.org.pk, day)["stall_warnings"] == 1
    assert schedules.sweep_org(s.org.pk, day)["stall_warnings"] == 0
    assert schedules.sweep_org(s.org.pk, day + dt.timedelta(days=3))["stall_warnings"] == 0
    assert schedules.sweep_org(s.org.pk, day + dt.timedelta(days=7))["stall_warnings"] == 1
    n = Notification.objects.get(member=s.leader, kind=Notification.Kind.STALL,
                                 key__contains="1957-W40")
    assert "6 个报称整改等待核对" in n.body  # in the member's language (the site's)
    # The daily sweep runs each organisation on its own clock.
    _pin(s.org, dt.date(1957, 10, 22))
    assert schedules.sweep()["stall_warnings"] == 1


# -- 9. The ledger's closing day, for closed problems only -------------------------------

def test_the_ledger_closes_only_closed_problems(story):
    from zhenggai.exchange.exporter import ledger_rows

    s = story
    verified = bring_to(s, lifecycle.VERIFIED)
    closed = bring_to(s, lifecycle.CLOSED)  # verified 09-04, closed by the check on 10-04
    # The ledger's rows are in the problems' order (created_on, pk).
    by_pk = dict(zip(Problem.objects.order_by("created_on", "pk").values_list("pk", flat=True),
                     list(ledger_rows(s.org))[1:], strict=True))
    assert by_pk[verified.pk][-1] == ""
    assert by_pk[closed.pk][-1] == "1957-10-04"


# -- 10. The forecast reads complete days only -------------------------------------------

def test_the_forecast_ignores_the_unfinished_day(db):
    from tests.production.conftest import Plant, run
    from zhenggai.campaigns.roles import grant_production_roles
    from zhenggai.production import targets
    from zhenggai.production.models import Furnace, GradeNorm, ProductionRole, Target

    o = f.org()
    u = f.unit(o, "steel")
    f8 = Furnace.objects.create(org=o, number=8, capacity_t=150, hearth_m2=36,
                                commissioned=1937)
    GradeNorm.objects.create(furnace=f8, grade="A3", minutes=560)
    rec, ver = f.member(o, "记录员", u), f.member(o, "核查员", u)
    grant_production_roles(rec, ProductionRole.Role.RECORDER)
    grant_production_roles(ver, ProductionRole.Role.VERIFIER)
    plant = Plant(o, f8, f8, rec, ver, ver, ver)
    Target.objects.create(org=o, year=1958, plan_t=9000, increase_t=100)
    t0 = dt.datetime(1958, 1, 6, 8, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    run(plant, f8, t0, [500] * 18)  # 1958-01-06 .. 01-13, about 2.6 heats a day
    # One early heat on 01-14, then the clock stands on that day.
    run(plant, f8, dt.datetime(1958, 1, 14, 0, 30, tzinfo=t0.tzinfo), [500], first_number=19)
    _pin(o, dt.date(1958, 1, 14))
    today = targets.progress(o.pk, dt.date(1958, 1, 14))
    yesterday = targets.progress(o.pk, dt.date(1958, 1, 13))
    # The heat does not pass for the day's rate: the forecast is the one of the last
    # complete day, 01-13 (the heat counts as done, not as a rate).
    assert today.complete_through == dt.date(1958, 1, 13)
    assert today.weeks == yesterday.weeks and today.forecast_t == yesterday.forecast_t
    assert today.probability == yesterday.probability
    assert today.done_t > yesterday.done_t
    # A past day is complete.
    assert targets.progress(o.pk, dt.date(1958, 1, 10)).complete_through == dt.date(1958, 1, 10)


# -- The organisation's clock -------------------------------------------------------------

def test_the_clock_is_real_time_unless_fixed(story):
    from django.utils import timezone

    s = story
    assert clock.today(s.org) == timezone.localdate() == clock.today(s.org.pk)
    _pin(s.org, dt.date(1958, 1, 28))
    assert clock.today(s.org) == clock.today(s.org.pk) == dt.date(1958, 1, 28)
    assert clock.now(s.org).date() == dt.date(1958, 1, 28)


def test_every_page_and_action_of_a_pinned_organisation_reads_its_clock(story, as_member,
                                                                          client):
    s = story
    p = bring_to(s, lifecycle.ASSIGNED)  # deadline 1957-10-01
    _pin(s.org, dt.date(1957, 10, 11))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    board = client.get("/board/").content.decode()
    assert "1957-10-11" in board and "<strong>10</strong>" in board  # 10 days overdue
    leader = as_member(s.leader).get("/leader/").content.decode()
    assert "as of 1957-10-11" in leader
    # An action without a time happens on the organisation's day; recorded_at stays real.
    actions.claim(Problem.objects.get(pk=p.pk), actor=s.owner, done="改了")
    e = Problem.objects.get(pk=p.pk).events.order_by("-seq").first()
    assert e.day == dt.date(1957, 10, 11) and e.recorded_at.year > 2000
    assert e.recorded_at.date() != e.day
    from zhenggai.api.models import ApiToken

    _, token = ApiToken.issue(s.leader)
    r = client.get("/api/v1/figures", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.json()["as_of"] == "1957-10-11"
    # Intake dates an opinion by the organisation's day, over the API and on the page.
    r = client.post("/api/v1/opinions", {"campaign": s.campaign.pk, "text": "炉前太热",
                                         "anonymous": True}, content_type="application/json")
    assert r.json()["opinion"]["received_on"] == "1957-10-11", r.content
    as_member(s.worker).post("/submit/", {"text": "食堂太远"})
    from zhenggai.opinions.models import Opinion

    assert Opinion.objects.get(text="食堂太远").received_on == dt.date(1957, 10, 11)


def test_the_clock_is_edited_in_the_admin(story, as_member):
    s = story
    admin = as_member(s.admin)
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(member=s.admin).update(is_staff=True, is_superuser=True)
    page = admin.get(f"/admin/org/organisation/{s.org.pk}/change/").content.decode()
    assert 'name="clock_day"' in page
