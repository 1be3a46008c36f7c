"""The desk's stored proposals over HTTP: progress, a page of groups held for the clerk,
accept / into / skip / split as htmx decisions, a 409 with its message for the second clerk,
the opinion list searched, filtered and paged, and the keys' script (no inline script)."""

import pytest
from django.utils import translation

from tests import factories as f
from zhenggai.grouping import proposals as P
from zhenggai.grouping.models import Proposal
from zhenggai.problems.models import Problem

LEAK = ["8号炉漏水严重，请尽快维修", "8号炉漏水严重，快点维修", "8号炉漏水，维修太慢"]
CANTEEN = ["食堂饭菜太贵，请降价", "食堂饭菜太贵了，要降价"]


@pytest.fixture(autouse=True)
def fresh_indexes():
    """Each test starts as a freshly started process (test databases reuse campaign ids)."""
    from zhenggai.grouping.service import service

    service.forget()
    yield
    service.forget()


@pytest.fixture
def desk(story):
    s = story
    s.clerk2 = f.member(s.org, "吴文书", s.office, "clerk", c=s.campaign)
    for m in (s.clerk, s.clerk2):
        m.language = "en"
        m.save()
    s.leak = [f.opinion(s.campaign, t, unit=s.furnace).opinion for t in LEAK]
    s.canteen = [f.opinion(s.campaign, t, unit=s.office, category=s.category).opinion
                 for t in CANTEEN]
    P.refresh(s.campaign)
    return s


def _htmx(c, url, data, lang="en"):
    return c.post(url, data, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE=lang)


def test_the_desk_shows_progress_and_the_biggest_group_first(desk, as_member):
    html = as_member(desk.clerk).get("/desk/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "0 of 5 opinions summarised" in html and "By unit" in html
    assert html.index(LEAK[0][:5]) < html.index(CANTEEN[0][:4])
    assert "<kbd>A</kbd>" in html and "web/desk.js" in html
    assert "<script>" not in html  # CSP: no inline script
    assert Proposal.objects.filter(held_by=desk.clerk).count() == 2


def test_accept_tells_the_number_and_the_other_clerk_gets_a_conflict(desk, as_member, client):
    from django.test import Client

    c1 = as_member(desk.clerk)
    c1.get("/desk/")
    top = Proposal.objects.filter(held_by=desk.clerk).order_by("-size").first()
    n = top.size
    c2 = Client()
    c2.force_login(f.user_for(desk.clerk2))
    page2 = c2.get("/desk/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'data-proposal="{top.pk}"' not in page2  # held by the first clerk: not shown
    r = _htmx(c1, f"/desk/proposals/{top.pk}/", {"action": "accept", "summary": "8号炉漏水"})
    p = Problem.objects.get(summary="8号炉漏水")
    body = r.content.decode()
    assert r.status_code == 200 and f"Problem #{p.pk} is made from {n} opinions" in body
    assert r["HX-Trigger"] == "desk-changed" and f"{n} of 5 opinions summarised" in body
    assert p.n_opinions == n
    # the second clerk presses too (say, an old page): a clear conflict, nothing written
    r = _htmx(c2, f"/desk/proposals/{top.pk}/", {"action": "accept", "summary": "漏水"})
    assert r.status_code == 409 and f"problem #{p.pk}" in r.content.decode()
    assert Problem.objects.count() == 1
    # without htmx: back to the desk with the message
    r = c2.post(f"/desk/proposals/{top.pk}/", {"action": "accept", "summary": "漏水"})
    assert r.status_code == 302 and Problem.objects.count() == 1


def test_into_skip_and_split_from_the_page(desk, as_member):
    c = as_member(desk.clerk)
    bath = f.opinion(desk.campaign, "食堂饭菜太贵").opinion
    from zhenggai.problems import actions

    canteen = actions.create_problem(desk.campaign, [bath], actor=desk.clerk, summary="食堂贵")
    P.refresh(desk.campaign)
    c.get("/desk/")
    leak = Proposal.objects.get(held_by=desk.clerk, size=3)
    food = Proposal.objects.get(held_by=desk.clerk, size=2)
    assert canteen.pk in food.targets
    r = _htmx(c, f"/desk/proposals/{leak.pk}/", {"action": "skip"})
    assert r.status_code == 200
    body = r.content.decode()
    assert body.index(CANTEEN[0][:4]) < body.index(LEAK[0][:5])  # skipped: behind
    r = _htmx(c, f"/desk/proposals/{leak.pk}/", {"split": leak.opinions[0]})
    assert r.status_code == 200 and "split off" in r.content.decode()
    assert Proposal.objects.get(pk=leak.pk).size == 2
    r = _htmx(c, f"/desk/proposals/{food.pk}/", {"action": "into", "problem": canteen.pk})
    assert r.status_code == 200 and f"Added to problem #{canteen.pk}" in r.content.decode()
    canteen.refresh_from_db()
    assert canteen.n_opinions == 3
    r = _htmx(c, f"/desk/proposals/{leak.pk}/", {"action": "into", "problem": ""})
    assert r.status_code == 422 and 'role="alert"' in r.content.decode()
    r = _htmx(c, f"/desk/proposals/{leak.pk}/", {"action": "accept", "summary": ""})
    assert r.status_code == 422 and Proposal.objects.get(pk=leak.pk).state == "open"


@pytest.mark.parametrize("who", ["worker", "owner", "leader"])
def test_only_clerks_decide(desk, as_member, who):
    top = Proposal.objects.filter(campaign=desk.campaign).first()
    c = as_member(getattr(desk, who))
    assert c.post(f"/desk/proposals/{top.pk}/", {"action": "accept", "summary": "x"}
                  ).status_code == 403
    assert c.get("/desk/proposals/").status_code == 403
    assert not Problem.objects.exists()


def test_the_opinion_list_is_searched_filtered_and_paged(desk, as_member):
    c = as_member(desk.clerk)
    html = c.get("/desk/", {"q": "食堂"}).content.decode()
    assert f'value="{desk.canteen[0].pk}"' in html
    assert f'value="{desk.leak[0].pk}" class="pick"' not in html
    html = c.get("/desk/", {"unit": desk.furnace.pk}).content.decode()
    assert f'value="{desk.leak[0].pk}" class="pick"' in html
    assert f'value="{desk.canteen[0].pk}" class="pick"' not in html
    html = c.get("/desk/", {"category": desk.category.pk, "part": "list"}).content.decode()
    assert html.count('class="pick"') == 2
    for i in range(60):
        f.opinion(desk.campaign, f"第{i}条：其他意见")
    html = c.get("/desk/", {"part": "list"}).content.decode()
    assert html.count('class="pick"') == 25 and "More opinions" in html


def test_the_desk_in_chinese(desk, as_member):
    desk.clerk.language = "zh-hans"
    desk.clerk.save()
    c = as_member(desk.clerk)
    with translation.override("zh-hans"):
        html = c.get("/desk/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "已归纳 0 条，共 5 条意见" in html and "接受为新问题" in html
