"""Records, streaks, fair leaderboards and the forecast, against hand-computed values."""

import datetime as dt

import numpy as np
import pytest

from tests.factories import at
from zhenggai.errors import InvalidInput, NotFound
from zhenggai.production import actions, competition, records, targets
from zhenggai.production.models import Record, RecordKind, Repair, Target

from .conftest import run

T0 = at(1958, 1, 5, 8)


def fastest(plant, furnace):
    return list(Record.objects.filter(furnace=furnace, kind=RecordKind.FASTEST)
                .order_by("day", "heat__tap_at").values_list("value", "previous", "streak"))


def test_records_against_the_furnaces_own_history_and_streaks(plant):
    # over nine hours a heat, then four records in a row, the last 6 h 20 min
    run(plant, plant.f8, T0, [560, 570, 565, 575, 530, 480, 430, 380, 400, 390])
    assert fastest(plant, plant.f8) == [
        (530, 560, 1), (480, 530, 2), (430, 480, 3), (380, 430, 4)]
    last = Record.objects.get(furnace=plant.f8, kind=RecordKind.FASTEST, streak=4)
    assert last.vs_norm == pytest.approx(560 / 380 - 1, abs=1e-4)
    # the plant-wide record is the same heat here: No. 8 is the only furnace running
    plant_best = Record.objects.filter(furnace__isnull=True, kind=RecordKind.FASTEST)
    assert min(plant_best.values_list("value", flat=True)) == 380
    # … and its streak is the plant's streak too: the same furnace's consecutive heats
    assert list(plant_best.order_by("heat__tap_at").values_list("value", "streak"))[-4:] == [
        (530, 1), (480, 2), (430, 3), (380, 4)]


def test_an_old_furnace_sets_records_while_a_newer_one_is_faster(plant):
    run(plant, plant.f3, T0, [400, 380, 390])
    run(plant, plant.f8, T0, [560, 520, 500])
    assert [v for v, _, _ in fastest(plant, plant.f8)] == [520, 500]
    assert [v for v, _, _ in fastest(plant, plant.f3)] == [380]
    plant_values = sorted(Record.objects.filter(furnace__isnull=True, kind=RecordKind.FASTEST)
                          .values_list("value", flat=True))
    assert plant_values == [380]  # No. 8 is slower than No. 3 in absolute terms


def test_only_verified_heats_count(plant):
    run(plant, plant.f8, T0, [560, 500], verify=False)
    assert not Record.objects.exists()


def test_a_correction_that_removes_a_record_restores_the_previous_one(plant):
    hs = run(plant, plant.f8, T0, [560, 530, 500])
    assert [v for v, _, _ in fastest(plant, plant.f8)] == [530, 500]
    wrong = hs[2]
    actions.correct_heat(wrong, actor=plant.verifier, reason="tap time was misread",
                       changes={"tap_at": wrong.charge_at + dt.timedelta(minutes=545),
                                "refining_min": wrong.refining_min + 45})
    assert fastest(plant, plant.f8) == [(530, 560, 1)]
    assert Record.objects.filter(furnace__isnull=True, kind=RecordKind.FASTEST).get().value == 530


def test_most_tons_and_best_week_by_hand(plant):
    # one heat a day for 9 days; tons 150, 140 ×7, 150 (good = tons - 2)
    start = T0
    tons = [150] + [140] * 7 + [150]
    for i, t in enumerate(tons):
        h = actions.record_heat(
            plant.f8, _day_heat(i + 1, start + dt.timedelta(days=i), t), actor=plant.recorder)
        actions.verify_heat(h, actor=plant.verifier)
    heaviest = Record.objects.filter(furnace=plant.f8, kind=RecordKind.HEAVIEST)
    assert not heaviest.exists()  # 148 is never beaten
    weeks = list(Record.objects.filter(furnace=plant.f8, kind=RecordKind.BEST_WEEK)
                 .order_by("day").values_list("day", "value"))
    # windows: days 1–7 = 148 + 6·138 = 976; 2–8 = 7·138 = 966; 3–9 = 6·138 + 148 = 976
    # neither later window beats the first: no record after the first week
    assert weeks == []
    h = actions.record_heat(plant.f8, _day_heat(10, start + dt.timedelta(days=9), 160),
                          actor=plant.recorder)
    actions.verify_heat(h, actor=plant.verifier)
    # window 4–10 = 5·138 + 148 + 158 = 996 → 996 / (7 · 36) t/m²/day
    (w,) = Record.objects.filter(furnace=plant.f8, kind=RecordKind.BEST_WEEK)
    assert w.day == dt.date(1958, 1, 14)
    assert w.value == pytest.approx(996 / (7 * 36), abs=1e-6)
    assert w.previous == pytest.approx(976 / (7 * 36), abs=1e-6)
    (big,) = Record.objects.filter(furnace=plant.f8, kind=RecordKind.HEAVIEST)
    assert (big.value, big.previous) == (158, 148)


def _day_heat(n, t, tons):
    from .conftest import heat_input
    return heat_input(n, t, 540, tons=tons)


