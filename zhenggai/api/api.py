"""The JSON API under /api/v1/. One error shape for everything:
{"error": {"code": "<machine code>", "message": "<in the caller's language>"}}."""

import orjson
from django.db import DataError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import BaseRenderer
from ninja.responses import NinjaJSONEncoder

from zhenggai.errors import DomainError
from zhenggai.grouping.api import router as grouping
from zhenggai.notifications.api import router as notifications
from zhenggai.opinions.api import router as opinions
from zhenggai.problems.api import router as problems
from zhenggai.production.api import router as production

from . import shape
from .auth import TokenAuth

# Error responses every operation may give, in the one error shape ({"error": {...}}).
ERRORS = {
    "401": "No valid API token (Authorization: Bearer …).",
    "403": "The token's member may not do this.",
    "404": "No such object, or it is not in the caller's organisation; or no such address.",
    "409": "A conflict: someone changed the object first, the action does not fit its "
           "state, or an Idempotency-Key was reused for a different request.",
    "422": "The request is not valid: the error's details name each field and what is wrong.",
    "429": "Too many requests: wait for the seconds in Retry-After.",
    "503": "The database cannot be reached just now: send the same request again (with the "
           "same Idempotency-Key) after Retry-After.",
}
IDEMPOTENCY_HEADER = {
    "in": "header", "name": "Idempotency-Key", "required": False,
    "schema": {"type": "string", "maxLength": 200},
    "description": "Any unique string (a UUID). The same key with the same request replays "
                   "the first answer and writes nothing; with a different request it is a "
                   "409. Keys are kept for a day (api/idempotency.py).",
}
ERROR_SCHEMA = {
    "title": "Error", "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"},
        "details": {"type": "array", "items": {"type": "object"}}}}},
}


class DocumentedAPI(NinjaAPI):
    """The API whose OpenAPI document says, for every operation, its error responses and,
    for every write (POST: api/idempotency.py takes a key on each), the Idempotency-Key
    header. The document is served at /api/v1/openapi.json and shown at /api/v1/docs with
    the Swagger UI django-ninja ships (its static files, no CDN)."""

    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        ref = {"content": {"application/json": {"schema": {
            "$ref": "#/components/schemas/Error"}}}}
        for methods in schema.get("paths", {}).values():
            for method, op in methods.items():
                responses = op.setdefault("responses", {})
                for status, text in ERRORS.items():
                    if status == "409" and method != "post":
                        continue
                    responses.setdefault(status, {"description": text, **ref})
                if method == "post":
                    params = op.setdefault("parameters", [])
                    if not any(p.get("name") == "Idempotency-Key" for p in params):
                        params.append(IDEMPOTENCY_HEADER)
        return schema


class JSONRenderer(BaseRenderer):
    """JSON by orjson, the encoder django-ninja's documentation suggests for speed: the
    figures by owner (2,000 groups of 28 figures, 1.3 MB) took 20-31 ms to encode with the
    standard library's, about as long as the figures themselves, and take 3 ms here
    (bench/pages.py, "API figures by owner"). Dates and times, lazy translations and
    Decimals go through ninja's own encoder, so they read as they did (Django's ISO format:
    milliseconds, "Z" for UTC)."""

    media_type = "application/json"
    _default = NinjaJSONEncoder().default
    _options = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS

    def render(self, request, data, *, response_status):
        return orjson.dumps(data, default=self._default, option=self._options)


api = DocumentedAPI(title="zhenggai", version="1", urls_namespace="api", auth=TokenAuth(),
                    renderer=JSONRenderer(),
                    description="The JSON API of zhenggai (整改台账). Every answer that is "
                                "not a success has one shape: {\"error\": {\"code\", "
                                "\"message\"}}, the message in the caller's language "
                                "(Accept-Language).",
                    docs_url="/docs", docs=Swagger(settings={"validatorUrl": None}))


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
