"""Figure reads write nothing. Intake queues an opinion for the figures (UnbookedOpinion) and
the worker books the queue into the buckets; a read adds the queue in memory, so it counts
every opinion taken in, and gives what it gives once the queue is booked."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories as f
from tests.factories import user_for
from tests.helpers import bring_to, when
from zhenggai.figures.counters import DIMS, INDEX, TOTAL
from zhenggai.figures.ledger import book_pending, read_with_queue
from zhenggai.figures.models import UnbookedOpinion
from zhenggai.figures.queries import _sums, figures, last_active_day, series, sums
from zhenggai.figures.reference import differences
from zhenggai.figures.stall import campaign_stall
from zhenggai.problems import actions
from zhenggai.problems import lifecycle as lc

WRITE = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE|TRUNCATE|COPY)\b", re.IGNORECASE)
LITERAL = re.compile(r"'(?:[^']|'')*'")  # a string in a statement is no verb of it
DAYS = (dt.date(1957, 6, 30), dt.date(1957, 7, 1), dt.date(1957, 8, 31), dt.date(1957, 9, 2),
        dt.date(1957, 9, 10), dt.date(1957, 12, 31), dt.date(1958, 2, 1))


def page(client, url) -> str:
    """The page, without what differs on every response (masked CSRF tokens, nonces)."""
    html = client.get(url).content.decode()
    return re.sub(r'(value|nonce)="[A-Za-z0-9+/=_-]{20,}"', r'\1=""', html)


def writes(ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if WRITE.search(LITERAL.sub("''", q["sql"]))]


@pytest.fixture
def queued(story):
    """Problems booked into the buckets, then opinions only in the queue: in a unit and a
    category nobody was counted in yet, a month before anything else, anonymous ones, and
    queued ones grouped into a problem (whose grouping is booked, their taking-in not)."""
    s = story
    bring_to(s, lc.REOPENED)
    bring_to(s, lc.CLOSED)
    book_pending()
    late = f.unit(s.org, "rolling")
    cat = f.category(s.org, "canteen")
    f.opinion(s.campaign, "轧钢车间太吵", author=s.worker, unit=late, category=cat,
              day=dt.date(1957, 5, 14))
    for i in range(6):
        f.opinion(s.campaign, f"食堂太贵{i}", anonymous=True, day=dt.date(1957, 8, 31))
    grouped = [f.opinion(s.campaign, f"炉前太热{i}", author=s.worker2, unit=s.office,
                         day=dt.date(1957, 9, 1)).opinion for i in range(2)]
    actions.create_problem(s.campaign, grouped, actor=s.clerk, summary="炉前太热",
                           owner=s.owner, unit=s.furnace, deadline=dt.date(1957, 9, 20),
                           at=when(1))
    assert UnbookedOpinion.objects.count() == 9
    return s


def every_read(s) -> dict:
    org = s.org.pk
    out = {}
    for day in DAYS:
        for by in (None, *DIMS):
            out[day, by] = figures(org, day, by)
        for dim in (TOTAL, *DIMS.values()):
            out[day, "sums", dim] = {k: v for k, v in sums(org, day, dim).items() if any(v)}
        out[day, "last"] = last_active_day(org, day)
        out[day, "stall"] = campaign_stall(org, day)
        # From a split read already (the leader board's by unit): the same, queue and all.
        assert campaign_stall(org, day, now=sums(org, day, DIMS["unit"])) == out[day, "stall"]
    out["series"] = series(org, dt.date(1957, 5, 1), dt.date(1958, 1, 31))
    out["series unit"] = series(org, dt.date(1957, 5, 1), dt.date(1957, 12, 31), DIMS["unit"],
                                s.office.pk, step=7)
    return out


def test_reads_count_the_queue_without_booking_it_and_agree_once_it_is_booked(queued):
    s = queued
    with CaptureQueriesContext(connection) as ctx:
        before = every_read(s)
    assert writes(ctx) == []
    assert UnbookedOpinion.objects.count() == 9
    for day in DAYS:
        assert differences(s.org.pk, day) == []
    # What the queue adds, where it adds it.
    t = before[dt.date(1957, 9, 10), None]["total"]
    assert (t["opinions"], t["anonymous_opinions"], t["problems"]) == (11, 6, 3)
    units = {g["key"]: g for g in before[dt.date(1957, 9, 10), "unit"]["groups"]}
    assert units["rolling"]["opinions"] == 1 and units["rolling"]["label"]
    assert units["furnace8"]["opinions"] == 4 and "office" not in units  # moved by grouping
    cats = {g["key"]: g["opinions"] for g in before[dt.date(1957, 9, 10), "category"]["groups"]}
    assert cats["canteen"] == 1
    assert before[dt.date(1957, 6, 30), None]["total"]["opinions"] == 1
    assert before[dt.date(1957, 6, 30), "last"] == dt.date(1957, 5, 14)
    assert before[dt.date(1957, 8, 31), "last"] == dt.date(1957, 8, 31)

    assert book_pending() == 9
    assert every_read(s) == before


def test_a_booking_between_the_queue_and_the_buckets_is_not_counted_twice(queued):
    """The worker may book the queue after a read took it and before it read the buckets:
    the read sees its queued opinions gone and reads again."""
    s = queued
    day = dt.date(1957, 9, 10)
    want = sums(s.org.pk, day)[0][INDEX["opinions"]]
    tries = []

    def read(q):
        if not tries:
            assert book_pending() == 9  # the worker, just now
        tries.append(len(q.ids))
        return _sums(s.org.pk, day, TOTAL, q)

    assert read_with_queue(s.org.pk, read)[0][INDEX["opinions"]] == want == 11
    assert tries == [9, 0]


def test_pages_that_show_figures_write_nothing_and_count_the_queue(queued, client):
    s = queued
    pages = ["/board/", "/board/?kiosk=1", "/", "/?by=category&as_of=1957-09-10",
             "/?by=campaign&as_of=1957-06-30", "/leader/", "/leader/?as_of=1957-09-10"]
    client.force_login(user_for(s.leader))
    client.get("/leader/")  # the session, once
    seen = {}
    for url in pages:
        with CaptureQueriesContext(connection) as ctx:
            r = client.get(url)
        assert r.status_code == 200, url
        assert writes(ctx) == [], url
        seen[url] = page(client, url)
    assert UnbookedOpinion.objects.count() == 9
    board = client.get("/board/").context["figures"]
    assert (board["opinions"], board["anonymous_opinions"]) == (11, 6)
    day = client.get("/?by=unit&as_of=1957-09-10").context["result"]
    assert {g["key"]: g["opinions"] for g in day["groups"]}["rolling"] == 1
    # The same pages once the worker has booked the queue.
    book_pending()
    for url in pages:
        assert page(client, url) == seen[url], url
