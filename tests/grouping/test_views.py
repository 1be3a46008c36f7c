"""The grouping pages over HTTP: the intake partial and the clerk's proposals, with their
permissions; accept, move and split are events and keep every opinion."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests import factories as f
from zhenggai.grouping import proposals as P
from zhenggai.opinions.models import Opinion
from zhenggai.problems import actions
from zhenggai.problems.models import Event, Problem

TEXTS = ["8号炉漏水严重，请尽快维修", "八號爐漏水嚴重，請儘快維修", "8号炉漏水，维修太慢",
         "The canteen food is far too expensive", "Canteen food too expensive, lower prices"]


def login(client, member):
    user = get_user_model().objects.create_user(f"u{member.pk}", password="pw")
    member.user = user
    member.save()
    client.force_login(user)
    return client


@pytest.fixture
def ops(story):
    return [f.opinion(story.campaign, t).opinion for t in TEXTS]


def all_opinions(story):
    return set(Opinion.objects.filter(campaign=story.campaign).values_list("pk", flat=True))


def test_suggest_partial(story, ops, client):
    p = actions.create_problem(story.campaign, ops[:1], actor=story.clerk, summary="炉子漏水")
    url = reverse("grouping:suggest", args=[story.campaign.pk])
    # a visitor from outside the organisation's network sees nothing; from inside (who may
    # submit an anonymous opinion there), the same as a member
    outside = client.post(url, {"text": "8号炉漏水"}, REMOTE_ADDR="203.0.113.9")
    assert "炉子漏水" not in outside.content.decode()
    assert "炉子漏水" in client.post(url, {"text": "8号炉漏水"}).content.decode()
    login(client, story.worker)
    html = client.post(url, {"text": "８号炉又漏水"}).content.decode()
    assert "炉子漏水" in html and f'data-problem="{p.pk}"' in html
    # a "me too" button of the submit form, and words instead of a raw score
    assert f'name="me_too" value="{p.pk}"' in html
    assert "0." not in html.split("data-problem")[1]
    assert "data-problem" not in client.post(url, {"text": "library hours"}).content.decode()
    # typed text never travels in a URL: the page posts it, and a GET is refused
    assert client.get(url, {"text": "８号炉又漏水"}).status_code == 405
    page = client.get(reverse("web:submit")).content.decode()
    assert 'hx-post="' + url + '"' in page and "hx-get" not in page
    assert "hx-vals" not in page and 'hx-trigger="suggest from:#id_text"' in page
    assert "web/suggest.js" in page
    from pathlib import Path

    from django.contrib.staticfiles import finders
    js = Path(finders.find("web/suggest.js")).read_text(encoding="utf-8")
    assert "compositionend" in js and "isComposing" in js


@pytest.mark.parametrize("who", ["worker", "owner", "leader", None])
def test_proposals_are_for_clerks_only(story, ops, client, who):
    url = reverse("grouping:proposals", args=[story.campaign.pk])
    if who:
        login(client, getattr(story, who))
    r = client.get(url)
    assert r.status_code in (302, 403)
    r = client.post(url, {"action": "accept", "opinion": [ops[0].pk], "summary": "x"})
    assert r.status_code in (302, 403)
    assert not Problem.objects.exists()


def test_accept_move_split(story, ops, client):
    login(client, story.clerk)
    url = reverse("grouping:proposals", args=[story.campaign.pk])
    before = all_opinions(story)
    P.refresh(story.campaign)  # what the worker does (notifications/worker.propose)
    html = client.get(url).content.decode()
    assert "<mark>漏水</mark>" in html  # shared words highlighted
    # accept a whole group
    r = client.post(url, {"action": "accept", "opinion": [o.pk for o in ops[3:]],
                          "group": [o.pk for o in ops[3:]], "summary": "canteen prices"},
                    HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="en")
    canteen = Problem.objects.get(summary="canteen prices")
    # to the new problem's assign form, which says its number
    assert r.status_code == 200 and r["HX-Redirect"] == f"/problems/{canteen.pk}/#assign"
    page = client.get(r["HX-Redirect"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"Problem #{canteen.pk} is made from the group" in page and 'id="assign"' in page
    assert set(canteen.opinions.values_list("pk", flat=True)) == {ops[3].pk, ops[4].pk}
    # split a group: the ticked ones and the rest become two problems
    group = [o.pk for o in ops[:3]]
    r = client.post(url, {"action": "split", "opinion": group[:2], "group": group,
                          "summary": "8号炉漏水", "summary_rest": "维修太慢"})
    assert r.status_code == 200 and r["HX-Trigger"] == "desk-changed"  # the list, again
    leak, slow = Problem.objects.get(summary="8号炉漏水"), Problem.objects.get(summary="维修太慢")
    assert leak.opinions.count() == 2 and slow.opinions.count() == 1
    # move an opinion from one problem to another
    r = client.post(url, {"action": "move", "opinion": [ops[2].pk], "problem": leak.pk})
    assert r.status_code == 200
    assert Opinion.objects.get(pk=ops[2].pk).problem_id == leak.pk
    kinds = list(Event.objects.order_by("pk").values_list("kind", flat=True))
    assert kinds.count("create") == 3
    assert "remove_opinion" in kinds and "add_opinions" in kinds
    assert all_opinions(story) == before  # nothing destroyed


def test_bad_decisions_write_nothing(story, ops, client):
    login(client, story.clerk)
    url = reverse("grouping:proposals", args=[story.campaign.pk])
    n = Event.objects.count()
    for data in ({"action": "accept", "summary": "x"},
                 {"action": "accept", "opinion": [ops[0].pk], "summary": ""},
                 {"action": "split", "opinion": [ops[0].pk], "group": [ops[0].pk],
                  "summary": "x"},
                 {"action": "move", "opinion": [ops[0].pk], "problem": ""},
                 {"action": "move", "opinion": [ops[0].pk], "problem": "9" * 30},
                 {"action": "split", "opinion": [ops[0].pk, ops[2].pk],
                  "group": [ops[0].pk, ops[1].pk], "summary": "x"},
                 {"action": "nonsense"}):
        r = client.post(url, data)
        assert r.status_code == 400, data
        assert 'role="alert"' in r.content.decode()
    assert Event.objects.count() == n and not Problem.objects.exists()


def test_pages_in_chinese(story, ops, client):
    login(client, story.clerk)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    P.refresh(story.campaign)
    from django.utils import translation
    with translation.override("zh-hans"):
        html = client.get(reverse("grouping:proposals", args=[story.campaign.pk])).content
    assert "建议归并的意见组" in html.decode()


def test_the_page_shows_the_stored_groups_and_groups_nothing_itself(story, ops, client):
    login(client, story.clerk)
    url = reverse("grouping:proposals", args=[story.campaign.pk])
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    html = client.get(url).content.decode()  # before the worker's first run
    assert "being computed" in html and "<mark>" not in html
    assert "No groups to propose" not in html
    made = actions.create_problem(story.campaign, [f.opinion(
        story.campaign, "8号炉漏水严重，请维修").opinion], actor=story.clerk, summary="炉子漏水")
    P.refresh(story.campaign)
    html = client.get(url).content.decode()
    assert "being computed" not in html
    leak = next(g for g in html.split('class="group"')[1:] if f'value="{ops[0].pk}"' in g)
    assert f'value="{ops[1].pk}"' in leak and "<mark>漏水</mark>" in leak
    assert f'name="problem" value="{made.pk}"' in leak  # its stored target, still open
    # an opinion that came after the run waits for the next run: no grouping on a request
    late = f.opinion(story.campaign, "8号炉漏水严重，快来修").opinion
    assert f'value="{late.pk}"' not in client.get(url).content.decode()
    P.refresh(story.campaign)
    assert f'value="{late.pk}"' in client.get(url).content.decode()
    # an opinion summarised otherwise is no longer shown in its stored group
    actions.create_problem(story.campaign, [ops[3]], actor=story.clerk, summary="canteen")
    html = client.get(url).content.decode()
    assert f'value="{ops[3].pk}"' not in html and f'value="{ops[4].pk}"' not in html


def test_the_page_says_in_chinese_that_proposals_are_being_computed(story, ops, client):
    login(client, story.clerk)
    from django.utils import translation
    with translation.override("zh-hans"):
        html = client.get(reverse("grouping:proposals", args=[story.campaign.pk]),
                          HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "建议正在计算中" in html
