"""The proof of issue 12: an insider with the whole database and every log cannot tell who
wrote an anonymous opinion, nor when it arrived to better than the day.

The real server (`zhenggai serve`: gunicorn with the project's own logging) runs on loopback
with its logs in files. Anonymous opinions go in over HTTP through the page (signed in and
not) and the API (with and without a token and an Idempotency-Key), each in its own second,
between named ones, from a known address and with a distinctive User-Agent. Then the worker's
shuffle runs (`zhenggai shuffle --now`, as the daily sweep would after midnight), and every
table is dumped with every column (on PostgreSQL also ctid and xmin, on SQLite the rowid),
and every log the server wrote is read. Nothing may name the address, the agent, the member
or the receipt, nor give a time finer than the day, nor an order that places an anonymous
opinion among the named ones. A dump taken before the shuffle shows that the order checks
do see an order when there is one.

It uses its own database: a fresh SQLite file, or a schema of its own in the PostgreSQL
database of DATABASE_URL (dropped afterwards).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent / "zhenggai"
AGENT = "AuditAgent/7.7 (zhenggai-proof; 5f3c9d)"
SCHEMA = "zg_audit"
PASSWORD = "audit-pass-9271"

SETUP = f"""
import datetime as dt, json, django
django.setup()
from django.contrib.auth import get_user_model
from zhenggai.api.models import ApiToken
from zhenggai.campaigns.models import Campaign
from zhenggai.campaigns.roles import grant
from zhenggai.opinions.shuffle import mark_day
from zhenggai.opinions import slips
from zhenggai.org.models import Member, Organisation, Unit
today = dt.date.today()
o = Organisation.objects.create(name="第一炼钢厂", name_en="First Steel Plant")
u = Unit.objects.create(org=o, code="f8", name="八号炉", name_en="Furnace 8")
c = Campaign.objects.create(org=o, name="整改", airing_from=today - dt.timedelta(days=30),
    rectification_from=today + dt.timedelta(days=30), review_from=today + dt.timedelta(days=90))
user = get_user_model().objects.create_user("wangxiuying", password={PASSWORD!r})
m = Member.objects.create(org=o, name="王秀英", unit=u, user=user)
grant(m, c, "worker", "clerk")
row, token = ApiToken.issue(m)
# a problem that workers may say "me too" on
from zhenggai.opinions.intake import submit_opinion
from zhenggai.problems.actions import create_problem
clerk = Member.objects.create(org=o, name="李文书", unit=u)
grant(clerk, c, "clerk")
first = submit_opinion(c, text="浴室水不热，洗澡冻人", author=clerk).opinion
p = create_problem(c, [first], actor=clerk, summary="浴室水不热")
printed = slips.print_slips(c, actor=m, count=4)  # a sheet of slips for paper forms
mark_day(now=True)  # the day's first mark, as the worker makes it at midnight
print(json.dumps({{"campaign": c.pk, "token": token, "key_hash": row.key_hash,
                  "prefix": row.prefix, "member": m.pk, "problem": p.pk,
                  "slips": [[s.number, s.receipt] for s in printed]}}))
"""


def _free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def instance(tmp_path):
    """Environment for a fresh instance: its own data folder and database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(ZHENGGAI_DATA=str(tmp_path / "data"), DJANGO_SETTINGS_MODULE="zhenggai.settings",
               ZHENGGAI_RECEIPT_TIME_COST="1", ZHENGGAI_RECEIPT_MEMORY_KIB="1024",
               PYTHONPATH=str(ROOT),
               # Served as in production, which needs its own secret and host names.
               SECRET_KEY="audit-" + os.urandom(16).hex(), ALLOWED_HOSTS="127.0.0.1,localhost")
    url = os.environ.get("DATABASE_URL", "")
    pg = None
    if url:
        import psycopg

        pg = psycopg.connect(url.split("?")[0], autocommit=True)
        pg.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        pg.execute(f"CREATE SCHEMA {SCHEMA}")
        sep = "&" if "?" in url else "?"
        env["DATABASE_URL"] = f"{url}{sep}options=-c%20search_path%3D{SCHEMA}"
    else:
        env.pop("DATABASE_URL", None)
    try:
        yield env, pg
    finally:
        if pg is not None:
            pg.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            pg.close()


def _run(args, env, **kw) -> str:
    r = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300,
                       **kw)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout


