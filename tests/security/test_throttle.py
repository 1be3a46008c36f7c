"""Guessing is throttled (receipt look-ups on the page and the API, log-in), keyed so that a
plant behind one NAT address is not locked out, and argon2 work is capped."""

import contextlib
import json
import threading

import pytest
from django.test import override_settings

from tests.factories import user_for
from zhenggai.opinions import intake, receipts
from zhenggai.security import slots, throttle
from zhenggai.security.models import Attempt

WRONG = "AAAA-BBBB-CCCC-{:04d}"
LIMITS = {"receipt_address": (5, 60), "receipt_prefix": (3, 60),
          "login_address": (6, 60), "login_account": (3, 300)}


@pytest.fixture(autouse=True)
def one_window(monkeypatch):
    """Every look-up of a test in the same throttle window, wherever the clock is."""
    monkeypatch.setattr(throttle, "_clock", lambda: 1_800_000_000.0)


def guess(client, code, addr="10.0.0.7", api=False):
    if api:
        return client.post("/api/v1/receipts/case", json.dumps({"receipt": code}),
                           content_type="application/json", REMOTE_ADDR=addr)
    return client.post("/receipt/", {"receipt": code}, REMOTE_ADDR=addr)


def _codes(n, start=0):
    # Different prefixes, so only the address budget is at stake.
    alphabet = receipts.ALPHABET
    return [alphabet[(start + i) % 32] + alphabet[(start + i) // 32 % 32] + "AA-BBBB-CCCC-DDDD"
            for i in range(n)]


@override_settings(THROTTLES=LIMITS)
@pytest.mark.parametrize("api", [False, True])
def test_wrong_receipts_from_one_address_are_refused_once_its_budget_is_spent(story, client, api):
    real = intake.submit_opinion(story.campaign, text="炉前太热", anonymous=True).receipt
    for code in _codes(5):
        assert guess(client, code, api=api).status_code == 404
    r = guess(client, _codes(1, 10)[0], api=api)
    assert r.status_code == 429 and int(r["Retry-After"]) > 0
    if api:
        assert r.json()["error"]["code"] == "throttled"
    # Refused before any hashing: even the right code waits for the next window there...
    assert guess(client, real, api=api).status_code == 429
    # ...while the rest of the plant, at other addresses, is not locked out.
    assert guess(client, real, addr="10.0.0.8", api=api).status_code == 200


@override_settings(THROTTLES=LIMITS)
def test_right_receipts_never_count_so_a_plant_behind_one_address_is_not_locked_out(
        story, client):
    codes = [intake.submit_opinion(story.campaign, text=f"意见 {i}", anonymous=True).receipt
             for i in range(3)]
    for _round in range(4):  # 12 look-ups from one address, more than any budget
        for code in codes:
            assert guess(client, code).status_code == 200
    assert not Attempt.objects.exists()


@override_settings(THROTTLES=LIMITS)
def test_guesses_at_one_receipt_prefix_are_refused_from_any_address(story, client):
    for i in range(3):
        assert guess(client, WRONG.format(i), addr=f"10.1.0.{i}").status_code == 404
    assert guess(client, WRONG.format(9), addr="10.1.0.99", api=True).status_code == 429


@override_settings(THROTTLES=LIMITS)
def test_stored_counters_name_no_address_receipt_or_account(story, client):
    guess(client, WRONG.format(1), addr="10.9.8.7")
    client.post("/login/", {"username": "wang", "password": "x"}, REMOTE_ADDR="10.9.8.7")
    dump = " ".join(f"{a.key} {a.since}" for a in Attempt.objects.all())
    assert Attempt.objects.count() == 4
    for secret in ("10.9.8.7", "AAAA", "wang"):
        assert secret not in dump


@override_settings(THROTTLES=LIMITS)
def test_log_in_is_throttled_per_account_and_per_address(story, client):
    user = user_for(story.worker, "right-password")
    for _ in range(3):
        r = client.post("/login/", {"username": user.username, "password": "wrong"},
                        REMOTE_ADDR="10.0.0.5")
        assert r.status_code == 200 and "用户名或密码不对" in r.content.decode()
    # The account's budget is spent: even the right password waits (from any address).
    r = client.post("/login/", {"username": user.username, "password": "right-password"},
                    REMOTE_ADDR="10.0.0.6", HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 429 and "Too many" in r.content.decode()
    # Another account from the same address signs in.
    other = user_for(story.worker2, "pw2")
    r = client.post("/login/", {"username": other.username, "password": "pw2"},
                    REMOTE_ADDR="10.0.0.5")
    assert r.status_code == 302
    # An address that tries many accounts is stopped too.
    for i in range(6):
        client.post("/login/", {"username": f"nobody{i}", "password": "x"},
                    REMOTE_ADDR="10.0.0.9")
    r = client.post("/login/", {"username": other.username, "password": "pw2"},
                    REMOTE_ADDR="10.0.0.9")
    assert r.status_code == 429


def test_counters_are_shared_and_old_windows_forgotten(db):
    with override_settings(THROTTLES=LIMITS):
        for _ in range(5):
            throttle.failed(("receipt_address", "10.0.0.1"), now=1000.0)
        with pytest.raises(throttle.Throttled):
            throttle.check(("receipt_address", "10.0.0.1"), now=1001.0)
        throttle.check(("receipt_address", "10.0.0.1"), now=1061.0)  # the next window
        throttle.failed(("receipt_address", "10.0.0.2"), now=5000.0)
        assert Attempt.objects.count() == 1  # the old window is gone


@contextlib.contextmanager
def slot_held_elsewhere():
    """Another thread holds the one argon2 slot until the block ends (or `release` is set)."""
    held, release = threading.Event(), threading.Event()

    def hold():
        with slots.slot():
            held.set()
            release.wait(10)

    t = threading.Thread(target=hold)
    t.start()
    try:
        assert held.wait(5)
        yield release
    finally:
        release.set()
        t.join()


@override_settings(ARGON2_SLOTS=1, ARGON2_WAIT_S=0.1)
def test_argon2_beyond_the_cap_answers_busy_at_once(story, client):
    with slot_held_elsewhere():
        with pytest.raises(slots.Busy):
            receipts.hash_code("0" * 16)
        r = guess(client, WRONG.format(1), api=True)
        assert r.status_code == 503 and r.json()["error"]["code"] == "busy"
        assert r["Retry-After"]
    assert guess(client, WRONG.format(1), api=True).status_code == 404


@override_settings(ARGON2_SLOTS=1, ARGON2_WAIT_S=0.1, ARGON2_SUBMIT_WAIT_S=10)
def test_a_new_receipt_waits_for_the_slot_where_a_look_up_is_turned_away(story):
    with slot_held_elsewhere() as release:
        with pytest.raises(slots.Busy):
            receipts.hash_code("0" * 16)
        threading.Timer(0.5, release.set).start()  # the slot frees while the new one waits
        assert len(receipts.hash_code("1" * 16, new=True)) == 64


def test_the_admin_signs_in_through_the_throttled_page(db, client):
    r = client.get("/admin/")
    assert r.status_code == 302
    r = client.get(r["Location"])
    assert r.status_code == 302 and r["Location"].startswith("/login/?next=/admin/")
