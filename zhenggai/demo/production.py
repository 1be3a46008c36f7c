"""The production side of the Anshan replay (M13–M16).

Nine open-hearth furnaces and their heat log from October 1957 to the report on
1958-01-28, a year target of +50,000 t, and No. 8: old equipment, over nine hours a heat,
then in the last two days four records in a row, the last 6 h 20 min.

Capacities and hearth areas are plausible for a 1950s Soviet-pattern open-hearth shop, not
archival figures; the seed gives none.
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model

from zhenggai.campaigns.roles import grant_production_roles
from zhenggai.org.models import Member, Organisation, Unit
from zhenggai.production import actions
from zhenggai.production.heats import HeatInput
from zhenggai.production.models import (
    Furnace,
    GradeNorm,
    ProductionRole,
    Repair,
    ShiftPlan,
    Target,
)

SEED = 1958
START = dt.date(1957, 10, 1)
REPORT = dt.date(1958, 1, 28)
# number: (capacity t, hearth m², commissioned, norm minutes for A3)
FURNACES = {
    1: (150, 36.0, 1936, 530), 2: (150, 36.0, 1938, 530),
    3: (185, 42.0, 1953, 480), 4: (185, 42.0, 1953, 480), 5: (185, 42.0, 1954, 480),
    6: (185, 42.0, 1955, 470), 7: (185, 42.0, 1956, 470),
    8: (150, 36.0, 1935, 560),  # the old one: over nine hours a heat
    9: (250, 52.0, 1957, 500),
}
GRADES = {"A3": 0, "20g": 20, "45": 30}  # extra minutes over the A3 norm
# No. 8's four records in a row in the last two days before the report, in minutes.
NO8_RECORDS = (520, 470, 425, 380)  # 8 h 40, 7 h 50, 7 h 05, 6 h 20
NO8_HISTORY_BEST = 545  # nothing before the streak was faster than 9 h 05
PLAN_1958 = 1_360_000
INCREASE_1958 = 50_000
PRODUCTION_USERS = {
    # username: (name, roles)
    "recorder": ("丁记录", [ProductionRole.Role.RECORDER]),
    "verifier": ("石核查", [ProductionRole.Role.VERIFIER, ProductionRole.Role.PLANNER]),
}
SHIFT_CREW = {"A": "甲班", "B": "乙班", "C": "丙班", "D": "丁班"}
# Four shifts in three turns (四班三运转): each day three of 甲乙丙丁 work, one rests.
SHIFTS = "ABCD"


def _tz():
    return ZoneInfo("Asia/Shanghai")


def build(org: Organisation, units: dict[str, Unit], password: str) -> dict:
    rng = random.Random(SEED)
    User = get_user_model()
    people = {}
    for username, (name, roles) in PRODUCTION_USERS.items():
        user = User(username=username)
        user.set_password(password)
        user.save()
        m = Member.objects.create(org=org, user=user, name=name, unit=units["production"])
        grant_production_roles(m, *roles)
        people[username] = m
    furnaces = {}
    for n, (cap, hearth, year, norm) in FURNACES.items():
        f = Furnace.objects.create(org=org, number=n, capacity_t=cap, hearth_m2=hearth,
                                   commissioned=year, unit=units.get(f"furnace{n}"))
        GradeNorm.objects.bulk_create(
            [GradeNorm(furnace=f, grade=g, minutes=norm + extra) for g, extra in GRADES.items()])
        furnaces[n] = f
    # A cold repair for every furnace in 1958, staggered through the year.
    for n, f in furnaces.items():
        starts = dt.date(1958, 3, 1) + dt.timedelta(days=30 * (n - 1))
        Repair.objects.create(furnace=f, starts=starts, ends=starts + dt.timedelta(days=9),
                              note="冷修")
    Target.objects.create(org=org, year=1958, plan_t=PLAN_1958, increase_t=INCREASE_1958)
    ShiftPlan.objects.create(org=org, shifts=SHIFTS)
    n_heats = actions.load(_log(rng, furnaces), recorder=people["recorder"],
                           verifier=people["verifier"])
    return {"heats": n_heats, "furnaces": len(furnaces)}


def _log(rng: random.Random, furnaces: dict[int, Furnace]):
    """Each furnace's heats, one after another, from START to the report day."""
    tz = _tz()
    end = dt.datetime.combine(REPORT, dt.time(23, 0), tz)
    competition = dt.date(1958, 1, 1)  # from January the crews push: heats get shorter
    for n, f in furnaces.items():
        cap, _hearth, _year, norm = FURNACES[n]
        t = dt.datetime.combine(START, dt.time(rng.randint(0, 8), 0), tz)
        numbers: dict[int, int] = {}
        streak_done = False
        while True:
            fettling = rng.randint(45, 90)
            charge = t + dt.timedelta(minutes=fettling)
            grade = rng.choices(list(GRADES), weights=[6, 2, 2])[0]
            base = norm + GRADES[grade]
            push = 0.0 if charge.date() < competition else 0.04
            minutes = round(base * rng.uniform(0.96 - push, 1.08 - push))
            if n == 8:
                if not streak_done and charge.date() >= REPORT - dt.timedelta(days=3):
                    # the last two days: four records in a row
                    for m in NO8_RECORDS:
                        fettling = rng.randint(45, 60)
                        charge = t + dt.timedelta(minutes=fettling)
                        yield f, _heat(rng, numbers, charge, m, fettling, cap, "A3")
                        t = charge + dt.timedelta(minutes=m)
                    streak_done = True
                    continue
                # over nine hours, never faster than the best before the streak
                minutes = max(minutes, NO8_HISTORY_BEST) if not streak_done else \
                    max(minutes - 120, NO8_RECORDS[-1] + 15)
            tap = charge + dt.timedelta(minutes=minutes)
            if tap > end:
                break
            yield f, _heat(rng, numbers, charge, minutes, fettling, cap, grade)
            t = tap + dt.timedelta(minutes=rng.choice([0, 0, 0, 20, 45]))  # delays between


def _heat(rng, numbers: dict, charge: dt.datetime, minutes: int, fettling: int, cap: float,
          grade: str) -> HeatInput:
    tap = charge + dt.timedelta(minutes=minutes)
    year = tap.year
    numbers[year] = numbers.get(year, 0) + 1
    charging = round(minutes * 0.13)
    hot_metal = round(minutes * 0.06)
    tapping = 15
    meltdown = round((minutes - charging - hot_metal - tapping) * 0.6)
    refining = minutes - charging - hot_metal - tapping - meltdown
    tons = round(cap * rng.uniform(0.96, 1.08), 1)
    shift = SHIFTS[(tap.toordinal() + tap.hour // 8) % len(SHIFTS)]
    delays = []
    if rng.random() < 0.15:
        delays.append({"code": rng.choice(["crane", "hot_metal", "scrap", "ladle"]),
                       "minutes": rng.randint(10, 40)})
    return HeatInput(
        number=numbers[year], shift=shift, crew=SHIFT_CREW[shift], charge_at=charge,
        tap_at=tap, fettling_min=fettling, charging_min=charging, hot_metal_min=hot_metal,
        meltdown_min=meltdown, refining_min=refining, tapping_min=tapping, tons=tons,
        good_tons=round(tons * rng.uniform(0.975, 0.995), 1), grade=grade,
        fuel_kg_t=round(rng.uniform(150, 200), 1), delays=delays)
