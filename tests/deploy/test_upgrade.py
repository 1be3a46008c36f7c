"""Upgrades keep every figure.

The previous schema is the one just before the newest migration in the history: its code
(taken from git) builds a story with the real actions into a database of its own, prints its
figures and exports its events. Then this code (a) runs `zhenggai migrate` on that database
and (b) loads the events export into an empty instance; both give the old figures, and
`figures --verify` agrees. On SQLite, and on PostgreSQL when DATABASE_URL selects it.
ZHENGGAI_UPGRADE_FROM names another commit to upgrade from (e.g. the last release's tag).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAYS = ["1957-09-02", "1957-09-04", "1957-09-06", None]

SETUP = """
import datetime as dt, json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhenggai.settings")
import django
django.setup()
from django.utils import translation
translation.activate("en")
"""
# Written against the previous release's own test helpers (its tests/ comes with its code).
STORY = SETUP + """
from django.core.management import call_command
call_command("migrate", verbosity=0)
from tests import factories as f
from tests.conftest import Story
from tests.helpers import bring_to
o = f.org()
c = f.campaign(o)
furnace, office = f.unit(o, "furnace8"), f.unit(o, "office")
s = Story(org=o, campaign=c, furnace=furnace, office=office, category=f.category(o, "safety"),
          worker=f.member(o, "王秀英", furnace, "worker", c=c),
          worker2=f.member(o, "赵铁柱", furnace, "worker", c=c),
          clerk=f.member(o, "李文书", office, "clerk", c=c),
          owner=f.member(o, "张主任", furnace, "owner", c=c),
          owner2=f.member(o, "孙科长", office, "owner", c=c),
          rep=f.member(o, "刘代表", furnace, "representative", c=c),
          rep2=f.member(o, "周代表", office, "representative", c=c),
          leader=f.member(o, "陈厂长", office, "leader", c=c),
          admin=f.member(o, "管理员", office, "admin", c=c))
for state in ("open", "assigned", "claimed", "verified", "reopened", "closed", "declined",
              "closed", "reopened"):
    bring_to(s, state)
f.opinion(c, "还没有归纳的意见")
f.opinion(c, "named, in no problem", author=s.worker)
print(o.pk)
"""
FIGURES = SETUP + """
from django.utils import timezone
from zhenggai.figures.queries import figures
from zhenggai.figures.reference import differences
org, days = int(sys.argv[1]), json.loads(sys.argv[2])
out = {}
for d in days:
    day = dt.date.fromisoformat(d) if d else None
    for by in (None, "unit", "category", "owner", "campaign"):
        out[f"{d}/{by}"] = figures(org, day, by)
    out[f"{d}/diffs"] = differences(org, day or timezone.localdate())
