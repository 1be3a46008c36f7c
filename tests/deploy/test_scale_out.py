"""App servers hold no state that another process's write could make wrong: two gunicorn
servers against one database, a write on one, a read on the other. What each process keeps
in memory (the grouping engine per campaign, the long-standing counts) follows writes made
anywhere."""

from __future__ import annotations

import csv
import http.client
import re
from urllib.parse import quote

from .conftest import DJANGO, api
from .servers import servers

SESSION = DJANGO + """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
u = get_user_model().objects.get(username=sys.argv[1])
s = SessionStore()
s[SESSION_KEY] = str(u.pk)
s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
s[HASH_SESSION_KEY] = u.get_session_auth_hash()
s.create()
print(s.session_key)
"""


def page(port: int, path: str, session: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers={"Cookie": f"sessionid={session}",
                                       "Accept-Language": "en"})
    r = conn.getresponse()
    body = r.read().decode()
    conn.close()
    assert r.status == 200, (r.status, body[:500])
    return body


def long_standing(port: int, session: str) -> tuple[int, int]:
    m = re.search(r"Raised a year or more ago: (\d+) solved, (\d+) still open",
                  page(port, "/leader/", session))
    assert m, "the leader board shows the long-standing counts"
    return int(m[1]), int(m[2])


def test_two_app_servers_write_on_one_read_on_the_other(instance, tmp_path):
    c, t, m = instance.campaign, instance.tokens, instance.members
    # An opinion from paper, first raised long ago (M12), for the long-standing counts.
    sheet = tmp_path / "old.csv"
    with sheet.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["text", "author", "unit", "date"],
                                  ["转炉车间的通风设备年久失修，夏天炉前温度太高", "王秀英",
                                   "furnace8", "2025-01-10"]])
    instance.run("import", "opinions", str(sheet), "--campaign", str(c), "--as", "clerk")
    session = instance.python(SESSION, "leader").strip()
    query = "/grouping/{c}/suggest?text=" + quote("冷却水管漏水很严重")
    with servers(instance.env, 2) as (a, b):
        # Each server builds its engine and its counts before the other writes.
        status, before = api(b, "GET", query.format(c=c), t["clerk"])
        assert status == 200, before
        assert not before["opinions"]
        status, ops = api(b, "GET", f"/opinions?campaign={c}", t["clerk"])
        old = ops[0]["id"]
        status, made = api(a, "POST", "/problems", t["clerk"], {
            "campaign": c, "opinions": [old], "summary": "通风设备年久失修",
            "owner": m["owner"], "deadline": "2027-03-01"}, key="make-1")
        assert status == 201, made
        pid = made["problem"]["id"]
        assert long_standing(b, session) == (0, 1)
        assert long_standing(a, session) == (0, 1)

        # Written on A ...
        status, sent = api(a, "POST", "/opinions", t["worker"],
                           {"campaign": c, "text": "高炉冷却水管漏水很严重，请尽快修理"},
                           key="op-1")
        assert status == 201, sent
        status, claimed = api(a, "POST", f"/problems/{pid}/claims", t["owner"],
                              {"done": "换了新风机"}, key="claim-1")
        assert status == 200, claimed
        status, verified = api(a, "POST", f"/problems/{pid}/verifications", t["rep"],
                               {"passed": True}, key="verify-1")
        assert status == 200, verified

        # ... read on B: its engine finds the new opinion, its counts moved.
        status, after = api(b, "GET", query.format(c=c), t["clerk"])
        assert status == 200
        assert sent["opinion"]["id"] in [o["opinion"] for o in after["opinions"]], after
        assert long_standing(b, session) == (1, 0)
        # The same key on the other server replays, and writes nothing.
        status, again = api(b, "POST", "/opinions", t["worker"],
                            {"campaign": c, "text": "高炉冷却水管漏水很严重，请尽快修理"},
                            key="op-1")
        assert status == 201 and again == sent
        status, figs = api(b, "GET", "/figures", t["leader"])
        assert figs["total"]["opinions"] == 2 and figs["total"]["verified_resolved"] == 1
