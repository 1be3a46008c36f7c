"""The lists that grow, /problems/ and /opinions/: search, filters (a unit with the units
under it, category, owner, state, overdue), sorts and pages; who may open which; an
anonymous opinion names nobody and shows no time; a page costs the same queries however
many rows are behind it."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.http import QueryDict
from django.utils import translation

from tests import factories as f
from tests.helpers import bring_to, new_problem
from tests.web.test_query_counts import STATES
from zhenggai.org.models import Organisation
from zhenggai.problems import actions as problem_actions
from zhenggai.problems import lifecycle, lists
from zhenggai.problems.models import Problem

pytestmark = pytest.mark.django_db


def _filters(query: str = "", sorts=lists.PROBLEM_SORTS) -> lists.Filters:
    return lists.Filters.from_query(QueryDict(query), sorts)


def _pks(qs) -> list[int]:
    return [x.pk for x in qs]


DAY = dt.date(1957, 12, 1)  # after every deadline of tests/helpers.py


def test_problem_filters_and_search(story):
    shop = f.unit(story.org, "shop", parent=story.furnace)  # a unit under the furnace
    other_cat = f.category(story.org, "food")
    a = bring_to(story, lifecycle.ASSIGNED)  # furnace unit, owner, deadline 1957-10-01
    b = new_problem(story, owner=False)  # open, no unit
    c = problem_actions.create_problem(
        story.campaign, [f.opinion(story.campaign, "食堂太贵").opinion], actor=story.clerk,
        summary="食堂饭菜太贵", category=other_cat, owner=story.owner2, unit=shop,
        deadline=dt.date(1958, 3, 1), measures="降价")
    d = bring_to(story, lifecycle.CLAIMED)  # furnace, past its deadline but claimed
    camp = story.campaign

    def got(query):
        return set(_pks(lists.problems(camp, _filters(query), DAY)))

    assert got("") == {a.pk, b.pk, c.pk, d.pk}
    assert got("q=食堂") == {c.pk}
    assert got("q=降价") == {c.pk}  # the measures too
    assert got(f"q=%23{b.pk}") == {b.pk}  # a number
    assert got(f"unit={story.furnace.pk}") == {a.pk, c.pk, d.pk}  # with the shop under it
    assert got(f"unit={shop.pk}") == {c.pk}
    assert got(f"category={other_cat.pk}") == {c.pk}
    assert got(f"owner={story.owner2.pk}") == {c.pk}
    assert got("state=open") == {b.pk}
    assert got("state=claimed") == {d.pk}
    assert got("overdue=1") == {a.pk}  # past its deadline and not claimed
    assert got(f"overdue=1&unit={story.office.pk}") == set()
    # Anything unknown is ignored, never an error.
    assert got("state=nonsense&unit=x&owner=-1&sort=drop") == {a.pk, b.pk, c.pk, d.pk}
    # Sorts: each total and ending on the key.
    by_deadline = _pks(lists.problems(camp, _filters("sort=deadline"), DAY))
    assert by_deadline[:3] == [a.pk, d.pk, c.pk] and by_deadline[-1] == b.pk
    assert _pks(lists.problems(camp, _filters("sort=number"), DAY)) == sorted(
        [a.pk, b.pk, c.pk, d.pk])


def test_opinion_filters_and_their_order_by_day_only(story):
    p = bring_to(story, lifecycle.ASSIGNED)
    late = f.opinion(story.campaign, "宿舍漏雨", day=dt.date(1957, 7, 3)).opinion
    named = f.opinion(story.campaign, "宿舍漏雨，named", author=story.worker,
                      day=dt.date(1957, 7, 2)).opinion
    camp = story.campaign

    def got(query):
        return _pks(lists.opinions(camp, _filters(query, lists.OPINION_SORTS), DAY))

    everyone = got("")
    assert set(everyone) == {p.opinions.get().pk, late.pk, named.pk}
    assert everyone[0] == late.pk  # newest day first
    assert got("sort=oldest")[-1] == late.pk
    assert set(got("q=漏雨")) == {late.pk, named.pk}
    assert got("state=unsummarised") != [] and p.opinions.get().pk not in got(
        "state=unsummarised")
    assert got(f"owner={story.owner.pk}") == [p.opinions.get().pk]
    assert got("overdue=1") == [p.opinions.get().pk]
    assert got(f"q={p.pk}") == [p.opinions.get().pk]  # a problem's number

    # Several anonymous opinions of one day: sorted by their random ids, not as they came.
    same_day = [f.opinion(camp, f"同一天 {i}", day=dt.date(1957, 7, 4)).opinion.pk
                for i in range(6)]
    shown = [pk for pk in got("q=同一天")]
    assert shown == sorted(same_day, reverse=True)


def test_every_lists_filter_offers_the_same_options(story, as_member):
    shop = f.unit(story.org, "shop", parent=story.furnace)
    crew = f.unit(story.org, "crew", parent=shop)
    food = f.category(story.org, "food")
    mine = bring_to(story, lifecycle.ASSIGNED)  # the owner's
    problem_actions.create_problem(
        story.campaign, [f.opinion(story.campaign, "食堂太贵").opinion], actor=story.clerk,
        summary="食堂饭菜太贵", owner=story.owner2, unit=story.office,
        deadline=dt.date(1958, 3, 1))
    new_problem(story, owner=False)  # nobody's: no empty option
    got = lists.filter_choices(story.campaign)
    # Units in tree order, indented by depth, in the user's language.
    assert got["units"] == [(story.furnace.pk, "Workshop furnace8"),
                            (shop.pk, "\u3000Workshop shop"),
                            (crew.pk, "\u3000\u3000Workshop crew"),
                            (story.office.pk, "Workshop office")]
    assert got["categories"] == [(food.pk, "Cat food"), (story.category.pk, "Cat safety")]
    with translation.override("zh-hans"):
        assert lists.filter_choices(story.campaign)["units"][2] == (crew.pk, "\u3000\u3000车间crew")
    # The campaign's owners, or those of the problems asked about.
    both = {(m.pk, m.name) for m in (story.owner, story.owner2)}
    assert set(got["owners"]) == both and len(got["owners"]) == 2
    of = Problem.objects.filter(campaign=story.campaign)
    assert lists.filter_choices(story.campaign, owners_of=of.filter(pk=mine.pk))["owners"] == [
        (story.owner.pk, story.owner.name)]
    assert set(lists.filter_choices(story.campaign, owners_of=of)["owners"]) == both
    assert lists.filter_choices(story.campaign, owners=False)["owners"] == []
    # The role pages offer the same: the owner's own list names no owners to choose.
    page = as_member(story.owner).get("/owner/", HTTP_ACCEPT_LANGUAGE="en").context
    assert page["units"] == got["units"] and page["owners"] == []


def test_who_may_open_the_lists(story, client):
    for m, problems, opinions in ((story.worker, 200, 403), (story.owner, 200, 403),
                                  (story.clerk, 200, 200), (story.rep, 200, 200),
                                  (story.leader, 200, 200)):
        client.force_login(f.user_for(m))
        assert client.get("/problems/").status_code == problems, m.name
        assert client.get("/opinions/").status_code == opinions, m.name
        menu = client.get("/problems/").content.decode()
        assert ('href="/opinions/"' in menu) == (opinions == 200), m.name
        assert 'href="/problems/"' in menu
    client.logout()
    assert client.get("/problems/").status_code == 302  # to the login page
    assert client.get("/opinions/").status_code == 302
    stranger = f.member(Organisation.objects.create(name="别厂"), "外人")
    client.force_login(f.user_for(stranger))
    assert client.get("/problems/").status_code == 403


def test_an_anonymous_opinion_names_nobody_and_no_opinion_shows_a_time(story, client):
    f.opinion(story.campaign, "匿名的意见")
    f.opinion(story.campaign, "署名的意见", author=story.worker2)
    for m, names in ((story.clerk, True), (story.leader, True), (story.rep, False)):
        client.force_login(f.user_for(m))
        html = client.get("/opinions/?q=意见", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        rows = re.findall(r"<tr>.*?</tr>", html, re.S)
        anon = next(r for r in rows if "匿名的意见" in r)
        signed = next(r for r in rows if "署名的意见" in r)
        assert "anonymous" in anon and story.worker2.name not in anon
        assert (story.worker2.name in signed) == names
        assert "1957-07-01" in anon
        body = html.split('id="main"', 1)[1]
        assert not re.search(r"\b\d{1,2}:\d{2}\b", body), "a time of day is shown"


def test_pages_keep_the_filters_and_stop_at_the_last(story, client):
    for i in range(lists.PER_PAGE + 5):
        f.opinion(story.campaign, f"第{i}条")
    client.force_login(f.user_for(story.clerk))
    r = client.get("/opinions/?q=条", HTTP_ACCEPT_LANGUAGE="en")
    html = r.content.decode()
    assert "55 opinions" in html and "showing 1–50" in html
    assert 'href="?q=%E6%9D%A1&amp;page=2"' in html
    last = client.get("/opinions/?q=条&page=2", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "showing 51–55" in last and 'rel="next"' not in last
    # In Chinese the links say pages, not the production records' "previous" (原纪录).
    zh = client.get("/opinions/?q=条&page=2", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "‹ 上一页" in zh and "原纪录" not in zh
    # A page past the end, or not a number, shows the last or the first.
    assert client.get("/opinions/?page=99").status_code == 200
    assert client.get("/opinions/?page=x").status_code == 200


def test_the_problem_list_in_chinese_says_overdue_in_days(story, client):
    p = bring_to(story, lifecycle.ASSIGNED)
    Organisation.objects.filter(pk=story.org.pk).update(clock_day=dt.date(1957, 10, 26))
    client.force_login(f.user_for(story.worker))
    html = client.get("/problems/?overdue=1", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f"#{p.pk}" in html and "逾期25天" in html.replace(" ", "")
    assert Problem.objects.count() == 1


@pytest.mark.parametrize("url,who", [("/problems/", "worker"), ("/opinions/", "clerk"),
                                     ("/opinions/?state=assigned&q=炉", "rep"),
                                     ("/problems/?overdue=1&sort=deadline", "leader")])
def test_a_list_page_costs_the_same_queries_for_more_rows(story, as_member, flat_queries,
                                                          url, who):
    def grow(n):
        for _ in range(n):
            for state in STATES:
                bring_to(story, state)
            f.opinion(story.campaign, "宿舍漏雨")
            f.opinion(story.campaign, "食堂太贵", author=story.worker2)

    client = as_member(getattr(story, who))

    def read():
        assert client.get(url, HTTP_ACCEPT_LANGUAGE="en").status_code == 200
    flat_queries(read, grow)


def test_the_kiosk_goes_round_every_overdue_and_reopened_problem_a_screen_at_a_time(story,
                                                                                  client):
    from zhenggai.web.views.board import KIOSK_ROWS

    overdue = {bring_to(story, lifecycle.ASSIGNED).pk for _ in range(KIOSK_ROWS + 3)}
    reopened = {bring_to(story, lifecycle.REOPENED).pk for _ in range(2)}
    Organisation.objects.filter(pk=story.org.pk).update(clock_day=DAY)
    problem_actions.post_poster(Problem.objects.get(pk=min(overdue)), actor=story.worker,
                                text="限期整改！")
    seen, url, screens = set(), "/board/?kiosk=1", []
    for _ in range(10):
        html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        screens.append(re.search(r'data-testid="screen">([^<]*)<', html)[1])
        seen |= {int(n) for n in re.findall(r"<td class=\"text\">#(\d+) ", html)}
        refresh = re.search(r'<meta http-equiv="refresh" content="(\d+); url=([^"]+)">', html)
        url = "/board/" + refresh[2].replace("&amp;", "&")
        if url.endswith("screen=0"):
            break
    # The figures, two screens of overdue ones (each in the reopened one too: they are
    # past their deadline), one of reopened, one of posters; then round again.
    assert screens[0].startswith("screen 1 of 5") and len(screens) == 5
    assert overdue | reopened <= seen
    assert "限期整改！" in client.get("/board/?kiosk=1&screen=4").content.decode()
    assert client.get("/board/?kiosk=1&screen=x").status_code == 200


def test_a_refused_form_keeps_what_was_typed(story, client):
    p = bring_to(story, lifecycle.ASSIGNED)
    client.force_login(f.user_for(story.owner))
    bad = io.BytesIO(b"not a picture at all")
    bad.name = "fan.jpg"
    r = client.post(f"/problems/{p.pk}/", {"do": "claim", "version": p.version,
                                           "text": "装了两台风扇，已试运行",
                                           "evidence": "见车间记录", "photos": bad},
                    HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code in (400, 422)
    html = r.content.decode()
    assert ">装了两台风扇，已试运行</textarea>" in html and ">见车间记录</textarea>" in html
    # The page says the limit, and the browser's check reads it from the input.
    assert 'data-max-bytes="10485760"' in html and "web/upload.js" in html
    # A representative's findings, refused (a stale form), are kept in the verify form only.
    problem_actions.claim(p, actor=story.owner, done="装了风扇")
    client.force_login(f.user_for(story.rep))
    r = client.post(f"/problems/{p.pk}/", {"do": "verify_not_thorough", "version": 1,
                                           "text": "风扇没有接电"})
    assert r.status_code == 409
    html = r.content.decode()
    assert html.count("风扇没有接电</textarea>") == 1
    assert Problem.objects.get(pk=p.pk).state == lifecycle.CLAIMED


def test_a_posters_own_text_reads_full_width_wherever_it_is_shown(story, client):
    p = bring_to(story, lifecycle.ASSIGNED)
    problem_actions.post_poster(p, actor=story.worker, text="风扇坏了,快修!", signed=False)
    inside = {"REMOTE_ADDR": "10.1.2.3", "HTTP_ACCEPT_LANGUAGE": "zh-hans"}
    client.force_login(f.user_for(story.worker))
    for url in ("/board/", f"/board/problems/{p.pk}/", f"/problems/{p.pk}/"):
        html = client.get(url, **inside).content.decode()
        assert "风扇坏了，快修！" in html and "快修!" not in html, url


def test_a_poster_sets_chinese_with_full_width_punctuation_and_keeps_its_groups_whole():
    from zhenggai.web.views.board import full_width, unbroken_groups

    assert full_width("炉前风扇坏了,没人修(丙班)!") == "炉前风扇坏了，没人修（丙班）！"
    assert full_width("10:30 开会, 3.5 吨") == "10:30 开会，3.5 吨"
    assert full_width("Fan broken (crew C), fix it!") == "Fan broken (crew C), fix it!"
    assert unbroken_groups("没人修（丙 班）了") == [("没人修", False), ("（丙 班）", True),
                                                ("了", False)]
