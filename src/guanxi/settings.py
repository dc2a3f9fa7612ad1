"""The one settings module. Configured only by GUANXI_* environment variables."""

import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(f"GUANXI_{name}", default)


def env_bool(name: str, default: bool = False) -> bool:
    return env(name, "1" if default else "0").lower() in ("1", "true", "yes", "on")


GUANXI_ENV = env("ENV", "development")
PRODUCTION = GUANXI_ENV == "production"
HOME = Path(env("HOME", "guanxi-data")).resolve()

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("GUANXI_SECRET_KEY must be set when GUANXI_ENV=production")
    # Development only: a key kept beside the data so sessions survive restarts.
    SECRET_KEY = "insecure-development-key-set-GUANXI_SECRET_KEY-in-production"

DEBUG = env_bool("DEBUG", default=False)
ALLOWED_HOSTS = [h for h in env("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in env("CSRF_TRUSTED_ORIGINS").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "guanxi.core",
    "guanxi.customers",
    "guanxi.activities",
    "guanxi.quality",
    "guanxi.sales",
    "guanxi.knowledge",
    "guanxi.service",
    "guanxi.contact_center",
    "guanxi.portal",
    "guanxi.analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "guanxi.core.uploads.UploadLimitMiddleware",  # before anything reads a request body
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "guanxi.core.middleware.UserTimezoneMiddleware",
]

ROOT_URLCONF = "guanxi.urls"
WSGI_APPLICATION = "guanxi.wsgi.application"
ASGI_APPLICATION = "guanxi.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "guanxi.core.notification_views.bell",
            ],
        },
    },
]

# Database: SQLite in GUANXI_HOME unless GUANXI_DATABASE_URL says otherwise.
# Under pytest, GUANXI_TEST_DATABASE_URL (what `make test` and .ci/run set) wins, so a bare pytest
# with it set really runs on that database (and the servers the tests start inherit it).
if "pytest" in sys.modules and env("TEST_DATABASE_URL"):
    os.environ["GUANXI_DATABASE_URL"] = env("TEST_DATABASE_URL")
_db_url = env("DATABASE_URL") or f"sqlite:///{HOME / 'guanxi.sqlite3'}"
# Requests run on a fixed pool of threads (asgi.py), so each thread keeps its connection open.
_db = dj_database_url.parse(_db_url, conn_max_age=int(env("DB_CONN_MAX_AGE", "600")), conn_health_checks=True)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            " PRAGMA cache_size=-64000; PRAGMA mmap_size=268435456; PRAGMA temp_store=MEMORY;"
        ),
    }
else:
    # Chinese search needs a UTF-8 ctype (pg_trgm makes no trigrams from CJK under LC_CTYPE=C).
    _db["TEST"] = {"TEMPLATE": "template0", "CHARSET": "UTF8"}
    # Server-side binding lets the hot fixed-SQL queries run as prepared statements (core/db.py: prepared).
    if env_bool("DB_SERVER_SIDE_BINDING", True):
        _db.setdefault("OPTIONS", {})["server_side_binding"] = True
if _db["ENGINE"] != "django.db.backends.sqlite3" and env("DB_POOL", ""):
    _db["CONN_MAX_AGE"] = 0  # Django's pool and persistent connections exclude each other
    _db.setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(env("DB_POOL_MIN", "2")),
        "max_size": int(env("DB_POOL_MAX", "20")),
        "timeout": 10,
    }
