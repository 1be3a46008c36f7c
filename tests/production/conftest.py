"""A small plant: two open-hearth furnaces, a recorder and a verifier."""

import datetime as dt
from dataclasses import dataclass

import pytest

from tests import factories as f
from zhenggai.campaigns.roles import grant_production_roles
from zhenggai.production import actions
from zhenggai.production.heats import HeatInput
from zhenggai.production.models import Furnace, GradeNorm, ProductionRole


@dataclass
class Plant:
    org: object
    f8: Furnace
    f3: Furnace
    recorder: object
    verifier: object
    verifier2: object
    worker: object


@pytest.fixture
def plant(db) -> Plant:
    o = f.org()
    u = f.unit(o, "steel")
    f8 = Furnace.objects.create(org=o, number=8, capacity_t=150, hearth_m2=36,
                                commissioned=1937)
    f3 = Furnace.objects.create(org=o, number=3, capacity_t=185, hearth_m2=42,
                                commissioned=1953)
    GradeNorm.objects.create(furnace=f8, grade="A3", minutes=560)
    GradeNorm.objects.create(furnace=f3, grade="A3", minutes=480)
    rec = f.member(o, "记录员", u)
    ver = f.member(o, "核查员", u)
    ver2 = f.member(o, "第二核查员", u)
    grant_production_roles(rec, ProductionRole.Role.RECORDER)
    grant_production_roles(ver, ProductionRole.Role.VERIFIER)
    grant_production_roles(ver2, ProductionRole.Role.VERIFIER, ProductionRole.Role.RECORDER)
    return Plant(o, f8, f3, rec, ver, ver2, f.member(o, "工人", u))


def heat_input(number: int, charge_at: dt.datetime, minutes: int, *, tons: float = 150,
               good: float | None = None, grade: str = "A3", fettling: int = 60,
               shift: str = "A", crew: str = "甲班", delays: list | None = None) -> HeatInput:
    """A heat whose phases add up: charging 60, hot metal 30, the rest melt-down and
    refining, tapping 15."""
    melt = (minutes - 60 - 30 - 15) * 2 // 3
    refine = minutes - 60 - 30 - 15 - melt
    return HeatInput(number=number, shift=shift, crew=crew, charge_at=charge_at,
                     tap_at=charge_at + dt.timedelta(minutes=minutes), fettling_min=fettling,
                     charging_min=60, hot_metal_min=30, meltdown_min=melt,
                     refining_min=refine, tapping_min=15, tons=tons,
                     good_tons=tons - 2 if good is None else good, grade=grade,
                     fuel_kg_t=180.0, delays=delays or [])


def run(plant: Plant, furnace, start: dt.datetime, minutes_list, *, verify=True,
        first_number=1, gap=60, **kw):
    """Record (and verify) consecutive heats on one furnace, one after another."""
    out = []
    t = start
    for i, m in enumerate(minutes_list):
        h = actions.record_heat(furnace, heat_input(first_number + i, t, m, fettling=gap, **kw),
                              actor=plant.recorder)
        if verify:
            actions.verify_heat(h, actor=plant.verifier)
        out.append(h)
        t = t + dt.timedelta(minutes=m + gap)
    return out
