"""Receipt guessing against a real server: what the throttles allow, and whether the answer's
timing tells a right receipt from a wrong one.

Serves a fresh database with gunicorn (2 workers, full argon2 cost) behind a trusted "proxy"
(this script sets X-Forwarded-For, so it can speak from many addresses), then:

(a) for one minute window, wrong guesses from one address (each at another code prefix) and,
    at the same time, wrong guesses at one code prefix from ever new addresses: how many were
    answered (404) before the throttle refused (429);
(b) 50 look-ups of a right receipt and 50 of wrong ones, interleaved, each from a fresh
    address: the median time of each and their difference (target: within 20 ms).

    .venv/bin/python bench/guessing.py [--engine sqlite|postgres] [--samples 50]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import free_port, gunicorn, pg_fresh_db

ROOT = Path(__file__).resolve().parent.parent
PG_DB = "zhenggai_bench_guessing"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _setup(data: str) -> tuple[int, str]:
    os.environ["ZHENGGAI_DATA"] = data
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhenggai.settings")
    import django

    django.setup()
    import datetime as dt

    from django.core.management import call_command

    from zhenggai.campaigns.models import Campaign
    from zhenggai.opinions.intake import submit_opinion
    from zhenggai.org.models import Organisation

    call_command("migrate", verbosity=0)
    org = Organisation.objects.create(name="基准", name_en="Bench")
    camp = Campaign.objects.create(org=org, name="bench", airing_from=dt.date(2020, 1, 1),
                                   rectification_from=dt.date(2020, 3, 1),
                                   review_from=dt.date(2031, 1, 1))
    receipt = submit_opinion(camp, text="炉前太热", anonymous=True).receipt
    return camp.pk, receipt


def _code(prefix: str = "") -> str:
    code = prefix + "".join(secrets.choice(ALPHABET) for _ in range(16 - len(prefix)))
    return "-".join(code[i:i + 4] for i in range(0, 16, 4))


def look_up(port: int, code: str, address: str) -> tuple[int, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    body = json.dumps({"receipt": code})
    t0 = time.perf_counter()
    conn.request("POST", "/api/v1/receipts/case", body,
                 {"Content-Type": "application/json", "X-Forwarded-For": address})
    r = conn.getresponse()
    r.read()
    elapsed = time.perf_counter() - t0
    conn.close()
    return r.status, elapsed


def guessing_minute(port: int) -> dict[str, dict[int, int]]:
    # Start at the beginning of a throttle window (whole minutes).
    time.sleep(60 - time.time() % 60 + 0.5)
    end = time.time() + 58
    out: dict[str, dict[int, int]] = {"address": {}, "prefix": {}}

    def one_address():
        while time.time() < end:
            s, _t = look_up(port, _code(), "198.51.100.7")
            out["address"][s] = out["address"].get(s, 0) + 1
            if s == 429:
                time.sleep(0.2)

    def one_prefix():
        i = 0
        while time.time() < end:
            i += 1
            s, _t = look_up(port, _code("7KQ2"), f"203.0.113.{i % 250 + 1}")
            out["prefix"][s] = out["prefix"].get(s, 0) + 1
            if s == 429:
                time.sleep(0.2)

    threads = [threading.Thread(target=one_address), threading.Thread(target=one_prefix)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def timing(port: int, receipt: str, samples: int) -> tuple[list[float], list[float]]:
    right, wrong = [], []
    for i in range(samples + 2):
        s1, t1 = look_up(port, receipt, f"10.{i // 250}.{i % 250}.1")
        s2, t2 = look_up(port, _code(), f"10.{i // 250}.{i % 250}.2")
        assert s1 == 200 and s2 == 404, (s1, s2)
        if i >= 2:  # the first two warm the workers
            right.append(t1)
            wrong.append(t2)
    return right, wrong


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--samples", type=int, default=50)
    ap.add_argument("--no-minute", action="store_true", help="only the timing (b)")
    args = ap.parse_args()
    data = tempfile.mkdtemp(prefix="zg-guessing-")
    if args.engine == "postgres":
        os.environ["DATABASE_URL"] = pg_fresh_db(PG_DB)
    else:
        os.environ.pop("DATABASE_URL", None)
    _campaign, receipt = _setup(data)
    from django.conf import settings

    port = free_port()
    env = dict(os.environ, ZHENGGAI_DATA=data, ZHENGGAI_TRUSTED_PROXIES="127.0.0.1/32")
    mib = settings.RECEIPT_ARGON2_MEMORY_KIB // 1024
    print(f"{args.engine}: gunicorn 2 workers; argon2id {mib} MiB, time cost "
          f"{settings.RECEIPT_ARGON2_TIME_COST}; {settings.ARGON2_SLOTS} argon2 slot(s); "
          f"throttles (failures, window s): {settings.THROTTLES}", flush=True)
    with gunicorn(port, env, ROOT, workers=2):
        if not args.no_minute:
            seen = guessing_minute(port)
            for what, counts in seen.items():
                who = ("from one address" if what == "address"
                       else "at one code prefix, from many addresses")
                print(f"(a) one minute, wrong guesses {who}: {counts.get(404, 0)} answered, "
                      f"{counts.get(429, 0)} refused (429), {counts.get(503, 0)} busy (503)",
                      flush=True)
        right, wrong = timing(port, receipt, args.samples)
    mr, mw = statistics.median(right), statistics.median(wrong)
    print(f"(b) median of {args.samples}: right receipt {mr * 1000:.1f} ms, wrong "
          f"{mw * 1000:.1f} ms, difference {(mr - mw) * 1000:+.1f} ms (target within 20 ms)")
    mr, mw = in_process(_campaign, args.samples)
    print(f"(c) the same without argon2's noise (in process, argon2 at its smallest cost), "
          f"median of {args.samples}: right {mr * 1000:.2f} ms, wrong {mw * 1000:.2f} ms, "
          f"difference {(mr - mw) * 1000:+.2f} ms", flush=True)


def in_process(campaign_id: int, samples: int) -> tuple[float, float]:
    """What a right and a wrong look-up cost apart from the hash: the same API call through
    Django's test client, with argon2 at its smallest cost."""
    from django.conf import settings
    from django.test import Client

    from zhenggai.campaigns.models import Campaign
    from zhenggai.opinions.intake import submit_opinion

    settings.RECEIPT_ARGON2_TIME_COST, settings.RECEIPT_ARGON2_MEMORY_KIB = 1, 1024
    receipt = submit_opinion(Campaign.objects.get(pk=campaign_id), text="炉前太热",
                             anonymous=True).receipt
    client = Client()
    right, wrong = [], []
    for i in range(samples + 2):
        for code, out, want in ((receipt, right, 200), (_code(), wrong, 404)):
            t0 = time.perf_counter()
            r = client.post("/api/v1/receipts/case", json.dumps({"receipt": code}),
                            content_type="application/json",
                            REMOTE_ADDR=f"10.{i // 250}.{i % 250}.{want // 100}")
            elapsed = time.perf_counter() - t0
            assert r.status_code == want, r.status_code
            if i >= 2:
                out.append(elapsed)
    return statistics.median(right), statistics.median(wrong)


if __name__ == "__main__":
    sys.exit(main())
