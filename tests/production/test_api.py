"""The production actions and reads over the JSON API, with per-member tokens."""

import datetime as dt

import pytest

from zhenggai.api.models import ApiToken
from zhenggai.production.models import Heat, Target

from .conftest import run

T0 = dt.datetime(1958, 1, 5, 8, tzinfo=dt.timezone(dt.timedelta(hours=8)))
HEAT = {"furnace": 8, "number": 7, "shift": "A", "crew": "甲班",
        "charge_at": "1958-01-05T08:00:00+08:00", "tap_at": "1958-01-05T17:00:00+08:00",
        "fettling_min": 60, "charging_min": 60, "hot_metal_min": 30, "meltdown_min": 280,
        "refining_min": 155, "tapping_min": 15, "tons": 150, "good_tons": 148,
        "grade": "A3", "fuel_kg_t": 180, "delays": [{"code": "crane", "minutes": 15}]}


@pytest.fixture
def call(client):
    def call(member, method, path, body=None, lang="en"):
        _, token = ApiToken.issue(member)
        kw = {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_ACCEPT_LANGUAGE": lang}
        if body is not None:
            kw.update(data=body, content_type="application/json")
        return getattr(client, method)(f"/api/v1/production{path}", **kw)
    return call


def test_record_verify_and_correct_over_the_api(plant, call):
    r = call(plant.recorder, "post", "/heats", dict(HEAT, tap_at="1958-01-05T07:00:00+08:00"))
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid"
    assert "is not after charging starts" in r.json()["error"]["message"]
    r = call(plant.recorder, "post", "/heats", dict(HEAT, tap_at="1958-01-05T07:00:00+08:00"),
             lang="zh-hans")
    assert "不晚于装料开始时间" in r.json()["error"]["message"]
    assert not Heat.objects.exists()
    r = call(plant.recorder, "post", "/heats", HEAT)
    assert r.status_code == 201, r.content
    heat = r.json()
    assert heat["heat_min"] == 540 and heat["status"] == "recorded" and heat["furnace"] == 8
    r = call(plant.recorder, "post", f"/heats/{heat['id']}/verify", {})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    r = call(plant.verifier, "post", f"/heats/{heat['id']}/verify", {"version": 99})
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
    r = call(plant.verifier, "post", f"/heats/{heat['id']}/verify", {"version": 1})
    assert r.status_code == 200 and r.json()["status"] == "verified"
    r = call(plant.verifier, "post", f"/heats/{heat['id']}/corrections",
             {"reason": "scale misread", "changes": {"good_tons": 140}})
    assert r.status_code == 200 and r.json()["good_tons"] == 140
    r = call(plant.verifier, "post", f"/heats/{heat['id']}/corrections",
             {"reason": "x", "changes": {"tap_at": "yesterday"}})
    assert r.status_code == 422


def test_reads(plant, call):
    Target.objects.create(org=plant.org, year=1958, plan_t=900, increase_t=100)
    run(plant, plant.f8, T0, [560, 530, 500])
    r = call(plant.worker, "get", "/furnaces")
    assert sorted(f["number"] for f in r.json()) == [3, 8]
    r = call(plant.worker, "get", "/heats?furnace=8&limit=2")
    assert [h["number"] for h in r.json()] == [3, 2]
    older = call(plant.worker, "get", f"/heats?furnace=8&before={r.json()[-1]['tap_at']}")
    assert [h["number"] for h in older.json()] == [1]
    r = call(plant.worker, "get", "/records?kind=fastest&furnace=8")
    assert [(x["value"], x["streak"]) for x in r.json()] == [(530, 1), (500, 2)]
    r = call(plant.worker, "get", "/leaderboard?start=1958-01-05&end=1958-01-06&by=crew")
    assert r.json()["rows"][0]["key"] == "甲班" and "t_per_h" in r.json()["notes"]
    r = call(plant.worker, "get", "/target?day=1958-01-06")
    assert r.json()["goal_t"] == 1000 and r.json()["done_t"] == 444
    Target.objects.create(org=plant.org, furnace=plant.f8, year=1958, plan_t=500)
    r = call(plant.worker, "get", "/target?day=1958-01-06&furnace=8")
    assert r.json()["goal_t"] == 500 and r.json()["done_t"] == 444
    assert call(plant.worker, "get", "/target?day=1958-01-06&furnace=77").status_code == 422
    r = call(plant.worker, "get", "/target?day=1960-01-06")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_tokens(plant, client):
    assert client.get("/api/v1/production/furnaces").status_code == 401
    row, token = ApiToken.issue(plant.worker, "script")
    assert row.key_hash != token and token not in row.key_hash
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert client.get("/api/v1/production/furnaces", **auth).status_code == 200
    row.refresh_from_db()
    assert row.last_used_at is not None
    row.revoke()
    r = client.get("/api/v1/production/furnaces", **auth)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"


def test_openapi_document_is_served(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert "/api/v1/production/heats" in paths and "/api/v1/production/target" in paths


def test_token_cli(plant, tmp_path):
    from click.testing import CliRunner
    from django.contrib.auth import get_user_model

    from zhenggai.cli import main

    user = get_user_model().objects.create_user("rec", password="pw")
    plant.recorder.user = user
    plant.recorder.save()
    runner = CliRunner()
    r = runner.invoke(main, ["token", "create", "rec", "--name", "scale"])
    assert r.exit_code == 0, r.output
    plain = r.output.splitlines()[0]
    assert plain.startswith("zg_") and not ApiToken.objects.filter(key_hash=plain).exists()
    prefix = ApiToken.objects.get().prefix
    assert prefix in runner.invoke(main, ["token", "list", "rec"]).output
    assert runner.invoke(main, ["token", "revoke", prefix]).exit_code == 0
    assert ApiToken.objects.get().revoked_at is not None
    assert runner.invoke(main, ["token", "create", "nobody"]).exit_code != 0
