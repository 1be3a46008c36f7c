"""The heat log's entry checks, verification by a second person, and corrections."""

import dataclasses
import datetime as dt

import pytest

from tests.factories import at
from zhenggai.errors import Forbidden, InvalidInput, Refused
from zhenggai.production import actions
from zhenggai.production.models import Heat, HeatEvent

from .conftest import heat_input, run

T0 = at(1958, 1, 5, 8)


def refused(plant, h, match, furnace=None, actor=None):
    before = (Heat.objects.count(), HeatEvent.objects.count())
    with pytest.raises((InvalidInput, Forbidden), match=match):
        actions.record_heat(furnace or plant.f8, h, actor=actor or plant.recorder)
    assert (Heat.objects.count(), HeatEvent.objects.count()) == before


def test_a_heat_is_recorded_with_its_computed_times(plant):
    first = actions.record_heat(plant.f8, heat_input(1, T0, 540), actor=plant.recorder)
    second = actions.record_heat(plant.f8, heat_input(2, T0 + dt.timedelta(minutes=600), 500),
                               actor=plant.recorder)
    assert first.heat_min == 540 and first.tap_to_tap_min is None
    assert second.heat_min == 500
    assert second.tap_to_tap_min == 60 + 500  # fettling gap, then the heat
    assert first.day == dt.date(1958, 1, 5) and first.year == 1958
    assert [e.kind for e in first.events.all()] == ["recorded"]


def test_a_heat_recorded_before_another_updates_the_next_tap_to_tap(plant):
    late = actions.record_heat(plant.f8, heat_input(2, T0 + dt.timedelta(hours=12), 500),
                             actor=plant.recorder)
    actions.record_heat(plant.f8, heat_input(1, T0, 540), actor=plant.recorder)
    late.refresh_from_db()
    assert late.tap_to_tap_min == 12 * 60 + 500 - 540


@pytest.mark.parametrize("change, match", [
    ({"tap_at": T0 - dt.timedelta(minutes=5)}, "is not after charging starts"),
    ({"refining_min": 400}, "phases add up to"),
    ({"tons": 20}, "far from this furnace's capacity"),
    ({"tons": 400}, "far from this furnace's capacity"),
    ({"good_tons": 151}, "Good tons cannot exceed"),
    ({"shift": "X"}, "Unknown shift"),
    ({"crew": " "}, "Name the crew"),
    ({"charge_at": dt.datetime(1958, 1, 5, 8)}, "time zone"),
    ({"delays": [{"code": "lunch", "minutes": 5}]}, "reason code"),
    ({"delays": [{"code": "crane", "minutes": 0}]}, "minutes"),
    ({"fuel_kg_t": -1}, "Fuel per ton"),
])
def test_what_cannot_be_is_refused_with_its_reason(plant, change, match):
    h = dataclasses.replace(heat_input(1, T0, 540), **change)
    refused(plant, h, match)


def test_a_heat_in_the_future_is_refused(plant):
    refused(plant, heat_input(1, at(2999, 1, 1), 540), "future")


def test_overlapping_heats_on_one_furnace_are_refused(plant):
    actions.record_heat(plant.f8, heat_input(1, T0, 540), actor=plant.recorder)
    refused(plant, heat_input(2, T0 + dt.timedelta(hours=4), 540), "overlaps heat 1958-1")
    # fettling of the next heat may not start before the tap either
    refused(plant, heat_input(2, T0 + dt.timedelta(minutes=560), 500, fettling=30),
            "overlaps")
    # another furnace at the same time is fine
    h = actions.record_heat(plant.f3, heat_input(1, T0, 480, tons=185), actor=plant.recorder)
    assert (h.furnace, h.number, h.charge_at) == (plant.f3, 1, T0)
    assert Heat.objects.count() == 2


