"""Intake, and anonymity that cannot be traced back."""

import dataclasses
import datetime as dt
import math

import pytest
from django.db import IntegrityError

from tests import factories as f
from tests.helpers import bring_to, when
from zhenggai.campaigns.roles import grant
from zhenggai.errors import CampaignEnded, Forbidden, InvalidInput, NotAMember, NotFound, Refused
from zhenggai.opinions import receipts
from zhenggai.opinions.intake import submit_opinion
from zhenggai.opinions.models import Opinion, Receipt, random_id
from zhenggai.problems import actions, lifecycle
from zhenggai.problems.models import Event, FollowUp, Poster


def test_anonymous_opinion_keeps_no_member_and_no_time_of_day(story):
    s = story
    sub = submit_opinion(s.campaign, text="食堂太贵", anonymous=True,
                         at=f.at(1957, 7, 3, 14, 37))
    o = Opinion.objects.get(pk=sub.opinion.pk)
    assert o.author_id is None and o.received_at is None
    assert o.received_on == dt.date(1957, 7, 3)
    # Every column of the stored row: nothing more precise than the day.
    row = Opinion.objects.filter(pk=o.pk).values().get()
    assert not any(isinstance(v, dt.datetime) for v in row.values())


def test_anonymous_ids_do_not_follow_submission_order(story):
    s = story
    ids = [f.opinion(s.campaign, author=s.worker).opinion.pk for _i in range(20)]
    assert ids != sorted(ids)


def test_receipt_has_80_bits_and_only_its_argon2_hash_is_stored(story):
    s = story
    sub = f.opinion(s.campaign, anonymous=True)
    code = sub.receipt
    assert len(code.replace("-", "")) == 16
    assert 16 * math.log2(len(receipts.ALPHABET)) >= 80
    stored = Receipt.objects.get(opinion=sub.opinion)
    assert code.replace("-", "") not in stored.code_hash
    assert stored.code_hash == receipts.hash_code(code.replace("-", ""))
    # And nowhere else: not on the opinion row.
    row = Opinion.objects.filter(pk=sub.opinion.pk).values().get()
    assert code.replace("-", "") not in str(row)


def test_receipt_redeems_with_typos_forgiven_and_wrong_codes_refused(story):
    s = story
    sub = f.opinion(s.campaign, anonymous=True)
    messy = sub.receipt.lower().replace("-", " ").replace("0", "o")
    assert receipts.redeem(messy).opinion.pk == sub.opinion.pk
    with pytest.raises(NotFound, match="cannot be recovered"):
        receipts.redeem("0000-0000-0000-0000")
    with pytest.raises(InvalidInput):
        receipts.redeem("short")


def test_named_and_paper_opinions_get_no_receipt(story):
    s = story
    assert f.opinion(s.campaign, author=s.worker).receipt is None
    assert f.opinion(s.campaign, anonymous=True, channel="paper").receipt is None


def test_the_receipt_holder_answers_follow_ups_and_contests_anonymously(story):
    s = story
    sub = f.opinion(s.campaign, anonymous=True)
    p = actions.create_problem(s.campaign, [sub.opinion], actor=s.clerk, summary="x", at=when(0))
    actions.decline(p, actor=s.leader, reason="不归本厂", at=when(1))
    holder = receipts.redeem(sub.receipt)
    e = actions.contest(p, actor=holder, reason="本厂能办", at=f.at(1957, 9, 5, 15, 42))
    assert e.actor_id is None and e.at.astimezone(f.TZ).hour == 0
    p.refresh_from_db()
    assert p.state == lifecycle.OPEN
    fu = actions.record_followup(sub.opinion, actor=holder, channel="receipt", outcome="satisfied",
                           at=when(6))
    assert fu.recorded_by is None and fu.event.actor_id is None


