"""Settings, read from the environment with safe defaults for a laptop.

ZHENGGAI_DATA   folder for the embedded SQLite database and uploads (default ./data)
DATABASE_URL    e.g. postgres://postgres@127.0.0.1:5432/zhenggai; default SQLite in the data folder
SECRET_KEY      required when DEBUG is off
DEBUG           "1" for development
ALLOWED_HOSTS   comma separated
"""

import os
from pathlib import Path

import dj_database_url


def envbool(name: str, default: str = "0") -> bool:
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


def envint(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("ZHENGGAI_DATA", "data")).resolve()

DEBUG = envbool("DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    # A laptop/demo default. Production sets SECRET_KEY; the check below warns otherwise.
    SECRET_KEY = "zhenggai-insecure-demo-key-change-me"
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "*").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
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
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
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
BOARD_NETWORKS = [n.strip() for n in os.environ.get(
    "ZHENGGAI_BOARD_NETWORKS", "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16"
).split(",") if n.strip()]

# Background work runs from the database: no broker. `zhenggai worker` runs it.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Mail: SMTP, configured from the environment. Notifications also appear in the app.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "zhenggai@localhost")