class Server:
    def __init__(self, env, logs: Path):
        self.port = _free_port()
        self.out = (logs / "stdout.log").open("w")
        self.err = (logs / "stderr.log").open("w")
        self.proc = subprocess.Popen(
            [str(BIN), "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", "1"], env=env, cwd=ROOT, stdout=self.out, stderr=self.err)
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                assert self.proc.poll() is None, "the server did not start"
                assert time.monotonic() < deadline, "the server did not listen"
                time.sleep(0.2)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)
        self.out.close()
        self.err.close()


def _session():
    import requests

    s = requests.Session()
    s.headers["User-Agent"] = AGENT
    s.headers["Accept-Language"] = "en"
    return s


def _csrf(s, url) -> str:
    html = s.get(url).text
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


# A phone's photo: its maker, model, serial number, time and place in EXIF, and XMP.
DEVICE = ["PhoneMakerZ", "ModelQ77", "SN-4711-0815", "2031:01:02 03:04:05"]


def _photo() -> bytes:
    import io

    from PIL import Image

    im = Image.new("RGB", (64, 48), (120, 30, 30))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0xA431], exif[0x0132] = DEVICE
    exif[0x8825] = {1: "N", 2: (41.0, 7.0, 0.0)}
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif, xmp=b"<x:xmpmeta>ModelQ77</x:xmpmeta>")
    return out.getvalue()


def _paper_page(s, base, slip, text):
    """A clerk types in an anonymous paper form with its slip's number, on the page."""
    token = _csrf(s, base + "/desk/paper/")
    r = s.post(base + "/desk/paper/", data={"csrfmiddlewaretoken": token, "slip": slip,
                                            "text": text,
                                            "received_on": dt.date.today().isoformat()},
               allow_redirects=False)
    assert r.status_code == 302, r.text[:500]


def _paper_api(s, base, campaign, slip, text, token):
    r = s.post(base + "/api/v1/opinions/paper", json={"campaign": campaign, "slip": slip,
                                                      "text": text},
               headers={"Authorization": f"Bearer {token}", "Idempotency-Key": slip})
    assert r.status_code == 201, r.text


def _page_submit(s, base, campaign, text, anonymous=False, photo=False,
                 me_too=None):
    token = _csrf(s, base + "/submit/")
    # the page's typing suggestions, as htmx sends them: the text in a POST body
    s.post(f"{base}/grouping/{campaign}/suggest/", data={"text": text[:6]},
           headers={"X-CSRFToken": token, "HX-Request": "true"})
    data = {"csrfmiddlewaretoken": token, "campaign": campaign, "text": text}
    if anonymous:
        data["anonymous"] = "on"
    if me_too:  # the "me too" button of a suggestion
        data["me_too"] = me_too
    files = {"photos": ("IMG_20310102_030405.jpg", _photo(), "image/jpeg")} if photo else None
    r = s.post(base + "/submit/", data=data, files=files, allow_redirects=False)
    assert r.status_code == 200, r.text[:500]
    m = re.search(r'id="receipt">([0-9A-Z-]+)<', r.text)
    return m.group(1) if m else None


def _api_submit(s, base, campaign, text, *, anonymous, token=None, key=None, photo=False,
                me_too=None):
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if key:
        headers["Idempotency-Key"] = key
    body = {"campaign": campaign, "text": text, "anonymous": anonymous}
    if photo:
        import base64

        body["photos"] = [base64.b64encode(_photo()).decode()]
    if me_too:
        body["problem"] = me_too
    r = s.post(base + "/api/v1/opinions", json=body, headers=headers)
    assert r.status_code == 201, r.text
    if key:  # a retry: the same answer, and never the receipt again
        again = s.post(base + "/api/v1/opinions", json=body, headers=headers)
        assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["opinion"] == r.json()["opinion"]
        if anonymous:
            assert again.json()["receipt"] is None and again.json()["receipt_withheld"]
    return r.json()["receipt"]


# -- the dump ------------------------------------------------------------------------------

LINK = """
import datetime as dt, json, django
django.setup()
from zhenggai.opinions.intake import link_me_toos
print(json.dumps(link_me_toos(before=dt.date.today() + dt.timedelta(days=1))))
"""


