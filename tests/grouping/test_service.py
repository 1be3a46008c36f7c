"""The Django side of grouping: the per-campaign index, its upkeep across processes, the
intake suggestions and the proposed groups, in Chinese and English."""

import threading

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories as f
from zhenggai.grouping import service as S
from zhenggai.grouping.models import IndexLog
from zhenggai.opinions.models import Opinion
from zhenggai.problems import actions

TEXTS = [
    "8号炉漏水严重，请尽快维修",
    "八號爐漏水嚴重，請儘快維修",
    "食堂饭菜价格太贵，希望降价",
    "The canteen food is far too expensive, please lower the prices",
    "Canteen food too expensive - please lower prices",
    "宿舍热水经常停，洗澡很不方便",
    "班车发车时间不合理，下夜班要等一个小时",
    "Overtime pay has been late for two months",
]


def submit(s, text, capture, anonymous=True):
    with capture(execute=True):
        return f.opinion(s.campaign, text, author=None if anonymous else s.worker,
                         anonymous=anonymous).opinion


@pytest.fixture
def svc():
    return S.Service()  # a fresh process


def test_duplicates_found_unrelated_not(story, svc, django_capture_on_commit_callbacks):
    ops = [submit(story, t, django_capture_on_commit_callbacks) for t in TEXTS]
    p_leak = actions.create_problem(
        story.campaign, [ops[0]], actor=story.clerk, summary="8号炉漏水"
    )
    p_food = actions.create_problem(story.campaign, [ops[3]], actor=story.clerk,
                              summary="canteen prices")
    # Chinese, in traditional script and with a full-width number
    got = svc.suggest(story.campaign, "８号炉又漏水了，要维修", k=3)
    assert got.problems and got.problems[0].problem.pk == p_leak.pk
    assert {o.opinion_id for o in got.opinions[:2]} == {ops[0].pk, ops[1].pk}
    # English
    got = svc.suggest(story.campaign, "The food in the canteen is too expensive", k=3)
    assert got.problems[0].problem.pk == p_food.pk
    assert got.opinions[0].opinion_id in (ops[3].pk, ops[4].pk)
    # Problems come in the order of their best-ranked opinion among the suggestions.
    got = svc.suggest(story.campaign, "8号炉漏水 canteen food expensive", k=8)
    firsts = list(dict.fromkeys(o.problem_id for o in got.opinions if o.problem_id))
    assert len(firsts) == 2 and [p.problem.pk for p in got.problems] == firsts
    # unrelated: nothing at all
    assert svc.suggest(story.campaign, "图书馆开放时间太短", k=3).problems == []
    assert svc.suggest(story.campaign, "library opening hours", k=3).opinions == []
    assert svc.suggest(story.campaign, "   ", k=3).opinions == []


def test_other_campaigns_are_not_suggested(story, svc, django_capture_on_commit_callbacks):
    other = f.campaign(story.org, name="另一次整风")
    with django_capture_on_commit_callbacks(execute=True):
        f.opinion(other, "8号炉漏水严重")
    assert svc.suggest(story.campaign, "8号炉漏水严重").opinions == []
    assert len(svc.suggest(other, "8号炉漏水严重").opinions) == 1


def test_an_opinion_committed_by_another_process_is_found(story, svc,
                                                          django_capture_on_commit_callbacks):
    submit(story, "宿舍热水经常停", django_capture_on_commit_callbacks)
    other = S.Service()  # a second gunicorn worker
    assert len(svc.suggest(story.campaign, "热水").opinions) == 1
    assert len(other.suggest(story.campaign, "热水").opinions) == 1
    # the second process files an opinion; the first finds it through the log
    op = submit(story, "宿舍热水又停了三天", django_capture_on_commit_callbacks, anonymous=False)
    assert IndexLog.objects.filter(opinion_id=op.pk).exists()
    assert op.pk in {o.opinion_id for o in svc.suggest(story.campaign, "热水").opinions}
    assert op.pk in {o.opinion_id for o in other.suggest(story.campaign, "热水").opinions}


