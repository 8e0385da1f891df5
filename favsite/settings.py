"""favsite settings: every value comes from the environment (see README.md).

The defaults make ``make run`` work on a laptop: SQLite in the project folder,
Redis on 127.0.0.1, DEBUG on. A production deployment sets ``DEBUG=0`` and at
least ``SECRET_KEY``, ``ALLOWED_HOSTS`` and ``SITE_URL``.
"""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from bookmarks.email_url import default_from_address, parse_email_url
from favsite.environment import (
    env_bool,
    env_choice,
    env_dns_servers,
    env_float,
    env_int,
    env_list,
    env_networks,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105 (DEBUG only)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [SITE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "bookmarks",
    "imgateway",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "bookmarks.web.timezones.TimeZoneMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

# Content-Security-Policy (django-csp): scripts, styles, images and requests
# from the site itself only (the web app manifest too); no inline script or style, no framing, no plugins.
# The API docs page (Redoc) gets what it needs in bookmarks/api/urls.py.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "manifest-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

ROOT_URLCONF = "favsite.urls"

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
                "imgateway.context.bot",
            ],
        },
    },
]

WSGI_APPLICATION = "favsite.wsgi.application"
ASGI_APPLICATION = "favsite.asgi.application"

# Database: SQLite in the project folder unless DATABASE_URL says otherwise.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web, the worker and the gateway read while one of them
    # writes; IMMEDIATE transactions take the write lock up front, so two
    # writers queue on the busy timeout instead of failing with "locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # runserver serves each request in a thread of its own: a kept connection would outlive it.
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
# Mail (password resets): a request queues it, the worker sends it as EMAIL_URL says (bookmarks/email_url.py).
# Unset: printed by the worker with DEBUG on, off otherwise (no reset by mail).
EMAIL_URL = env_str("EMAIL_URL", "console:" if DEBUG else "")
# EMAIL_DELIVERY_BACKEND (what the worker sends with; empty: mail off), EMAIL_HOST, _PORT, _USE_TLS, ...
vars().update(parse_email_url(EMAIL_URL))
EMAIL_BACKEND = "bookmarks.mail.QueuedEmailBackend"
EMAIL_RETRY_DELAY = 15.0  # seconds before the worker tries a mail again (bookmarks/mail.py)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", default_from_address(SITE_URL))
PASSWORD_RESET_TIMEOUT = 24 * 3600  # a reset link works for a day (the mail says so)
# Reverse proxies whose X-Forwarded-For names the client (the login limit and
# the sign-up limit count per client address). Empty: REMOTE_ADDR is the client.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")
LOGIN_REDIRECT_URL = "bookmarks:list"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Files browsers ask for at the root of the site (favicon.ico), served by WhiteNoise.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed, compressed files served by whitenoise (collectstatic at build).
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# HTTPS: on by default in production. Behind a proxy that terminates TLS, set
# SECURE_PROXY_SSL_HEADER=1 so Django trusts X-Forwarded-Proto.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # container health checks speak plain HTTP
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# The REST API (bookmarks/api): the user's API token, or the browser session.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "bookmarks.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "favsite API",
    "DESCRIPTION": "Your bookmarks and tags. Authenticate with `Authorization: Token <your API token>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "REDOC_DIST": "SIDECAR",
}

