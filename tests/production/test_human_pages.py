"""Numbers as people say them on the production pages, a streak told once, several values
corrected together, and the plant's own shifts."""

import datetime as dt

import pytest
from django.utils import translation

from tests.factories import at
from zhenggai import human
from zhenggai.errors import InvalidInput
from zhenggai.org.models import Organisation
from zhenggai.production import actions, records
from zhenggai.production.forms import HeatForm, correction_fields
from zhenggai.production.models import Heat, ShiftPlan, Target

from .conftest import heat_input, run
from .test_pages import login

T0 = at(1958, 1, 5, 8)


@pytest.mark.parametrize(("lang", "fn", "value", "want"), [
    ("en", human.percent, 0.1007, "10.1%"),
    ("en", human.percent, None, "—"),
    ("en", human.chance, 0.051, "5%"),
    ("en", human.chance, 0.004, "under 1%"),
    ("zh-hans", human.chance, 0.996, "99%以上"),
    ("en", human.chance, 1.0, "100%"),
    ("en", human.minutes, 470, "7 h 50 min"),
    ("zh-hans", human.minutes, 470, "7小时50分"),
    ("en", human.minutes, 45, "45 min"),
    ("zh-hans", human.minutes, 45, "45分钟"),
    ("en", human.minutes, 420, "7 h"),
    ("en", human.tonnes, 1_410_000, "1,410,000 t"),
    ("zh-hans", human.tonnes, 1_410_000, "141万吨"),
    ("zh-hans", human.tonnes, 1_234_567, "123.5万吨"),
    ("zh-hans", human.tonnes, 980, "980吨"),
    ("en", human.signed_percent, 0.0523, "+5.2%"),
    ("en", human.signed_percent, -0.031, "−3.1%"),
    ("en", human.number, 1410000, "1,410,000"),
])
def test_numbers_as_people_say_them(lang, fn, value, want):
    with translation.override(lang):
        assert fn(value) == want


def test_a_streak_is_listed_once_with_the_plant_records_on_its_line(plant):
    run(plant, plant.f8, T0, [560, 570, 565, 575, 530, 480, 430, 380, 400, 390])
    lines = records.streaks(plant.org.pk)
    assert [(s["furnace"], s["kind"], s["length"], s["plant"]) for s in lines] == [
        (plant.f8, "fastest", 4, 4)]
    assert lines[0]["first"].value == 530 and lines[0]["last"].value == 380


def _page(client, url, lang="en"):
    r = client.get(url, HTTP_ACCEPT_LANGUAGE=lang)
    assert r.status_code == 200, url
    return r.content.decode()


def test_production_pages_say_labels_hours_and_percentages(plant, client):
    Target.objects.create(org=plant.org, year=1958, plan_t=1_360_000, increase_t=50_000)
    run(plant, plant.f8, T0, [560, 570, 565, 575, 530, 480, 430, 380, 400, 390])
    Organisation.objects.filter(pk=plant.org.pk).update(clock_day=dt.date(1958, 1, 12))
    c = login(client, plant.worker)
    body = _page(c, "/production/records/")
    assert body.count("4 records in a row") == 1 and "3 records in a row" not in body
    assert "the last 4 of them were plant records too" in body
    assert "7 h 10 min" in body  # 430 min, the record before the last
    assert "470.00" not in body and "430.00" not in body
    body = _page(c, "/production/leaderboard/?start=1958-01-05&end=1958-01-12")
    for key in ("t_per_h", "t_per_m2_day", "vs_norm"):
        assert f">{key}<" not in body and f"<dt>{key}" not in body
    assert "good tons per hour" in body and "faster than the furnace&#x27;s own norm" in body
    body = _page(c, "/production/target/?day=1958-01-12")
    assert "1,410,000 t" in body and "P10" not in body and "likely between" in body
    assert "the scale starts at zero" in body
    zh = _page(c, "/production/target/?day=1958-01-12", "zh-hans")
    assert "141万吨" in zh and "重抽样" not in zh
    zh = _page(c, "/production/records/", "zh-hans")
    assert "7小时10分" in zh


def test_several_values_are_corrected_together_on_the_page(plant, client):
    heat = run(plant, plant.f8, T0, [540], verify=False)[0]
    c = login(client, plant.verifier)
    form = {f["name"]: f["value"] for f in correction_fields(heat)}
    # the tap alone would leave the phases 45 min short: refused, and nothing changes
    alone = dict(form, tap_at="1958-01-05T17:45", action="correct", version=heat.version,
                 reason="tap time misread")
    r = c.post(f"/production/heats/{heat.pk}/", alone)
    assert r.status_code == 400 and "phases add up" in r.content.decode()
    assert 'value="1958-01-05T17:45"' in r.content.decode()  # what was typed stays
    heat.refresh_from_db()
    assert heat.heat_min == 540
    both = dict(alone, refining_min=str(heat.refining_min + 45))
    r = c.post(f"/production/heats/{heat.pk}/", both)
    assert r.status_code == 302
    heat.refresh_from_db()
    assert heat.heat_min == 585 and heat.version == 2
    event = heat.events.get(kind="corrected")
    assert set(event.data) >= {"tap_at", "refining_min", "heat_min"}
    assert "shift" not in event.data and "delays" not in event.data
    body = _page(c, f"/production/heats/{heat.pk}/")
    assert "refining (min): 145 → 190" in body and "tap_at:" not in body


def test_a_plant_of_four_shifts_offers_ding(plant):
    assert [v for v, _ in HeatForm(org_id=plant.org.pk).fields["shift"].choices] == \
        ["A", "B", "C"]
    with pytest.raises(InvalidInput, match="runs no shift"):
        actions.record_heat(plant.f8, heat_input(1, T0, 540, shift="D", crew="丁班"),
                            actor=plant.recorder)
    assert not Heat.objects.exists()
    ShiftPlan.objects.create(org=plant.org, shifts="ABCD")
    with translation.override("zh-hans"):
        labels = [str(label) for _, label in HeatForm(org_id=plant.org.pk).fields["shift"].choices]
    assert any("丁" in label for label in labels)
    heat = actions.record_heat(plant.f8, heat_input(1, T0, 540, shift="D", crew="丁班"),
                               actor=plant.recorder)
    assert heat.shift == "D"
