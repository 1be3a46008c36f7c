"""Notifications of events: who is told of what (events.TELL), exactly once, in their
language; follows; the daily summary; anonymous acts told the next day without a name;
the pages and the API."""

import datetime as dt
import json

import pytest
from django.contrib.auth import get_user_model

from tests import factories as f
from tests.helpers import bring_to, when
from tests.notifications.test_schedules import smtp, with_email  # noqa: F401 (fixture)
from zhenggai.api.models import ApiToken
from zhenggai.notifications import events, follows, schedules
from zhenggai.notifications.models import Delivery, Notification, Outbox
from zhenggai.problems import actions
from zhenggai.problems.lifecycle import Kind
from zhenggai.problems.models import Problem
from zhenggai.problems.rules import ReceiptHolder


def told(member, **kw):
    return list(Notification.objects.filter(member=member, **kw).order_by("created_at", "pk"))


def test_every_kind_of_event_says_who_is_told():
    # A new kind (e.g. a hand-over) is one line in events.TELL; this fails until it is there.
    assert set(Kind) == set(events.TELL)


def test_the_owner_hears_of_an_assignment_and_a_reassignment_once(story):
    story.owner.language = "zh-hans"
    story.owner.save()
    p = bring_to(story, "open")
    actions.assign(p, actor=story.clerk, owner=story.owner, unit=story.furnace,
                   measures="加装排风扇", deadline=dt.date(1957, 10, 1), at=when(1))
    assert Outbox.objects.count() == 2  # the creation and the assignment, queued
    events.drain()
    events.drain()  # a second pass tells nothing again
    assert not Outbox.objects.exists()
    (n,) = told(story.owner)
    assert n.kind == "event" and n.problem_id == p.pk
    assert n.subject.startswith("已指定责任人")
    assert "加装排风扇" in n.body and "1957-10-01" in n.body
    # the proposer (named: worker2) hears of the creation and the assignment
    assert len(told(story.worker2)) == 2
    assert not told(story.clerk)  # never the actor
    actions.assign(p, actor=story.clerk, owner=story.owner2, unit=story.furnace,
                   measures="加装排风扇", deadline=dt.date(1957, 10, 8), at=when(2))
    events.drain()
    assert len(told(story.owner2)) == 1 and "1957-10-08" in told(story.owner2)[0].body


def test_a_claim_found_not_thorough_or_deteriorated_goes_back_to_its_owner(story):
    p = bring_to(story, "reopened")
    events.drain()
    last = told(story.owner)[-1]
    assert "整改不彻底" in last.subject and "还是热" in last.body
    p = bring_to(story, "verified")
    events.drain()
    actions.consolidation_check(p, actor=story.rep2, holds=False, findings="又坏了",
                                at=when(40))
    events.drain()
    last = told(story.owner)[-1]
    assert "反弹" in last.subject and "又坏了" in last.body


def test_leaders_hear_of_a_decline_waiting_and_proposers_of_its_outcome(story):
    p = bring_to(story, "assigned")
    actions.propose_decline(p, actor=story.owner, reason="不归本厂管", at=when(1))
    events.drain()
    assert "等您决定" in told(story.leader)[-1].subject
    actions.decline(p, actor=story.leader, reason="不归本厂管", at=when(2))
    events.drain()
    n = told(story.worker2)[-1]
    assert n.subject.startswith("不予整改") and "不归本厂管" in n.body


def test_a_follower_is_told_of_changes_until_they_unfollow(story):
    p = bring_to(story, "assigned")
    events.drain()
    assert follows.follow(story.worker, p) and not follows.follow(story.worker, p)
    actions.claim(p, actor=story.owner, done="装了风扇", at=when(2))
    events.drain()
    (n,) = told(story.worker)
    assert "您关注了这个问题" in n.body
    follows.unfollow(story.worker, p)
    actions.verify(p, actor=story.rep, passed=True, at=when(3))
    events.drain()
    assert len(told(story.worker)) == 1
    other = f.member(f.org("别的厂"), "外人")
    from zhenggai.errors import Forbidden

    with pytest.raises(Forbidden):
        follows.follow(other, p)


def test_anonymous_acts_are_told_the_next_day_and_name_nobody(story):
    op = f.opinion(story.campaign, "澡堂没有热水", anonymous=True)
    p = actions.create_problem(story.campaign, [op.opinion], actor=story.clerk,
                               summary="澡堂没有热水", at=when(0))
    actions.decline(p, actor=story.leader, reason="明年再说", at=when(1))
    events.drain()
    holder = ReceiptHolder(op.opinion)
    actions.contest(p, actor=holder, reason="我不同意", at=when(2))
    assert not Outbox.objects.exists()  # an anonymous act queues nothing
    before = Notification.objects.count()
    schedules.sweep_org(story.org.pk, when(2).date())  # the same day: not yet
    assert Notification.objects.count() == before
    out = schedules.sweep_org(story.org.pk, when(3).date())
    assert out["anonymous_acts_told"] == 1
    n = told(story.leader)[-1]
    assert "提出异议" in n.subject and "我不同意" not in n.body
    schedules.sweep_org(story.org.pk, when(4).date())
    assert len(told(story.leader, subject__contains="提出异议")) == 1
    # nobody is a recipient for an anonymous opinion; no message carries a proposer's name
    for n in Notification.objects.all():
        assert story.worker2.name not in n.body and story.worker.name not in n.body


