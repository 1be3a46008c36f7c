"""Load and faults: is every acknowledged opinion stored exactly once, whatever breaks?

On SQLite (one app server) and on PostgreSQL (two app servers, two workers, a private
PostgreSQL instance of its own that it restarts once):

1. ``--n`` opinion submissions (default 10,000) from ``--clients`` concurrent clients (50),
   each with its own Idempotency-Key; a fifth anonymous; 10% sent again after their answer
   (the replay must carry the same opinion). A client retries a submission with the same key
   after a refused connection, a 5xx or a 409 that asks for a retry (its key's first run still
   going, or dead with its server: api/idempotency.py takes it over), until it gets its 201.
   A third of the way in one app server is killed with SIGKILL and started again; two thirds
   in, PostgreSQL restarts.
   Counted: stored, lost (acknowledged but not stored), duplicated, server errors by status.
2. The daily sweep is given a batch of deadline reminders; its worker is killed with SIGKILL
   in the middle; the workers are started again and the job runs again (its lease over):
   each reminder must exist exactly once.
3. ``--races`` claimed problems (1,000), each verified by two representatives at the same
   moment: exactly one must win, the other get a 409.
4. ``figures --verify`` agrees, and the events export loaded into an empty instance gives
   the same figures.

    .venv/bin/python bench/load.py                      # both engines, full size
    .venv/bin/python bench/load.py --quick --engine sqlite   # a small run (about a minute)
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _common import free_port

ROOT = Path(__file__).resolve().parents[1]
PG_BIN = Path("/usr/lib/postgresql/15/bin")

DJANGO = """
import datetime as dt, json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhenggai.settings")
import django
django.setup()
"""

SETUP = DJANGO + """
from django.contrib.auth import get_user_model
from zhenggai.api.models import ApiToken
from zhenggai.campaigns.models import Campaign, CampaignRole
from zhenggai.opinions.intake import submit_opinion
from zhenggai.org.models import Category, Member, Organisation, Unit
from zhenggai.problems import actions

n_workers, n_races = int(sys.argv[1]), int(sys.argv[2])
User = get_user_model()
org = Organisation.objects.create(name="第一炼钢厂", name_en="First Steel Plant")
furnace = Unit(org=org, code="furnace8", name="8号平炉"); furnace.save()
office = Unit(org=org, code="office", name="厂办"); office.save()
cat = Category.objects.create(org=org, code="safety", name="安全")
c = Campaign.objects.create(org=org, name="整改", airing_from=dt.date(2026, 1, 5),
                            rectification_from=dt.date(2026, 2, 1),
                            review_from=dt.date(2027, 6, 1))

def member(name, unit, *roles):
    u = User.objects.create_user(username=name, password=None)
    m = Member.objects.create(org=org, user=u, unit=unit, name=name)
    for r in roles:
        CampaignRole.objects.create(campaign=c, member=m, role=r)
    return m

clerk = member("clerk", office, "clerk")
owner = member("owner", furnace, "owner")
rep, rep2 = member("rep", furnace, "representative"), member("rep2", office, "representative")
leader = member("leader", office, "leader")
workers = [member(f"w{i}", furnace, "worker") for i in range(n_workers)]
tok = lambda m: ApiToken.issue(m, "load")[1]
races = []
deadline = dt.date.today() + dt.timedelta(days=60)
for i in range(n_races):
    op = submit_opinion(c, text=f"race {i}: 炉前通风不好", author=workers[i % n_workers]).opinion
    p = actions.create_problem(c, [op], actor=clerk, summary=f"race {i}", category=cat, owner=owner,
                         unit=furnace, deadline=deadline)
    actions.claim(p, actor=owner, done="装了风扇")
    races.append(p.pk)
print(json.dumps({"org": org.pk, "campaign": c.pk, "workers": [tok(w) for w in workers],
                  "rep": tok(rep), "rep2": tok(rep2), "leader": tok(leader),
                  "races": races}))
