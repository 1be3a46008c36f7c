"""The API's one error shape, {"error": {"code", "message"}}, also for the errors that the
framework answers by itself: an address the API does not have, a method an address does not
take, a body that is not JSON, a server failure. The message is in the caller's language."""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.translation import gettext as _

PREFIX = "/api/v1/"


def body(code: str, message: str, details=None) -> dict:
    out: dict = {"error": {"code": code, "message": message}}
    if details is not None:
        out["error"]["details"] = details
    return out


def code_for(status: int) -> str:
    return {404: "not_found", 405: "method_not_allowed"}.get(status, f"http_{status}")


def message_for(status: int) -> str:
    if status == 400:
        return _("The request could not be read (for example, its body is not valid JSON).")
    if status == 404:
        return _("There is no such address in this API.")
    if status == 405:
        return _("This address does not take this method.")
    if status == 413:
        return _("The request is too large.")
    if status >= 500:
        return _("The server could not answer this request.")
    return _("The request could not be served.")


class ErrorShapeMiddleware:
    """Last in the chain: an error response under /api/v1/ that is not JSON yet (Django's
    own 404 and 500 pages, ninja's 405) is answered in the API's shape."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        status = response.status_code
        if (status < 400 or not request.path.startswith(PREFIX)
                or response.get("Content-Type", "").startswith("application/json")):
            return response
        shaped = JsonResponse(body(code_for(status), message_for(status)), status=status)
        if response.has_header("Allow"):
            shaped["Allow"] = response["Allow"]
        return shaped
