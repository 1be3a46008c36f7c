"""Benchmark: figures at the scale of a city office.

Loads 1,000,000 opinions, 200,000 problems and about 2,000,000 events (a realistic mix of
lifecycles over eighteen months) through the history loader, which checks every event
against the lifecycle table and books the figures with the same ledger as the live
actions. Then it times the figures calls: the whole organisation now, as of a past day, and
split by unit, category and owner. It runs on SQLite and then on PostgreSQL (if reachable).

    .venv/bin/python bench/figures.py                    # both engines, full size
    .venv/bin/python bench/figures.py --scale 0.1        # a tenth of the size
    .venv/bin/python bench/figures.py --engine sqlite    # one engine
    .venv/bin/python bench/figures.py --keep /tmp/zg-fig # load once into that folder (and,
                                 # on PostgreSQL, into --pg-db); later runs with the same
                                 # folder time the calls again without loading

Targets on a 2-core machine: at 1,000,000 opinions the load in under 2 minutes and every
figures call p95 under 50 ms; at --scale 10 (10,000,000 opinions, PostgreSQL) the load in
under 20 minutes and every call p95 under 200 ms. It also prints the database's size and the
figure table's, per million opinions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import itertools
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import pg_fresh_db, pg_url

ROOT = Path(__file__).resolve().parents[1]
PG_BENCH_DB = "zhenggai_bench"  # --pg-db names another (several people share a server)


CHUNK = 20_000  # problems per payload: bigger merges more figure rows before writing


def setup_org() -> dict:
    from django.core.management import call_command

    from zhenggai.campaigns.models import Campaign
    from zhenggai.org.models import Category, Member, Organisation, Unit

    call_command("migrate", verbosity=0)
    org = Organisation.objects.create(name="基准", name_en="Benchmark city office")
    units = []
    for w in range(20):
        top = Unit(org=org, code=f"w{w}", name=f"部门{w}", name_en=f"Department {w}")
        top.save()
        units.append(top)
        for c in range(9):
            u = Unit(org=org, code=f"w{w}c{c}", name=f"科室{w}-{c}", parent=top)
            u.save()
            units.append(u)
    cats = [Category.objects.create(org=org, code=f"c{i}", name=f"类别{i}") for i in range(10)]
    camp = Campaign.objects.create(org=org, name="bench", airing_from=dt.date(2024, 1, 1),
                                   rectification_from=dt.date(2024, 3, 1),
                                   review_from=dt.date(2025, 6, 1))
    Member.objects.bulk_create(
        [Member(org=org, name=f"m{i}", unit=units[i % len(units)]) for i in range(22_000)],
        batch_size=2000)
    ids = list(Member.objects.filter(org=org).order_by("pk").values_list("pk", flat=True))
    return {"org": org.pk, "campaign": camp.pk, "units": [u.pk for u in units],
            "cats": [c.pk for c in cats], "owners": ids[:2000], "reps": ids[2000:2200],
            "leaders": ids[2200:2210], "workers": ids[2210:]}


def fold_chunk(args: tuple) -> dict:
    """Generate and fold problems [first, first + n): runs in a worker process."""
    from zoneinfo import ZoneInfo

    from django.conf import settings

    from zhenggai.problems.bulk import BulkEvent, BulkLoader, BulkOpinion, random_ids

    w, first, n, seed = args
    tz = ZoneInfo(settings.TIME_ZONE)
    rng = random.Random(seed * 1_000_003 + first)
    loader = BulkLoader(w["org"], first_problem_id=first + 1)
    start = dt.date(2024, 1, 1)
    org, camp = w["org"], w["campaign"]
    units, cats, workers = w["units"], w["cats"], w["workers"]
    owners, reps, leaders = w["owners"], w["reps"], w["leaders"]
    n_events = n_opinions = 0
    bits, uniform, days = rng.getrandbits, rng.random, dt.timedelta

    # The draws of rng.randint and rng.choice, the same numbers (Random._randbelow), without
    # their three calls and checks per draw: they were a quarter of generating.
    def below(n: int) -> int:
        k = n.bit_length()
        r = bits(k)
        while r >= n:
            r = bits(k)
        return r

    def when(day: dt.date, hour: int) -> dt.datetime:
        return dt.datetime(day.year, day.month, day.day, hour, below(60), tzinfo=tz)

    for i in range(first, first + n):
        unit = units[below(len(units))]
        cat = cats[below(len(cats))]
        day0 = start + days(days=below(501))
        ops = []
        k = (1, 2, 3, 4, 5, 5, 6, 7, 8, 9)[below(10)]
        for oid in random_ids(k):
            anon = uniform() < 0.1
            ops.append(BulkOpinion(
                oid, camp, "意见", "web", day0 + days(days=below(21)),
                anon, None if anon else workers[below(len(workers))], unit, cat))
        n_opinions += len(ops)
        loader.opinions(ops)
        day = max(o.day for o in ops) + days(days=1 + below(15))
        owner, rep = owners[below(len(owners))], reps[below(len(reps))]
        clerk = leaders[below(len(leaders))]
        ev = [BulkEvent("create", when(day, 8), clerk, data={
                  "org": org, "campaign": camp, "summary": f"问题{i}", "scope": "common",
                  "category": cat, "unit": unit, "opinion_ids": [o.id for o in ops]}),
              BulkEvent("assign", when(day, 9), clerk, data={
                  "owner": owner, "unit": unit, "measures": "措施", "scope": "common",
                  "deadline": (day + days(days=20 + below(101))).isoformat()})]
        rounds = 0
        while uniform() < (0.85 if rounds == 0 else 0.9) and rounds < 3:
            rounds += 1
            day += days(days=3 + below(58))
            ev.append(BulkEvent("claim", when(day, 10), owner))
            day += days(days=1 + below(10))
            if uniform() < 0.2:
                ev.append(BulkEvent("verify_not_thorough", when(day, 11), rep,
                                    reason="not_thorough"))
                continue
            ev.append(BulkEvent("verify_passed", when(day, 11), rep, data={
                "recheck_due": (day + days(days=30)).isoformat()}))
            day += days(days=30)
            bad = uniform() < 0.08
            ev.append(BulkEvent("check_deteriorated" if bad else "check_holds",
                                when(day, 12), rep, reason="deteriorated" if bad else ""))
            if not bad:
                break
        for _k in range(below(6)):
            day += days(days=below(6))
            outcome = ("satisfied", "satisfied", "satisfied", "no_answer")[below(4)]
            ev.append(BulkEvent("followup", when(day, 15), leaders[below(len(leaders))],
                                data={"outcome": outcome, "channel": "conversation"}))
        for _k in range((0, 1, 2, 3, 4)[below(5)]):
            ev.append(BulkEvent("poster", when(day, 16), workers[below(len(workers))]))
        for a, b in itertools.pairwise(ev):  # same-day events keep their order
            if b.at <= a.at:
                b.at = a.at + days(minutes=1)
        loader.problem(ev)
        n_events += len(ev)
    payload = loader.payload()
    payload["counts"] = (n_opinions, n, n_events)
    return payload


def _children_cpu_ms() -> float:
    """CPU time of the ended child processes (the folding workers), in ms."""
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (r.ru_utime + r.ru_stime) * 1000


# The big tables whose plain (non-unique) indexes a bench load builds after the rows are in,
# once, instead of inserting a million keys into each one by one (the problems alone have
# twenty on SQLite). Unique indexes stay: the loader's reference checks and the figures'
# upsert read them.
_LATE_INDEXED = ("problems_event", "opinions_opinion", "problems_problem", "grouping_indexlog")


def _drop_plain_indexes() -> list[str]:
    """Bench load only: drop the plain indexes of the big tables, and make this connection's
    commits asynchronous (PostgreSQL) or unsynced (SQLite): a crash loses or spoils a load
    that is run again anyway. Returns the statements that make the indexes again."""
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT i.indexname, i.indexdef FROM pg_indexes i JOIN pg_class c ON "
                        "c.relname = i.indexname JOIN pg_index x ON x.indexrelid = c.oid WHERE "
                        "i.schemaname = 'public' AND i.tablename = ANY(%s) AND NOT "
                        "x.indisunique", [list(_LATE_INDEXED)])
        else:
            cur.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                        f"tbl_name IN ({', '.join(['%s'] * len(_LATE_INDEXED))}) AND sql LIKE "
                        "'CREATE INDEX%%'", list(_LATE_INDEXED))
        found = cur.fetchall()
        for name, _sql in found:
            cur.execute(f'DROP INDEX "{name}"')
        later = [sql for _name, sql in found]
        if connection.vendor == "postgresql":
            later += _drop_random_keys(cur)
    return later


# The tables whose primary keys are random (opinions and events: ids tell no order): a batch
# of sorted random keys lands on every leaf of their index, so each payload rewrote all of
# it, and once an index outgrows the server's buffers, each payload read and wrote it whole
# (and logged each page again after each checkpoint). A PostgreSQL bench load makes these
# keys after the rows are in, and the foreign keys that point at them (from tables that are
# empty in a bench load, so checked at once).
_RANDOM_KEYED = ("problems_event", "opinions_opinion")


def _drop_random_keys(cur) -> list[str]:
    cur.execute("SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), "
                "c.contype FROM pg_constraint c WHERE (c.contype = 'f' AND c.confrelid = "
                "ANY(%s::regclass[])) OR (c.contype = 'p' AND c.conrelid = ANY(%s::regclass[])) "
                "ORDER BY c.contype = 'p'", [list(_RANDOM_KEYED)] * 2)
    found = cur.fetchall()
    for table, name, _sql, _type in found:  # the foreign keys first, then the keys
        cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    return [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {sql}'
            for table, name, sql, _type in sorted(found, key=lambda f: f[3] != "p")]


def _load_settings() -> None:
    """This connection's settings for the load (again after each new connection)."""
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET synchronous_commit = off")
        else:
            cur.execute("PRAGMA synchronous = OFF")