# Celery (the worker and beat; the app lives in favsite/celery.py).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_ROUTES = {"bookmarks.tasks.fetch_metadata": {"queue": "fetch"}}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Fetching is I/O-bound and a task holds no lock: a worker may take a few messages ahead.
CELERY_WORKER_PREFETCH_MULTIPLIER = env_int("CELERY_WORKER_PREFETCH_MULTIPLIER", 4, minimum=1)
# Worker processes `make run` starts from the Procfile's worker line (docker
# compose: replicas of the worker service). Each runs 16 threads and, held to
# one core by Python's GIL, scale comes from more processes.
WORKER_PROCESSES = env_int("WORKER_PROCESSES", 2, minimum=1)
# Options of kombu's stock Redis transport, handed to Celery in favsite/celery.py.
# A message a dead worker had taken goes back to the queue after this many
# seconds (Redis' default is an hour). Keep it above the longest task, retry
# countdowns included, or a slow task runs twice.
TASK_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 600, minimum=1)
# A prefix for every Redis key Celery uses: separate sites (or test runs) can
# share one Redis without taking each other's tasks.
TASK_KEY_PREFIX = env_str("CELERY_KEY_PREFIX")
# A web request must not hang on a Redis outage: publishing gives up quickly
# and the beat sweep queues the bookmark later (the row is the durable record).
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
# Celery's Django fixup closes the database connection after every task
# unless told to reuse it: a new connection per fetch on PostgreSQL, and on
# SQLite closing the last connection checkpoints the WAL file. Reuse it for
# this many tasks.
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000, minimum=0)
CELERY_BEAT_SCHEDULE = {
    "sweep-stale-fetches": {
        "task": "bookmarks.tasks.sweep_stale_fetches",
        "schedule": env_float("FETCH_SWEEP_INTERVAL", 60.0, minimum=1.0),
    },
    # Both every 10 s: after a broker outage, titles and confirmations come within about 30 s.
    "requeue-unsent-fetches": {
        "task": "bookmarks.tasks.requeue_unsent_fetches",
        "schedule": 10.0,
    },
    "sweep-page-texts": {
        "task": "bookmarks.tasks.sweep_page_texts",
        "schedule": 60.0,
    },
    "sweep-favicons": {"task": "bookmarks.tasks.sweep_favicons", "schedule": 300.0},
    "sweep-link-checks": {
        "task": "bookmarks.tasks.sweep_link_checks",
        "schedule": 60.0,
    },
    "resend-confirmations": {
        "task": "imgateway.tasks.resend_confirmations",
        "schedule": 10.0,
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = env_str("CELERY_BEAT_SCHEDULE_FILENAME", str(BASE_DIR / "var" / "celerybeat-schedule"))

# The XMPP gateway (imgateway).
XMPP_JID = env_str("XMPP_JID")
XMPP_PASSWORD = env_str("XMPP_PASSWORD")
XMPP_SERVER = env_str("XMPP_SERVER")
XMPP_TLS = env_choice("XMPP_TLS", "starttls", ("starttls", "direct", "off"))
# A fixed resource: after a crash the server hands messages to the new session
# at once instead of to the dead, hibernating stream (see DESIGN.md).
XMPP_RESOURCE = env_str("XMPP_RESOURCE", "favsite")
# The presence priority: the server hands the bot's messages to the highest.
# A standby gateway runs with its own XMPP_RESOURCE and a lower priority.
XMPP_PRIORITY = env_int("XMPP_PRIORITY", 10, minimum=0)
XMPP_MAX_BODY_BYTES = env_int("XMPP_MAX_BODY_BYTES", 4096, minimum=256)
# Per-JID token bucket: this many messages at once, refilled at this rate.
XMPP_RATE_BURST = env_int("XMPP_RATE_BURST", 20, minimum=1)
XMPP_RATE_PER_MINUTE = env_float("XMPP_RATE_PER_MINUTE", 60.0, minimum=0.1)
# Strangers (unlinked JIDs) the bot approves presence subscriptions of, at most.
XMPP_ROSTER_MAX_STRANGERS = env_int("XMPP_ROSTER_MAX_STRANGERS", 200, minimum=0)
# The gateway stops reading from the server while this many messages wait for
# the database, and reads again when half of them are saved: a flood waits in
# the server's queue, not in the gateway's memory.
XMPP_MAX_BACKLOG = env_int("XMPP_MAX_BACKLOG", 1000, minimum=10)
# Catching up from the server's message archive (XEP-0313) after a restart
# looks back at most this many hours (messages older than that are not fetched).
XMPP_CATCH_UP_HOURS = env_float("XMPP_CATCH_UP_HOURS", 24.0, minimum=0.0)
# Prefix of the gateway's Redis keys (the confirmation stream, notice limits);
# separate sites or test runs sharing one Redis use different prefixes.
XMPP_REDIS_PREFIX = env_str("XMPP_REDIS_PREFIX", "favsite:im")

# Fetching page metadata (bookmarks.fetching.metadata).
FETCH_TIMEOUT = env_float("FETCH_TIMEOUT", 10.0, minimum=0.1)
FETCH_MAX_BYTES = env_int("FETCH_MAX_BYTES", 1024 * 1024, minimum=1024)
FETCH_ALLOW_NETWORKS = env_networks("FETCH_ALLOW_NETWORKS")
# DNS servers the fetcher asks (ip or ip:port, comma-separated) instead of those in /etc/resolv.conf.
FETCH_DNS_SERVERS = env_dns_servers("FETCH_DNS_SERVERS")
# Keeping the page's text (bookmarks.fetching.text): the body is read up to this many decompressed bytes.
FETCH_MAX_BODY_BYTES = env_int("FETCH_MAX_BODY_BYTES", 5 * 1024 * 1024, minimum=1024)
# Imports (bookmarks.interchange): the largest bookmark file accepted, refused from its declared
# length before the upload is read and cut off by the upload handler once this many bytes arrived.
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 50 * 1024 * 1024, minimum=1024)
# The most tags one bookmark keeps (web form and APIs refuse more; imports and chat keep the first ones).
BOOKMARK_MAX_TAGS = env_int("BOOKMARK_MAX_TAGS", 100, minimum=1)
FAVICON_MAX_BYTES = env_int("FAVICON_MAX_BYTES", 100 * 1024, minimum=1024)  # site icons: bookmarks.services.favicons
FAVICON_REFRESH_DAYS = env_int("FAVICON_REFRESH_DAYS", 30, minimum=1)  # days; then a fetch on the host asks again
# Link health (bookmarks.services.health): every link checked again every LINK_CHECK_DAYS (0: never),
# at most LINK_CHECK_PER_MINUTE a minute; two failures LINK_CHECK_CONFIRM_HOURS apart make it broken.
LINK_CHECK_DAYS = env_int("LINK_CHECK_DAYS", 30, minimum=0)
LINK_CHECK_CONFIRM_HOURS = env_float("LINK_CHECK_CONFIRM_HOURS", 24.0, minimum=0.0)
LINK_CHECK_PER_MINUTE = env_int("LINK_CHECK_PER_MINUTE", 20, minimum=1)
# The beat sweep queues the text of this many older bookmarks a minute at most (0: never).
TEXT_SWEEP_PER_MINUTE = env_int("TEXT_SWEEP_PER_MINUTE", 30, minimum=0)
# A pending bookmark untouched this long is queued again by the beat sweep,
# until it has been tried FETCH_MAX_ATTEMPTS times; then it is marked failed.
FETCH_STALE_AFTER = env_float("FETCH_STALE_AFTER", 600.0, minimum=1.0)
# A save from chat, the web or the API still pending and never tried this long after it was saved (or queued
# again) is queued again, each time waiting twice as long; longer than FETCH_TIMEOUT, so no attempt is doubled.
FETCH_REQUEUE_AFTER = env_float("FETCH_REQUEUE_AFTER", 20.0, minimum=1.0)
FETCH_MAX_ATTEMPTS = env_int("FETCH_MAX_ATTEMPTS", 6, minimum=1)
# Seconds before the first retry of a timeout, connection error or 5xx; then x3, x9.
FETCH_RETRY_DELAY = env_float("FETCH_RETRY_DELAY", 10.0, minimum=0.0)
# A fair share of the fetch slots (bookmarks.services.fair_share): at most this many title fetches of one
# account run at once, across all workers; the others wait their turn (at least FETCH_USER_WAIT seconds).
FETCH_USER_SLOTS = env_int("FETCH_USER_SLOTS", 8, minimum=1)
FETCH_USER_WAIT = env_float("FETCH_USER_WAIT", 1.0, minimum=0.01)

# Logs go to stdout: one JSON object per line in production (LOG_FORMAT=json),
# readable lines in development (LOG_FORMAT=plain).
LOG_FORMAT = env_choice("LOG_FORMAT", "plain" if DEBUG else "json", ("plain", "json"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "quiet_polls": {"()": "favsite.logformat.QuietPolls"},
        "redact_tokens": {"()": "favsite.logformat.RedactTokens"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "favsite.logformat.JsonFormatter"},
        # runserver's own request lines, as Django words them
        "server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"},
    },
    "handlers": {
        # Every line, whatever logged it, without secret tokens (feed addresses, Pinboard's auth_token).
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": LOG_FORMAT,
            "filters": ["redact_tokens"],
        },
        "server": {"class": "logging.StreamHandler", "formatter": "server", "filters": ["redact_tokens"]},
    },
    "loggers": {
        # runserver (make run): a line per request, but none per live poll of an open list (one a second a tab)
        "django.server": {
            "handlers": ["server"],
            "level": "INFO",
            "filters": ["quiet_polls"],
            "propagate": False,
        },
        # gunicorn's access log (--access-logfile -): a line per request, in our format, without secret tokens
        "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO").upper()},
}
