"""The JSON API under /api/v1/. One error shape for everything:
{"error": {"code": "<machine code>", "message": "<in the caller's language>"}}."""

from django.db import DataError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from zhenggai.errors import DomainError
from zhenggai.grouping.api import router as grouping
from zhenggai.notifications.api import router as notifications
from zhenggai.opinions.api import router as opinions
from zhenggai.problems.api import router as problems
from zhenggai.production.api import router as production

from . import shape
from .auth import TokenAuth

# The docs page would load Swagger UI from a CDN; plants are offline. The OpenAPI document
# itself is served at /api/v1/openapi.json.
api = NinjaAPI(title="zhenggai", version="1", urls_namespace="api", auth=TokenAuth(),
               docs_url=None)


def error(request, status: int, code: str, message: str, details=None):
    return api.create_response(request, shape.body(code, message, details), status=status)


@api.exception_handler(DomainError)
def domain_error(request, exc: DomainError):
    response = error(request, exc.status, exc.code, str(exc))
    if getattr(exc, "retry_after", None):  # throttled or busy: when to try again
        response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    details = [{"loc": [str(x) for x in e.get("loc", [])], "msg": str(e.get("msg", ""))}
               for e in exc.errors]
    return error(request, 422, "validation", _("The request is not valid."), details)


@api.exception_handler(DataError)
def data_error(request, exc: DataError):
    # A value the database cannot hold (an id beyond its integer range, a time zone offset
    # PostgreSQL refuses, a NUL in a text it was not cleaned of): the request is bad, not
    # the server.
    if "NUL" in str(exc):
        return error(request, 422, "validation",
                     _("The text holds a NUL character, which text cannot contain."))
    return error(request, 422, "validation", _("A value is out of range."))


@api.exception_handler(Http404)
def not_found(request, exc: Http404):
    # Lookups are scoped to the caller's organisation: another's object is "not found" too.
    return error(request, 404, "not_found",
                 _("No such object, or it is not in your organisation."))


@api.exception_handler(AuthenticationError)
def auth_error(request, exc):
    return error(request, 401, "unauthorized", _("A valid API token is needed."))


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    # Only ninja raises these (e.g. a body that is not JSON); its words are English only.
    return error(request, exc.status_code, shape.code_for(exc.status_code),
                 shape.message_for(exc.status_code))


api.add_router("/", opinions)
api.add_router("/", problems)
api.add_router("/", notifications)
api.add_router("/production/", production)
api.add_router("/grouping/", grouping)
