"""The situation page: the figures, in the user's language, for any day."""

from tests.helpers import bring_to


def test_situation_page_shows_claimed_verified_and_false(client, story):
    from zhenggai.problems import lifecycle

    bring_to(story, lifecycle.REOPENED)
    r = client.get("/?as_of=1957-09-10&by=unit", HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 200
    body = r.content.decode()
    assert "false figures" in body and "Workshop furnace8" in body
    t = r.context["result"]["total"]
    assert (t["claims"], t["false_figures"]) == (1, 1)


def test_situation_page_in_chinese_and_bad_dates(client, story):
    r = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert r.status_code == 200 and "虚假数" in r.content.decode()
    bad = client.get("/?as_of=20-01-1958", HTTP_ACCEPT_LANGUAGE="en")
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.content.decode()


def test_language_switch(client, db):
    r = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert r.status_code == 302
    assert "zhenggai · rectification ledger" in client.get("/").content.decode()