def test_recompute_gives_the_same_records(plant):
    run(plant, plant.f8, T0, [560, 530, 500, 510, 490])
    run(plant, plant.f3, T0, [400, 380, 390])
    def rows():
        return sorted((f or 0, k, v, s) for f, k, v, s in
                      Record.objects.values_list("furnace_id", "kind", "value", "streak"))

    before = rows()
    assert before
    Record.objects.all().delete()
    records.recompute(plant.org.pk)
    assert rows() == before


def test_leaderboard_figures_by_hand(plant):
    run(plant, plant.f8, T0, [560, 500], tons=150)  # good 148 each, norm 560
    run(plant, plant.f3, T0, [480, 400], tons=185, crew="乙班", shift="B")  # good 183, norm 480
    day = dt.date(1958, 1, 5)
    board = {r["key"]: r for r in competition.leaderboard(plant.org.pk, day, day + dt.timedelta(1))}
    f8, f3 = board[8], board[3]
    assert f8["heats"] == 2 and f8["good_tons"] == 296
    assert f8["t_per_h"] == pytest.approx(296 / (1060 / 60), abs=1e-3)
    assert f8["t_per_m2_day"] == pytest.approx(296 / (36 * 2), abs=1e-3)
    assert f8["vs_norm"] == pytest.approx(((560 / 560 - 1) + (560 / 500 - 1)) / 2, abs=1e-4)
    assert f3["vs_norm"] == pytest.approx(((480 / 480 - 1) + (480 / 400 - 1)) / 2, abs=1e-4)
    # No. 3 beats its norm by more than No. 8 beats its own: it ranks first
    ranked = competition.leaderboard(plant.org.pk, day, day + dt.timedelta(1))
    assert [r["key"] for r in ranked] == [3, 8] and ranked[0]["rank"] == 1
    crews = {r["key"]: r for r in competition.leaderboard(
        plant.org.pk, day, day + dt.timedelta(1), by="crew", rank="t_per_m2_day")}
    assert crews["乙班"]["t_per_m2_day"] == pytest.approx(366 / (42 * 880 / 1440), abs=1e-3)
    with pytest.raises(InvalidInput):
        competition.leaderboard(plant.org.pk, day, day, by="colour")
    with pytest.raises(InvalidInput):
        competition.leaderboard(plant.org.pk, day, day - dt.timedelta(1))


def test_forecast_on_synthetic_data_with_a_known_rate():
    # 10 furnace-days a week at exactly 100 t a furnace-day: the forecast is exact
    remaining = np.full(70, 10)
    point, p10, p90, totals = targets.forecast(5000.0, [100.0] * 8, remaining)
    assert point == pytest.approx(5000 + 100 * 700)
    assert p10 == pytest.approx(point) and p90 == pytest.approx(point)
    # noisy weeks around a true rate of 100: the band holds the truth, and is ordered
    rng = np.random.default_rng(7)
    rates = list(100 + rng.normal(0, 10, size=8))
    point, p10, p90, totals = targets.forecast(0.0, rates, remaining)
    assert p10 < 100 * 700 < p90
    assert p10 < point < p90
    assert 0.2 < (totals >= 70000).mean() < 0.8


def test_progress_and_rate_still_needed(plant):
    Target.objects.create(org=plant.org, year=1958, plan_t=900, increase_t=100)
    run(plant, plant.f8, T0, [560, 500], tons=150)  # 296 good tons
    Repair.objects.create(furnace=plant.f3, starts=dt.date(1958, 12, 1),
                          ends=dt.date(1958, 12, 31))
    day = dt.date(1958, 1, 6)
    p = targets.progress(plant.org.pk, day)
    assert p.done_t == 296 and p.goal_t == 1000
    rest_days = (dt.date(1958, 12, 31) - day).days  # per furnace
    assert p.remaining_furnace_days == 2 * rest_days - 31
    assert p.needed_per_furnace_day == pytest.approx(704 / (2 * rest_days - 31), abs=0.01)
    assert p.run_rate is not None and p.p10_t <= p.forecast_t <= p.p90_t
    with pytest.raises(NotFound):
        targets.progress(plant.org.pk, dt.date(1960, 1, 1))
    # a furnace's own target counts only its heats and its own furnace-days
    Target.objects.create(org=plant.org, furnace=plant.f8, year=1958, plan_t=500)
    p8 = targets.progress(plant.org.pk, day, plant.f8)
    assert p8.done_t == 296 and p8.goal_t == 500
    assert p8.remaining_furnace_days == rest_days


def test_the_plant_day_ledger_equals_the_heat_log(plant):
    from zhenggai.production.models import PlantDay

    hs = run(plant, plant.f8, T0, [560, 530, 500, 510])
    run(plant, plant.f3, T0, [400, 380], tons=185)
    actions.correct_heat(hs[1], actor=plant.verifier, reason="scale", changes={"good_tons": 120})
    actions.correct_heat(hs[3], actor=plant.verifier, reason="clock",
                       changes={"charge_at": hs[3].charge_at + dt.timedelta(days=1),
                                "tap_at": hs[3].tap_at + dt.timedelta(days=1)})
    kept = sorted((d, round(t, 6)) for d, t in PlantDay.objects.values_list("day", "good_tons")
                  if t)
    records.rebuild_plant_days(plant.org.pk)
    assert kept == sorted((d, round(t, 6)) for d, t in
                          PlantDay.objects.values_list("day", "good_tons"))
