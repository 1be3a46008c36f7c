"""Benchmark: the production side at the scale of a big steel works.

Loads 1,000,000 verified heats across 40 furnaces (about 28 years of heats, ten hours
apart) through the bulk heat loader, which applies the same entry checks as a recorder's
form. Then it times:

- recomputing every record (per furnace and plant-wide, single-heat and best week) from
  the heat log: target under 10 s;
- verifying one more heat (which recomputes the records it touches);
- the leaderboard and target pages (Django's test client over the full middleware stack,
  signed in): target p95 under 150 ms.

    .venv/bin/python bench/production.py                     # SQLite, then PostgreSQL
    .venv/bin/python bench/production.py --heats 100000      # smaller, quicker
    .venv/bin/python bench/production.py --engine sqlite
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import pg_fresh_db

ROOT = Path(__file__).resolve().parents[1]
PG_BENCH_DB = "zhenggai_bench_production"
FURNACES = 40


def setup(n_heats: int):
    from zoneinfo import ZoneInfo

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from zhenggai.campaigns.roles import grant_production_roles
    from zhenggai.org.models import Member, Organisation
    from zhenggai.production import actions
    from zhenggai.production.heats import HeatInput
    from zhenggai.production.models import Furnace, GradeNorm, ProductionRole, Target

    call_command("migrate", verbosity=0)
    org = Organisation.objects.create(name="基准钢厂", name_en="Benchmark steel works")
    rec = Member.objects.create(org=org, name="recorder")
    ver = Member.objects.create(org=org, name="verifier")
    user = get_user_model().objects.create_user("viewer", password="pw")
    viewer = Member.objects.create(org=org, name="viewer", user=user)
    grant_production_roles(rec, ProductionRole.Role.RECORDER)
    grant_production_roles(ver, ProductionRole.Role.VERIFIER)
    rng = random.Random(1958)
    furnaces = []
    for n in range(1, FURNACES + 1):
        cap = rng.choice([150, 185, 250, 370])
        f = Furnace.objects.create(org=org, number=n, capacity_t=cap,
                                   hearth_m2=round(cap / 4.2, 1), commissioned=1950 + n)
        GradeNorm.objects.create(furnace=f, grade="A3", minutes=rng.randint(420, 560))
        furnaces.append(f)
    per = n_heats // FURNACES
    tz = ZoneInfo("Asia/Shanghai")
    start = dt.datetime(1998, 1, 1, tzinfo=tz)
    # The heats must not lie in the future: make the log end about now.
    span = dt.timedelta(minutes=per * 600)
    start = min(start, dt.datetime.now(tz) - span - dt.timedelta(days=2))

    def log():
        for f in furnaces:
            t = start + dt.timedelta(minutes=rng.randint(0, 600))
            numbers: dict[int, int] = {}
            norm = f.norms.get().minutes
            for _i in range(per):
                fett = rng.randint(40, 80)
                charge = t + dt.timedelta(minutes=fett)
                m = round(norm * rng.uniform(0.85, 1.1))
                tap = charge + dt.timedelta(minutes=m)
                numbers[tap.year] = numbers.get(tap.year, 0) + 1
                ch, hm, tp = round(m * 0.13), round(m * 0.06), 15
                melt = round((m - ch - hm - tp) * 0.6)
                tons = round(f.capacity_t * rng.uniform(0.96, 1.08), 1)
                yield f, HeatInput(
                    number=numbers[tap.year], shift="ABC"[tap.hour // 8], crew=f"crew{f.number}",
                    charge_at=charge, tap_at=tap, fettling_min=fett, charging_min=ch,
                    hot_metal_min=hm, meltdown_min=melt, refining_min=m - ch - hm - tp - melt,
                    tapping_min=tp, tons=tons, good_tons=round(tons * 0.985, 1), grade="A3",
                    fuel_kg_t=180.0)
                t = tap

    t0 = time.perf_counter()
    n = actions.load(log(), recorder=rec, verifier=ver, batch=10_000)
    load_s = time.perf_counter() - t0
    from zhenggai.production.models import Heat

    last_day = Heat.objects.order_by("-day").values_list("day", flat=True).first()
    Target.objects.create(org=org, year=last_day.year, plan_t=per * 200 * 0.04 * FURNACES,
                          increase_t=50_000)
    return org, viewer, rec, ver, n, load_s, last_day


def percentiles(times: list[float]) -> tuple[float, float]:
    p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
    return statistics.median(times), p95


def run_engine(engine: str, n_heats: int, repeat: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhenggai.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from zhenggai.production import actions, heats, records
    from zhenggai.production.models import Heat, Record

    print(f"\n== {engine} ({connection.vendor}) ==", flush=True)
    org, viewer, rec, ver, n, load_s, day = setup(n_heats)
    print(f"loaded {n:,} verified heats on {FURNACES} furnaces in {load_s:.1f} s "
          f"(entry checks and events included; the records once at the end)", flush=True)

    times = []
    for _i in range(3):
        t = time.perf_counter()
        count = records.recompute(org.pk)
        times.append(time.perf_counter() - t)
    print(f"recompute all records: {count:,} records, best {min(times):.2f} s, "
          f"worst {max(times):.2f} s  (target < 10 s)", flush=True)

    last = Heat.objects.filter(org=org).order_by("-tap_at").first()
    f = last.furnace
    h = heats.HeatInput(
        number=99_999, shift="A", crew="bench", charge_at=last.tap_at + dt.timedelta(hours=1),
        tap_at=last.tap_at + dt.timedelta(hours=1, minutes=400), fettling_min=60,
        charging_min=60, hot_metal_min=30, meltdown_min=200, refining_min=95, tapping_min=15,
        tons=f.capacity_t, good_tons=f.capacity_t - 2, grade="A3", fuel_kg_t=170)
    t = time.perf_counter()
    heat = actions.record_heat(f, h, actor=rec)
    rec_ms = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    actions.verify_heat(heat, actor=ver)
    ver_ms = (time.perf_counter() - t) * 1000
    print(f"record one heat {rec_ms:.0f} ms; verify it (records recomputed) {ver_ms:.0f} ms",
          flush=True)
    assert Record.objects.filter(heat=heat).exists()

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(viewer.user)
    day = Heat.objects.order_by("-day").values_list("day", flat=True).first()
    start = day - dt.timedelta(days=27)
    pages = [
        ("leaderboard by furnace, 4 weeks", f"/production/leaderboard/?start={start}&end={day}"),
        ("leaderboard by crew, 4 weeks",
         f"/production/leaderboard/?start={start}&end={day}&by=crew"),
        ("target and forecast", f"/production/target/?day={day}"),
        ("records", "/production/records/"),
    ]
    worst = 0.0
    print(f"{'page':<36} {'p50 ms':>8} {'p95 ms':>8}")
    for name, url in pages:
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code)
        times = []
        for _i in range(repeat):
            t = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - t) * 1000)
        p50, p95 = percentiles(times)
        worst = max(worst, p95)
        print(f"{name:<36} {p50:>8.1f} {p95:>8.1f}")
    print(f"slowest page p95: {worst:.1f} ms  (target < 150 ms)", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--heats", type=int, default=1_000_000)
    ap.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        run_engine(a.engine, a.heats, a.repeat)
        return
    engines = ["sqlite", "postgres"] if a.engine == "both" else [a.engine]
    for engine in engines:
        env = dict(os.environ)
        with tempfile.TemporaryDirectory() as tmp:
            env["ZHENGGAI_DATA"] = tmp
            if engine == "postgres":
                try:
                    env["DATABASE_URL"] = pg_fresh_db(PG_BENCH_DB)
                except Exception:
                    print("\n== postgres: not reachable on 127.0.0.1:5432, skipped ==")
                    continue
            else:
                env.pop("DATABASE_URL", None)
            subprocess.run([sys.executable, __file__, "--child", "--engine", engine,
                            "--heats", str(a.heats), "--repeat", str(a.repeat)],
                           env=env, check=True, cwd=ROOT)


if __name__ == "__main__":
    main()
