"""`zhenggai backup` and `zhenggai restore`: a backup restored into an empty instance gives
the same figures, and `figures --verify` agrees there, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import threading

import pytest
from click.testing import CliRunner
from django.db import connection
from django.utils import timezone

from tests import factories as f
from tests.deploy.test_upgrade import DAYS as UPGRADE_DAYS
from tests.deploy.test_upgrade import FIGURES, _same
from tests.helpers import bring_to, need_program
from zhenggai.cli import main
from zhenggai.exchange.backup import pg_tool
from zhenggai.figures.queries import figures

# Run in a fresh process against the restored database: every figure, by every split (the
# upgrade test's script and days).
FIGURES_SCRIPT, DAYS = FIGURES, UPGRADE_DAYS


def _story(story):
    for state in ("open", "assigned", "claimed", "verified", "reopened", "closed", "declined"):
        bring_to(story, state)
    f.opinion(story.campaign, "还没有归纳的意见")  # anonymous, in no problem


def _expected(org_id: int) -> dict:
    out = {"today": str(timezone.localdate())}
    for d in DAYS:
        day = dt.date.fromisoformat(d) if d else None
        for by in (None, "unit", "category", "owner", "campaign"):
            out[f"{d}/{by}"] = json.loads(json.dumps(figures(org_id, day, by)))
        out[f"{d}/diffs"] = []
    return out


def _run(args: list[str], env: dict, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300, **kw)
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def _check_restored(path, org_id: int, env: dict, expected: dict) -> None:
    cli = [sys.executable, "-m", "zhenggai.cli"]
    r = _run([*cli, "restore", str(path)], env)
    assert "restored" in r.stdout
    got = json.loads(_run([sys.executable, "-c", FIGURES_SCRIPT, str(org_id),
                           json.dumps(DAYS)], env).stdout)
    _same(expected, got)  # every figure, bar today's ages when the run spans midnight
    r = _run([*cli, "figures", "--verify", "--as-of", "1957-09-06", "--by", "unit"], env)
    assert "Every figure agrees" in r.stderr
    # A second restore into what is no longer empty is refused.
    again = subprocess.run([*cli, "restore", str(path)], env=env, capture_output=True,
                           text=True, timeout=300)
    assert again.returncode != 0 and "--force" in again.stderr


@pytest.mark.django_db(transaction=True)
def test_sqlite_backup_restores_into_an_empty_instance_with_the_same_figures(story, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite backup; this run is on PostgreSQL")
    _story(story)
    expected = _expected(story.org.pk)
    path = tmp_path / "zhenggai.backup"
    r = CliRunner().invoke(main, ["backup", str(path)])
    assert r.exit_code == 0, r.output
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["ZHENGGAI_DATA"] = str(tmp_path / "fresh")
    _check_restored(path, story.org.pk, env, expected)


@pytest.mark.django_db(transaction=True)
def test_sqlite_backup_while_another_process_writes_is_consistent(story, tmp_path):
    """The online backup API copies one snapshot while writers go on."""
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite backup; this run is on PostgreSQL")
    _story(story)
    name = connection.settings_dict["NAME"]
    stop = threading.Event()

    def write():
        db = sqlite3.connect(name, timeout=20)
        db.execute("CREATE TABLE IF NOT EXISTS deploy_noise (n INTEGER)")
        n = 0
        while not stop.is_set():
            with db:
                db.execute("INSERT INTO deploy_noise VALUES (?)", [n])
            n += 1
        db.close()

    t = threading.Thread(target=write)
    t.start()
    try:
        for i in range(3):
            r = CliRunner().invoke(main, ["backup", str(tmp_path / f"b{i}")])
            assert r.exit_code == 0, r.output
    finally:
        stop.set()
        t.join()
    for i in range(3):
        db = sqlite3.connect(tmp_path / f"b{i}")
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        db.close()
    with connection.cursor() as cur:
        cur.execute("DROP TABLE deploy_noise")


@pytest.mark.django_db(transaction=True)
def test_postgres_backup_restores_into_an_empty_database_with_the_same_figures(story,
                                                                                tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL backup; this run is on SQLite (DATABASE_URL unset)")
    if pg_tool("pg_dump") is None or pg_tool("pg_restore") is None:
        need_program("pg_dump", "pg_restore", package="postgresql-client")
    import psycopg

    _story(story)
    expected = _expected(story.org.pk)
    path = tmp_path / "zhenggai.dump"
    r = CliRunner().invoke(main, ["backup", str(path)])
    assert r.exit_code == 0, r.output
    assert path.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    s = connection.settings_dict
    target = f"{s['NAME']}_restore"
    base = f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{target}"')
        admin.execute(f'CREATE DATABASE "{target}"')
    try:
        env = dict(os.environ, DATABASE_URL=f"{base}/{target}",
                   ZHENGGAI_DATA=str(tmp_path / "fresh"))
        _check_restored(path, story.org.pk, env, expected)
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