def test_out_of_order_commits_and_pruning(story, svc, django_capture_on_commit_callbacks):
    a = submit(story, "班车发车时间不合理", django_capture_on_commit_callbacks)
    svc.suggest(story.campaign, "班车")
    # a row with a lower seq committed after a higher one was seen (two writers)
    b = f.opinion(story.campaign, "班车太挤了").opinion
    c = f.opinion(story.campaign, "班车晚点").opinion
    base = IndexLog.objects.order_by("-seq").first().seq
    IndexLog.objects.create(seq=base + 1000, opinion_id=c.pk, campaign_id=story.campaign.pk)
    svc.suggest(story.campaign, "班车")
    IndexLog.objects.create(seq=base + 999, opinion_id=b.pk, campaign_id=story.campaign.pk)
    found = {o.opinion_id for o in svc.suggest(story.campaign, "班车", k=10).opinions}
    assert {a.pk, b.pk, c.pk} <= found
    # pruning the log makes a process that is behind rebuild from the opinions table
    d = f.opinion(story.campaign, "班车路线要改").opinion
    IndexLog.objects.create(opinion_id=d.pk, campaign_id=story.campaign.pk)
    S.prune_log(keep=0)
    assert not IndexLog.objects.exists()
    found = {o.opinion_id for o in svc.suggest(story.campaign, "班车", k=10).opinions}
    assert d.pk in found


@pytest.mark.django_db(transaction=True)
def test_found_when_inserted_by_another_thread_connection(story_tx):
    s = story_tx
    svc = S.Service()
    assert svc.suggest(s.campaign, "furnace leaking").opinions == []
    done = []

    def other_process():
        try:
            op = f.opinion(s.campaign, "No. 8 furnace is leaking water badly").opinion
            done.append(op.pk)
        finally:
            connection.close()

    t = threading.Thread(target=other_process)
    t.start()
    t.join()
    assert done and done[0] in {o.opinion_id for o in
                                svc.suggest(s.campaign, "furnace leaking").opinions}


@pytest.fixture
def story_tx(transactional_db):
    from tests.conftest import Story
    o = f.org()
    c = f.campaign(o)
    u = f.unit(o, "furnace8")
    w = f.member(o, "王秀英", u, "worker", c=c)
    return Story(org=o, campaign=c, furnace=u, office=u, category=None, worker=w, worker2=w,
                 clerk=w, owner=w, owner2=w, rep=w, rep2=w, leader=w, admin=w)


def test_proposed_groups(story, svc, django_capture_on_commit_callbacks):
    ops = [submit(story, t, django_capture_on_commit_callbacks) for t in TEXTS]
    groups = svc.propose_groups(story.campaign)
    sets = [{o.pk for o in g.opinions} for g in groups]
    assert {ops[0].pk, ops[1].pk} in sets
    assert {ops[3].pk, ops[4].pk} in sets
    leak = next(g for g in groups if ops[0] in g.opinions)
    assert "漏水" in leak.shared
    # summarised opinions are no longer proposed
    actions.create_problem(story.campaign, [ops[0], ops[1]], actor=story.clerk, summary="漏水")
    sets = [{o.pk for o in g.opinions} for g in svc.propose_groups(story.campaign)]
    assert all(ops[0].pk not in s for s in sets)


WORDS = ["炉", "漏水", "食堂", "太贵", "热水", "班车", "furnace", "leak", "canteen", "bus",
         "8号", "3号", "维修", "late", "pay"]


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=5), min_size=1,
                max_size=12))
def test_grouping_never_loses_or_duplicates(story, words):
    ids = [Opinion.objects.create(org=story.org, campaign=story.campaign, text=" ".join(w),
                                  channel="web", received_on=f.dt.date(1957, 7, 1),
                                  anonymous=True).pk for w in words]
    svc = S.Service()
    groups = svc.propose_groups(story.campaign, min_size=1)
    flat = [o.pk for g in groups for o in g.opinions]
    assert len(flat) == len(set(flat))
    loose = set(Opinion.objects.filter(campaign=story.campaign, problem__isnull=True)
                .values_list("pk", flat=True))
    assert set(flat) == loose
    assert set(ids) <= loose
