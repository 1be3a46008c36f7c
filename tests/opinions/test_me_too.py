"""“Me too” (附议): a worker's own opinion joins an existing problem, named or anonymous,
and counts like any other opinion; refused with a clear error, and nothing stored, where a
problem takes none."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from tests import factories as f
from tests.helpers import bring_to
from zhenggai.api.models import ApiToken
from zhenggai.errors import CampaignEnded, InvalidInput, Refused
from zhenggai.figures.queries import figures
from zhenggai.opinions import receipts
from zhenggai.opinions.intake import link_me_toos, submit_opinion
from zhenggai.opinions.models import Opinion, PendingMeToo
from zhenggai.problems import lifecycle, queries
from zhenggai.problems.models import Event, Problem

TOMORROW = timezone.localdate() + dt.timedelta(days=1)


def _stored(s) -> tuple:
    return (Opinion.objects.count(), PendingMeToo.objects.count(),
            Event.objects.count(), tuple(Problem.objects.order_by("pk")
                                         .values_list("pk", "n_opinions", "version")))


def test_a_named_me_too_joins_the_problem_at_once_and_counts(story):
    s = story
    p = bring_to(s, lifecycle.ASSIGNED)
    before = figures(s.org.pk)["total"]["opinions"]
    done = submit_opinion(s.campaign, text="我们班也是，炉前太热", author=s.worker, me_too=p)
    p.refresh_from_db()
    assert done.opinion.problem_id == p.pk and done.me_too.pk == p.pk and done.receipt is None
    assert p.n_opinions == 2 and p.state == lifecycle.ASSIGNED
    e = p.events.order_by("-seq").first()
    assert (e.kind, e.actor_id) == ("me_too", s.worker.pk)
    assert figures(s.org.pk)["total"]["opinions"] == before + 1
    # it is the worker's case now: "My opinions" shows the problem
    assert list(queries.my_opinions(s.worker).filter(problem=p)) == [done.opinion]


def test_an_empty_me_too_says_the_problem_s_summary(story):
    s = story
    p = bring_to(s, lifecycle.OPEN)
    done = submit_opinion(s.campaign, text="  ", author=s.worker, me_too=p)
    assert done.opinion.text == p.summary


def test_an_anonymous_me_too_gets_a_receipt_and_joins_when_its_day_is_over(story):
    s = story
    p = bring_to(s, lifecycle.CLAIMED)
    done = submit_opinion(s.campaign, text="二号炉也一样热", anonymous=True, me_too=p)
    assert done.receipt and done.me_too.pk == p.pk
    o = Opinion.objects.get(pk=done.opinion.pk)
    assert o.problem_id is None and o.author_id is None and o.received_at is None
    # waiting: no event yet (its number would place it among the day's named acts), and
    # not in the clerk's queue either
    assert PendingMeToo.objects.filter(opinion=o, problem=p).exists()
    assert not p.events.filter(kind="me_too").exists()
    assert o not in queries.unsummarised(s.campaign)
    assert figures(s.org.pk)["total"]["anonymous_opinions"] == "<5"
    assert link_me_toos() == {"linked": 0, "to_desk": 0}  # its day is not over
    assert link_me_toos(before=TOMORROW) == {"linked": 1, "to_desk": 0}
    o.refresh_from_db()
    p.refresh_from_db()
    assert o.problem_id == p.pk and p.n_opinions == 2 and p.n_anonymous == 1
    e = p.events.get(kind="me_too")
    assert e.actor_id is None
    assert (e.at.hour, e.at.minute, e.at.second) == (0, 0, 0) or \
        timezone.localtime(e.at).time() == dt.time(0)
    assert timezone.localtime(e.recorded_at).time() == dt.time(0)
    assert not PendingMeToo.objects.exists()
    # the receipt follows the problem now
    holder = receipts.redeem(done.receipt)
    assert holder.opinion.pk == o.pk


def test_a_problem_resolved_before_the_day_ends_leaves_the_me_too_to_the_desk(story):
    s = story
    p = bring_to(s, lifecycle.CLAIMED)
    done = submit_opinion(s.campaign, text="还是热", anonymous=True, me_too=p)
    from zhenggai.problems import actions
    actions.verify(p, actor=s.rep, passed=True)
    assert link_me_toos(before=TOMORROW) == {"linked": 0, "to_desk": 1}
    assert done.opinion in queries.unsummarised(s.campaign)


@pytest.mark.parametrize("state", [lifecycle.VERIFIED, lifecycle.CLOSED, lifecycle.DECLINED])
def test_a_resolved_or_declined_problem_takes_no_me_too(story, state):
    s = story
    p = bring_to(s, state)
    before = _stored(s)
    for anonymous in (False, True):
        with pytest.raises(Refused, match="takes no “me too”"):
            submit_opinion(s.campaign, text="我也是", anonymous=anonymous,
                           author=None if anonymous else s.worker, me_too=p)
    assert _stored(s) == before


def test_an_unknown_problem_or_one_of_another_campaign_or_org_is_refused(story):
    s = story
    later = f.campaign(s.org, name="1958 整改")
    other = f.story()
    theirs = bring_to(other, lifecycle.OPEN)  # another organisation's
    ours = bring_to(s, lifecycle.ASSIGNED)
    before = _stored(s)
    for target in (Problem(pk=1), theirs):
        with pytest.raises(InvalidInput, match="No such problem in this campaign"):
            submit_opinion(s.campaign, text="我也是", author=s.worker, me_too=target)
    # a problem of this organisation's other campaign
    with pytest.raises(InvalidInput):
        submit_opinion(later, text="我也是", author=s.worker, me_too=ours)
    assert _stored(s) == before


def test_an_ended_campaign_takes_no_me_too(story):
    s = story
    p = bring_to(s, lifecycle.ASSIGNED)
    s.campaign.ends_on = dt.date(1958, 1, 1)
    s.campaign.save()
    before = _stored(s)
    with pytest.raises(CampaignEnded):
        submit_opinion(s.campaign, text="我也是", anonymous=True, me_too=p)
    assert _stored(s) == before


# -- the API ------------------------------------------------------------------------------

def _post(client, body, member=None, lang="en"):
    headers = {"HTTP_ACCEPT_LANGUAGE": lang}
    if member is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {ApiToken.issue(member)[1]}"
    return client.post("/api/v1/opinions", data=json.dumps(body),
                       content_type="application/json", **headers)


def test_me_too_over_the_api_named_and_anonymous(story, client):
    s = story
    p = bring_to(s, lifecycle.ASSIGNED)
    r = _post(client, {"campaign": s.campaign.pk, "text": "同感", "problem": p.pk}, s.worker)
    assert r.status_code == 201, r.content
    assert r.json()["me_too"] == p.pk and r.json()["opinion"]["problem"] == p.pk
    r = _post(client, {"campaign": s.campaign.pk, "problem": p.pk, "anonymous": True})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["receipt"] and body["me_too"] == p.pk and body["opinion"]["problem"] is None
    assert body["opinion"]["text"] == p.summary
    link_me_toos(before=TOMORROW)
    p.refresh_from_db()
    assert p.n_opinions == 3 and p.n_anonymous == 1


def test_api_refusals_are_clear_and_store_nothing(story, client):
    s = story
    verified = bring_to(s, lifecycle.VERIFIED)
    before = _stored(s)
    r = _post(client, {"campaign": s.campaign.pk, "text": "x", "problem": verified.pk,
                       "anonymous": True}, lang="zh-hans")
    assert r.status_code == 409, r.content
    assert "附议" in r.json()["error"]["message"]
    r = _post(client, {"campaign": s.campaign.pk, "text": "x", "problem": 12345,
                       "anonymous": True})
    assert r.status_code == 422 and "No such problem" in r.json()["error"]["message"]
    r = _post(client, {"campaign": s.campaign.pk, "anonymous": True})
    assert r.status_code == 422  # no text and no problem: an opinion must say something
    assert _stored(s) == before


# -- the page ---------------------------------------------------------------------------

def test_me_too_on_the_submit_page(story, as_member, client):
    s = story
    p = bring_to(s, lifecycle.ASSIGNED)
    c = as_member(s.worker)
    r = c.post("/submit/", {"campaign": s.campaign.pk, "text": "我们也热", "me_too": p.pk},
               HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 200
    assert f"You said “me too” on problem #{p.pk}" in r.content.decode()
    p.refresh_from_db()
    assert p.n_opinions == 2
    r = c.post("/submit/", {"campaign": s.campaign.pk, "text": "我们也热", "anonymous": "on",
                            "me_too": p.pk})
    assert r.status_code == 200 and "receipt" in r.content.decode()
    assert r["Cache-Control"] == "no-store"
    assert PendingMeToo.objects.filter(problem=p).count() == 1
    r = c.post("/submit/", {"campaign": s.campaign.pk, "text": "我们也热", "me_too": "abc"})
    assert r.status_code == 422
    assert "No such problem" in r.content.decode() or "没有这个问题" in r.content.decode()
