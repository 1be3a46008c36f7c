"""Bad input gets a clear 4xx, never a 500, on both engines; text passes one cleaner; and a
500 is logged with its traceback but without a secret."""

import base64
import json
import logging

import pytest
from django.test import override_settings
from django.urls import path

from tests.factories import user_for
from tests.helpers import bring_to
from zhenggai import text
from zhenggai.errors import InvalidInput
from zhenggai.opinions.models import Opinion
from zhenggai.problems import actions, lifecycle

from ..api.test_api import Api

HUGE = [2**63, -(2**65), 10**30]
SURROGATE = "炉前\ud800太热"
ZERO_WIDTH = "\u200b\u200c\u200d\ufeff \u2060"
RLO = "请看\u202e文件名gpj.exe\u202c"


@pytest.fixture
def clerk_api(story, client):
    return Api(client, story.clerk)


@pytest.mark.parametrize("n", HUGE)
def test_ids_beyond_64_bits_are_a_4xx(story, clerk_api, n):
    p = bring_to(story, lifecycle.ASSIGNED)
    op = Opinion.objects.filter(problem=p).first()
    calls = [
        clerk_api.get(f"/problems?unit={n}"),
        clerk_api.get(f"/problems?owner={n}&category={n}&campaign={n}"),
        clerk_api.get(f"/opinions?campaign={story.campaign.pk}&after={n}"),
        clerk_api.get(f"/opinions?campaign={n}"),
        clerk_api.post("/problems", {"campaign": story.campaign.pk, "opinions": [n],
                                     "summary": "x"}),
        clerk_api.post("/problems", {"campaign": n, "opinions": [op.pk], "summary": "x"}),
        clerk_api.post(f"/problems/{p.pk}/opinions", {"opinions": [n]}),
        clerk_api.post(f"/problems/{p.pk}/followups",
                       {"opinion": n, "channel": "visit", "outcome": "satisfied"}),
        clerk_api.post("/opinions", {"campaign": story.campaign.pk, "text": "x", "unit": n}),
        clerk_api.get(f"/production/heats?furnace={n}"),
        clerk_api.get(f"/production/target?day=1958-01-01&furnace={n}"),
    ]
    cursor = base64.urlsafe_b64encode(json.dumps(["2020-01-01T00:00:00+00:00", n]).encode())
    calls.append(clerk_api.get(f"/problems?cursor={cursor.decode()}"))
    if n > 0:
        calls += [clerk_api.get(f"/problems/{n}"), clerk_api.get(f"/grouping/{n}/proposals"),
                  clerk_api.get(f"/production/heats/{n}")]
    for r in calls:
        # Never taken for a row that is not there (404) or a 500: the id itself is refused.
        assert r.status_code == 422, (r.status_code, r.content)
        assert r.json()["error"]["code"] in ("validation", "invalid"), r.content
    # The same client's good request still answers.
    assert clerk_api.get(f"/grouping/{story.campaign.pk}/proposals").status_code == 200


def test_a_huge_id_in_a_page_address_is_a_404(story, client):
    client.force_login(user_for(story.clerk))
    for url in (f"/grouping/{10**30}/proposals/", f"/grouping/{2**63}/proposals/",
                f"/problems/{2**63}/", f"/board/problems/{10**25}/"):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("bad, message", [
    (SURROGATE, "not valid Unicode"),
    ("炉前\x00太热", "NUL"),
])
def test_text_no_database_can_hold_is_refused_with_the_reason(story, clerk_api, client,
                                                              bad, message):
    r = clerk_api.post("/opinions", {"campaign": story.campaign.pk, "text": bad,
                                     "anonymous": False})
    assert r.status_code == 422 and message in r.json()["error"]["message"]
    p = bring_to(story, lifecycle.ASSIGNED)
    r = clerk_api.post(f"/problems/{p.pk}/posters", {"text": bad})
    assert r.status_code == 422 and message in r.json()["error"]["message"]
    r = Api(client, story.owner).post(f"/problems/{p.pk}/claims", {"done": bad})
    assert r.status_code == 422 and message in r.json()["error"]["message"]


def test_text_of_only_invisible_characters_is_empty(story, clerk_api, client):
    r = clerk_api.post("/opinions", {"campaign": story.campaign.pk, "text": ZERO_WIDTH,
                                     "anonymous": True})
    assert r.status_code == 422
    p = bring_to(story, lifecycle.ASSIGNED)
    with pytest.raises(InvalidInput, match="must not be empty"):
        actions.claim(p, actor=story.owner, done=ZERO_WIDTH)
    r = client.post("/submit/", {"text": ZERO_WIDTH, "anonymous": "on"},
                    HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 400 and not Opinion.objects.filter(text__contains="\u200b")


def test_bidi_controls_are_removed_and_text_shows_as_typed(story, clerk_api, client):
    r = clerk_api.post("/opinions", {"campaign": story.campaign.pk, "text": RLO,
                                     "anonymous": False})
    assert r.status_code == 201 and r.json()["opinion"]["text"] == "请看文件名gpj.exe"
    p = bring_to(story, lifecycle.ASSIGNED)
    actions.claim(p, actor=story.owner, done=RLO)
    assert "\u202e" not in p.events.get(kind="claim").note + str(p.events.get(kind="claim").data)
    client.force_login(user_for(story.worker))
    client.post("/submit/", {"text": "\u2067" + RLO})
    assert not Opinion.objects.filter(text__contains="\u202e").exists()
    assert text.clean("a\u200db") == "a\u200db"  # a joiner inside text stays (emoji, Indic)


def _boom(request):
    raise RuntimeError("kaboom with receipt 7KQ2-M9XD-4HTR-8WJB and Bearer abc.def")


urlpatterns = [path("boom/", _boom)]


@override_settings(ROOT_URLCONF=__name__, DEBUG_PROPAGATE_EXCEPTIONS=False)
def test_a_500_is_logged_with_its_traceback_and_without_secrets(db, client):
    client.raise_request_exception = False
    logger = logging.getLogger("django.request")
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    keep = Keep()
    keep.setFormatter(logging.Formatter("%(message)s"))
    for f in logger.handlers[0].filters:  # the same filter the configured handlers use
        keep.addFilter(f)
    logger.addHandler(keep)
    try:
        r = client.post("/boom/?receipt=7KQ2M9XD4HTR8WJB", {"password": "hunter2"},
                        HTTP_AUTHORIZATION="Bearer sekrit-token")
    finally:
        logger.removeHandler(keep)
    assert r.status_code == 500
    logged = "\n".join(records)
    assert "Traceback" in logged and "RuntimeError: kaboom" in logged and "_boom" in logged
    for secret in ("7KQ2", "M9XD", "hunter2", "sekrit", "abc.def"):
        assert secret not in logged
    # The error log file in the data folder has it too (stderr has the same handler filter).
    from django.conf import settings

    for h in logger.handlers:
        h.flush()
    written = (settings.DATA_DIR / "logs" / "errors.log").read_text(encoding="utf-8")
    assert "RuntimeError: kaboom" in written and "Traceback" in written
    for secret in ("7KQ2", "M9XD", "hunter2", "sekrit", "abc.def"):
        assert secret not in written
