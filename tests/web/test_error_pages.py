"""The 404, 403 and 500 pages: in the site's layout, in both languages; the 500 page is
made without a single query (the database may be why the request failed)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import path

import zhenggai.urls as site
from tests import factories as f
from zhenggai.production.models import Furnace


def boom(request):
    raise RuntimeError("a bug")


# This module is the URLconf of the 500 test: the site's, plus a view that fails.
urlpatterns = [path("boom/", boom), *site.urlpatterns]
handler404, handler403, handler500 = site.handler404, site.handler403, site.handler500


@pytest.mark.parametrize(("lang", "words"), [
    ("en", "There is no such page"), ("zh-hans", "没有这个页面")])
def test_an_unknown_address_gets_the_sites_404(db, client, lang, words):
    r = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE=lang)
    assert r.status_code == 404
    body = r.content.decode()
    assert words in body and 'class="site"' in body and "errors.css" in body
    assert 'name="viewport"' in body


def test_an_unknown_heat_of_a_member_gets_the_404_with_the_menu(db, client):
    o = f.org()
    m = f.member(o, "工人", f.unit(o, "steel"))
    client.force_login(f.user_for(m))
    Furnace.objects.create(org=o, number=8, capacity_t=150, hearth_m2=36, commissioned=1937)
    r = client.get("/production/heats/424242/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert r.status_code == 404
    body = r.content.decode()
    assert "没有这个页面" in body and "退出" in body  # signed in: the usual header


@pytest.mark.parametrize(("lang", "words"), [
    ("en", "This page is not open to you"), ("zh-hans", "您无权打开此页")])
def test_a_refused_page_gets_the_sites_403(db, client, lang, words):
    o = f.org()
    m = f.member(o, "工人", f.unit(o, "steel"))
    client.force_login(f.user_for(m))
    r = client.get("/production/heats/new/", HTTP_ACCEPT_LANGUAGE=lang)
    assert r.status_code == 403
    assert words in r.content.decode()


@pytest.mark.urls("tests.web.test_error_pages")
@pytest.mark.parametrize(("lang", "words"), [
    ("en", "Something went wrong on our side"), ("zh-hans", "我们这边出了差错")])
def test_a_bug_gets_the_500_page_without_a_query(db, client, lang, words):
    client.raise_request_exception = False
    with CaptureQueriesContext(connection) as queries:
        r = client.get("/boom/", HTTP_ACCEPT_LANGUAGE=lang)
    assert r.status_code == 500
    body = r.content.decode()
    assert words in body and "errors.css" in body and 'name="viewport"' in body
    assert len(queries) == 0


def test_the_browsers_favicon_request_gets_the_sites_icon(db, client):
    r = client.get("/favicon.ico")
    assert r.status_code == 302
    icon = client.get(r["Location"])
    assert icon.status_code == 200 and b"<svg" in b"".join(icon.streaming_content)
    page = client.get("/no-such-page/").content.decode()
    assert f'<link rel="icon" href="{r["Location"]}"' in page
