"""The API's lists cost a fixed number of SQL queries however many rows they return: each
is read with some rows and again with three times as many (flat_queries in
tests/conftest.py)."""

import datetime as dt
import itertools

import pytest

from tests import factories as f
from tests.helpers import bring_to, one_more_round
from tests.production.conftest import plant, run  # noqa: F401 (plant: the fixture)
from zhenggai.api.models import ApiToken
from zhenggai.grouping.service import service
from zhenggai.problems import lifecycle
from zhenggai.production.models import Furnace

STATES = (lifecycle.OPEN, lifecycle.ASSIGNED, lifecycle.CLAIMED, lifecycle.REOPENED,
          lifecycle.VERIFIED, lifecycle.CLOSED, lifecycle.DECLINED)
T0 = dt.datetime(1958, 1, 5, 8, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture(autouse=True)
def fresh_indexes():
    """The grouping engine lives in the process; test databases reuse campaign ids."""
    service.forget()
    yield
    service.forget()


def reader(client, member, path: str):
    _, token = ApiToken.issue(member)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_ACCEPT_LANGUAGE": "en"}
    client.get("/api/v1" + path, **headers)  # the token's first use is stamped, once

    def read():
        service.forget()  # the grouping engine is built again, as after a restart
        r = client.get("/api/v1" + path, **headers)
        assert r.status_code == 200, (path, r.content)
        assert r.json(), path  # the rows are there
    return read


@pytest.fixture
def grow(story):
    """grow(n): n problems in each state (each with an opinion of worker2) and n opinions
    nobody has summarised yet, two of them alike; then the proposals computed, as the
    worker's job does (the proposals endpoint reads them)."""
    from zhenggai.grouping import proposals

    def more(n: int):
        for _ in range(n):
            for state in STATES:
                bring_to(story, state)
            f.opinion(story.campaign, "8号炉漏水严重，请尽快维修", author=story.worker2)
            f.opinion(story.campaign, "8号炉漏水，维修太慢")
        proposals.refresh(story.campaign)
    return more


@pytest.mark.parametrize("path", [
    "/opinions?campaign={c}", "/opinions?campaign={c}&unsummarised=true",
    "/problems?campaign={c}", "/problems?campaign={c}&status=claimed",
    "/grouping/{c}/proposals", "/grouping/{c}/suggest?text=8号炉漏水",
])
def test_the_lists_of_opinions_and_problems(story, client, grow, flat_queries, path):
    flat_queries(reader(client, story.clerk, path.format(c=story.campaign.pk)), grow)


def test_a_problem_and_its_events(story, client, flat_queries):
    p = bring_to(story, lifecycle.CLAIMED)
    days = itertools.count(41)

    def grow(n: int):
        for _ in range(n):
            one_more_round(story, p, days)
            p.refresh_from_db()

    for path in (f"/problems/{p.pk}", f"/problems/{p.pk}/events"):
        flat_queries(reader(client, story.owner, path), grow, n=1)


def test_the_production_lists(plant, client, flat_queries):  # noqa: F811
    start = itertools.count(0)
    number = itertools.count(100)
    heat = itertools.count(1, 3)

    def grow(n: int):
        for _ in range(n):
            Furnace.objects.create(org=plant.org, number=next(number), capacity_t=150,
                                   hearth_m2=36, commissioned=1958)
            # Three heats, each faster than the last: a record each time.
            day = T0 + dt.timedelta(days=2 * next(start))
            run(plant, plant.f8, day, [500, 490, 480], first_number=next(heat))

    for path in ("/furnaces", "/heats?limit=500", "/records",
                 "/leaderboard?start=1958-01-01&end=1958-12-31",
                 "/leaderboard?start=1958-01-01&end=1958-12-31&by=crew"):
        flat_queries(reader(client, plant.recorder, "/production" + path), grow, n=1)