"""

SWEEP_SETUP = DJANGO + """
from django.utils import timezone
from zhenggai.campaigns.models import Campaign
from zhenggai.notifications.models import Notification
from zhenggai.notifications.tasks import daily_sweep
from zhenggai.opinions.intake import submit_opinion
from zhenggai.org.models import Member
from zhenggai.problems import actions

c = Campaign.objects.get(pk=int(sys.argv[1]))
m = int(sys.argv[2])
clerk = Member.objects.get(user__username="clerk")
owner = Member.objects.get(user__username="owner")
today = timezone.localdate()
for i in range(m):
    op = submit_opinion(c, text=f"sweep {i}: 钢包修理", author=clerk).opinion
    actions.create_problem(c, [op], actor=clerk, summary=f"sweep {i}", owner=owner,
                     deadline=today + dt.timedelta(days=3))
before = Notification.objects.filter(kind="deadline").count()
daily_sweep.enqueue(today.isoformat())
print(json.dumps({"before": before}))
"""

SWEEP_STATE = DJANGO + """
from django.db.models import Count
from django_tasks_db.models import DBTaskResult
from zhenggai.notifications.models import Notification
n = Notification.objects.filter(kind="deadline")
jobs = [[r.status, len(r.worker_ids)] for r in DBTaskResult.objects.filter(
    task_path__endswith="daily_sweep").order_by("enqueued_at")]
print(json.dumps({"count": n.count(), "keys": n.values("key").distinct().count(),
                  "jobs": jobs}))
"""

COUNT = DJANGO + """
import collections, re
from zhenggai.opinions.models import Opinion
from zhenggai.problems.models import Event
run, races = sys.argv[1], json.loads(sys.argv[2])
seen = collections.Counter()
for text in Opinion.objects.filter(text__contains=f"load-{run}-").values_list("text", flat=True):
    seen[int(re.search(rf"load-{run}-(\\d+)", text)[1])] += 1
verifies = collections.Counter(Event.objects.filter(
    problem_id__in=races, kind__startswith="verify").values_list("problem_id", flat=True))
