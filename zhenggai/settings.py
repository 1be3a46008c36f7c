"""Settings, read from the environment with safe defaults for a laptop.

ZHENGGAI_DATA   folder for the embedded SQLite database and uploads (default ./data)
DATABASE_URL    e.g. postgres://postgres@127.0.0.1:5432/zhenggai; default SQLite in the data folder
SECRET_KEY      required in production (DEBUG off, not the demo)
DEBUG           "1" for development
ALLOWED_HOSTS   comma separated; required in production
ZHENGGAI_DEMO   "1" for the demo (`zhenggai demo` sets it): the demo key and any host
See the README's configuration table for the rest (HTTPS, proxies, throttles).
"""

import os
from pathlib import Path

import dj_database_url


def envbool(name: str, default: str = "0") -> bool:
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


def envint(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


def envfloat(name: str, default: float) -> float:
    return float(os.environ.get(name, str(default)))


def envlist(name: str, default: str = "") -> list[str]:
    return [x.strip() for x in os.environ.get(name, default).split(",") if x.strip()]


BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("ZHENGGAI_DATA", "data")).resolve()

DEBUG = envbool("DEBUG")
DEMO = envbool("ZHENGGAI_DEMO")
# Production is neither development nor the demo: the server refuses to start there without
# SECRET_KEY and ALLOWED_HOSTS (zhenggai/security/production.py, run by wsgi.py).
PRODUCTION = not DEBUG and not DEMO
SECRET_KEY_GIVEN = bool(os.environ.get("SECRET_KEY", ""))
ALLOWED_HOSTS_GIVEN = bool(envlist("ALLOWED_HOSTS"))
# A laptop/demo default, never accepted by a production server.
SECRET_KEY = os.environ.get("SECRET_KEY", "") or "zhenggai-insecure-demo-key-change-me"
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "*")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # its Swagger UI template and static files for /api/v1/docs (no CDN)
    "django_tasks",
    "django_tasks_db",
    "zhenggai.org",
    "zhenggai.campaigns",
    "zhenggai.opinions",
    "zhenggai.problems",
    "zhenggai.figures",
    "zhenggai.production",
    "zhenggai.grouping",
    "zhenggai.web",
    "zhenggai.api",
    "zhenggai.exchange",
    "zhenggai.notifications",
    "zhenggai.security",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "zhenggai.security.headers.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "zhenggai.web.middleware.MemberLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "zhenggai.api.idempotency.IdempotencyMiddleware",
    "zhenggai.api.shape.ErrorShapeMiddleware",
]

ROOT_URLCONF = "zhenggai.urls"
WSGI_APPLICATION = "zhenggai.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "zhenggai.web.pages.nav",
            ],
        },
    },
]


