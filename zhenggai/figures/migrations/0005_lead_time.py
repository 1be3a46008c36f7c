"""The lead-time counter: days from a problem's first opinion (first raised) to its first
verification, booked when it is first verified. Existing buckets get it from the events.
Self-contained: a small fold of the events' keys, not the ledger's code, which may change
after it."""

import datetime as dt
from collections import defaultdict

from django.db import migrations, models

TABLE = "figures_figurebucket"


def _date(v):
    if v is None or isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(v)


def _up(i: int, n: int):
    while i <= n:
        yield i
        i += i & -i


def _month_length(day: dt.date) -> int:
    nxt = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return (nxt - day.replace(day=1)).days


def _buckets(day: dt.date):
    for i in _up(day.day, _month_length(day)):
        yield "d", day.replace(day=i)
    for j in _up(day.month, 12):
        yield "m", day.replace(month=j, day=1)
    yield "y", day.replace(month=1, day=1)


def backfill(apps, schema_editor):
    Problem = apps.get_model("problems", "Problem")
    Event = apps.get_model("problems", "Event")
    orgs = dict(Problem.objects.values_list("pk", "org_id"))
    if not orgs:
        return
    adds: dict[tuple, int] = defaultdict(int)
    current, s = None, {}
    rows = (Event.objects.order_by("problem_id", "seq")
            .values_list("problem_id", "kind", "day", "data").iterator(chunk_size=5000))
    for pid, kind, day, data in rows:
        if pid != current:
            current, s = pid, {"ops": {}, "verified": False}
        d = data or {}
        day = _date(day)
        if kind == "create":
            s.update(campaign=d.get("campaign"), unit=d.get("unit"),
                     category=d.get("category"), owner=d.get("owner"), created=day,
                     base=_date(d.get("first_raised")),
                     ops={o[0]: _date(o[1]) for o in d.get("opinions", [])})
        elif kind == "assign":
            s.update(owner=d.get("owner"), unit=d.get("unit"))
        elif kind == "update" and "category" in d:
            s["category"] = d["category"]
        elif kind == "add_opinions":
            s["ops"].update({o[0]: _date(o[1]) for o in d.get("opinions", [])})
        elif kind == "remove_opinion":
            s["ops"].pop(d["opinion"][0], None)
        elif kind == "carry_over":
            s["campaign"] = d["campaign"]
        elif kind == "verify_passed" and not s["verified"]:
            s["verified"] = True
            days = list(s["ops"].values()) + ([s["base"]] if s.get("base") else [])
            first = min(days) if days else s.get("created")
            if first is None:
                continue
            lead = (day - first).days
            if not lead:
                continue
            org = orgs[pid]
            keys = ((0, 0), (1, s.get("campaign") or 0), (2, s.get("unit") or 0),
                    (3, s.get("category") or 0), (4, s.get("owner") or 0))
            for grain, period in _buckets(day):
                for dim, gkey in keys:
                    adds[(org, dim, grain, period, gkey)] += lead
    with schema_editor.connection.cursor() as cur:
        # The verification booked `ever_verified` in each of these rows: they exist.
        cur.executemany(
            f"UPDATE {TABLE} SET lead_days = lead_days + %s WHERE org = %s AND dim = %s "
            "AND grain = %s AND period = %s AND gkey = %s",
            [(v, *k) for k, v in sorted(adds.items()) if v])


class Migration(migrations.Migration):

    dependencies = [
        ("figures", "0004_fenwick_buckets"),
        ("problems", "0007_problem_capa"),
    ]

    operations = [
        migrations.AddField(
            model_name="figurebucket",
            name="lead_days",
            field=models.BigIntegerField(default=0),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
