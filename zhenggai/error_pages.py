"""The 404, 403 and 500 pages (templates/404.html, 403.html, 500.html), installed as the
URLconf's handlers. 404 and 403 are in the site's layout, in the reader's language; 500 is
made without the database (no user, no menu: the database may be why it failed), and a
database that cannot be reached is a 503 with Retry-After (api/unavailable.py)."""

from __future__ import annotations

from django.views import defaults

from zhenggai.api import unavailable


def not_found(request, exception=None):
    return defaults.page_not_found(request, exception)


def forbidden(request, exception=None):
    return defaults.permission_denied(request, exception)


def server_error(request, *args, **kwargs):
    # unavailable: 503 while the database is away; else Django's server_error, which renders
    # 500.html with no context (no context processors, so no query).
    return unavailable.server_error(request, *args, **kwargs)
