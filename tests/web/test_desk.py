"""The summarising desk's merge target: the problems most like the ticked opinions, ranked
by the grouping engine, or found by the clerk's search; never a list of every problem."""

import re

import pytest

from tests import factories as f
from tests.helpers import bring_to
from zhenggai.grouping.service import service
from zhenggai.problems import actions, lifecycle

BATH = ["浴室水不热，冬天洗澡冻得直哆嗦", "浴室的热水不够热，洗澡水是温的"]
OTHER = [("食堂饭菜太贵，工人吃不起", "食堂太贵"), ("八号炉漏水严重，请尽快维修", "八号炉漏水"),
         ("宿舍漏雨，屋顶要修", "宿舍漏雨")]


@pytest.fixture
def desk(story):
    s = story
    s.clerk.language = "en"
    s.clerk.save()
    service.forget()
    bath = actions.create_problem(s.campaign, [f.opinion(s.campaign, t).opinion for t in BATH],
                                  actor=s.clerk, summary="浴室水不热")
    others = [actions.create_problem(s.campaign, [f.opinion(s.campaign, t).opinion],
                                     actor=s.clerk, summary=summary) for t, summary in OTHER]
    new = f.opinion(s.campaign, "浴室水不热，洗澡太冷").opinion
    return s, bath, others, new


def _offered(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'name="problem" value="(\d+)"', html)]


def test_the_ticked_opinions_rank_the_problems_to_add_them_to(desk, as_member):
    s, bath, _others, new = desk
    c = as_member(s.clerk)
    r = c.post("/desk/targets/", {"opinion": [new.pk]})
    assert r.status_code == 200
    html = r.content.decode()
    assert _offered(html)[0] == bath.pk
    assert "Ranked by how alike" in html and "similar" in html
    # then "add to this problem" puts them there
    r = c.post("/desk/", {"opinion": [new.pk], "problem": bath.pk, "action": "add"})
    assert r.status_code == 302
    bath.refresh_from_db()
    assert bath.n_opinions == 3


def test_the_clerk_searches_by_number_or_words(desk, as_member):
    s, bath, others, _new = desk
    c = as_member(s.clerk)
    assert _offered(c.post("/desk/targets/", {"q": f"#{others[1].pk}"}).content.decode()) \
        == [others[1].pk]
    found = _offered(c.post("/desk/targets/", {"q": "食堂"}).content.decode())
    assert found and found[0] == others[0].pk and bath.pk not in found
    html = c.post("/desk/targets/", {"q": "图书馆开放时间"}).content.decode()
    assert _offered(html) == [] and "No open problem matches" in html


def test_resolved_problems_are_not_offered(desk, as_member):
    s, _bath, _others, _new = desk
    done = bring_to(s, lifecycle.VERIFIED)  # its opinion: "炉前温度太高，需要通风"
    like = f.opinion(s.campaign, "炉前温度太高，需要通风").opinion
    c = as_member(s.clerk)
    assert done.pk not in _offered(c.post("/desk/targets/", {"opinion": [like.pk]})
                                   .content.decode())
    assert done.pk not in _offered(c.post("/desk/targets/", {"q": "炉前"}).content.decode())


def test_the_desk_page_offers_a_search_box_not_a_dropdown(desk, as_member):
    s, *_ = desk
    html = as_member(s.clerk).get("/desk/").content.decode()
    assert 'id="id_q"' in html and 'hx-post="/desk/targets/"' in html
    assert '<select id="id_problem"' not in html
    assert "desk-changed from:body" in html  # the list refreshes after a decision


@pytest.mark.parametrize("who", ["worker", "owner", "leader"])
def test_only_clerks_rank_targets(desk, as_member, who):
    s, *_ = desk
    assert as_member(getattr(s, who)).post("/desk/targets/", {"q": "浴室"}).status_code == 403


def test_targets_in_chinese(desk, as_member):
    s, _bath, _others, new = desk
    s.clerk.language = "zh-hans"
    s.clerk.save()
    c = as_member(s.clerk)
    html = c.post("/desk/targets/", {"opinion": [new.pk]}).content.decode()
    assert "按与所勾选意见的相近程度排列" in html and "相近" in html