def _database() -> dict:
    url = os.environ.get("DATABASE_URL", "")
    if url:
        return dj_database_url.parse(url, conn_max_age=60)
    return {
        "ENGINE": "zhenggai.sqlite",
        "NAME": DATA_DIR / "zhenggai.sqlite3",
        # Keep each process's connection between requests, as for PostgreSQL: opening one
        # (with its PRAGMAs and functions) costs more than the rest of an intake's queries.
        "CONN_MAX_AGE": 600,
        "OPTIONS": {
            # Writers queue up instead of failing, and readers never block writers.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
        # A file, not memory, so that tests can race real threads against it.
        "TEST": {"NAME": str(DATA_DIR / "test-zhenggai.sqlite3")},
    }


DATABASES = {"default": _database()}
# The data folder holds the embedded database and collected static files: make it on start.
(DATA_DIR / "static").mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

# Receipt codes of anonymous proposers are stored only as an argon2id hash. The cost can be
# lowered for tests; never in production.
RECEIPT_ARGON2_TIME_COST = envint("ZHENGGAI_RECEIPT_TIME_COST", 3)
RECEIPT_ARGON2_MEMORY_KIB = envint("ZHENGGAI_RECEIPT_MEMORY_KIB", 65536)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# Shared static files: vendored libraries (Chart.js), never fetched from a CDN.
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

LOGIN_URL = "/login/"

LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# The public board needs no login from these networks (comma separated, CIDR): the
# organisation's own. Default: this machine and the private ranges.
# The same rule holds for the situation page at / (web/pages.py `board_allowed`).
BOARD_NETWORKS = envlist(
    "ZHENGGAI_BOARD_NETWORKS", "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16")
# Reverse proxies (CIDR) whose X-Forwarded-For is believed: the client is the right-most
# address in it that is not one of them (security/address.py). Default: none.
TRUSTED_PROXIES = envlist("ZHENGGAI_TRUSTED_PROXIES")

# Throttles on guessing (security/throttle.py): failures allowed per window (seconds). Only
# failures count, so a plant behind one NAT address is not locked out by its own people.
THROTTLES = {
    "receipt_address": (envint("ZHENGGAI_RECEIPT_FAILURES_PER_ADDRESS", 30), 60),
    "receipt_prefix": (envint("ZHENGGAI_RECEIPT_FAILURES_PER_PREFIX", 10), 60),
    "login_address": (envint("ZHENGGAI_LOGIN_FAILURES_PER_ADDRESS", 30), 60),
    "login_account": (envint("ZHENGGAI_LOGIN_FAILURES_PER_ACCOUNT", 5), 300),
}
# Concurrent argon2 hashes across all server processes (security/slots.py), and how long a
# request waits for a slot before it answers "busy, try again" (503).
ARGON2_SLOTS = envint("ZHENGGAI_ARGON2_SLOTS", max(1, (os.cpu_count() or 2) // 2))
ARGON2_WAIT_S = envfloat("ZHENGGAI_ARGON2_WAIT_S", 2.0)
# A new anonymous opinion's receipt waits longer: it is never a guess.
ARGON2_SUBMIT_WAIT_S = envfloat("ZHENGGAI_ARGON2_SUBMIT_WAIT_S", 20.0)

# HTTPS, from the environment: on behind TLS, off on a laptop.
SECURE_SSL_REDIRECT = envbool("ZHENGGAI_SSL_REDIRECT")
SECURE_HSTS_SECONDS = envint("ZHENGGAI_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("ZHENGGAI_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = envbool("ZHENGGAI_HSTS_PRELOAD")
SESSION_COOKIE_SECURE = envbool("ZHENGGAI_SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
if TRUSTED_PROXIES:
    # The proxy ends TLS and says so; believed only because a proxy is configured.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Who may frame the kiosk board (/board/?kiosk=1): "'self'" by default; add the
# organisation's own origins (space separated) for its screens.
KIOSK_FRAME_ANCESTORS = os.environ.get("ZHENGGAI_KIOSK_FRAME_ANCESTORS", "'self'")

# Background work runs from the database: no broker. `zhenggai worker` runs it.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Mail: SMTP, configured from the environment. Notifications also appear in the app.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "zhenggai@localhost")

# Errors with their traceback to stderr and to a file in the data folder; never a receipt, a
# password or a token (security/logfilter.py drops request bodies, headers and known secrets).
(DATA_DIR / "logs").mkdir(parents=True, exist_ok=True)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"secrets": {"()": "zhenggai.security.logfilter.NoSecrets"}},
    # Dated to the day only: an error during an anonymous submission must not time it.
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s",
                             "datefmt": "%Y-%m-%d"}},
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "level": "WARNING",
                   "filters": ["secrets"], "formatter": "plain"},
        "file": {"class": "logging.handlers.RotatingFileHandler", "level": "ERROR",
                 "filename": str(DATA_DIR / "logs" / "errors.log"), "maxBytes": 10_000_000,
                 "backupCount": 5, "filters": ["secrets"], "formatter": "plain",
                 "encoding": "utf-8", "delay": True},
    },
    "loggers": {
        # django.request carries the request: its 4xx warnings say nothing that is needed.
        "django.request": {"handlers": ["stderr", "file"], "level": "ERROR",
                           "propagate": False},
        "django.security": {"handlers": ["stderr", "file"], "level": "WARNING",
                            "propagate": False},
        "zhenggai": {"handlers": ["stderr", "file"], "level": "WARNING", "propagate": False},
    },
}

# A request body read into memory (not a file upload): room for one photo of the largest
# size in base64 with an opinion over the API (problems/photos.py: 10 MB before encoding).
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024 * 1024