def _make_indexes(statements: list[str]) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET maintenance_work_mem = '512MB'")
        else:  # SQLite sorts an index build's keys on this many threads (2 cores here)
            cur.execute(f"PRAGMA threads = {min(4, os.cpu_count() or 1)}")
        for sql in statements:
            cur.execute(sql)
        if connection.vendor == "postgresql":
            cur.execute("RESET maintenance_work_mem")
            cur.execute("RESET synchronous_commit")
        else:
            cur.execute("PRAGMA synchronous = NORMAL")  # as settings.py has it


def generate_and_load(scale: float, seed: int = 7, processes: int = 2) -> dict:
    import multiprocessing

    from django.db import connection

    from zhenggai.figures.ledger import merge_arrays
    from zhenggai.problems.bulk import finish, write, write_figures

    t_setup = time.perf_counter()
    w = setup_org()
    # The load proper: the schema and the organisation (its migrations, 22,000 members)
    # are timed apart; they cost the same at any scale.
    t0 = time.perf_counter()
    setup_s = t0 - t_setup
    n_problems = int(200_000 * scale)
    chunks = [(w, first, min(CHUNK, n_problems - first), seed)
              for first in range(0, n_problems, CHUNK)]
    totals = [0, 0, 0]
    writing = 0.0
    # The CPU seconds of the writer (and its PostgreSQL server process), by what it did.
    cpu_in = {"rows": 0.0, "merging": 0.0}
    # The workers fold; this process writes the rows of each payload as it comes, and adds
    # up the figure rows of all payloads to write each of them once at the end.
    late = _drop_plain_indexes()
    connection.close()
    children0 = _children_cpu_ms()
    merged, pending = merge_arrays(), []
    shown = t0
    # No cyclic garbage collection while loading (the forked workers inherit it): the load
    # makes no cycles, and each collection walked the millions of rows a payload holds
    # (a tenth of the folding and of the writing).
    gc.disable()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        cpu = cpu_clock()  # connects: after the fork, so no worker shares the connection
        cpu0, own0 = cpu(), _on_cpu_ns(os.getpid()) / 1e6
        _load_settings()  # a new connection: the load's settings again
        for payload in pool.imap_unordered(fold_chunk, chunks):
            t, c = time.perf_counter(), cpu()
            write(payload, buckets=False)
            pending.append(payload["buckets"])
            c1 = cpu()
            cpu_in["rows"] += (c1 - c) / 1000
            # The payloads' figure sums are added into the total when they are as many rows
            # as it: each row is sorted a few times over the load, not once per payload.
            if sum(len(k) for k, _v in pending) >= max(len(merged[0]), 200_000):
                merged, pending = merge_arrays(merged, *pending), []
            cpu_in["merging"] += (cpu() - c1) / 1000
            writing += time.perf_counter() - t
            totals = [a + b for a, b in zip(totals, payload["counts"], strict=True)]
            if time.perf_counter() - shown > 60:  # a long load says how far it got
                shown = time.perf_counter()
                print(f"  … {totals[1]:,} of {n_problems:,} problems in {shown - t0:.0f} s, "
                      f"load average {os.getloadavg()[0]:.1f}", flush=True)
    gc.enable()
    t, c = time.perf_counter(), cpu()
    write_figures(merge_arrays(merged, *pending))
    writing += time.perf_counter() - t
    cpu_in["figures"] = (cpu() - c) / 1000
    t, c = time.perf_counter(), cpu()
    _make_indexes(late)
    finish()
    indexing = time.perf_counter() - t
    cpu_in["indexes"] = (cpu() - c) / 1000
    both, own = cpu() - cpu0, _on_cpu_ns(os.getpid()) / 1e6 - own0
    workers = _children_cpu_ms() - children0
    load_cpu = both + workers
    return {"org": w["org"], "load_s": time.perf_counter() - t0, "setup_s": setup_s,
            "load_cpu_s": load_cpu / 1000, "workers_cpu_s": workers / 1000,
            "writer_cpu_s": own / 1000, "server_cpu_s": (both - own) / 1000,
            "opinions": totals[0],
            "problems": totals[1], "events": totals[2], "write_s": writing,
            "index_s": indexing, "writer_cpu_in": cpu_in}


