"""The leaders' word and work (issue 18): the situation bulletin on the board, the kiosk and
the situation page, as written and with its history; and the problems the leaders own
themselves, counted on the leader page."""

import json

import pytest

from tests.helpers import bring_to, when
from zhenggai.api.models import ApiToken
from zhenggai.campaigns import bulletins
from zhenggai.campaigns.models import Bulletin
from zhenggai.errors import Forbidden, InvalidInput
from zhenggai.figures.queries import leaders_own
from zhenggai.org import clock
from zhenggai.problems import actions, lifecycle

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def test_a_bulletin_is_kept_as_written_and_the_newest_is_shown(story):
    s = story
    first = bulletins.post(s.campaign, actor=s.leader, text="全厂鼓足干劲，力争上游",
                           language="zh-hans")
    second = bulletins.post(s.campaign, actor=s.leader, text="Review round starts Monday.",
                            language="en")
    assert bulletins.latest(s.org.pk) == second
    assert (first.day, first.written_by_id) == (clock.today(s.org), s.leader.pk)
    assert [b.pk for b in bulletins.history(s.campaign)] == [second.pk, first.pk]
    with pytest.raises(TypeError):
        second.save()  # never changed: a new message is a new row


@pytest.mark.parametrize("case", ["worker", "empty", "too_long", "language"])
def test_a_refused_bulletin_writes_nothing(story, case):
    s = story
    kw = {"actor": s.leader, "text": "形势大好", "language": "zh-hans"}
    error = InvalidInput
    if case == "worker":
        kw["actor"], error = s.worker, Forbidden
    elif case == "empty":
        kw["text"] = " \u200b "
    elif case == "too_long":
        kw["text"] = "长" * (bulletins.MAX_CHARS + 1)
    elif case == "language":
        kw["language"] = "fr"
    with pytest.raises(error):
        bulletins.post(s.campaign, **kw)
    assert not Bulletin.objects.exists()


def test_the_bulletin_shows_on_the_board_the_kiosk_and_the_situation_page(story, as_member,
                                                                           client):
    s = story
    leader = as_member(s.leader)
    r = leader.post(f"/leader/bulletin/?campaign={s.campaign.pk}",
                    {"text": "形势大好，任务艰巨", "language": "zh-hans"}, follow=True, **EN)
    assert "The bulletin is on the board" in r.content.decode()
    day = clock.today(s.org).isoformat()
    for url, lang in (("/board/", EN), ("/board/?kiosk=1", ZH), ("/", EN), ("/", ZH)):
        page = client.get(url, **lang).content.decode()
        assert '<p lang="zh-hans" class="text">形势大好，任务艰巨</p>' in page, url
        assert day in page and "陈厂长" in page
    assert "The situation and the tasks" in client.get("/board/", **EN).content.decode()
    assert "形势和任务" in client.get("/board/", **ZH).content.decode()
    # a situation page as of a day before it was written does not show it
    assert "形势大好" not in client.get("/?as_of=1957-01-01", **EN).content.decode()
    r = as_member(s.worker).post(f"/leader/bulletin/?campaign={s.campaign.pk}",
                                 {"text": "x", "language": "en"}, **EN)
    assert r.status_code == 403 and Bulletin.objects.count() == 1


def test_the_bulletin_over_the_api(story, client):
    s = story
    _, token = ApiToken.issue(s.leader)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}", **EN}
    assert client.get("/api/v1/bulletins/latest", **auth).status_code == 204
    r = client.post(f"/api/v1/campaigns/{s.campaign.pk}/bulletins",
                    json.dumps({"text": "Steel first.", "language": "en"}),
                    content_type="application/json", **auth)
    assert r.status_code == 201, r.content
    got = client.get("/api/v1/bulletins/latest", **auth).json()
    assert (got["text"], got["language"], got["written_by"]) == ("Steel first.", "en",
                                                                 s.leader.pk)
    _, wt = ApiToken.issue(s.worker)
    r = client.post(f"/api/v1/campaigns/{s.campaign.pk}/bulletins",
                    json.dumps({"text": "x", "language": "en"}),
                    content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {wt}", **EN)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"


def test_the_leader_page_counts_what_the_leaders_did_themselves(story, as_member):
    s = story
    mine = bring_to(s, lifecycle.ASSIGNED)
    actions.hand_over(s.campaign, s.owner, actor=s.leader, to=s.leader, reason="厂长亲自抓",
                      at=when(10))
    actions.claim(mine, actor=s.leader, done="厂长亲自装了风扇", at=when(11))
    actions.verify(mine, actor=s.rep, passed=True, at=when(12))
    bring_to(s, lifecycle.ASSIGNED)  # the owner's, not a leader's
    own = leaders_own(s.campaign, when(12).date())
    assert (own["problems"], own["claimed"], own["verified"]) == (1, 1, 1)
    assert [(r["member"], r["problems"]) for r in own["rows"]] == [(s.leader, 1)]
    before = leaders_own(s.campaign, when(9).date())
    assert (before["problems"], before["claimed"]) == (0, 0)
    page = as_member(s.leader).get(f"/leader/?as_of={when(12).date()}", **EN).content.decode()
    assert "What the leaders did themselves" in page
    assert "<td>陈厂长</td><td>1</td><td>1</td><td>1</td>" in page
