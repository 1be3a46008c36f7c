"""The people of the story, named once: a worker, a clerk, an owner, two representatives
and a leader of one campaign in one plant."""

from dataclasses import dataclass

import pytest
from django.conf import settings

from tests import factories as f


def pytest_configure(config):
    # argon2 at full cost makes every anonymous opinion take ~0.1 s; tests keep argon2id but
    # at the smallest cost. Production never sets these.
    settings.RECEIPT_ARGON2_TIME_COST = 1
    settings.RECEIPT_ARGON2_MEMORY_KIB = 1024
    # The suite runs without SECRET_KEY and ALLOWED_HOSTS, like the demo (tests/security
    # starts the real thing in production mode in a subprocess).
    settings.PRODUCTION = False
    _flush_may_empty_the_events()


@pytest.fixture(autouse=True)
def english():
    """Messages in English unless a test asks for Chinese (the site default is zh-hans)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@dataclass
class Story:
    org: object
    campaign: object
    furnace: object  # a unit
    office: object  # another unit
    category: object
    worker: object
    worker2: object
    clerk: object
    owner: object
    owner2: object
    rep: object
    rep2: object
    leader: object
    admin: object


@pytest.fixture
def story(db) -> Story:
    o = f.org()
    c = f.campaign(o)
    furnace = f.unit(o, "furnace8")
    office = f.unit(o, "office")
    return Story(
        org=o, campaign=c, furnace=furnace, office=office, category=f.category(o, "safety"),
        worker=f.member(o, "王秀英", furnace, "worker", c=c),
        worker2=f.member(o, "赵铁柱", furnace, "worker", c=c),
        clerk=f.member(o, "李文书", office, "clerk", c=c),
        owner=f.member(o, "张主任", furnace, "owner", c=c),
        owner2=f.member(o, "孙科长", office, "owner", c=c),
        rep=f.member(o, "刘代表", furnace, "representative", c=c),
        rep2=f.member(o, "周代表", office, "representative", c=c),
        leader=f.member(o, "陈厂长", office, "leader", c=c),
        admin=f.member(o, "管理员", office, "admin", c=c),
    )


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test's database starts again at the same ids; so does the cache."""
    from django.core.cache import cache

    cache.clear()
    yield


def _flush_may_empty_the_events():
    """The events table refuses DELETE and TRUNCATE (problems/append_only.py); emptying the
    test database between transactional tests is the one exception."""
    from django.core.management.commands import flush

    from zhenggai.problems.append_only import erasable

    handle = flush.Command.handle

    def handle_erasable(self, **options):
        with erasable(options.get("database") or "default"):
            return handle(self, **options)

    flush.Command.handle = handle_erasable