def test_a_receipt_acts_only_on_its_own_case(story):
    s = story
    mine = f.opinion(s.campaign, anonymous=True)
    actions.create_problem(s.campaign, [mine.opinion], actor=s.clerk, summary="x", at=when(0))
    other = bring_to(s, lifecycle.DECLINED)
    holder = receipts.redeem(mine.receipt)
    with pytest.raises(Forbidden):
        actions.contest(other, actor=holder, reason="x", at=when(5))
    with pytest.raises(Forbidden):
        actions.record_followup(other.opinions.first(), actor=holder, channel="receipt",
                          outcome="satisfied", at=when(5))


def test_unsigned_poster_names_nobody(story):
    s = story
    p = bring_to(s, lifecycle.REOPENED)
    poster = actions.post_poster(p, actor=s.worker, text="请迅速整改", signed=False,
                           at=f.at(1957, 9, 20, 16, 5))
    assert poster.signed_by is None
    e = Event.objects.get(pk=poster.event_id)
    assert e.actor_id is None and e.at.astimezone(f.TZ).hour == 0
    signed = actions.post_poster(p, actor=s.worker, text="署名大字报", at=when(21))
    assert Poster.objects.get(pk=signed.pk).signed_by == s.worker


@pytest.mark.parametrize("bad", [
    dict(text="   "), dict(text="x" * 5001), dict(channel="telegram"),
    dict(anonymous=True, author="worker"), dict(anonymous=False),
    dict(received_on=dt.date(2999, 1, 1)),
])
def test_bad_intake_is_refused_and_writes_nothing(story, bad):
    s = story
    kw = dict(text="意见", anonymous=True, received_on=dt.date(1957, 7, 1))
    kw.update(bad)
    if kw.get("author") == "worker":
        kw["author"] = s.worker
    n = Opinion.objects.count()
    with pytest.raises((InvalidInput, Refused)):
        submit_opinion(s.campaign, **kw)
    assert Opinion.objects.count() == n


def test_opinions_are_never_edited_or_deleted(story):
    s = story
    o = f.opinion(s.campaign, author=s.worker).opinion
    o.text = "changed"
    with pytest.raises(TypeError):
        o.save()
    with pytest.raises(TypeError):
        o.delete()
    with pytest.raises(TypeError):
        Opinion.objects.filter(pk=o.pk).delete()


def test_ended_campaign_takes_no_opinions(story):
    s = story
    old = f.campaign(s.org, name="old", start=dt.date(1955, 1, 1), ends_on=dt.date(1955, 12, 31))
    with pytest.raises(CampaignEnded, match="ended"):
        f.opinion(old, author=s.worker, day=dt.date(1957, 1, 1))


def test_follow_up_outcome_is_validated(story):
    s = story
    p = bring_to(s, lifecycle.VERIFIED)
    with pytest.raises(InvalidInput):
        actions.record_followup(p.opinions.first(), actor=s.leader, channel="conversation",
                          outcome="meh", at=when(9))
    assert not FollowUp.objects.exists()


def test_an_opinion_its_receipt_index_row_and_figures_commit_together(story, monkeypatch):
    from zhenggai.figures.ledger import book_pending
    from zhenggai.figures.models import UnbookedOpinion
    from zhenggai.figures.queries import figures
    from zhenggai.grouping.models import IndexLog
    from zhenggai.opinions import models as om

    s = story
    day = dt.date(1957, 7, 2)
    before = figures(s.org.pk, day)["total"]["opinions"]
    sub = submit_opinion(s.campaign, text="吊车经常出故障", anonymous=True, received_on=day)
    # no commit hook needed: the log row is written in the opinion's transaction
    assert IndexLog.objects.filter(opinion_id=sub.opinion.pk,
                                   campaign_id=s.campaign.pk).exists()
    assert UnbookedOpinion.objects.filter(opinion_id=sub.opinion.pk).exists()
    # A figure read counts it from the queue, and leaves the queue alone; the worker's
    # booking moves it into the buckets, once.
    assert figures(s.org.pk, day)["total"]["opinions"] == before + 1
    assert UnbookedOpinion.objects.filter(opinion_id=sub.opinion.pk).exists()
    assert book_pending() == 1 and not UnbookedOpinion.objects.exists()
    assert figures(s.org.pk, day)["total"]["opinions"] == before + 1

    # The last of the intake's rows fails (its id is taken in the figures' queue): nothing
    # of the opinion stays.
    taken = 4_000_000_000_000
    UnbookedOpinion.objects.create(opinion_id=taken)
    monkeypatch.setitem(om.Opinion._meta.pk.__dict__, "_get_default", lambda: taken)
    counts = (Opinion.objects.count(), Receipt.objects.count(), IndexLog.objects.count(),
              UnbookedOpinion.objects.count())
    with pytest.raises(IntegrityError):
        submit_opinion(s.campaign, text="安全帽不够", anonymous=True, received_on=day)
    assert counts == (Opinion.objects.count(), Receipt.objects.count(),
                      IndexLog.objects.count(), UnbookedOpinion.objects.count())
    assert not Opinion.objects.filter(pk=taken).exists()


