"""A real instance beside the test database: its own SQLite folder, or its own PostgreSQL
database on the server of DATABASE_URL, set up from scratch with the commands the README
gives (migrate, org create, org campaign, import members, token create). Servers and workers
run as separate processes against it."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests import factories as f

ROOT = Path(__file__).resolve().parents[2]
# The story's people with a sign-in name (tests/factories.py); a unit's name on its first row.
UNIT_NAMES = {"furnace8": "8号平炉", "office": "厂办"}
MEMBERS = [["name", "unit", "unit_name", "parent", "username", "roles"]] + [
    [name, unit, UNIT_NAMES.pop(unit, ""), "", login, role]
    for _, name, unit, role, login in f.PEOPLE if login]


DJANGO = """
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhenggai.settings")
import django
django.setup()
"""
MEMBER_IDS = """
from zhenggai.org.models import Member
print(json.dumps(dict(Member.objects.filter(user__isnull=False)
                      .values_list("user__username", "pk"))))
"""


@dataclass
class Instance:
    env: dict
    campaign: int
    tokens: dict = field(default_factory=dict)
    members: dict = field(default_factory=dict)  # sign-in name: member id

    def run(self, *args: str, check: bool = True, timeout: float = 300,
            **kw) -> subprocess.CompletedProcess:
        r = subprocess.run([sys.executable, "-m", "zhenggai.cli", *args], env=self.env,
                           cwd=ROOT, capture_output=True, text=True, timeout=timeout, **kw)
        if check:
            assert r.returncode == 0, f"zhenggai {' '.join(args)}: {r.stdout}{r.stderr}"
        return r

    def sql(self, query: str) -> list[tuple]:
        """Straight from the database, without starting Django (polling)."""
        url = self.env.get("DATABASE_URL")
        if url:
            import psycopg

            with psycopg.connect(url) as conn:
                return conn.execute(query).fetchall()
        import sqlite3

        db = sqlite3.connect(Path(self.env["ZHENGGAI_DATA"]) / "zhenggai.sqlite3", timeout=30)
        try:
            return db.execute(query).fetchall()
        finally:
            db.close()

    def python(self, code: str, *args: str) -> str:
        r = subprocess.run([sys.executable, "-c", code, *args], env=self.env, cwd=ROOT,
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
        return r.stdout


def base_env(data: Path) -> dict:
    env = dict(os.environ, ZHENGGAI_DATA=str(data), PYTHONPATH=str(ROOT),
               SECRET_KEY="deploy-test-" + "k" * 40, ALLOWED_HOSTS="127.0.0.1,localhost",
               ZHENGGAI_RECEIPT_TIME_COST="1", ZHENGGAI_RECEIPT_MEMORY_KIB="1024")
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


@pytest.fixture(scope="module")
def instance(tmp_path_factory, worker_id):
    data = tmp_path_factory.mktemp("instance")
    env = base_env(data)
    url = os.environ.get("DATABASE_URL", "")
    admin = name = None
    if url:
        import psycopg

        parts = urlsplit(url)
        name = f"{parts.path.lstrip('/')}_inst_{worker_id}"
        admin = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + name))
    else:
        env.pop("DATABASE_URL", None)
    inst = Instance(env=env, campaign=0)
    inst.run("migrate")
    inst.run("org", "create", "--name", "第一炼钢厂", "--name-en", "First Steel Plant")
    inst.campaign = int(inst.run("org", "campaign", "--name", "整改", "--airing-from",
                                 "2026-01-05", "--rectification-from", "2026-02-01",
                                 "--review-from", "2027-06-01").stdout.strip())
    sheet = data / "members.csv"
    with sheet.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(MEMBERS)
    inst.run("import", "members", str(sheet), "--campaign", str(inst.campaign))
    for row in MEMBERS[1:]:
        inst.tokens[row[4]] = inst.run("token", "create", row[4]).stdout.strip()
    inst.members = json.loads(inst.python(DJANGO + MEMBER_IDS))
    yield inst
    if admin:
        import psycopg

        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def api(port: int, method: str, path: str, token: str | None = None, body=None,
        key: str | None = None, timeout: float = 30) -> tuple[int, dict]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": "application/json", "Accept-Language": "en"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if key:
        headers["Idempotency-Key"] = key
    conn.request(method, "/api/v1" + path, body=None if body is None else json.dumps(body),
                 headers=headers)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, (json.loads(data) if data else {})
