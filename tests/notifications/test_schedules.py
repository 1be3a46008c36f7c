"""Each schedule firing on its day (the day is passed in: a frozen clock without mocks),
idempotent on a second run, and mail delivered to a real SMTP server on loopback."""

import datetime as dt
import socket

import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth import get_user_model

from tests import factories as f
from tests.helpers import bring_to, when
from zhenggai.campaigns.roles import grant
from zhenggai.notifications import schedules
from zhenggai.notifications.models import BoardEntry, Notification, Recheck, SweepRun
from zhenggai.problems import actions
from zhenggai.problems.models import Problem


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 OK"


@pytest.fixture
def smtp(settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = False
    yield inbox
    controller.stop()


def with_email(member, address, lang=""):
    member.user = get_user_model().objects.create_user(f"u{member.pk}", email=address)
    member.language = lang
    member.save()


def test_deadline_reminders_three_days_before_and_on_the_day(story, smtp):
    with_email(story.owner, "owner@plant.example", "zh-hans")
    p = bring_to(story, "assigned")  # deadline 1957-10-01
    assert schedules.deadline_reminders(dt.date(1957, 9, 27)) == 0
    assert schedules.deadline_reminders(dt.date(1957, 9, 28)) == 1
    assert schedules.deadline_reminders(dt.date(1957, 9, 28)) == 0  # once
    assert schedules.deadline_reminders(dt.date(1957, 10, 1)) == 1
    notes = Notification.objects.filter(member=story.owner, problem=p).order_by("created_at")
    assert [n.subject.split("：")[0] for n in notes] == ["3 天后到期", "今天到期"]
    assert all(n.emailed_at for n in notes)
    assert len(smtp.messages) == 2 and smtp.messages[0][0] == ["owner@plant.example"]
    # claimed problems get no reminder
    actions.claim(p, actor=story.owner, done="装了风扇", at=when(5))
    Notification.objects.all().delete()
    assert schedules.deadline_reminders(dt.date(1957, 10, 1)) == 0


def test_overdue_problems_go_on_the_board_once_per_missed_deadline(story):
    p = bring_to(story, "assigned")
    assert schedules.post_overdue(dt.date(1957, 10, 1)) == 0
    assert schedules.post_overdue(dt.date(1957, 10, 2)) == 1
    assert schedules.post_overdue(dt.date(1957, 10, 3)) == 0
    actions.assign(p, actor=story.clerk, owner=story.owner, deadline=dt.date(1957, 11, 1),
             at=when(40))
    assert schedules.post_overdue(dt.date(1957, 11, 2)) == 1  # a new deadline missed
    assert BoardEntry.objects.filter(problem=p).count() == 2


def test_consolidation_recheck_goes_to_another_representative(story, smtp):
    with_email(story.rep2, "rep2@plant.example")
    p = bring_to(story, "verified")  # verified by rep on 1957-09-04
    p = Problem.objects.get(pk=p.pk)
    due = p.recheck_due
    assert due == p.verified_on + dt.timedelta(days=story.campaign.consolidation_days)
    assert schedules.consolidation_rechecks(due - dt.timedelta(days=1)) == 0
    assert schedules.consolidation_rechecks(due) == 1
    assert schedules.consolidation_rechecks(due) == 0
    r = Recheck.objects.get()
    assert r.assignee == story.rep2  # not rep, who verified it
    assert smtp.messages and smtp.messages[0][0] == ["rep2@plant.example"]


def test_no_recheck_when_nobody_else_may_do_it(story):
    from zhenggai.campaigns.models import CampaignRole

    CampaignRole.objects.filter(member=story.rep2).delete()
    p = Problem.objects.get(pk=bring_to(story, "verified").pk)
    assert schedules.consolidation_rechecks(p.recheck_due) == 0


def test_questionnaires_to_named_proposers_and_at_the_receipt_for_anonymous(story):
    p = bring_to(story, "verified")  # proposer: worker2, named
    anon = f.opinion(story.campaign, "匿名：炉前太热", day=dt.date(1957, 7, 2)).opinion
    actions.add_opinions(p, [anon], actor=story.clerk, at=when(5))
    anon.refresh_from_db()
    p.refresh_from_db()
    day = p.verified_on
    assert schedules.questionnaires(day - dt.timedelta(days=1)) == 0
    assert schedules.questionnaires(day) == 1
    assert schedules.questionnaires(day) == 0
    assert Notification.objects.get().member == story.worker2
    assert schedules.pending_questionnaire(anon)
    from zhenggai.problems.rules import ReceiptHolder as Holder

    actions.record_followup(anon, actor=Holder(anon), channel="receipt", outcome="satisfied",
                      at=when(6))
    anon.refresh_from_db()
    assert not schedules.pending_questionnaire(anon)


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_the_days_sweep_once(story):
    from click.testing import CliRunner

    from zhenggai.cli import main

    grant(story.rep2, story.campaign, "representative")
    r = CliRunner().invoke(main, ["worker", "--once"])
    assert r.exit_code == 0, r.output
    assert SweepRun.objects.count() == 1
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == 1
    r = CliRunner().invoke(main, ["worker", "--once"])
    assert r.exit_code == 0 and DBTaskResult.objects.count() == 1  # not enqueued twice
