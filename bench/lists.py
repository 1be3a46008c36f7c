"""Benchmark: the lists that grow (/problems/, /opinions/) at 100,000 rows each.

Loads one campaign with N problems and N opinions (rows written directly, in bulk: the
lists read rows, not how they came) into a fresh database, then times what a list page
asks of it: the count and the first page, and a page deep in the list, for each filter
and sort. Prints the median of five reads and the query plan of the slowest.

    nice -n 10 .venv/bin/python bench/lists.py                    # SQLite, 100,000 each
    nice -n 10 .venv/bin/python bench/lists.py --engine postgres  # PostgreSQL
    nice -n 10 .venv/bin/python bench/lists.py --rows 20000
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import pg_fresh_db

ROOT = Path(__file__).resolve().parents[1]
PG_DB = "zhenggai_bench_lists"
WORDS = ["炉前", "温度", "通风", "食堂", "宿舍", "漏雨", "风扇", "安全", "加班", "工资", "吊车",
         "照明", "钢水", "铁水", "炉顶", "更衣室", "浴室", "交通车", "夜班", "劳保"]


def load(n: int) -> dict:
    from django.core.management import call_command
    from django.utils import timezone

    from zhenggai.campaigns.models import Campaign, CampaignRole, Role
    from zhenggai.opinions.models import Opinion, random_id
    from zhenggai.org.models import Category, Member, Organisation, Unit
    from zhenggai.problems import lifecycle
    from zhenggai.problems.models import Problem

    call_command("migrate", verbosity=0)
    rnd = random.Random(7)
    org = Organisation.objects.create(name="第一炼钢厂", clock_day=dt.date(1958, 1, 28))
    camp = Campaign.objects.create(org=org, name="整改", airing_from=dt.date(1957, 6, 1),
                                   rectification_from=dt.date(1957, 8, 1),
                                   review_from=dt.date(1958, 1, 16))
    units = []
    for i in range(10):
        shop = Unit(org=org, code=f"shop{i}", name=f"车间{i}")
        shop.save()
        units.append(shop)
        for j in range(5):
            crew = Unit(org=org, code=f"shop{i}-crew{j}", name=f"车间{i}班组{j}", parent=shop)
            crew.save()
            units.append(crew)
    cats = [Category.objects.create(org=org, code=f"c{i}", name=f"类别{i}") for i in range(12)]
    owners = Member.objects.bulk_create(
        [Member(org=org, name=f"负责人{i}", unit=rnd.choice(units)) for i in range(300)])
    CampaignRole.objects.bulk_create(
        [CampaignRole(member=m, campaign=camp, role=Role.OWNER) for m in owners])
    now = timezone.now()
    day0 = dt.date(1957, 6, 1)
    problems = []
    for i in range(n):
        state = rnd.choice(lifecycle.STATES)
        first = day0 + dt.timedelta(days=rnd.randrange(240))
        problems.append(Problem(
            org=org, campaign=camp, summary="".join(rnd.sample(WORDS, 4)) + f" {i}",
            category=rnd.choice(cats), unit=rnd.choice(units), owner=rnd.choice(owners),
            measures="".join(rnd.sample(WORDS, 3)), state=state, created_on=first,
            first_raised=first, deadline=first + dt.timedelta(days=rnd.randrange(20, 120)),
            n_opinions=rnd.randrange(1, 30), updated_at=now - dt.timedelta(minutes=i)))
    Problem.objects.bulk_create(problems, batch_size=5000)
    pks = list(Problem.objects.values_list("pk", flat=True))
    opinions = []
    for _ in range(n):
        anonymous = rnd.random() < 0.3
        opinions.append(Opinion(
            id=random_id(), org=org, campaign=camp, text="".join(rnd.sample(WORDS, 6)),
            channel="web", received_on=day0 + dt.timedelta(days=rnd.randrange(240)),
            anonymous=anonymous, author=None if anonymous else rnd.choice(owners),
            unit=rnd.choice(units), category=rnd.choice(cats),
            problem_id=rnd.choice(pks) if rnd.random() < 0.9 else None))
    Opinion.objects.bulk_create(opinions, batch_size=5000)
    return {"campaign": camp, "unit": units[0].pk, "owner": owners[0].pk, "cat": cats[0].pk}


def measure(ids: dict) -> None:
    from django.core.paginator import Paginator
    from django.db import connection
    from django.http import QueryDict

    from zhenggai.problems import lists

    camp, day = ids["campaign"], dt.date(1958, 1, 28)
    cases = [
        ("problems", ""), ("problems", "sort=deadline"), ("problems", "sort=opinions"),
        ("problems", "q=风扇"), ("problems", f"unit={ids['unit']}"),
        ("problems", f"owner={ids['owner']}"), ("problems", "state=reopened"),
        ("problems", "overdue=1&sort=deadline"),
        ("problems", f"category={ids['cat']}&state=assigned"),
        ("opinions", ""), ("opinions", "q=漏雨"), ("opinions", "state=unsummarised"),
        ("opinions", f"unit={ids['unit']}"), ("opinions", f"owner={ids['owner']}"),
        ("opinions", "overdue=1"), ("opinions", "sort=oldest"),
    ]
    worst = (0.0, "", "")
    print(f"{'list':9} {'filters':34} {'first page ms':>14} {'page 100 ms':>12} {'rows':>8}")
    for kind, query in cases:
        sorts = lists.PROBLEM_SORTS if kind == "problems" else lists.OPINION_SORTS
        f = lists.Filters.from_query(QueryDict(query), sorts)
        fn = lists.problems if kind == "problems" else lists.opinions
        times, deep = [], []
        for _ in range(5):
            t = time.perf_counter()
            pages = Paginator(fn(camp, f, day), lists.PER_PAGE)
            lists.rows(pages.get_page(1).object_list)
            times.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            lists.rows(pages.get_page(100).object_list)
            deep.append((time.perf_counter() - t) * 1000)
        med = statistics.median(times)
        print(f"{kind:9} {query[:34]:34} {med:14.1f} {statistics.median(deep):12.1f} "
              f"{pages.count:8}")
        if med > worst[0]:
            worst = (med, kind, query)
            qs = fn(camp, f, day).values_list("pk")[:lists.PER_PAGE]
            sql, params = qs.query.sql_with_params()
            with connection.cursor() as cur:
                explain = ("EXPLAIN QUERY PLAN " if connection.vendor == "sqlite"
                           else "EXPLAIN ") + sql
                cur.execute(explain, params)
                plan = "\n".join(str(r) for r in cur.fetchall())
    print(f"\nslowest first page: {worst[1]} {worst[2]!r} {worst[0]:.1f} ms; its plan:\n{plan}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--rows", type=int, default=100_000)
    args = ap.parse_args()
    data = tempfile.mkdtemp(prefix="zg-lists-")
    os.environ["ZHENGGAI_DATA"] = data
    if args.engine == "postgres":
        os.environ["DATABASE_URL"] = pg_fresh_db(PG_DB)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhenggai.settings")
    os.environ.setdefault("ZHENGGAI_EMBEDDINGS", "off")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    t = time.perf_counter()
    ids = load(args.rows)
    print(f"loaded {args.rows:,} problems and {args.rows:,} opinions on {args.engine} "
          f"in {time.perf_counter() - t:.0f} s")
    if args.engine == "postgres":
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    measure(ids)


if __name__ == "__main__":
    main()
