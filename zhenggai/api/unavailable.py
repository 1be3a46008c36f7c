"""While the database cannot be reached (restarting, failing over, too busy), every request
that needs it fails. Django would answer a 500 page; the truth is a 503 with Retry-After, in
the API's error shape under /api/v1/: the client may send the same request again (with the
same Idempotency-Key, a write happens once). Django closes the broken connection at the end
of the request and the next request opens a new one, so the servers recover by themselves.

Installed as the URLconf's ``handler500``: it runs for any exception that reached Django's
handler, in a view or in a middleware."""

from __future__ import annotations

import sys

from django.db.utils import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults

from .shape import PREFIX, body

RETRY_AFTER_S = 2


def server_error(request, *args, **kwargs):
    exc = sys.exc_info()[1]
    if not isinstance(exc, OperationalError | InterfaceError):
        return defaults.server_error(request, *args, **kwargs)
    message = _("The database cannot be reached just now; try again in a few seconds.")
    if request.path.startswith(PREFIX):
        response = JsonResponse(body("unavailable", message), status=503)
    else:
        response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_S)
    return response
