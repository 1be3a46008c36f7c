"""The suite's settings, the order its files start in, and the fixtures every folder uses:
the story (its people are named once, in tests/factories.py), a client signed in as one of
them, and the check that a read costs no query per row."""

import os
import re
from collections import Counter

import pytest
from django.conf import settings

from tests import factories as f

# Also imported from here by older releases' tests (tests/deploy/test_upgrade.py).
from tests.factories import Story


def pytest_configure(config):
    # The sentence-embedding model (grouping/vectors.py) is off unless a test turns it on:
    # the suite's grouping is lexical, and fast. Subprocesses inherit this.
    os.environ.setdefault("ZHENGGAI_EMBEDDINGS", "off")
    # argon2 at full cost makes every anonymous opinion take ~0.1 s; tests keep argon2id but
    # at the smallest cost. Production never sets these.
    settings.RECEIPT_ARGON2_TIME_COST = 1
    settings.RECEIPT_ARGON2_MEMORY_KIB = 1024
    # The suite runs without SECRET_KEY and ALLOWED_HOSTS, like the demo (tests/security
    # starts the real thing in production mode in a subprocess).
    settings.PRODUCTION = False
    _flush_may_empty_the_events()


# The files that take a minute or more, longest first (seconds on a 2-core machine, from
# `pytest --durations=0`). They start first so that the two xdist workers end together:
# pyproject.toml's --no-loadscope-reorder keeps this order, where xdist would otherwise start
# with the files that have the most tests and leave these to the end.
LONGEST_FIRST = {
    "tests/problems/test_stateful.py": 195,
    "tests/demo/test_replay.py": 165,  # the Anshan replay: tests/demo/conftest.py
    "tests/deploy/test_workers.py": 100,
    "tests/deploy/test_scale_out.py": 82,
    "tests/deploy/test_upgrade.py": 75,
    "tests/opinions/test_anonymity_audit.py": 75,
    "tests/web/test_browser.py": 45,
    "tests/web/test_browser_desk.py": 45,  # a clerk summarises hundreds from the keyboard
    "tests/api/test_schema.py": 40,
}


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: -LONGEST_FIRST.get(item.nodeid.split("::")[0], 0))


@pytest.fixture(autouse=True)
def english():
    """Messages in English unless a test asks for Chinese (the site default is zh-hans)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def story(db) -> Story:
    return f.story()


@pytest.fixture
def as_member(client):
    """The test client signed in as a member of the story."""
    def login(member):
        client.force_login(f.user_for(member))
        return client
    return login


@pytest.fixture
def flat_queries():
    """`flat_queries(read, grow)`: after grow(2), and again after grow(4) more (three times
    the rows), read() costs the same number of SQL queries: no query per row (N+1). Each
    read starts with an empty cache, so both count the same cold work."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(read) -> list[str]:
        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            read()
        # The query's shape: the same statement for other rows is the same shape.
        return [re.sub(r"\(\?(, \?)*\)", "(?...)", re.sub(r"'[^']*'|\b\d+\b", "?", q["sql"]))
                for q in ctx.captured_queries]

    def check(read, grow, n: int = 2) -> int:
        grow(n)
        few = count(read)
        grow(2 * n)
        many = count(read)
        more = Counter(many) - Counter(few)
        assert len(many) == len(few), (
            f"{len(few)} queries with the rows of grow({n}), {len(many)} with three times "
            "as many; those that grew:\n" + "\n".join(f"{k}× {q}" for q, k in more.items()))
        return len(many)

    return check


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