def _on_cpu_ns(pid: int) -> int:
    """Nanoseconds process `pid` has run on a CPU (Linux's schedstat; 0 where unreadable)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def cpu_clock():
    """A clock of the CPU time this process and its database server process have used: on a
    machine shared with others, what a call costs, whatever the others take of the cores.
    PostgreSQL's server process is on the same machine (127.0.0.1) when /proc shows it."""
    from django.db import connection

    connection.ensure_connection()
    pids = [os.getpid()]
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            pids.append(cur.fetchone()[0])
    return lambda: sum(_on_cpu_ns(p) for p in pids) / 1e6


def time_calls(org_id: int, repeat: int) -> list[tuple[str, list[float], list[float]]]:
    from zhenggai.figures.queries import figures

    calls = [
        ("whole organisation, now", lambda: figures(org_id)),
        ("whole organisation, as of 2024-09-30", lambda: figures(org_id, dt.date(2024, 9, 30))),
        ("by unit, now", lambda: figures(org_id, None, "unit")),
        ("by unit, as of 2025-03-15", lambda: figures(org_id, dt.date(2025, 3, 15), "unit")),
        ("by category, as of 2024-12-31",
         lambda: figures(org_id, dt.date(2024, 12, 31), "category")),
        ("by category, now", lambda: figures(org_id, None, "category")),
        ("by owner, now", lambda: figures(org_id, None, "owner")),
        ("by owner, as of 2025-03-15", lambda: figures(org_id, dt.date(2025, 3, 15), "owner")),
        ("by owner, as of 2024-07-31", lambda: figures(org_id, dt.date(2024, 7, 31), "owner")),
        # The most buckets a split reads (figures.ledger): the year before, two month
        # buckets (months 1-6, 7) and two day buckets (days 1-24, 25-30).
        ("by owner, as of 2025-08-30", lambda: figures(org_id, dt.date(2025, 8, 30), "owner")),
        ("by unit, as of 2025-08-30", lambda: figures(org_id, dt.date(2025, 8, 30), "unit")),
        ("by campaign, now", lambda: figures(org_id, None, "campaign")),
        ("by campaign, as of 2024-11-30",
         lambda: figures(org_id, dt.date(2024, 11, 30), "campaign")),
    ]
    out = []
    gc.freeze()  # as the server does at start (zhenggai/wsgi.py)
    for name, fn in calls:
        fn()  # warm the connection and caches, as a server would be
        cpu = cpu_clock()
        times, cpus = [], []
        for _i in range(repeat):
            c, t = cpu(), time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1000)
            cpus.append(cpu() - c)
        out.append((name, times, cpus))
    return out