def _dump(env, pg) -> dict[str, list[dict]]:
    """Every row of every table: {table: [{column: value}]}, with the physical columns."""
    out: dict[str, list[dict]] = {}
    if pg is not None:
        pg.execute(f"SET search_path = {SCHEMA}")
        tables = [r[0] for r in pg.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", [SCHEMA])]
        for t in tables:
            cur = pg.execute(f'SELECT ctid::text AS "_ctid", xmin::text AS "_xmin", * '
                             f'FROM "{t}" ORDER BY ctid')
            names = [d.name for d in cur.description]
            out[t] = [dict(zip(names, row, strict=True)) for row in cur]
        return out
    db = sqlite3.connect(Path(env["ZHENGGAI_DATA"]) / "zhenggai.sqlite3")
    try:
        tables = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
        for t in tables:
            try:
                cur = db.execute(f'SELECT rowid AS "_rowid", * FROM "{t}" ORDER BY rowid')
            except sqlite3.OperationalError:  # a table without rowid
                cur = db.execute(f'SELECT * FROM "{t}"')
            names = [d[0] for d in cur.description]
            out[t] = [dict(zip(names, row, strict=True)) for row in cur]
    finally:
        db.close()
    return out


def _text(v) -> str:
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).decode("utf-8", "replace")
    return str(v)


_STAMP = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?([+-]\d{2}:?\d{2}|Z)?")


def _instants(v) -> list[dt.datetime]:
    """Every point in time a value holds, finer than the day."""
    if isinstance(v, dt.datetime):
        return [v if v.tzinfo else v.replace(tzinfo=dt.UTC)]
    found = []
    for m in _STAMP.finditer(_text(v)):
        day, h, mi, s, frac, tz = m.groups()
        stamp = dt.datetime.fromisoformat(f"{day}T{h}:{mi}:{s}{frac or ''}")
        if tz:
            stamp = stamp.replace(tzinfo=dt.datetime.fromisoformat(
                f"2000-01-01T00:00:00{'+00:00' if tz == 'Z' else tz}").tzinfo)
        else:
            stamp = stamp.replace(tzinfo=dt.UTC)  # Django keeps UTC in SQLite
        found.append(stamp)
    return found


def _position(row: dict, column: str):
    v = row[column]
    if column == "_ctid":  # "(page,item)"
        page, item = v.strip("()").split(",")
        return (int(page), int(item))
    return v


def _order_leaks(dump, sent: list[int], anon: set[int]) -> list[str]:
    """Columns (or physical positions) whose order places the anonymous opinions among the
    named ones as they were sent. Over the rows of a table that each mention one of this
    test's opinions (named and anonymous both): a counting column (not a random id) or the
    physical position (with enough rows to tell chance from order) that is strictly
    monotonic in the order of submission, or, on PostgreSQL, rows written by different
    transactions (xmin)."""
    rank = {oid: i for i, oid in enumerate(sent)}
    words = {oid: re.compile(rf"\b{oid}\b") for oid in sent}
    leaks = []
    for table, rows in dump.items():
        mine = []
        for r in rows:
            flat = " ".join(_text(v) for k, v in r.items() if not k.startswith("_"))
            hit = [oid for oid in sent if words[oid].search(flat)]
            if len(hit) == 1:
                mine.append((rank[hit[0]], hit[0], r))
        if len(mine) < 3 or {oid in anon for _i, oid, _r in mine} != {True, False}:
            continue
        mine.sort(key=lambda m: m[0])
        for col in mine[0][2]:
            values = [_position(r, col) for _i, _o, r in mine]
            if col == "_xmin":
                if len(set(values)) > 1:
                    leaks.append(f"{table}.xmin: written by {len(set(values))} transactions")
                continue
            if col == "_ctid" and len(mine) < 8:
                continue
            if not all(isinstance(v, (int, tuple)) for v in values):
                continue
            pairs = list(itertools.pairwise(values))
            monotonic = all(a < b for a, b in pairs) or all(a > b for a, b in pairs)
            counts = isinstance(values[0], tuple) or max(values) - min(values) < 10**9
            if monotonic and counts:
                leaks.append(f"{table}.{col} follows the order of submission")
    return leaks


# -- the test ------------------------------------------------------------------------------