out["today"] = str(timezone.localdate())
print(json.dumps(out, ensure_ascii=False))
"""


def _previous() -> str:
    """The commit to upgrade from: ZHENGGAI_UPGRADE_FROM, or the parent of the newest
    commit that added a migration (a later commit may amend a migration not yet released,
    and its parent then has every migration already)."""
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        _missing("no git history to take the previous schema's code from")

    def run(*args):
        return subprocess.run([git, *args], cwd=ROOT, capture_output=True, text=True)

    ref = os.environ.get("ZHENGGAI_UPGRADE_FROM")
    if not ref:
        newest = run("log", "-1", "--diff-filter=A", "--format=%H", "--",
                     "zhenggai/*/migrations/*").stdout.strip()
        ref = f"{newest}^" if newest else ""
    r = run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}") if ref else None
    if r is None or r.returncode != 0:
        _missing(f"the previous schema's commit ({ref or '?'}) is not in this clone's history")
    return r.stdout.strip()


def _missing(why: str):
    if os.environ.get("CI") == "true":
        pytest.fail(why)
    pytest.skip(why)


def _env(data: Path, db_url: str | None, pythonpath: Path | None = None) -> dict:
    env = dict(os.environ, ZHENGGAI_DATA=str(data), SECRET_KEY="upgrade-test-" + "k" * 40,
               ALLOWED_HOSTS="localhost", ZHENGGAI_RECEIPT_TIME_COST="1",
               ZHENGGAI_RECEIPT_MEMORY_KIB="1024")
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DATABASE_URL", None)
    if db_url:
        env["DATABASE_URL"] = db_url
    env["PYTHONPATH"] = str(pythonpath or ROOT)
    return env


def _run(args, env, cwd) -> str:
    r = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"{args[:4]}: {r.stdout[-3000:]}{r.stderr[-3000:]}"
    return r.stdout


def _same(old: dict, new: dict) -> None:
    """Every figure the old code gave, the new code gives (a release may add figures)."""
    assert old.keys() == new.keys()
    # Two runs on either side of midnight read two todays: today's ages differ by a day.
    aged = set() if old["today"] == new["today"] else {"mean_age_days"}
    for key, was in old.items():
        if key == "today":
            continue
        if key.endswith("/diffs"):
            assert was == [] and new[key] == [], (key, was, new[key])
            continue
        now = new[key]
        skip = aged if key.startswith("None/") else set()

        def part_of(new_part, old_part, skip=skip):
            return ({k: v for k, v in new_part.items() if k in old_part and k not in skip},
                    {k: v for k, v in old_part.items() if k not in skip})

        got, want = part_of(now["total"], was["total"])
        assert got == want, key
        for g_old, g_new in zip(was.get("groups", []), now.get("groups", []), strict=True):
            got, want = part_of(g_new, g_old)
            assert got == want, key


@pytest.fixture
def databases(worker_id):
    """Two empty databases for this test: the old instance and the events' new one."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        yield None, None
        return
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    names = [f"{parts.path.lstrip('/')}_upgrade_{worker_id}_{i}" for i in (1, 2)]
    with psycopg.connect(admin, autocommit=True) as conn:
        for n in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{n}"')
    yield [urlunsplit(parts._replace(path="/" + n)) for n in names]
    with psycopg.connect(admin, autocommit=True) as conn:
        for n in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)')


def test_migrate_and_events_import_keep_every_figure_of_the_previous_schema(tmp_path,
                                                                            databases):
    ref = _previous()
    old_src = tmp_path / "old"
    old_src.mkdir()
    archive = subprocess.run(["git", "archive", "--format=tar", ref, "zhenggai", "tests"],
                             cwd=ROOT, capture_output=True, check=True).stdout
    (tmp_path / "old.tar").write_bytes(archive)
    with tarfile.open(tmp_path / "old.tar") as tar:
        tar.extractall(old_src, filter="data")
    old_db, events_db = databases
    old_env = _env(tmp_path / "old-data", old_db, old_src)
    py = sys.executable

    # The previous code builds its story, reads its figures, exports its events.
    org = _run([py, "-c", STORY], old_env, old_src).strip().splitlines()[-1]
    old = json.loads(_run([py, "-c", FIGURES, org, json.dumps(DAYS)], old_env, old_src))
    assert old[f"{DAYS[-1]}/None"]["total"]["problems"] == 9
    _run([py, "-m", "zhenggai.cli", "export", "events", str(tmp_path / "events.jsonl")],
         old_env, old_src)

    # (a) This code migrates the old database forward: every figure stays.
    new_env = _env(tmp_path / "old-data", old_db)
    out = _run([py, "-m", "zhenggai.cli", "migrate"], new_env, ROOT)
    assert "Applying" in out, "the previous schema is behind this one's migrations"
    _same(old, json.loads(_run([py, "-c", FIGURES, org, json.dumps(DAYS)], new_env, ROOT)))

    # (b) This code loads the old events export into an empty instance: the same figures.
    fresh_env = _env(tmp_path / "fresh-data", events_db)
    _run([py, "-m", "zhenggai.cli", "import", "events", str(tmp_path / "events.jsonl")],
         fresh_env, ROOT)
    _same(old, json.loads(_run([py, "-c", FIGURES, org, json.dumps(DAYS)], fresh_env, ROOT)))
    r = subprocess.run([py, "-m", "zhenggai.cli", "figures", "--verify", "--by", "unit"],
                       env=fresh_env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and "Every figure agrees" in r.stderr, r.stderr
