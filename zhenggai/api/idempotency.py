"""Idempotent writes for the JSON API.

A POST with an `Idempotency-Key` header runs once. The same key with the same request
(method, path, body) replays the first response and writes nothing; the same key with a
different request is a 409. The key row is written in the same transaction as the write,
so two requests racing with one key cannot both write: the second waits on the key's
unique index and then replays the first's response.
"""

from __future__ import annotations

import hashlib
import json

from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from .models import IdempotencyKey, hash_token
from .shape import body

PREFIX = "/api/v1/"
MAX_KEY = 200


def _scope(request) -> str:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return hash_token(header[7:].strip())
    return "anonymous"


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(body(code, message), status=status)


def _replay(row: IdempotencyKey, request_hash: str) -> HttpResponse:
    if row.request_hash != request_hash:
        return _error(409, "idempotency_mismatch",
                      _("This Idempotency-Key was used for a different request."))
    response = HttpResponse(bytes(row.body), status=row.status, content_type=row.content_type)
    response["Idempotent-Replayed"] = "true"
    return response


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key or not request.path.startswith(PREFIX):
            return self.get_response(request)
        if len(key) > MAX_KEY:
            return _error(422, "invalid", _("An Idempotency-Key is at most 200 characters."))
        scope = _scope(request)
        request_hash = hashlib.sha256(
            json.dumps([request.method, request.path, request.body.decode("utf-8", "replace")])
            .encode()).hexdigest()
        done = IdempotencyKey.objects.filter(scope=scope, key=key).first()
        if done is not None:
            return _replay(done, request_hash)
        try:
            with transaction.atomic():
                # Claim the key first: a racing twin blocks here until this commits.
                row = IdempotencyKey.objects.create(scope=scope, key=key,
                                                    request_hash=request_hash, status=0,
                                                    body=b"", content_type="")
                response = self.get_response(request)
                if response.status_code >= 500 or getattr(response, "streaming", False):
                    transaction.set_rollback(True)  # a failure is not remembered
                    return response
                row.status = response.status_code
                row.body = response.content
                row.content_type = response.get("Content-Type", "application/json")
                row.save(update_fields=["status", "body", "content_type"])
                return response
        except IntegrityError:
            done = IdempotencyKey.objects.filter(scope=scope, key=key).first()
            if done is None:
                raise
            return _replay(done, request_hash)
