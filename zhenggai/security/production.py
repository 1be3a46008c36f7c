"""Production mode (DEBUG off, not the demo): the server refuses to start without its own
secret key and host names, and `check --deploy` says so too."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured


def missing() -> list[str]:
    if not settings.PRODUCTION:
        return []
    out = []
    if not settings.SECRET_KEY_GIVEN:
        out.append("SECRET_KEY")
    if not settings.ALLOWED_HOSTS_GIVEN:
        out.append("ALLOWED_HOSTS")
    return out


def require() -> None:
    """Called by the WSGI application before it serves anything."""
    names = missing()
    if names:
        raise ImproperlyConfigured(
            f"Production mode (DEBUG off, ZHENGGAI_DEMO unset) needs {', '.join(names)} in "
            "the environment. For the demo run `zhenggai demo`.")


@register(Tags.security, deploy=True)
def production_settings(app_configs, **kwargs):
    return [Error(f"{name} is not set in the environment; the server will not start.",
                  id="zhenggai.E001") for name in missing()]