def _p95(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=20)[-1] if len(xs) > 1 else xs[0]


def sizes() -> tuple[int, int | None]:
    """Bytes of the whole database and of the figure table with its indexes."""
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT pg_database_size(current_database()), "
                        "pg_total_relation_size('figures_figurebucket')")
            db, buckets = cur.fetchone()
            return db, buckets
        cur.execute("PRAGMA page_count")
        pages = cur.fetchone()[0]
        cur.execute("PRAGMA page_size")
        size = cur.fetchone()[0]
        try:  # dbstat is compiled into most SQLite builds, not all
            cur.execute("SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'figures_figurebucket%' "
                        "OR name LIKE '%figure_bucket%'")
            buckets = cur.fetchone()[0]
        except Exception:
            buckets = None
        return pages * size, buckets


def _kept(engine: str) -> Path:
    return Path(os.environ["ZHENGGAI_DATA"]) / f"bench-figures-{engine}.json"


def run_engine(engine: str, scale: float, repeat: int, verify: bool) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhenggai.settings")
    import json

    import django

    django.setup()
    from django.db import connection

    print(f"\n== {engine} ({connection.vendor}) ==", flush=True)
    kept = _kept(engine)
    if kept.exists():
        info = json.loads(kept.read_text())
        print(f"kept data set from {kept} (loaded earlier; the load's figures are then's)")
    else:
        info = generate_and_load(scale)
        info["load_avg"] = os.getloadavg()[0]
        kept.write_text(json.dumps(info))
    load_target, call_target = (120, 50.0) if scale <= 1 else (1200, 200.0)
    print(f"loaded {info['opinions']:,} opinions, {info['problems']:,} problems, "
          f"{info['events']:,} events in {info['load_s']:.1f} s  (target < {load_target} s; "
          f"{info['write_s']:.1f} s spent writing, {info.get('index_s', 0):.1f} s indexing; "
          "schema and organisation before it "
          f"{info['setup_s']:.1f} s)", flush=True)
    print(f"load CPU time {info['load_cpu_s']:.1f} s (this process, its workers"
          f"{' and its PostgreSQL server process' if engine == 'postgres' else ''}); load "
          f"average {info['load_avg']:.1f} on {os.cpu_count()} cores", flush=True)
    if "workers_cpu_s" in info:
        print(f"  of which folding workers {info['workers_cpu_s']:.1f} s, writer "
              f"{info['writer_cpu_s']:.1f} s"
              + (f", PostgreSQL server {info['server_cpu_s']:.1f} s" if engine == "postgres"
                 else "") + "; by step: " + ", ".join(
                     f"{k} {v:.1f} s" for k, v in info["writer_cpu_in"].items()), flush=True)
    db, buckets = sizes()
    per_m = 1e6 / info["opinions"]
    print(f"database {db / 2**20:,.0f} MB ({db * per_m / 2**20:,.0f} MB per million opinions); "
          + (f"figure table {buckets / 2**20:,.0f} MB ({buckets * per_m / 2**20:,.0f} MB per "
             "million)" if buckets is not None else "figure table: size not available"),
          flush=True)
    if verify:
        from zhenggai.figures.reference import differences

        diffs = differences(info["org"], dt.date(2025, 1, 31))
        print(f"figures agree with a recomputation from the events: {not diffs}")
    worst = worst_cpu = 0.0
    print(f"{'figures call':<40} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"
          f" {'CPU p50':>8} {'CPU p95':>8}")
    for name, times, cpus in time_calls(info["org"], repeat):
        worst, worst_cpu = max(worst, _p95(times)), max(worst_cpu, _p95(cpus))
        print(f"{name:<40} {statistics.median(times):>8.1f} {_p95(times):>8.1f} "
              f"{max(times):>8.1f} {statistics.median(cpus):>8.1f} {_p95(cpus):>8.1f}")
    print(f"slowest p95: {worst:.1f} ms, CPU {worst_cpu:.1f} ms  (target < {call_target:.0f} "
          f"ms; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; CPU: "
          f"this process{' and its PostgreSQL server process' if engine == 'postgres' else ''})",
          flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0, help="1.0 = 200,000 problems")
    ap.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--verify", action="store_true",
                    help="also recompute the figures from the events (slow at full size)")
    ap.add_argument("--pg-db", default=PG_BENCH_DB,
                    help=f"PostgreSQL database to drop and make afresh (default {PG_BENCH_DB})")
    ap.add_argument("--keep", metavar="DIR",
                    help="load into DIR (SQLite) or --pg-db once and keep it; later runs "
                    "with the same DIR time the calls on the kept data set")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        run_engine(a.engine, a.scale, a.repeat, a.verify)
        return
    engines = ["sqlite", "postgres"] if a.engine == "both" else [a.engine]
    for engine in engines:
        env = dict(os.environ)
        with tempfile.TemporaryDirectory() as tmp:
            if a.keep:
                Path(a.keep).mkdir(parents=True, exist_ok=True)
            env["ZHENGGAI_DATA"] = a.keep or tmp
            built = a.keep and (Path(a.keep) / f"bench-figures-{engine}.json").exists()
            if a.keep and not built and engine == "sqlite":  # a half-made load: afresh
                for f in Path(a.keep).glob("zhenggai.sqlite3*"):
                    f.unlink()
            if engine == "postgres":
                try:
                    env["DATABASE_URL"] = pg_url(a.pg_db) if built else pg_fresh_db(a.pg_db)
                except Exception:
                    print("\n== postgres: not reachable on 127.0.0.1:5432, skipped ==")
                    continue
            else:
                env.pop("DATABASE_URL", None)
            args = [sys.executable, __file__, "--child", "--engine", engine, "--scale",
                    str(a.scale), "--repeat", str(a.repeat)] + (["--verify"] if a.verify else [])
            subprocess.run(args, env=env, check=True, cwd=ROOT)


if __name__ == "__main__":
    main()
