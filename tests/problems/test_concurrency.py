"""Two people acting on one problem at once: one wins, the other is told, nothing is lost."""

import threading

import pytest
from django.db import connection

from tests.helpers import bring_to, when
from zhenggai.errors import Conflict, DomainError
from zhenggai.problems import actions, lifecycle
from zhenggai.problems.models import Event, Problem


def race(*fns):
    barrier = threading.Barrier(len(fns))
    results: list = [None] * len(fns)

    def run(i, fn):
        try:
            barrier.wait()
            results[i] = fn()
        except Exception as e:
            results[i] = e
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("pin_version", [True, False])
def test_two_verifiers_at_once_cannot_both_win(story, pin_version):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("threads need a database file or server; CI runs this on PostgreSQL")
    s = story
    p = bring_to(s, lifecycle.CLAIMED)
    seen = p.version if pin_version else None
    events = Event.objects.filter(problem=p).count()
    results = race(
        lambda: actions.verify(Problem.objects.get(pk=p.pk), actor=s.rep, passed=True, at=when(5),
                         expected_version=seen),
        lambda: actions.verify(Problem.objects.get(pk=p.pk), actor=s.rep2, passed=False,
                         findings="没改", at=when(5), expected_version=seen),
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1, results
    assert isinstance(errors[0], DomainError), errors[0]
    if pin_version:
        assert isinstance(errors[0], Conflict)
    assert Event.objects.filter(problem=p).count() == events + 1
    p.refresh_from_db()
    winner = next(r for r in results if not isinstance(r, Exception))
    assert p.state == winner.to_state and p.version == winner.seq


@pytest.mark.django_db(transaction=True)
def test_opinions_taken_in_while_figures_are_read_are_each_counted_once(story):
    """Intake queues each opinion for the figures; the worker books the queue while readers
    add it in memory. With writers, readers and a booker racing, every opinion is counted
    exactly once: no reader ever sees the count go down or past what was taken in."""
    import datetime as dt

    from zhenggai.figures.ledger import book_pending
    from zhenggai.figures.models import UnbookedOpinion
    from zhenggai.figures.queries import figures
    from zhenggai.opinions.intake import submit_opinion

    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("threads need a database file or server; CI runs this on PostgreSQL")
    s = story
    day = dt.date(1957, 7, 3)
    before = figures(s.org.pk, day)["total"]["opinions"]
    writing = threading.Event()

    def writer(n):
        def go():
            for i in range(n):
                submit_opinion(s.campaign, text=f"第{i}条意见", author=s.worker,
                               received_on=day)
        return go

    def reader():
        return [figures(s.org.pk, day, by="unit")["total"]["opinions"] for _ in range(15)]

    def booker():
        while not writing.wait(0.01):
            book_pending()

    def writers():
        try:
            return race(writer(20), writer(20))
        finally:
            writing.set()

    results = race(writers, reader, reader, booker)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert not [r for r in results[0] if isinstance(r, Exception)], results[0]
    for seen in results[1:3]:
        assert seen == sorted(seen) and before <= seen[0] and seen[-1] <= before + 40, seen
    assert figures(s.org.pk, day)["total"]["opinions"] == before + 40
    book_pending()
    assert not UnbookedOpinion.objects.exists()
    assert figures(s.org.pk, day, by="unit")["total"]["opinions"] == before + 40
