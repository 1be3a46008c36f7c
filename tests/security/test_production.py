"""Production settings: `check --deploy` is clean with a production environment, the server
refuses to start without a secret key and hosts (the demo and the suite need neither), and
every page carries the security headers."""

import os
import secrets
import subprocess
import sys

import pytest

from tests.helpers import bring_to
from zhenggai.problems import lifecycle

PRODUCTION_ENV = {
    "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "zhenggai.example",
    "ZHENGGAI_SSL_REDIRECT": "1", "ZHENGGAI_HSTS_SECONDS": "31536000",
    "ZHENGGAI_HSTS_INCLUDE_SUBDOMAINS": "1", "ZHENGGAI_HSTS_PRELOAD": "1",
    "ZHENGGAI_SECURE_COOKIES": "1",
}


def _env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DEBUG", "ZHENGGAI_DEMO", "SECRET_KEY", "ALLOWED_HOSTS",
                        "DJANGO_SETTINGS_MODULE")}
    env["ZHENGGAI_DATA"] = str(tmp_path)
    env.update(extra)
    return env


def _zhenggai(*args, env):
    return subprocess.run([sys.executable, "-m", "zhenggai.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_a_production_environment(tmp_path):
    r = _zhenggai("manage", "check", "--deploy", "--fail-level", "WARNING",
                  env=_env(tmp_path, **PRODUCTION_ENV))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no issues" in r.stdout + r.stderr


def test_production_without_a_secret_key_or_hosts_does_not_start(tmp_path):
    r = _zhenggai("manage", "check", "--deploy", env=_env(tmp_path))
    assert r.returncode != 0 and "zhenggai.E001" in r.stderr and "SECRET_KEY" in r.stderr
    code = "import zhenggai.wsgi"
    r = subprocess.run([sys.executable, "-c", code], env=_env(tmp_path), capture_output=True,
                       text=True, timeout=120)
    assert r.returncode != 0 and "needs SECRET_KEY, ALLOWED_HOSTS" in r.stderr
    # The demo starts on its own key; so does development.
    for extra in ({"ZHENGGAI_DEMO": "1"}, {"DEBUG": "1"}, PRODUCTION_ENV):
        r = subprocess.run([sys.executable, "-c", code], env=_env(tmp_path, **extra),
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr


def test_pages_carry_a_csp_without_outside_sources_and_frame_rules(story, client):
    r = client.get("/")
    csp = r["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "http" not in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and r["X-Frame-Options"] == "DENY"
    assert r["Referrer-Policy"] == "same-origin" and r["X-Content-Type-Options"] == "nosniff"
    kiosk = client.get("/board/?kiosk=1")
    assert kiosk["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in kiosk["Content-Security-Policy"]
    assert client.get("/board/")["X-Frame-Options"] == "DENY"


def test_the_kiosk_may_be_framed_by_the_organisations_own_screens(story, client, settings):
    settings.KIOSK_FRAME_ANCESTORS = "'self' https://screens.plant.example"
    r = client.get("/board/?kiosk=1")
    assert "frame-ancestors 'self' https://screens.plant.example" in r[
        "Content-Security-Policy"]
    assert not r.has_header("X-Frame-Options")


@pytest.mark.parametrize("page", ["/submit/", "/receipt/"])
def test_pages_that_show_a_receipt_are_never_stored(story, client, page):
    r = client.get(page)
    assert "no-store" in r["Cache-Control"]
    r = client.post("/submit/", {"text": "炉前太热", "anonymous": "on"})
    assert r.status_code == 200 and "no-store" in r["Cache-Control"]
    r = client.post("/api/v1/opinions", {"campaign": story.campaign.pk, "text": "炉前太热",
                                         "anonymous": True}, content_type="application/json")
    assert r.status_code == 201 and r["Cache-Control"] == "no-store"


def test_no_template_has_inline_script_or_style():
    from pathlib import Path

    import zhenggai

    root = Path(zhenggai.__file__).parent
    for html in root.rglob("*.html"):
        body = html.read_text(encoding="utf-8")
        assert "<style" not in body, html
        assert " style=" not in body, html
        assert " onclick=" not in body and " onload=" not in body, html
        for chunk in body.split("<script")[1:]:
            assert chunk.lstrip().startswith("src="), html


def test_the_problem_page_still_works_under_the_policy(story, client):
    from tests.factories import user_for

    p = bring_to(story, lifecycle.CLAIMED)
    client.force_login(user_for(story.rep))
    r = client.get(f"/problems/{p.pk}/")
    assert r.status_code == 200 and "Content-Security-Policy" in r