@pytest.mark.slow
def test_an_insider_with_the_database_and_the_logs_cannot_date_or_name_an_anonymous_opinion(
        instance, tmp_path):
    env, pg = instance
    logs = tmp_path / "logs"
    logs.mkdir()
    _run([str(BIN), "migrate"], env)
    facts = json.loads(_run([sys.executable, "-c", SETUP], env).strip().splitlines()[-1])
    c, token, problem = facts["campaign"], facts["token"], facts["problem"]

    server = Server(env, logs)
    try:
        base = server.url
        named = _session()  # a signed-in member on the page
        token_csrf = _csrf(named, base + "/login/")
        r = named.post(base + "/login/", data={"csrfmiddlewaretoken": token_csrf,
                                               "username": "wangxiuying",
                                               "password": PASSWORD})
        assert r.status_code in (200, 302)
        visitor = _session()  # nobody signed in
        api = _session()

        plan = [
            ("named", lambda t: _api_submit(api, base, c, t, anonymous=False, token=token,
                                            key="n-1")),
            ("anon", lambda t: _api_submit(api, base, c, t, anonymous=True)),
            ("named", lambda t: _page_submit(named, base, c, t)),
            ("anon", lambda t: _page_submit(visitor, base, c, t)),
            ("named", lambda t: _api_submit(api, base, c, t, anonymous=False, token=token)),
            ("anon", lambda t: _api_submit(api, base, c, t, anonymous=True, token=token,
                                           key="a-3")),
            ("named", lambda t: _page_submit(named, base, c, t)),
            ("anon", lambda t: _page_submit(named, base, c, t, anonymous=True)),
            ("named", lambda t: _api_submit(api, base, c, t, anonymous=False, token=token,
                                            key="n-5")),
            ("anon", lambda t: _api_submit(api, base, c, t, anonymous=True, key="a-5")),
            ("named", lambda t: _api_submit(api, base, c, t, anonymous=False, token=token)),
            # photos, and paper forms typed in with their slips' numbers
            ("anon", lambda t: _page_submit(visitor, base, c, t, photo=True)),
            ("named", lambda t: _page_submit(named, base, c, t, photo=True)),
            ("anon", lambda t: _api_submit(api, base, c, t, anonymous=True, photo=True)),
            ("named", lambda t: _api_submit(api, base, c, t, anonymous=False, token=token,
                                            photo=True)),
            ("paper", lambda t: _paper_page(named, base, slip_numbers[0], t)),
            ("named", lambda t: _page_submit(named, base, c, t)),
            ("paper", lambda t: _paper_api(api, base, c, slip_numbers[1], t, token)),
            ("named", lambda t: _api_submit(api, base, c, t, anonymous=False, token=token)),
            # "me too" (附议) on the problem: anonymous, named, anonymous
            ("anon", lambda t: _api_submit(api, base, c, t, anonymous=True, key="a-11",
                                           me_too=problem)),
            ("named", lambda t: _page_submit(named, base, c, t, me_too=problem)),
            ("anon", lambda t: _page_submit(visitor, base, c, t, me_too=problem)),
        ]
        slip_numbers = [n for n, _code in facts["slips"]]
        texts, receipts, windows = [], [], []
        for i, (kind, send) in enumerate(plan):
            text = f"审计意见{i:02d}：{'署名' if kind == 'named' else '匿名'}，炉前太热 zq{i:02d}x"
            time.sleep(1.1)  # each act in its own second
            t0 = time.time()
            code = send(text)
            t1 = time.time()
            texts.append((kind, text))
            if kind == "anon":
                assert code, "an anonymous proposer gets a receipt"
                receipts.append(code)
                windows.append((t0, t1))
            elif kind == "paper":  # the worker holds the slip's code
                windows.append((t0, t1))
            else:
                assert code is None
        # the proposer checks their case with the receipt, on the page and over the API
        visitor.post(base + "/receipt/", data={
            "csrfmiddlewaretoken": _csrf(visitor, base + "/receipt/"), "receipt": receipts[1]})
        assert api.post(base + "/api/v1/receipts/case",
                        json={"receipt": receipts[0]}).status_code == 200
        # a request line too long for gunicorn, with the typed text in it
        too_long = "/submit/?text=" + "热" * 3000
        assert visitor.get(base + too_long).status_code in (400, 414)
    finally:
        server.stop()

    ids = _opinion_ids(env, pg, texts)
    sent = [ids[t] for _k, t in texts]
    anon_ids = [ids[t] for k, t in texts if k in ("anon", "paper")]
    receipts += [code for _n, code in facts["slips"]]  # printed, used or not

    # The worker's sentence vectors (grouping/vectors.py): a table of its own, in the dump
    # and under every check below like any other.
    _run([str(BIN), "embed"], {**env, "ZHENGGAI_EMBEDDINGS": "on"})
    vec_rows = _dump(env, pg).get("grouping_opinionvector", [])
    assert {r["opinion_id"] for r in vec_rows} >= set(anon_ids)

    # Before the shuffle the order is there to see: the checks have teeth.
    before = _order_leaks(_dump(env, pg), sent, set(anon_ids))
    assert any("grouping_indexlog" in leak for leak in before), before
    if pg is not None:
        assert any("opinions_opinion.xmin" in leak for leak in before), before

    # The sweep after midnight puts the anonymous "me too"s into their problem (dated to
    # the day, in random order). Here before the shuffle, so that one shuffle rewrites
    # everything; in real use the links are rewritten with the next day's rows, which
    # tells (on PostgreSQL, by xmin) only that they were linked by the sweep, as their
    # events' missing actor does anyway.
    linked = json.loads(_run([sys.executable, "-c", LINK], env).strip().splitlines()[-1])
    assert linked == {"linked": 2, "to_desk": 0}
    _run([str(BIN), "shuffle", "--now"], env)  # as the worker's sweep does after midnight
    dump = _dump(env, pg)
    me_too = [r for r in dump["problems_event"] if r["kind"] == "me_too"]
    assert len(me_too) == 3 and sum(r["actor_id"] is None for r in me_too) == 2
    log_text = "\n".join(p.read_text() for p in sorted(logs.iterdir()))

    # 1. no order places an anonymous opinion among the named ones
    leaks = _order_leaks(dump, sent, set(anon_ids))
    assert leaks == [], leaks
    if pg is not None:
        rows = {r["id"]: r for r in dump["opinions_opinion"]}
        physical = sorted(sent, key=lambda oid: _position(rows[oid], "_ctid"))
        assert physical != sent  # shuffled (a chance of 1 in 11! otherwise)

    # 2. neither the address, the agent, the member nor the receipt, anywhere
    everything = json.dumps({t: [{k: _text(v) for k, v in r.items()} for r in rows]
                             for t, rows in dump.items()}, ensure_ascii=False)
    for secret in [AGENT, "AuditAgent", *receipts, *[r.replace("-", "") for r in receipts]]:
        assert secret not in everything, secret
        assert secret not in log_text, secret
    assert "127.0.0.1" not in everything
    # photos: re-encoded from their pixels, in the opinions' rows, no file anywhere
    for mark in [*DEVICE, "xmpmeta", "Exif", "IMG_2031"]:
        assert mark not in everything and mark not in log_text, mark
    photos = dump["opinions_opinionphoto"]
    assert len(photos) == 4 and {r["opinion_id"] for r in photos} <= set(sent)
    media = Path(env["ZHENGGAI_DATA"]) / "media"
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))
    # slips: a used slip keeps no hash, so no receipt leads back to its slip (its number,
    # its sheet), and the slips table holds no opinion's id
    used = [r for r in dump["opinions_slip"] if r["used"] in (True, 1)]
    assert len(used) == 2 and all(r["code_hash"] == "" for r in used)
    hashes = {r["code_hash"] for r in dump["opinions_receipt"]}
    assert not hashes & {r["code_hash"] for r in dump["opinions_slip"]}
    slip_flat = json.dumps([{k: _text(v) for k, v in r.items()} for r in dump["opinions_slip"]])
    assert not any(re.search(rf"\b{a}\b", slip_flat) for a in anon_ids)
    for line in log_text.splitlines():
        assert "127.0.0.1" not in line or "Listening at" in line, line
    for _kind, text in texts:  # what was said never reaches a log (nor its start)
        assert text not in log_text and text[:6] not in log_text
    assert "热热热" not in log_text
    member_marks = [facts["key_hash"], facts["prefix"], "wangxiuying", "王秀英"]
    for table, rows in dump.items():
        for r in rows:
            flat = " ".join(_text(v) for v in r.values())
            if any(re.search(rf"\b{a}\b", flat) for a in anon_ids):
                for mark in member_marks:
                    assert mark not in flat, (table, mark)
                if "author_id" in r:
                    assert r["author_id"] is None, table

    # 3. no time finer than the day that falls on an anonymous act, in the data or the logs
    for table, rows in dump.items():
        for r in rows:
            for col, v in r.items():
                for instant in _instants(v):
                    s = instant.timestamp()
                    for t0, t1 in windows:
                        assert not (t0 - 0.5 <= s <= t1 + 0.5), (table, col, instant)
    assert not re.search(r"\b\d{2}:\d{2}:\d{2}\b", log_text), log_text[:2000]


def _opinion_ids(env, pg, texts) -> dict[str, int]:
    if pg is not None:
        pg.execute(f"SET search_path = {SCHEMA}")
        rows = pg.execute("SELECT text, id FROM opinions_opinion").fetchall()
    else:
        with closing(sqlite3.connect(Path(env["ZHENGGAI_DATA"]) / "zhenggai.sqlite3")) as db:
            rows = db.execute("SELECT text, id FROM opinions_opinion").fetchall()
    by_text = dict(rows)
    return {t: by_text[t] for _k, t in texts}
