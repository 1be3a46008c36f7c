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

A request whose process dies (SIGKILL, a crashed machine) must neither lose its write nor
do it twice when the client sends it again:
- Each run of a key holds the row under a random owner token. The write it makes marks the
  row "written" inside the write's own transaction (`seal`, called by the domain's commit
  paths: intake and problem actions), fenced by that token, so a write and its mark commit
  or vanish together.
- A twin that finds the row still running keeps waiting; once twins together have waited
  `LEASE_S` for the same owner, that owner is taken to be dead and the twin runs the request
  itself under a new token (a slow first run that wakes up then fails its fence and rolls
  back). The row counts the waiting in milliseconds, never a clock time: nothing at rest
  says when an anonymous request came.
- A row found "written" without its answer for `STALL_S` lost its answer after the write:
  the twin runs the request again in "rebuild" mode: a submission answers with the opinion
  already stored (`written_ref`), any other write refuses to write twice (409).
"""

from __future__ import annotations

import contextvars
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import secrets
import time

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from zhenggai.errors import Conflict

from .models import IdempotencyKey, hash_token
from .shape import body

PREFIX = "/api/v1/"
MAX_KEY = 200
#: Stored replies are kept for the day they were made and the next one.
KEEP_DAYS = 1
#: How long a twin waits for the first request with its key to finish.
WAIT_S = 10.0
#: How long twins wait on a running request before they take it to be dead: longer than any
#: live request runs (a receipt waits at most ARGON2_SUBMIT_WAIT_S for its hash).
LEASE_S = 40.0
#: How long a row may stay "written" without its answer before a twin rebuilds the answer.
STALL_S = 3.0
ANONYMOUS = "anonymous"
RUNNING, WRITTEN = 0, 1  # `status` before the answer is stored; an answer is an HTTP status


class TakenOver(Conflict):
    """This run's key was taken over by a twin (this run was thought dead): nothing it did
    is kept."""

    code = "idempotency_taken_over"


class AlreadyWritten(Conflict):
    """The first run of this key wrote and then died before it answered; a second write is
    refused rather than made twice."""

    code = "idempotency_written"


@dataclasses.dataclass
class Run:
    pk: int
    owner: str
    ref: str = ""  # in rebuild mode: what the first run wrote
    sealed: bool = False
    taken_over: bool = False  # a twin owns the row now: this run must not touch it


_RUN: contextvars.ContextVar[Run | None] = contextvars.ContextVar("idempotent_run", default=None)


def seal(ref: object = "") -> None:
    """Mark this request's key "written", in the caller's transaction: call it inside the
    transaction that makes the request's write. Outside an idempotent request it does
    nothing; a second call in one request does nothing."""
    run = _RUN.get()
    if run is None or run.sealed:
        return
    if run.ref:
        raise AlreadyWritten(_("This request was carried out already, but its answer was "
                               "lost. Look at the result instead of sending it again."))
    assert connection.in_atomic_block, "seal() belongs inside the write's transaction"
    n = IdempotencyKey.objects.filter(pk=run.pk, owner=run.owner, status=RUNNING).update(
        status=WRITTEN, ref=str(ref))
    if n != 1:
        run.taken_over = True
        raise TakenOver(_("This request took too long and was taken over by a repeat of it "
                          "(same Idempotency-Key). Nothing of it was kept."))
    run.sealed = True


def running() -> bool:
    """Is this an idempotent request whose write is still to be marked?"""
    run = _RUN.get()
    return run is not None and not run.sealed


def written_ref() -> str:
    """In rebuild mode, what the first run of this request wrote (an opinion's id)."""
    run = _RUN.get()
    return run.ref if run is not None else ""


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
        owner = secrets.token_hex(8)
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(
                    scope=scope, key=key, request_hash=request_hash, status=RUNNING, body=b"",
                    content_type="", created_on=timezone.localdate(), owner=owner)
        except IntegrityError:
            return self._twin(request, scope, key, request_hash, anonymous)
        return self._run(request, Run(row.pk, owner), anonymous)

    def _run(self, request, run: Run, anonymous: bool) -> HttpResponse:
        mine = IdempotencyKey.objects.filter(pk=run.pk, owner=run.owner)
        reset = _RUN.set(run)
        try:
            response = self.get_response(request)
        except BaseException:
            if not run.sealed:
                mine.filter(status=RUNNING).delete()  # a failure is not remembered
            raise
        finally:
            _RUN.reset(reset)
        if response.status_code >= 500 or getattr(response, "streaming", False):
            if not run.sealed:
                mine.filter(status=RUNNING).delete()
            return response
        if run.taken_over:
            return response  # the twin that took over owns the row now
        content = response.content
        stored = (_withhold_receipt(content)
                  if anonymous or request.path.rstrip("/") == PREFIX + "slips" else content)
        mine.update(status=response.status_code, body=stored,
                    content_type=response.get("Content-Type", "application/json"), owner="",
                    waited_ms=0)
        return response

    def _twin(self, request, scope: str, key: str, request_hash: str,
              anonymous: bool) -> HttpResponse:
        """The same key again: replay the first response once it is there; run the request
        itself if the first one died."""
        rows = IdempotencyKey.objects.filter(scope=scope, key=key)
        deadline = time.monotonic() + WAIT_S
        seen, since = None, time.monotonic()
        while True:
            done = rows.first()
            if done is None:  # the first one failed and was forgotten: it may be sent again
                return _error(409, "idempotency_retry",
                              _("The first request with this Idempotency-Key failed; "
                                "send it again."))
            if done.request_hash != request_hash:
                return _replay(done, request_hash)  # the mismatch answer
            if done.status >= 100:
                return _replay(done, request_hash)
            now = time.monotonic()
            if (done.owner, done.status) != seen:
                seen, since = (done.owner, done.status), now
            elif done.status == RUNNING:
                # Count this twin's wait on the row (a duration, never a clock time).
                waited = int((now - since) * 1000)
                since = now
                rows.filter(pk=done.pk, owner=done.owner, status=RUNNING).update(
                    waited_ms=F("waited_ms") + waited)
                if done.waited_ms + waited >= LEASE_S * 1000:
                    taken = self._take(done, RUNNING)
                    if taken:
                        return self._run(request, taken, anonymous)
            elif now - since >= STALL_S:  # written, but no answer came
                taken = self._take(done, WRITTEN)
                if taken:
                    return self._run(request, taken, anonymous)
            if now > deadline:
                response = _error(409, "idempotency_in_progress",
                                  _("A request with this Idempotency-Key is still running; "
                                    "send it again in a moment."))
                response["Retry-After"] = "2"
                return response
            time.sleep(0.05)

    @staticmethod
    def _take(row: IdempotencyKey, status: int) -> Run | None:
        owner = secrets.token_hex(8)
        n = IdempotencyKey.objects.filter(pk=row.pk, owner=row.owner, status=status).update(
            owner=owner, waited_ms=0)
        if n != 1:
            return None
        # In rebuild mode the row stays "written": seal() refuses a second write.
        return Run(row.pk, owner, ref=(row.ref or "?") if status == WRITTEN else "")

