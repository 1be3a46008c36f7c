"""The record cannot be rewritten: the database refuses to change or delete an event, and a
problem row changed behind the actions' back is found by `figures --verify` and the daily
sweep."""

import logging

import pytest
from click.testing import CliRunner
from django.db import DatabaseError, connection, transaction

from tests.helpers import bring_to
from zhenggai.cli import main
from zhenggai.notifications.schedules import sweep
from zhenggai.problems import lifecycle
from zhenggai.problems.audit import drift
from zhenggai.problems.models import Event, Problem


@pytest.mark.parametrize("sql", [
    "UPDATE problems_event SET to_state = 'closed'",
    "UPDATE problems_event SET reason = 'x' WHERE id = %s",
    "DELETE FROM problems_event WHERE id = %s",
    "DELETE FROM problems_event",
])
def test_the_database_refuses_to_change_or_delete_an_event(story, sql):
    p = bring_to(story, lifecycle.CLAIMED)
    e = Event.objects.filter(problem=p).first()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(sql, [e.pk] if "%s" in sql else None)
    assert Event.objects.filter(problem=p).count() == p.version
    assert Event.objects.get(pk=e.pk).to_state == e.to_state


def test_truncate_is_refused_on_postgresql(story):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    bring_to(story, lifecycle.ASSIGNED)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's pending FK checks
            cur.execute("TRUNCATE problems_event CASCADE")


def test_a_problem_changed_behind_the_actions_back_fails_verify(story, caplog):
    p = bring_to(story, lifecycle.CLAIMED)
    other = bring_to(story, lifecycle.ASSIGNED)
    assert drift() == []
    r = CliRunner().invoke(main, ["figures", "--verify"])
    assert r.exit_code == 0, r.output
    Problem.objects.filter(pk=p.pk).update(state="closed")
    Problem.objects.filter(pk=other.pk).update(owner=story.owner2, n_anonymous=7)
    found = drift()
    assert f"problem {p.pk}: state is 'closed' in the row, 'claimed' by its events" in found
    assert any(f"problem {other.pk}: owner_id" in line for line in found)
    assert any(f"problem {other.pk}: n_anonymous is 7" in line for line in found)
    r = CliRunner().invoke(main, ["figures", "--verify"])
    assert r.exit_code == 1
    assert "state is 'closed'" in r.output and "disagree with their events" in r.output
    # The daily sweep flags it as an error in the log.
    audit_log = logging.getLogger("zhenggai.audit")
    audit_log.addHandler(caplog.handler)  # "zhenggai" does not propagate to the root
    try:
        assert sweep()["drift"] == 3
    finally:
        audit_log.removeHandler(caplog.handler)
    assert "state is 'closed'" in caplog.text