def test_staff_cannot_record_an_answer_as_if_given_through_the_receipt(story):
    p = bring_to(story, lifecycle.VERIFIED)
    before = FollowUp.objects.count()
    with pytest.raises(InvalidInput, match="Only a receipt holder"):
        actions.record_followup(p.opinions.first(), actor=story.clerk, channel="receipt",
                          outcome="satisfied", at=when(9))
    assert FollowUp.objects.count() == before


# -- one intake: the same rules, errors and rows on every path -----------------------------


def _other_org_member():
    o = f.org("别的厂")
    return f.member(o, "外厂人", f.unit(o))


def test_an_ended_campaign_is_a_409_on_every_path(story, client, tmp_path):
    """One rule, one error class (CampaignEnded), one status: the action, the API, the page,
    the import and the bulk loader."""
    from tests.api.test_api import Api
    from zhenggai.exchange import importer
    from zhenggai.problems.bulk import BulkLoader, BulkOpinion

    s = story
    old = f.campaign(s.org, name="old", start=dt.date(1955, 1, 1), ends_on=dt.date(1955, 12, 31))
    n = Opinion.objects.count()
    with pytest.raises(CampaignEnded) as e:
        submit_opinion(old, text="意见", anonymous=True, received_on=dt.date(1957, 1, 1))
    assert e.value.status == 409
    r = Api(client).post("/opinions", {"campaign": old.pk, "text": "意见", "anonymous": True})
    assert r.status_code == 409 and "has ended" in r.json()["error"]["message"]
    r = client.post("/submit/", {"text": "意见", "campaign": old.pk},
                    HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 409 and "has ended" in r.content.decode()
    path = tmp_path / "p.csv"
    path.write_text("意见内容,日期\n炉前太热,1957-07-01\n", encoding="utf-8")
    grant(s.clerk, old, "clerk")
    report = importer.import_opinions(path, campaign=old, actor=s.clerk)
    assert report.imported == 0 and "has ended" in report.errors[0].reason
    loader = BulkLoader(s.org.pk)
    with pytest.raises(CampaignEnded):
        loader.opinions([BulkOpinion(random_id(), old.pk, "意见", "paper",
                                     dt.date(1957, 1, 1), True, None, None, None)])
    assert Opinion.objects.count() == n


def test_an_author_of_another_organisation_is_a_403_on_every_path(story, client):
    from tests.api.test_api import Api
    from zhenggai.problems.bulk import BulkLoader, BulkOpinion

    s = story
    stranger = _other_org_member()
    n = Opinion.objects.count()
    with pytest.raises(NotAMember) as e:
        submit_opinion(s.campaign, text="意见", author=stranger, received_on=dt.date(1957, 7, 1))
    assert e.value.status == 403
    r = Api(client, stranger).post("/opinions", {"campaign": s.campaign.pk, "text": "意见"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    loader = BulkLoader(s.org.pk)
    with pytest.raises(NotAMember):
        loader.opinions([BulkOpinion(random_id(), s.campaign.pk, "意见", "paper",
                                     dt.date(1957, 7, 1), False, stranger.pk, None, None)])
    assert Opinion.objects.count() == n


def test_every_intake_logs_its_opinions_for_grouping(story, tmp_path):
    """The single write, an import and a bulk load each write the index log row in the
    opinion's transaction, so a process that built its index before finds them all."""
    from zhenggai.exchange import importer
    from zhenggai.grouping.models import IndexLog
    from zhenggai.grouping.service import Service
    from zhenggai.problems.bulk import BulkLoader, BulkOpinion

    s = story
    svc = Service()
    svc.index(s.campaign.pk)  # built before any of them came in
    one = f.opinion(s.campaign, "八号炉漏水严重，请尽快维修", author=s.worker).opinion
    path = tmp_path / "p.csv"
    path.write_text("意见内容,日期\n八号炉漏水严重请尽快维修,1957-07-01\n", encoding="utf-8")
    assert importer.import_opinions(path, campaign=s.campaign, actor=s.clerk).imported == 1
    imported = Opinion.objects.get(source_ref__startswith="import:")
    loaded = random_id()
    loader = BulkLoader(s.org.pk)
    loader.opinions([BulkOpinion(loaded, s.campaign.pk, "八号炉又漏水了，请维修", "paper",
                                 dt.date(1957, 7, 2), True, None, None, None)])
    loader.finish()
    ids = {one.pk, imported.pk, loaded}
    assert set(IndexLog.objects.filter(opinion_id__in=ids)
               .values_list("opinion_id", flat=True)) == ids
    engine = svc.index(s.campaign.pk)  # caught up from the log
    assert all(i in engine for i in ids)


def test_the_bulk_rows_name_every_column_of_the_opinions_table():
    """The one column list of a bulk write is the table's: a new column fails here."""
    from zhenggai.opinions.intake import COLUMNS

    assert sorted(COLUMNS) == sorted(fl.column for fl in Opinion._meta.concrete_fields)


def test_a_bulk_opinion_passes_the_same_rules(story):
    from zhenggai.problems.bulk import BulkLoader, BulkOpinion

    s = story
    loader = BulkLoader(s.org.pk)
    ok = BulkOpinion(random_id(), s.campaign.pk, " 炉前\u202e太热 ", "paper",
                     dt.date(1957, 7, 1), True, None, s.furnace.pk, None)
    loader.opinions([ok])
    assert loader.opinion_rows[0].text == "炉前太热"  # the one cleaner
    for bad in (dict(text="\u200b"), dict(channel="telegram"), dict(author=s.worker.pk),
                dict(day=dt.date(2999, 1, 1)), dict(unit=10**9)):
        with pytest.raises(InvalidInput):
            loader.opinions([dataclasses.replace(ok, id=random_id(), **bad)])
    with pytest.raises(InvalidInput):
        BulkLoader(s.org.pk).opinions([dataclasses.replace(ok, campaign=10**9)])


def test_a_proposer_acts_on_their_case_only_once_it_is_a_problem(story, client, as_member):
    """One rule (problems.actions.proposers_problem), one refusal: 409 on the API with the
    receipt and on the page of one's own opinions, and nothing written."""
    from zhenggai.problems.models import Event, FollowUp, Poster

    anon = submit_opinion(story.campaign, text="吊车经常出故障", anonymous=True)
    named = submit_opinion(story.campaign, text="澡堂没有热水", author=story.worker)
    before = (Event.objects.count(), Poster.objects.count(), FollowUp.objects.count())
    for path, body in (("contest", {"text": "不同意"}), ("poster", {"text": "快改！"}),
                       ("answer", {"outcome": "satisfied"})):
        r = client.post(f"/api/v1/receipts/{path}", {"receipt": anon.receipt, **body},
                        content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
        assert r.status_code == 409, (path, r.content)
        assert "not yet part of a problem" in r.json()["error"]["message"], path
    page = as_member(story.worker)
    for do in ("contest", "poster", "satisfied", "not_satisfied"):
        r = page.post("/mine/", {"opinion": named.opinion.pk, "do": do, "text": "x"},
                      HTTP_ACCEPT_LANGUAGE="en")
        assert r.status_code == 409 and "not yet part of a problem" in r.content.decode(), do
    assert (Event.objects.count(), Poster.objects.count(), FollowUp.objects.count()) == before