print(json.dumps({"seen": seen, "verifies": {str(k): v for k, v in verifies.items()}}))
"""

FIGURES = DJANGO + """
from zhenggai.figures.queries import figures
org = int(sys.argv[1])
print(json.dumps({str(by): figures(org, None, by) for by in (None, "unit", "owner")}))
"""


class Report:
    def __init__(self):
        self.lock = threading.Lock()
        self.status = collections.Counter()  # every HTTP answer, by status
        self.conn_errors = 0
        self.acked: dict[int, int] = {}  # submission -> opinion id
        self.replays_ok = 0
        self.replays_bad: list[str] = []
        self.failed: list[str] = []  # gave up, or a 4xx
        self.errors_5xx_log: list[tuple[float, int, str]] = []
        self.done = 0

    def count(self, status: int, body: bytes = b"") -> None:
        with self.lock:
            self.status[status] += 1
            if status >= 500:
                self.errors_5xx_log.append((time.monotonic(), status, body[:200].decode(
                    "utf-8", "replace")))


def post(port: int, path: str, body: dict, token: str | None, key: str,
         timeout: float = 60) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json", "Idempotency-Key": key,
                   "Accept-Language": "en"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn.request("POST", "/api/v1" + path, body=json.dumps(body), headers=headers)
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        conn.close()


def _retry_later(status: int, data: bytes) -> bool:
    """A 409 that asks for the same request again: the first run with this key is still
    running (or was, on a server that was killed), or it failed and was forgotten."""
    if status != 409:
        return False
    try:
        code = json.loads(data)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return False
    return code in ("idempotency_in_progress", "idempotency_retry")


class Site:
    """The processes of one engine: app servers, workers, maybe PostgreSQL."""

    def __init__(self, engine: str, tmp: Path, servers: int, workers: int,
                 cheap_receipts: bool):
        self.engine, self.tmp = engine, tmp
        self.env = dict(os.environ, ZHENGGAI_DATA=str(tmp / "data"), PYTHONPATH=str(ROOT),
                        SECRET_KEY="load-bench-" + "k" * 40, ALLOWED_HOSTS="127.0.0.1",
                        DJANGO_SETTINGS_MODULE="zhenggai.settings")
        self.env.pop("DATABASE_URL", None)
        if cheap_receipts:
            self.env.update(ZHENGGAI_RECEIPT_TIME_COST="1", ZHENGGAI_RECEIPT_MEMORY_KIB="1024")
        self.pg_dir: Path | None = None
        self.pg_port = 0
        self.ports = [free_port() for _ in range(servers)]
        self.servers: list[subprocess.Popen | None] = [None] * servers
        self.workers: list[subprocess.Popen] = []
        self.n_workers = workers
        self.logs: list[Path] = []

    # PostgreSQL, private ----------------------------------------------------------------
    def pg_start_private(self) -> None:
        self.pg_dir = Path(tempfile.mkdtemp(prefix="deploy_pg_"))
        self.pg_port = free_port()
        shutil.chown(self.pg_dir, "postgres", "postgres")
        self._pg(["initdb", "-D", str(self.pg_dir / "data"), "-U", "postgres", "-A", "trust",
                  "--no-instructions"], quiet=True)
        self._pg_ctl("start")
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "createdb"), "-h",
                        "127.0.0.1", "-p", str(self.pg_port), "zhenggai"], check=True)
        self.env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{self.pg_port}/zhenggai"

    def _pg(self, args: list[str], quiet: bool = False) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / args[0]), *args[1:]],
                       check=True, stdout=subprocess.DEVNULL if quiet else None)

    def _pg_ctl(self, action: str) -> None:
        opts = (f"-p {self.pg_port} -c listen_addresses=127.0.0.1 "
                f"-c unix_socket_directories={self.pg_dir} -c max_connections=200")
        args = ["pg_ctl", "-D", str(self.pg_dir / "data"), "-l", str(self.pg_dir / "log"),
                "-w", "-o", opts, action]
        if action != "start":
            args[1:1] = ["-m", "fast"]
        self._pg(args, quiet=True)

    def pg_restart(self) -> float:
        t = time.monotonic()
        self._pg_ctl("restart")
        return time.monotonic() - t

    def pg_stop(self) -> None:
        if self.pg_dir is not None:
            try:
                self._pg_ctl("stop")
            finally:
                shutil.rmtree(self.pg_dir, ignore_errors=True)

    # zhenggai ---------------------------------------------------------------------------
    def cli(self, *args: str, env: dict | None = None) -> str:
        r = subprocess.run([sys.executable, "-m", "zhenggai.cli", *args], env=env or self.env,
                           cwd=ROOT, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"zhenggai {' '.join(args)}: {r.stdout}{r.stderr}")
        return r.stdout + r.stderr

    def python(self, code: str, *args: str, env: dict | None = None) -> dict:
        r = subprocess.run([sys.executable, "-c", code, *args], env=env or self.env, cwd=ROOT,
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(r.stdout + r.stderr)
        return json.loads(r.stdout.strip().splitlines()[-1])

    def sql(self, query: str) -> list[tuple]:
        if self.engine == "sqlite":
            import sqlite3

            db = sqlite3.connect(self.tmp / "data" / "zhenggai.sqlite3", timeout=30)
            try:
                return db.execute(query).fetchall()
            finally:
                db.close()
        import psycopg

        with psycopg.connect(self.env["DATABASE_URL"], autocommit=True) as conn:
            cur = conn.execute(query)
            return cur.fetchall() if cur.description else []

    def start_server(self, i: int) -> None:
        log = self.tmp / f"server{i}.log"
        self.logs.append(log)
        self.servers[i] = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "zhenggai.wsgi", "--workers", "2", "--bind",
             f"127.0.0.1:{self.ports[i]}", "--log-level", "warning"], env=self.env, cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=log.open("a"), start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.ports[i]), timeout=0.2).close()
                return
            except OSError:
                if self.servers[i].poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server {i} did not start: "
                                       f"{log.read_text()[-2000:]}") from None
                time.sleep(0.05)

    def kill_server(self, i: int) -> None:
        os.killpg(self.servers[i].pid, signal.SIGKILL)  # the master and its workers
        self.servers[i].wait()

    def start_workers(self, env: dict | None = None) -> None:
        for i in range(self.n_workers):
            log = self.tmp / f"worker{len(self.workers)}.log"
            self.logs.append(log)
            self.workers.append(subprocess.Popen(
                [sys.executable, "-m", "zhenggai.cli", "worker"], env=env or self.env, cwd=ROOT,
                stdout=subprocess.DEVNULL, stderr=log.open("a"), start_new_session=True))
            del i

    def stop_workers(self) -> None:
        for w in self.workers:
            if w.poll() is None:
                os.killpg(w.pid, signal.SIGTERM)
                w.wait()
        self.workers = []

    def kill_workers(self) -> None:
        for w in self.workers:
            if w.poll() is None:
                os.killpg(w.pid, signal.SIGKILL)
                w.wait()
        self.workers = []

    def stop(self) -> None:
        for s in self.servers:
            if s is not None and s.poll() is None:
                os.killpg(s.pid, signal.SIGTERM)
                s.wait()
        for w in self.workers:
            if w.poll() is None:
                os.killpg(w.pid, signal.SIGTERM)
                w.wait()


def submissions(site: Site, cfg: dict, args, run: str, report: Report) -> dict:
    n, rng = args.n, random.Random(args.seed)
    plan = [(i, i % 5 == 0, rng.random() < args.retry) for i in range(n)]
    nexti = iter(plan)
    take = threading.Lock()
    events: dict[str, float] = {}

    def one(i: int, anonymous: bool, retried: bool) -> None:
        key = f"{run}-{i}-{uuid.uuid4().hex[:8]}"
        body = {"campaign": cfg["campaign"], "anonymous": anonymous,
                "text": f"第{i}条意见：炉前温度太高，通风不好 load-{run}-{i}"}
        token = None if anonymous else cfg["workers"][i % len(cfg["workers"])]
        port = site.ports[i % len(site.ports)]
        first = None
        give_up = time.monotonic() + 180
        while first is None:
            try:
                status, headers, data = post(port, "/opinions", body, token, key)
            except (OSError, http.client.HTTPException):
                with report.lock:
                    report.conn_errors += 1
                port = site.ports[(site.ports.index(port) + 1) % len(site.ports)]
                time.sleep(0.2)
            else:
                report.count(status, data)
                if status == 201:
                    first = json.loads(data)["opinion"]["id"]
                elif status >= 500 or _retry_later(status, data):
                    time.sleep(0.2)
                else:
                    with report.lock:
                        report.failed.append(f"{i}: {status} {data[:200]!r}")
                    return
            if first is None and time.monotonic() > give_up:
                with report.lock:
                    report.failed.append(f"{i}: gave up after 180 s")
                return
        with report.lock:
            report.acked[i] = first
        if retried:
            for _ in range(100):
                try:
                    status, headers, data = post(port, "/opinions", body, token, key)
                except (OSError, http.client.HTTPException):
                    time.sleep(0.2)
                    continue
                report.count(status, data)
                if status >= 500:
                    time.sleep(0.2)
                    continue
                same = status == 201 and json.loads(data)["opinion"]["id"] == first
                with report.lock:
                    if same and headers.get("Idempotent-Replayed") == "true":
                        report.replays_ok += 1
                    else:
                        report.replays_bad.append(f"{i}: {status} {data[:120]!r}")
                break

    def client() -> None:
        while True:
            with take:
                item = next(nexti, None)
            if item is None:
                return
            one(*item)
            with report.lock:
                report.done += 1

    t0 = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    for t in threads:
        t.start()
    killed = restarted_pg = False
    while any(t.is_alive() for t in threads):
        time.sleep(0.05)
        if not killed and report.done >= n // 3:
            killed = True
            events["server_killed_at"] = time.monotonic() - t0
            site.kill_server(0)
            time.sleep(1.0)
            site.start_server(0)
            events["server_back_after_s"] = time.monotonic() - t0 - events["server_killed_at"]
        if site.engine == "postgres" and not restarted_pg and report.done >= 2 * n // 3:
            restarted_pg = True
            events["pg_restart_at"] = time.monotonic() - t0
            events["pg_restart_s"] = site.pg_restart()
    for t in threads:
        t.join()
    events["elapsed_s"] = time.monotonic() - t0
    return events


def sweep_fault(site: Site, cfg: dict, args) -> dict:
    # The workers stop (SIGTERM) while the job is set up, so that it is caught running.
    site.stop_workers()
    before = site.python(SWEEP_SETUP, str(cfg["campaign"]), str(args.sweep))["before"]
    site.start_workers()
    t0 = time.monotonic()
    while True:  # polled straight from the database: a Django process starts too slowly
        count = site.sql("SELECT COUNT(*) FROM notifications_notification "
                         "WHERE kind = 'deadline'")[0][0]
        last = site.sql("SELECT status FROM django_tasks_database_dbtaskresult "
                        "WHERE task_path LIKE '%daily_sweep' ORDER BY enqueued_at DESC")[0][0]
        if last == "RUNNING" and count > before:
            break
        if last == "SUCCESSFUL" or time.monotonic() - t0 > 300:
            raise RuntimeError(f"the sweep was not caught running ({last}, {count - before} "
                               "reminders): give it more with --sweep")
        time.sleep(0.01)
    site.kill_workers()  # SIGKILL, in the middle of the job
    at_kill = site.python(SWEEP_STATE)
    lease = 3
    time.sleep(lease + 0.5)
    site.start_workers(env=dict(site.env, ZHENGGAI_TASK_LEASE_S=str(lease)))
    t1 = time.monotonic()
    while True:
        state = site.python(SWEEP_STATE)
        if state["jobs"][-1][0] == "SUCCESSFUL":
            break
        if time.monotonic() - t1 > 600:
            raise RuntimeError(f"the sweep was not run again: {state}")
        time.sleep(0.3)
    return {"expected": args.sweep, "done_at_kill": at_kill["count"] - before,
            "after": state["count"] - before, "distinct_keys": state["keys"] - before,
            "job": state["jobs"][-1]}


def races(site: Site, cfg: dict) -> dict:
    results: dict[int, list[int]] = {}
    lock = threading.Lock()

    def verify(pid: int, token: str, port: int, barrier: threading.Barrier) -> None:
        barrier.wait(timeout=60)
        for _ in range(50):
            try:
                status, _h, _d = post(port, f"/problems/{pid}/verifications", {"passed": True},
                                      token, f"race-{pid}-{token[-6:]}")
            except (OSError, http.client.HTTPException):
                time.sleep(0.2)
                continue
            if status < 500:
                break
            time.sleep(0.2)
        with lock:
            results.setdefault(pid, []).append(status)

    with ThreadPoolExecutor(max_workers=40) as ex:
        for pid in cfg["races"]:
            b = threading.Barrier(2)
            ex.submit(verify, pid, cfg["rep"], site.ports[0], b)
            ex.submit(verify, pid, cfg["rep2"], site.ports[-1], b)
    outcomes = collections.Counter(tuple(sorted(v)) for v in results.values())
    return {"pairs": len(results), "one_won": outcomes.get((200, 409), 0),
            "outcomes": {str(k): v for k, v in outcomes.items()}}


def database_size(site: Site) -> dict:
    """What the database holds after the run: total bytes and the largest tables, with their
    rows, for docs/scale.md."""
    if site.engine == "sqlite":
        path = site.tmp / "data" / "zhenggai.sqlite3"
        opinions = site.sql("SELECT COUNT(*) FROM opinions_opinion")[0][0]
        return {"bytes": path.stat().st_size, "opinions": opinions}
    site.sql("ANALYZE")
    rows = site.sql(
        "SELECT c.relname, pg_total_relation_size(c.oid), c.reltuples::bigint FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND "
        "n.nspname = 'public' ORDER BY 2 DESC LIMIT 8")
    total = site.sql("SELECT pg_database_size(current_database())")[0][0]
    return {"bytes": total, "tables": [[n, b, r] for n, b, r in rows]}


def run_engine(engine: str, args) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"deploy_load_{engine}_"))
    servers, workers = (1, 1) if engine == "sqlite" else (2, 2)
    site = Site(engine, tmp, servers, workers, args.cheap_receipts)
    out: dict = {"engine": engine, "servers": servers, "workers": workers}
    try:
        if engine == "postgres":
            site.pg_start_private()
        site.cli("migrate")
        cfg = site.python(SETUP, "20", str(args.races))
        for i in range(servers):
            site.start_server(i)
        site.start_workers()
        run = uuid.uuid4().hex[:6]
        report = Report()
        out["events"] = submissions(site, cfg, args, run, report)
        counted = site.python(COUNT, run, json.dumps(cfg["races"]))
        seen = {int(k): v for k, v in counted["seen"].items()}
        out["submissions"] = {
            "sent": args.n, "acknowledged": len(report.acked), "stored": len(seen),
            "lost": sum(1 for i in report.acked if i not in seen),
            "duplicated": sum(v - 1 for v in seen.values()),
            "stored_without_ack": sum(1 for i in seen if i not in report.acked),
            "replays_ok": report.replays_ok, "replays_bad": len(report.replays_bad),
            "failed": len(report.failed), "connection_errors": report.conn_errors,
            "answers": {str(k): v for k, v in sorted(report.status.items())},
            "rate_per_s": round(len(report.acked) / out["events"]["elapsed_s"], 1),
        }
        out["samples"] = {"failed": report.failed[:5], "replays_bad": report.replays_bad[:5],
                          "5xx": [x[1:] for x in report.errors_5xx_log[:5]]}
        if report.errors_5xx_log:
            ts = [t for t, _s, _b in report.errors_5xx_log]
            out["submissions"]["5xx_window_s"] = round(max(ts) - min(ts), 2)
        out["sweep"] = sweep_fault(site, cfg, args)
        out["races"] = races(site, cfg)
        counted_verifies = site.python(COUNT, run, json.dumps(cfg["races"]))
        out["races"]["verify_events_per_problem"] = dict(collections.Counter(
            counted_verifies["verifies"].values()))
        out["size"] = database_size(site)
        site.stop()
        verify = subprocess.run([sys.executable, "-m", "zhenggai.cli", "figures", "--verify"],
                                env=site.env, cwd=ROOT, capture_output=True, text=True)
        out["figures_verify"] = verify.returncode == 0 and "agrees" in verify.stderr
        before = site.python(FIGURES, str(cfg["org"]))
        site.cli("export", "events", str(tmp / "events.jsonl"))
        fresh = dict(site.env, ZHENGGAI_DATA=str(tmp / "fresh"))
        if engine == "postgres":
            subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "createdb"), "-h",
                            "127.0.0.1", "-p", str(site.pg_port), "fresh"], check=True)
            fresh["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{site.pg_port}/fresh"
        site.cli("import", "events", str(tmp / "events.jsonl"), env=fresh)
        out["events_export_same_figures"] = site.python(
            FIGURES, str(cfg["org"]), env=fresh) == before
        logs = "".join(p.read_text(errors="replace") for p in set(site.logs) if p.exists())
        out["logs"] = {"database_is_locked": logs.count("database is locked"),
                       "tracebacks": logs.count("Traceback")}
    finally:
        site.stop()
        if engine == "postgres":
            site.pg_stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            out["kept"] = str(tmp)
    return out


def verdict(r: dict) -> list[str]:
    s, sw, rc = r["submissions"], r["sweep"], r["races"]
    five = {k: v for k, v in s["answers"].items() if k.startswith("5")}
    not503 = {k: v for k, v in five.items() if k != "503"}
    window = s.get("5xx_window_s", 0)
    errors_ok = not not503 and (not five or (r["engine"] == "postgres" and window <= 10))
    return [
        f"stored {s['stored']:,} of {s['sent']:,}: "
        f"{'MET' if s['stored'] == s['sent'] else 'MISSED'}",
        f"lost {s['lost']}, duplicated {s['duplicated']}: "
        f"{'MET' if s['lost'] == 0 == s['duplicated'] else 'MISSED'}",
        f"server errors: {five.get('503', 0)} answers 503 within {window} s, other 5xx "
        f"{not503 or 0}: {'MET' if errors_ok else 'MISSED'}",
        f"sweep reminders {sw['after']} of {sw['expected']} ({sw['done_at_kill']} before the "
        f"kill), distinct {sw['distinct_keys']}: "
        f"{'MET' if sw['after'] == sw['expected'] == sw['distinct_keys'] else 'MISSED'}",
        f"races: one winner in {rc['one_won']} of {rc['pairs']}: "
        f"{'MET' if rc['one_won'] == rc['pairs'] else 'MISSED'}",
        f"figures --verify {'agrees' if r['figures_verify'] else 'DISAGREES'}; events export "
        f"{'gives the same figures' if r['events_export_same_figures'] else 'DIFFERS'}",
        f"'database is locked' in the logs: {r['logs']['database_is_locked']}",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--n", type=int, default=10_000, help="opinion submissions")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--retry", type=float, default=0.10, help="share sent again")
    ap.add_argument("--races", type=int, default=1_000, help="double-verify races")
    ap.add_argument("--sweep", type=int, default=1_500, help="reminders in the killed sweep")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--quick", action="store_true",
                    help="a small run: 600 submissions, 10 clients, 50 races, 500 reminders, "
                         "cheap receipts")
    ap.add_argument("--cheap-receipts", action="store_true",
                    help="argon2 at its lowest cost for receipts (never in production)")
    ap.add_argument("--keep", action="store_true", help="keep the data folder and logs")
    ap.add_argument("--json", action="store_true", help="print the raw results as JSON")
    args = ap.parse_args()
    if args.quick:
        args.n, args.clients, args.races, args.sweep = 600, 10, 50, 500
        args.cheap_receipts = True
    engines = ["sqlite", "postgres"] if args.engine == "both" else [args.engine]
    for engine in engines:
        if engine == "postgres" and not (PG_BIN / "initdb").exists():
            print(f"postgres: skipped, no {PG_BIN}/initdb for a private instance")
            continue
        r = run_engine(engine, args)
        s = r["submissions"]
        print(f"\n== {engine}: {r['servers']} app server(s) x 2 gunicorn workers, "
              f"{r['workers']} worker(s); {args.n:,} submissions by {args.clients} clients, "
              f"a fifth anonymous, {args.retry:.0%} sent again; receipts "
              f"{'cheap' if args.cheap_receipts else 'at production cost'}")
        print(f"   {s['acknowledged']:,} acknowledged in {r['events']['elapsed_s']:.1f} s "
              f"({s['rate_per_s']}/s); answers {s['answers']}; connection errors "
              f"{s['connection_errors']}; replays {s['replays_ok']} ok, {s['replays_bad']} bad; "
              f"failed {s['failed']}; stored without an answer {s['stored_without_ack']}")
        ev = r["events"]
        print(f"   app server 1 SIGKILLed at {ev['server_killed_at']:.1f} s, listening again "
              f"{ev['server_back_after_s']:.1f} s later"
              + (f"; PostgreSQL restarted at {ev['pg_restart_at']:.1f} s "
                 f"({ev['pg_restart_s']:.1f} s)" if "pg_restart_at" in ev else "")
              + (f"; 5xx answers within {s['5xx_window_s']} s" if "5xx_window_s" in s else ""))
        for line in verdict(r):
            print("   " + line)
        size = r["size"]
        print(f"   database: {size['bytes'] / 1e6:.1f} MB"
              + "".join(f"; {n} {b / 1e6:.1f} MB / {rows:,} rows"
                        for n, b, rows in size.get("tables", [])[:6]))
        samples = r["samples"]
        if samples["5xx"]:
            print("   a 5xx answer:", json.dumps(samples["5xx"][0], ensure_ascii=False)[:300])
        if samples["failed"] or samples["replays_bad"]:
            print("   samples:", json.dumps(samples, ensure_ascii=False)[:1500])
        if args.json:
            print(json.dumps(r, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
