"""The production pages, through the Django test client, in both languages."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model

from zhenggai.org.models import Organisation
from zhenggai.production.models import Heat, Target

from .conftest import run

T0 = dt.datetime(1958, 1, 5, 8, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def login(client, member):
    user = get_user_model().objects.create_user(f"u{member.pk}", password="pw")
    member.user = user
    member.save()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(user)
    return client


@pytest.fixture
def logged(plant, client):
    return lambda m: login(client, m)


def test_pages_render_with_the_figures(plant, logged):
    Target.objects.create(org=plant.org, year=1958, plan_t=900, increase_t=100)
    run(plant, plant.f8, T0, [560, 530, 500])
    # The pages show the organisation's today: its clock stands in January 1958. Pinned
    # after recording: on the pinned day "now" is the real time of day, and the last heat
    # taps at 03:10, which is still to come before 03:10 Beijing time.
    Organisation.objects.filter(pk=plant.org.pk).update(clock_day=dt.date(1958, 1, 6))
    c = logged(plant.worker)
    for name in ("overview", "heats", "records", "leaderboard", "target"):
        r = c.get(f"/production/{'' if name == 'overview' else name + '/'}")
        assert r.status_code == 200, name
    r = c.get("/production/records/")
    assert "2 records in a row" in r.content.decode()
    r = c.get("/production/target/?day=1958-01-06")
    body = r.content.decode()
    assert "1,000 t" in body and "chart.umd.min.js" in body and "444 t" in body  # done
    r = c.get("/production/leaderboard/?start=1958-01-05&end=1958-01-06&by=crew")
    assert "甲班" in r.content.decode()
    r = c.get("/production/leaderboard/?start=1958-01-06&end=1958-01-05")
    assert r.status_code == 400 and "ends before it starts" in r.content.decode()


def test_pages_in_chinese(plant, logged):
    run(plant, plant.f8, T0, [560, 530, 500])
    c = logged(plant.worker)
    r = c.get("/production/records/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    body = r.content.decode()
    assert "纪录" in body and "连续" in body


def test_recording_and_verifying_through_the_pages(plant, logged):
    c = logged(plant.recorder)
    form = {"furnace": plant.f8.pk, "number": 7, "shift": "A", "crew": "甲班",
            "charge_at": "1958-01-05T08:00", "tap_at": "1958-01-05T17:00",
            "fettling_min": 60, "charging_min": 60, "hot_metal_min": 30, "meltdown_min": 280,
            "refining_min": 155, "tapping_min": 15, "tons": 150, "good_tons": 148,
            "grade": "A3", "fuel_kg_t": 180, "delay_code": "crane", "delay_min": 15}
    bad = dict(form, tap_at="1958-01-05T07:00")
    r = c.post("/production/heats/new/", bad)
    assert r.status_code == 400 and "is not after charging starts" in r.content.decode()
    assert not Heat.objects.exists()
    r = c.post("/production/heats/new/", form)
    assert r.status_code == 302
    heat = Heat.objects.get()
    assert heat.heat_min == 540 and heat.delays == [{"code": "crane", "minutes": 15}]
    # the recorder sees no verify button and cannot verify by posting either
    page = c.get(f"/production/heats/{heat.pk}/").content.decode()
    assert 'value="verify"' not in page
    r = c.post(f"/production/heats/{heat.pk}/", {"action": "verify", "version": heat.version})
    assert r.status_code == 400 and "Only a verifier" in r.content.decode()
    c.logout()
    c = logged(plant.verifier)
    r = c.post(f"/production/heats/{heat.pk}/", {"action": "verify", "version": heat.version})
    assert r.status_code == 302
    heat.refresh_from_db()
    assert heat.status == Heat.Status.VERIFIED
    r = c.post(f"/production/heats/{heat.pk}/", {"action": "correct", "version": heat.version,
                                                 "field": "good_tons", "value": "abc",
                                                 "reason": "scale"})
    assert r.status_code == 400 and "not a valid value" in r.content.decode()
    r = c.post(f"/production/heats/{heat.pk}/", {"action": "correct", "version": heat.version,
                                                 "field": "good_tons", "value": "140",
                                                 "reason": "scale misread"})
    assert r.status_code == 302
    heat.refresh_from_db()
    assert heat.good_tons == 140
    assert "scale misread" in c.get(f"/production/heats/{heat.pk}/").content.decode()


def test_entry_is_for_recorders_and_pages_for_members(plant, logged, client):
    assert client.get("/production/").status_code == 302  # to the login
    c = logged(plant.worker)
    assert c.get("/production/heats/new/").status_code == 403
    assert c.post("/production/heats/new/", {}).status_code == 403


def test_the_heat_page_shows_what_rules_offer(plant, logged):
    heat = run(plant, plant.f8, T0, [540], verify=False)[0]
    c = logged(plant.verifier)
    page = c.get(f"/production/heats/{heat.pk}/").content.decode()
    assert 'value="verify"' in page and 'value="correct"' in page
    c.post(f"/production/heats/{heat.pk}/", {"action": "verify", "version": heat.version})
    page = c.get(f"/production/heats/{heat.pk}/").content.decode()
    assert 'value="verify"' not in page and 'value="correct"' in page
    c.logout()
    page = logged(plant.worker).get(f"/production/heats/{heat.pk}/").content.decode()
    assert 'value="verify"' not in page and 'value="correct"' not in page