DATABASES = {"default": _db}
# The largest file an import accepts (refused while it is uploaded, before anything is parsed).
IMPORT_MAX_BYTES = int(env("IMPORT_MAX_BYTES", str(512 * 1024 * 1024)))
# Seconds a server process remembers an API token (0: look it up on every request).
TOKEN_CACHE_SECONDS = int(env("TOKEN_CACHE_SECONDS", "5"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# The hour (local time) of the nightly customer scoring (guanxi.analytics); -1 turns it off.
ANALYTICS_SCORE_HOUR = int(env("ANALYTICS_SCORE_HOUR", "2"))
# The lifecycle-stage thresholds (guanxi.analytics.lifecycle.Thresholds) to change, as "name=value,…",
# e.g. "lost_days=540,acquisition_days=60".
ANALYTICS_LIFECYCLE = {k.strip(): float(v) for k, v in (item.split("=", 1) for item in env(
    "ANALYTICS_LIFECYCLE", "").split(",") if "=" in item)}

# Login throttling: failed attempts per (username, address) within the window.
LOGIN_MAX_FAILURES = int(env("LOGIN_MAX_FAILURES", "5"))
LOGIN_LOCKOUT_SECONDS = int(env("LOGIN_LOCKOUT_SECONDS", "900"))

LANGUAGE_CODE = env("LANGUAGE", "zh-hans")
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600  # the language switch is remembered for a year, not one browser session
TIME_ZONE = env("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = HOME / "static"
MEDIA_ROOT = HOME / "media"
MEDIA_URL = "/media/"
WHITENOISE_USE_FINDERS = True

# Security: strict in production, relaxed only for local development.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = int(env("HSTS_SECONDS", "31536000"))
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]  # `guanxi worker` runs django_rq's rqworker
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {"default": {"URL": REDIS_URL}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# The service desk warns an assignee this many minutes before an SLA due time.
SERVICE_SLA_WARNING_MINUTES = int(env("SERVICE_SLA_WARNING_MINUTES", "30"))

# Phones are normalised to E.164 with this default region.
PHONE_REGION = env("PHONE_REGION", "CN")

EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = env("EMAIL_FROM", "guanxi@localhost")
# The email channel: attachments above this size are kept out of tickets (the message says so); at most this many
# acknowledgements per sender per hour (a robot answering our acknowledgement cannot start a mail loop).
EMAIL_ATTACHMENT_MAX_BYTES = int(env("EMAIL_ATTACHMENT_MAX_BYTES", str(25 * 1024 * 1024)))
EMAIL_MESSAGE_MAX_BYTES = int(env("EMAIL_MESSAGE_MAX_BYTES", str(100 * 1024 * 1024)))  # larger: not downloaded
EMAIL_ACK_PER_HOUR = int(env("EMAIL_ACK_PER_HOUR", "3"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
}

# Where the server is reached from outside: links in e-mails sent without a request (satisfaction surveys).
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Files a customer attaches to a ticket: the largest one, and the types allowed (by extension).
TICKET_ATTACHMENT_MAX_BYTES = int(env("TICKET_ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))
TICKET_ATTACHMENT_TYPES = [t.strip().lower() for t in env(
    "TICKET_ATTACHMENT_TYPES", ".pdf,.png,.jpg,.jpeg,.gif,.txt,.csv,.xlsx,.docx,.zip").split(",") if t.strip()]
# Days a satisfaction survey link stays valid.
CSAT_LINK_DAYS = int(env("CSAT_LINK_DAYS", "30"))
# NPS surveys: days a survey link stays valid, and the quiet period — a contact surveyed (invited) within this
# many days is left out of the next survey.
NPS_LINK_DAYS = int(env("NPS_LINK_DAYS", "30"))
NPS_QUIET_DAYS = int(env("NPS_QUIET_DAYS", "90"))
# The customer portal: hours a sign-up verification and a password-reset link stay valid; the user name
# that owns contacts and companies created by sign-up (empty: they are left unowned, in the public pool).
PORTAL_VERIFY_HOURS = int(env("PORTAL_VERIFY_HOURS", "48"))
PORTAL_RESET_HOURS = int(env("PORTAL_RESET_HOURS", "2"))
PORTAL_CONTACT_OWNER = env("PORTAL_CONTACT_OWNER")
# A portal search not followed by a ticket within this many minutes counts as deflected (ended without one).
PORTAL_SEARCH_IDLE_MINUTES = int(env("PORTAL_SEARCH_IDLE_MINUTES", "60"))

# Real-time (web chat): Django Channels' in-memory layer serves one process; Redis serves several.
# A channel holds up to `capacity` undelivered events (beyond that they are dropped): an agent's console
# receives every chat message of the site, so the default of 100 is too few under load.
_channel_capacity = int(env("CHANNEL_CAPACITY", "5000"))
CHANNEL_LAYERS = (
    {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                 "CONFIG": {"hosts": [REDIS_URL], "capacity": _channel_capacity}}}
    if REDIS_URL else
    {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": _channel_capacity}}}
)
# The chat widget's limits per visitor: page views tracked and chat messages sent per minute.
CC_TRACK_PER_MINUTE = int(env("CC_TRACK_PER_MINUTE", "60"))
CC_MESSAGES_PER_MINUTE = int(env("CC_MESSAGES_PER_MINUTE", "30"))
# WebSocket opens per minute: a visitor's widget from one IP address (each page view opens one; a NAT of many
# visitors shares an address) and an agent's pages per user. Past it the socket is refused (close code 4429).
CC_VISITOR_SOCKETS_PER_MINUTE = int(env("CC_VISITOR_SOCKETS_PER_MINUTE", "120"))
CC_AGENT_SOCKETS_PER_MINUTE = int(env("CC_AGENT_SOCKETS_PER_MINUTE", "120"))
# How long the link to a document an agent pushed in a chat serves the visitor (the widget gets a fresh one each
# time it opens the chat again).
CC_CHAT_DOCUMENT_HOURS = int(env("CC_CHAT_DOCUMENT_HOURS", "24"))
# Web forms: submissions per minute from one IP address (per form) and to one form, and the fewest seconds a
# person takes to fill one in (a faster submission is a robot's).
CC_FORM_PER_IP_PER_MINUTE = int(env("CC_FORM_PER_IP_PER_MINUTE", "5"))
CC_FORM_PER_MINUTE = int(env("CC_FORM_PER_MINUTE", "120"))
CC_FORM_MIN_SECONDS = int(env("CC_FORM_MIN_SECONDS", "3"))