def test_a_heat_number_is_unique_per_furnace_and_year(plant):
    actions.record_heat(plant.f8, heat_input(1, T0, 540), actor=plant.recorder)
    refused(plant, heat_input(1, T0 + dt.timedelta(days=1), 540), "already exists")
    # the same number in the next year is another heat
    h = actions.record_heat(plant.f8, heat_input(1, at(1959, 1, 5), 540), actor=plant.recorder)
    assert (h.furnace, h.year, h.number) == (plant.f8, 1959, 1)
    assert sorted(Heat.objects.values_list("year", "number")) == [(1958, 1), (1959, 1)]


def test_only_recorders_record(plant):
    refused(plant, heat_input(1, T0, 540), "Only a recorder", actor=plant.worker)
    refused(plant, heat_input(1, T0, 540), "Only a recorder", actor=plant.verifier)


def test_a_second_person_verifies(plant):
    h = actions.record_heat(plant.f8, heat_input(1, T0, 540), actor=plant.verifier2)
    with pytest.raises(Forbidden, match="cannot verify it"):
        actions.verify_heat(h, actor=plant.verifier2)
    with pytest.raises(Forbidden, match="Only a verifier"):
        actions.verify_heat(h, actor=plant.recorder)
    actions.verify_heat(h, actor=plant.verifier)
    h.refresh_from_db()
    assert h.status == Heat.Status.VERIFIED and h.verified_by == plant.verifier
    with pytest.raises(Refused, match="verified already"):
        actions.verify_heat(h, actor=plant.verifier)
    assert [e.kind for e in h.events.all()] == ["recorded", "verified"]


def test_a_correction_is_an_event_with_its_reason_and_values(plant):
    (h,) = run(plant, plant.f8, T0, [540])
    with pytest.raises(InvalidInput, match="reason"):
        actions.correct_heat(h, actor=plant.verifier, reason="", changes={"good_tons": 140})
    with pytest.raises(InvalidInput, match="cannot be corrected"):
        actions.correct_heat(h, actor=plant.verifier, reason="x", changes={"number": 9})
    with pytest.raises(InvalidInput, match="Good tons"):
        actions.correct_heat(h, actor=plant.verifier, reason="x", changes={"good_tons": 999})
    with pytest.raises(Forbidden):
        actions.correct_heat(h, actor=plant.worker, reason="x", changes={"good_tons": 140})
    h = actions.correct_heat(h, actor=plant.verifier, reason="scale misread",
                           changes={"good_tons": 140})
    e = h.events.last()
    assert (e.kind, e.reason, e.data) == ("corrected", "scale misread", {"good_tons": [148, 140]})
    assert h.good_tons == 140 and h.version == 3


def test_outliers_are_flagged_not_refused(plant):
    hs = run(plant, plant.f8, T0, [540, 545, 535, 550, 540, 538, 542, 546, 541])
    odd = actions.record_heat(
        plant.f8, heat_input(20, hs[-1].tap_at + dt.timedelta(hours=1), 900),
        actor=plant.recorder)
    assert odd.outlier and odd.outlier_score > 3.5
    normal = actions.record_heat(
        plant.f8, heat_input(21, odd.tap_at + dt.timedelta(hours=1), 543),
        actor=plant.recorder)
    assert not normal.outlier


def test_the_bulk_load_asks_the_same_rules(plant):
    heats_in = [(plant.f8, heat_input(1, T0, 540))]
    with pytest.raises(Forbidden, match="Only a recorder"):
        actions.load(heats_in, recorder=plant.verifier)
    with pytest.raises(Forbidden, match="cannot verify it"):
        actions.load(heats_in, recorder=plant.verifier2, verifier=plant.verifier2)
    with pytest.raises(Forbidden, match="Only a verifier"):
        actions.load(heats_in, recorder=plant.recorder, verifier=plant.worker)
    assert not Heat.objects.exists()
    assert actions.load(heats_in, recorder=plant.recorder, verifier=plant.verifier) == 1
    assert Heat.objects.get().status == Heat.Status.VERIFIED
