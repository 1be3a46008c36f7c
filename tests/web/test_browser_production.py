"""The production pages, the error pages and the API docs in Chromium, in both languages, at
360 px and 1920 px: no sideways scroll, no raw key (t_per_h …), no bare decimal (0.051,
470.00) in what is shown. Screenshots under screenshots/<lang>/prod-*.png."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.factories import at
from tests.production.conftest import plant, run  # noqa: F401  (the plant fixture)
from tests.web import pagecheck
from tests.web.test_browser import SHOTS, Walk, browser  # noqa: F401  (the browser fixture)
from zhenggai.org.models import Organisation
from zhenggai.production.models import DelayCode, ShiftPlan, Target

pytestmark = pytest.mark.slow

# The production pages' own keys. Not the delays' codes: the correction form is typed in
# them ("crane 15, scrap 20") and lists them with their meanings.
RAW_KEYS = re.compile(r"\b(t_per_h|t_per_m2_day|vs_norm|tap_at|charge_at|heat_min|"
                      r"good_tons|fettling_min|refining_min|best_week)\b")


def check(page, name: str, lang: str, **how) -> None:
    pagecheck.check(page, name, lang, shots=SHOTS / lang, prefix="prod-", settle_ms=150,
                    raw_key=RAW_KEYS, **how)


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_production_error_and_docs_pages_on_a_phone_and_a_wall(live_server, browser,  # noqa: F811
                                                                plant, tmp_path, lang):  # noqa: F811
    ShiftPlan.objects.create(org=plant.org, shifts="ABCD")
    Target.objects.create(org=plant.org, year=1958, plan_t=1_360_000, increase_t=50_000)
    t0 = at(1958, 1, 5, 8)
    run(plant, plant.f8, t0, [560, 570, 565, 575, 530, 480, 430, 380, 400, 390])
    run(plant, plant.f3, t0, [480, 470, 500, 460, 455], tons=185)
    unverified = run(plant, plant.f3, t0 + dt.timedelta(days=5), [470], tons=185,
                     first_number=50, verify=False,
                     delays=[{"code": "hot_metal", "minutes": 15},
                             {"code": "crane", "minutes": 5}])[0]
    Organisation.objects.filter(pk=plant.org.pk).update(clock_day=dt.date(1958, 1, 12))
    walk = Walk(browser, live_server.url, lang, tmp_path)
    base = live_server.url
    page = walk.page(plant.verifier)
    for name, url in (
        ("overview", "/production/?day=1958-01-12"),
        ("records", "/production/records/"),
        ("competition", "/production/leaderboard/?start=1958-01-05&end=1958-01-12"),
        ("competition-shift", "/production/leaderboard/?start=1958-01-05&end=1958-01-12"
                              "&by=shift&rank=t_per_h"),
        ("target", "/production/target/?day=1958-01-12"),
        ("heats", "/production/heats/"),
        ("heat", f"/production/heats/{unverified.pk}/"),
        ("not-found", "/production/heats/999999/"),
    ):
        page.goto(base + url)
        if name == "heat":
            page.click("details.correct-form summary")
            # Its delays read as their reasons, in the page's language; only the correction
            # form, typed in codes, lists the codes (crane, scrap …) with their meanings.
            reason = {"en": "waiting for hot metal 15 min", "zh-hans": "等铁水 15 分钟"}[lang]
            assert reason in page.inner_text("main")
            check(page, name, lang, english_ok=(*pagecheck.ENGLISH_OK, *DelayCode.values))
        else:
            check(page, name, lang)
    page.goto(base + "/production/target/?day=1958-01-12")
    box = page.eval_on_selector("#rates", "e => e.getBoundingClientRect().height")
    assert box >= 200, f"the chart is {box} px tall"
    worker = walk.page(plant.worker)
    worker.goto(base + "/production/heats/new/")
    check(worker, "forbidden", lang)
    anon = walk.page()
    anon.goto(base + "/api/v1/docs")
    anon.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
    # The docs quote OpenAPI's "3.1"; Swagger UI is in English, in its own colours.
    check(anon, "api-docs", lang, decimals=False, english_ok=None, contrast=False)
