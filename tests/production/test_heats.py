"""The heat's values are declared once (heats.HeatInput): the entry form and the API's
schema are made from that declaration and agree with it on names, labels and bounds."""

import datetime as dt
import typing

from zhenggai.production import heats
from zhenggai.production.api import Delay, HeatIn, HeatOut
from zhenggai.production.forms import DELAY_FIELDS, HeatForm, parse_value


def _bounds(field_info) -> dict:
    out = {}
    for m in field_info.metadata:
        for k in ("ge", "le", "max_length"):
            if getattr(m, k, None) is not None:
                out[k] = getattr(m, k)
    return out


def test_the_form_and_the_api_schema_are_made_from_the_declaration(db):
    declared = heats.declared(heats.HeatInput)
    names = [name for name, _tp, _e in declared]
    form = HeatForm(org_id=0)
    assert list(form.fields) == ["furnace", *[n for n in names if n != "delays"],
                                 *DELAY_FIELDS]
    assert list(HeatIn.model_fields) == ["furnace", *names]
    for name, _tp, entry in declared:
        schema = HeatIn.model_fields[name]
        if entry.choices is not None:
            assert typing.get_args(schema.annotation) == tuple(entry.choices.values)
            offered = [v for v, _label in form.fields[name].choices]
            if name == "shift":  # the plant's shifts (ShiftPlan): three unless set
                assert offered == ["A", "B", "C"]
            else:
                assert offered == entry.choices.values
            continue
        if name == "delays":
            assert schema.annotation == list[Delay]
            continue
        field = form.fields[name]
        assert field.label == entry.label
        want = {k: v for k, v in (("ge", entry.min), ("le", entry.max),
                                  ("max_length", entry.max_length)) if v is not None}
        assert _bounds(schema) == want, name
        assert (getattr(field, "min_value", None), getattr(field, "max_value", None),
                getattr(field, "max_length", None)) == (entry.min, entry.max, entry.max_length)
    for field_name, name in DELAY_FIELDS.items():
        assert name in Delay.model_fields and not form.fields[field_name].required
    # What the API gives back of the values written down has the declared type.
    for name in ("number", "crew", "charge_at", "tons", "grade"):
        assert HeatOut.model_fields[name].annotation is heats.TYPES[name]


def test_a_form_entry_becomes_the_declared_input(db, plant):
    form = HeatForm({"furnace": plant.f8.pk, "number": 7, "shift": "A", "crew": " 甲班 ",
                     "charge_at": "1958-01-05T08:00", "tap_at": "1958-01-05T17:00",
                     "fettling_min": 60, "charging_min": 60, "hot_metal_min": 30,
                     "meltdown_min": 280, "refining_min": 155, "tapping_min": 15, "tons": 150,
                     "good_tons": 148, "grade": "A3", "fuel_kg_t": 180, "delay_code": "crane",
                     "delay_min": 15}, org_id=plant.org.pk)
    assert form.is_valid(), form.errors
    h = form.heat_input()
    assert isinstance(h, heats.HeatInput) and h.delays == [{"code": "crane", "minutes": 15}]
    assert form.cleaned_data["furnace"] == plant.f8
    form = HeatForm(dict(form.data, delay_code="", fettling_min=2**31), org_id=plant.org.pk)
    assert not form.is_valid() and list(form.errors) == ["fettling_min"]


def test_a_corrected_value_is_read_in_its_declared_type():
    assert parse_value("good_tons", " 140 ") == 140.0
    assert parse_value("meltdown_min", "280") == 280
    assert parse_value("grade", "A3") == "A3"
    assert parse_value("delays", "") == []
    assert parse_value("tap_at", "1958-01-05T17:00").tzinfo is not None
    assert isinstance(parse_value("tap_at", "1958-01-05T17:00+08:00"), dt.datetime)
