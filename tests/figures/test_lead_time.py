"""The lead time (issue 18): days from a problem's first opinion to its (first) verification,
by unit and category, as of any day, from the events like every figure; in the CLI, the API
and on the leader page; and the migration that books it for the events already there."""

import datetime as dt
import importlib
import json

from click.testing import CliRunner
from django.apps import apps
from django.db import connection

from tests import factories as f
from tests.helpers import bring_to, when
from zhenggai.api.models import ApiToken
from zhenggai.cli import main
from zhenggai.figures.queries import figures
from zhenggai.figures.reference import differences
from zhenggai.problems import actions, lifecycle

FIRST_OPINION = dt.date(1957, 7, 1)  # factories.opinion's day


def test_lead_time_from_first_opinion_to_verified_as_of_any_day(story):
    s = story
    p = bring_to(s, lifecycle.VERIFIED)  # claimed at when(2), verified at when(3)
    lead = (when(3).date() - FIRST_OPINION).days
    assert figures(s.org.pk, when(2).date())["total"]["mean_lead_days"] is None
    total = figures(s.org.pk, when(3).date())["total"]
    assert (total["mean_lead_days"], total["ever_verified"]) == (lead, 1)
    # A second problem in another unit, verified later and faster.
    o = f.opinion(s.campaign, author=s.worker, day=when(10).date()).opinion
    q = actions.create_problem(s.campaign, [o], actor=s.clerk, summary="科室漏雨",
                               owner=s.owner2, unit=s.office, deadline=dt.date(1957, 12, 1),
                               at=when(10))
    actions.claim(q, actor=s.owner2, done="补好了", at=when(12))
    actions.verify(q, actor=s.rep, passed=True, at=when(14))
    by_unit = {g["key"]: g["mean_lead_days"]
               for g in figures(s.org.pk, when(14).date(), "unit")["groups"]}
    assert by_unit == {"furnace8": lead, "office": 4}
    by_category = {g["key"]: g["mean_lead_days"]
                   for g in figures(s.org.pk, when(14).date(), "category")["groups"]}
    assert by_category["safety"] == lead
    assert figures(s.org.pk, when(14).date())["total"]["mean_lead_days"] == round(
        (lead + 4) / 2, 1)
    # "Not satisfied" sends it back to verification: verified again, counted once.
    actions.record_followup(p.opinions.first(), actor=s.leader, channel="conversation",
                            outcome="not_satisfied", at=when(20))
    actions.verify(p, actor=s.rep2, passed=True, at=when(25))
    assert figures(s.org.pk, when(25).date())["total"]["ever_verified"] == 2
    assert figures(s.org.pk, when(25).date())["total"]["mean_lead_days"] == round(
        (lead + 4) / 2, 1)
    for day in (when(3).date(), when(14).date(), when(25).date()):
        assert differences(s.org.pk, day) == []


def test_lead_time_in_the_cli_the_api_and_on_the_leader_page(story, client, as_member):
    s = story
    bring_to(s, lifecycle.VERIFIED)
    lead = float((when(3).date() - FIRST_OPINION).days)
    r = CliRunner().invoke(main, ["figures", "--as-of", when(3).date().isoformat(), "--by",
                                  "unit", "--verify"])
    assert r.exit_code == 0, r.output
    assert "lead(d)" in r.output and str(lead) in r.output
    r = CliRunner().invoke(main, ["figures", "--as-of", when(3).date().isoformat(),
                                  "--format", "json"])
    assert json.loads(r.output)["total"]["mean_lead_days"] == lead
    _, token = ApiToken.issue(s.leader)
    r = client.get(f"/api/v1/figures?as_of={when(3).date()}&by=category",
                   HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.json()["groups"][0]["mean_lead_days"] == lead
    page = as_member(s.leader).get(f"/leader/?as_of={when(3).date()}",
                                   HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # On the page in whole days, as people say it (human.number): no bare "62.0".
    assert "days from first opinion to verified" in page and f"<b>{lead:,.0f}</b>" in page
    assert "days to verified (mean)" in page


def test_the_migration_books_the_lead_time_of_problems_verified_before_it(story):
    s = story
    bring_to(s, lifecycle.CLOSED)
    bring_to(s, lifecycle.REOPENED)
    day = when(40).date()
    want = figures(s.org.pk, day, "owner")
    with connection.cursor() as cur:
        cur.execute("UPDATE figures_figurebucket SET lead_days = 0")
    assert figures(s.org.pk, day)["total"]["mean_lead_days"] == 0
    migration = importlib.import_module("zhenggai.figures.migrations.0005_lead_time")
    # 0005 books into the Fenwick trees of its time, which 0007 made two-level buckets.
    two_levels = importlib.import_module("zhenggai.figures.migrations.0007_two_level_buckets")

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    two_levels._rewrite(editor, two_levels.to_fenwick, ("d", "w", "m", "q"), ("y",))
    migration.backfill(apps, editor)
    two_levels._rewrite(editor, two_levels.to_blocks, ("d", "m"))
    assert figures(s.org.pk, day, "owner") == want
    assert differences(s.org.pk, day) == []