def test_representatives_hear_of_a_review_round_and_leaders_of_long_overdue(story):
    p = bring_to(story, "verified")
    actions.start_review_round(story.campaign, actor=story.leader, name="一月复查",
                               starts_on=dt.date(1958, 1, 16), ends_on=dt.date(1958, 1, 20))
    assert schedules.sweep_org(story.org.pk, dt.date(1958, 1, 16))["review_rounds"] == 1
    assert schedules.sweep_org(story.org.pk, dt.date(1958, 1, 17))["review_rounds"] == 0
    assert Notification.objects.filter(kind="round", member=story.rep2).exists()
    q = bring_to(story, "assigned")  # due 1957-10-01
    assert events.long_overdue(dt.date(1957, 10, 30), story.org.pk) == 0
    assert events.long_overdue(dt.date(1957, 10, 31), story.org.pk) == 1
    assert events.long_overdue(dt.date(1957, 11, 1), story.org.pk) == 0
    n = told(story.leader, kind="long_overdue")[0]
    assert n.problem_id == q.pk and "已超期 30 天" in n.body
    assert p.pk != q.pk


def test_a_member_who_chose_the_daily_summary_gets_one_mail(story, smtp):  # noqa: F811
    with_email(story.owner, "owner@plant.example")
    with_email(story.worker2, "w2@plant.example")
    follows.set_digest(story.owner, True)
    bring_to(story, "reopened")
    events.drain()
    assert told(story.owner) and not [m for m in smtp.messages if "owner@" in m[0][0]]
    assert [m for m in smtp.messages if m[0] == ["w2@plant.example"]]  # a mail per event
    today = dt.date.today()
    assert schedules.sweep_org(story.org.pk, today)["digests"] == 1
    assert schedules.sweep_org(story.org.pk, today)["digests"] == 0
    (_mail,) = [m for m in smtp.messages if m[0] == ["owner@plant.example"]]
    (d,) = Delivery.objects.filter(key__startswith="digest:")
    assert d.state == "sent" and d.subject.startswith("今日汇总") and "整改不彻底" in d.body


def test_the_pages_follow_count_and_choose(story, as_member):
    p = bring_to(story, "assigned")
    events.drain()
    c = as_member(story.owner)
    page = c.get(f"/problems/{p.pk}/").content.decode()
    assert 'data-testid="unread" title="未读">1<' in page and "关注" in page
    r = c.post(f"/notifications/follow/{p.pk}/", {"follow": "1"})
    assert r.status_code == 302 and follows.follows(story.owner, p)
    assert "取消关注" in c.get(f"/problems/{p.pk}/").content.decode()
    c.post("/notifications/", {"digest": "1"})
    assert follows.digest(story.owner)
    page = c.get("/notifications/").content.decode()
    assert "已指定责任人" in page and f"#{p.pk}" in page
    c.post("/notifications/")
    assert 'data-testid="unread"' not in c.get("/notifications/").content.decode()


def test_the_api_follows_reads_and_chooses(story, client):
    p = bring_to(story, "assigned")
    events.drain()
    _, token = ApiToken.issue(story.owner)
    h = {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_ACCEPT_LANGUAGE": "en"}
    r = client.get("/api/v1/notifications", **h).json()
    assert r["unread"] == 1 and r["items"][0]["problem"] == p.pk
    assert client.put(f"/api/v1/problems/{p.pk}/follow", **h).json()["following"] is True
    assert client.get("/api/v1/following", **h).json() == [p.pk]
    assert client.delete(f"/api/v1/problems/{p.pk}/follow", **h).json()["following"] is False
    r = client.put("/api/v1/notifications/preference", json.dumps({"digest": True}),
                   content_type="application/json", **h)
    assert r.json() == {"digest": True} and follows.digest(story.owner)
    r = client.put("/api/v1/notifications/preference", json.dumps({"digest": "often"}),
                   content_type="application/json", **h)
    assert r.status_code == 422
    r = client.post("/api/v1/notifications/read", "{}", content_type="application/json", **h)
    assert r.json() == {"marked": 1}
    assert client.get("/api/v1/problems/999999/follow", **h).status_code == 404
    assert Problem.objects.count() == 1
    assert get_user_model().objects.count() >= 0


def test_an_anonymous_me_too_is_told_to_the_owner_the_next_day(story):
    from zhenggai.opinions import intake
    from zhenggai.problems import lifecycle
    from zhenggai.problems.models import Event

    p = bring_to(story, lifecycle.ASSIGNED)
    events.drain()
    intake.submit_opinion(story.campaign, text="我也觉得炉前太热", anonymous=True, me_too=p)
    intake.link_me_toos(before=dt.date.today() + dt.timedelta(days=1))
    assert not Outbox.objects.exists()  # an anonymous act queues nothing
    e = Event.objects.get(problem=p, kind=Kind.ME_TOO)
    assert e.actor_id is None
    schedules.sweep_org(story.org.pk, e.day + dt.timedelta(days=1))
    n = told(p.owner, problem=p)[-1]
    assert "附议" in n.subject
    assert story.worker.name not in n.body and story.worker2.name not in n.body
