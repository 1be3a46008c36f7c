"""Idempotent writes for the JSON API.

A POST with an `Idempotency-Key` header runs once. The same key with the same request
(method, path, body) replays the first response and writes nothing; the same key with a
different request is a 409. The key is claimed first, in a short transaction of its own,
and the view runs outside it: a slow view (argon2 for an anonymous proposer's receipt) never
holds a transaction open. A twin sent while the first is still running waits for it and
then replays its response.

Stored replies keep the day only and are deleted by the daily sweep after a short window
(`purge`). An anonymous request (an anonymous opinion, or anything done with a receipt)
leaves nothing at rest that names its sender: the key and the request are stored as keyed
hashes together with the token (never the token's own hash, which names the member), and
the receipt in the first answer is never stored: a replay says it was shown once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import IdempotencyKey, hash_token
from .shape import body

PREFIX = "/api/v1/"
MAX_KEY = 200
#: Stored replies are kept for the day they were made and the next one.
KEEP_DAYS = 1
#: How long a twin waits for the first request with its key to finish.
WAIT_S = 10.0
ANONYMOUS = "anonymous"


def _token(request) -> str:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


def is_anonymous(request) -> bool:
    """An anonymous opinion (also a paper form typed in with its slip), or an act through a
    receipt."""
    if request.path.startswith(PREFIX + "receipts/"):
        return True
    if request.path.rstrip("/") == PREFIX + "opinions/paper":
        return True
    if request.path.rstrip("/") != PREFIX + "opinions":
        return False
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("anonymous") is True


def _keyed(*parts: str) -> str:
    msg = json.dumps(parts).encode()
    return hmac.new(settings.SECRET_KEY.encode(), msg, hashlib.sha256).hexdigest()


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(body(code, message), status=status)


def _replay(row: IdempotencyKey, request_hash: str) -> HttpResponse:
    if row.request_hash != request_hash:
        return _error(409, "idempotency_mismatch",
                      _("This Idempotency-Key was used for a different request."))
    response = HttpResponse(bytes(row.body), status=row.status, content_type=row.content_type)
    response["Idempotent-Replayed"] = "true"
    return response


def _withhold_receipt(content: bytes) -> bytes:
    """The first answer to an anonymous submission without its receipt: the receipt is
    shown once, to the first answer's reader, and never stored."""
    try:
        data = json.loads(content)
    except ValueError:
        return content
    if isinstance(data, dict) and data.get("receipt"):
        data["receipt"] = None
        data["receipt_withheld"] = True
    if isinstance(data, dict) and isinstance(data.get("slips"), list):  # printed slips
        for slip in data["slips"]:
            if isinstance(slip, dict):
                slip["receipt"] = None
        data["receipt_withheld"] = True
    return json.dumps(data, ensure_ascii=False).encode()


def purge(today: dt.date | None = None) -> int:
    """Forget stored replies older than the window (run by the daily sweep)."""
    today = today or timezone.localdate()
    n, _ = IdempotencyKey.objects.filter(
        created_on__lt=today - dt.timedelta(days=KEEP_DAYS)).delete()
    return n


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key or not request.path.startswith(PREFIX):
            return self.get_response(request)
        if len(key) > MAX_KEY:
            return _error(422, "invalid", _("An Idempotency-Key is at most 200 characters."))
        token = _token(request)
        text = request.body.decode("utf-8", "replace")
        anonymous = is_anonymous(request)
        if anonymous:
            scope, key = ANONYMOUS, _keyed("key", token, key)
            request_hash = _keyed("request", token, request.method, request.path, text)
        else:
            scope = hash_token(token) if token else ANONYMOUS
            request_hash = hashlib.sha256(
                json.dumps([request.method, request.path, text]).encode()).hexdigest()
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(
                    scope=scope, key=key, request_hash=request_hash, status=0, body=b"",
                    content_type="", created_on=timezone.localdate())
        except IntegrityError:
            return self._twin(scope, key, request_hash)
        try:
            response = self.get_response(request)
        except BaseException:
            row.delete()  # a failure is not remembered
            raise
        if response.status_code >= 500 or getattr(response, "streaming", False):
            row.delete()
            return response
        content = response.content
        row.status = response.status_code
        row.body = (_withhold_receipt(content)
                    if anonymous or request.path.rstrip("/") == PREFIX + "slips" else content)
        row.content_type = response.get("Content-Type", "application/json")
        row.save(update_fields=["status", "body", "content_type"])
        return response

    def _twin(self, scope: str, key: str, request_hash: str) -> HttpResponse:
        """The same key again: replay the first response, once it is there."""
        deadline = time.monotonic() + WAIT_S
        while True:
            done = IdempotencyKey.objects.filter(scope=scope, key=key).first()
            if done is None:  # the first one failed and was forgotten: it may be sent again
                return _error(409, "idempotency_retry",
                              _("The first request with this Idempotency-Key failed; "
                                "send it again."))
            if done.status:
                return _replay(done, request_hash)
            if time.monotonic() > deadline:
                return _error(409, "idempotency_in_progress",
                              _("A request with this Idempotency-Key is still running."))
            time.sleep(0.05)
