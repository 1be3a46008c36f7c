"""The production side of the Anshan replay: No. 8's four records in a row, the last
6 h 20 min, and the +50,000 t target."""

import datetime as dt

import pytest

from tests import factories as f
from zhenggai.demo import production as anshan
from zhenggai.demo import texts
from zhenggai.production import competition, targets
from zhenggai.production.models import Furnace, Heat, Record, RecordKind


@pytest.fixture
def replay(db):
    org = f.org("鞍钢第一炼钢厂")
    units = {}
    for code, parent, _name, _name_en in texts.UNITS:
        u = f.unit(org, code, units.get(parent))
        units[code] = u
    result = anshan.build(org, units, "pw")
    return org, result


def test_no8_sets_four_records_in_a_row_the_last_6h20(replay):
    org, result = replay
    assert result["furnaces"] == 9 and result["heats"] > 2000
    no8 = Furnace.objects.get(org=org, number=8)
    recs = list(Record.objects.filter(furnace=no8, kind=RecordKind.FASTEST)
                .select_related("heat").order_by("heat__tap_at"))
    # earlier records were all still over nine hours a heat; then the streak
    *older, a, b, c, last = recs
    assert all(r.value > 9 * 60 for r in older)
    recs = [a, b, c, last]
    assert [r.value for r in recs] == [520, 470, 425, 380]
    assert [r.streak for r in recs] == [1, 2, 3, 4]
    assert (last.value // 60, last.value % 60) == (6, 20)
    assert last.previous == 425
    # in the last two days before the report
    assert dt.date(1958, 1, 25) <= recs[0].day and last.day <= dt.date(1958, 1, 28)
    # before the streak No. 8 always took over nine hours
    before = Heat.objects.filter(furnace=no8, tap_at__lt=recs[0].heat.tap_at)
    assert before.count() > 100
    assert min(before.values_list("heat_min", flat=True)) > 9 * 60
    # its streak beats its own norm by the most of any furnace's last record
    assert last.vs_norm == pytest.approx(560 / 380 - 1, abs=1e-4)


def test_the_year_target_is_plus_50000_t(replay):
    org, _ = replay
    p = targets.progress(org.pk, dt.date(1958, 1, 28))
    assert p.increase_t == 50_000 and p.goal_t == anshan.PLAN_1958 + 50_000
    assert 0 < p.done_t < p.goal_t
    assert p.needed_per_furnace_day > 0 and p.p10_t <= p.forecast_t <= p.p90_t
    assert 0 <= p.probability <= 1
    board = competition.leaderboard(org.pk, dt.date(1958, 1, 1), dt.date(1958, 1, 28))
    assert len(board) == 9 and all(r["heats"] > 0 for r in board)
