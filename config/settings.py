"""Settings come from the environment only; every default makes a fresh clone work."""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

from csp.constants import NONE, SELF

from config.env import env_bool, env_float, env_int, env_list, env_str, proxy_ssl_header
from config.hosts import check_base_url

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off")
    SECRET_KEY = get_random_secret_key()

PORT = env_int("PORT", 8000, minimum=1)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", f"http://127.0.0.1:{PORT}").rstrip("/")
ALLOW_PRIVATE_DESTINATIONS = env_bool("ALLOW_PRIVATE_DESTINATIONS", False)
MAX_BODY_BYTES = env_int("MAX_BODY_BYTES", 10 * 1024 * 1024, minimum=1)
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CSRF_TRUSTED_ORIGINS = [PUBLIC_BASE_URL]

# Ingest (README "Ingest hardening"). A different origin here makes that host
# serve /in/ only, and the dashboard's host stop serving it.
INGEST_BASE_URL = check_base_url("INGEST_BASE_URL", env_str("INGEST_BASE_URL", "") or PUBLIC_BASE_URL)
MAX_URL_BYTES = env_int("MAX_URL_BYTES", 8192, minimum=256)
MAX_HEADER_BYTES = env_int("MAX_HEADER_BYTES", 32768, minimum=1024)
MAX_FORWARD_HOPS = env_int("MAX_FORWARD_HOPS", 5, minimum=1)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "axes",
    "csp",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "endpoints",
    "events",
    "deliveries",
    "realtime",
    "monitoring",
    "replays",
    "testsessions",
    "accounts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files leave here, after the security headers are set.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so it sees the login views' failures (django-axes).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

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
                "accounts.context_processors.signup",
            ],
        },
    },
]


def _database() -> dict:
    url = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
    try:
        db = dj_database_url.parse(url)
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from None
    if db["ENGINE"] == "django.db.backends.postgresql":
        # A pool per process: async code paths would otherwise open a
        # connection per thread and exhaust max_connections.
        db["OPTIONS"] = {
            "pool": {
                "min_size": 1,
                "max_size": env_int("DB_POOL_SIZE", 10, minimum=1),
                "timeout": env_float("DB_POOL_TIMEOUT", 10.0),
            },
            "connect_timeout": 5,
            # Names this process in pg_stat_activity (web, worker, tests).
            "application_name": env_str("DB_APPLICATION_NAME", "hookline"),
        }
        db["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME", "test_hookline")}
    elif db["ENGINE"] == "django.db.backends.sqlite3":
        # IMMEDIATE avoids "database is locked" upgrades when the worker and
        # the web process write at once; WAL lets readers run beside them.
        db["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    return db


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]

# Every Redis key and channel of this installation starts with this prefix,
# so installations (and parallel test runs) can share one Redis database and
# one can drop all of its keys without touching another's.
REDIS_PREFIX = env_str("CHANNEL_PREFIX", "hookline")

# Channels: the pub/sub layer measured 4x lower p99 than the list-based core
# layer here; consumers bound their own backlog. Ours decodes a group message
# once per process and hands it straight to idle consumers (realtime/layer.py).
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "realtime.layer.FanoutChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": REDIS_PREFIX},
    }
}

# Celery: the broker only carries wake-ups; the database says what is due.
CELERY_BROKER_URL = REDIS_URL
# Kombu's own bookkeeping keys (unacked, bindings) are global per database
# unless prefixed.
CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": f"{REDIS_PREFIX}:"}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "hookline")
CELERY_BEAT_SCHEDULE = {
    "sweep-due-deliveries": {
        "task": "deliveries.tasks.sweep_due",
        "schedule": env_float("SWEEP_INTERVAL_SECONDS", 2.0),
    },
    # Events stored by ingest become searchable (events/search.py); a tick
    # left waiting behind a busy or stopped worker is dropped, not piled up.
    "index-search": {
        "task": "events.tasks.index_search",
        "schedule": 1.0,
        "options": {"expires": 10.0},
    },
    "refresh-idle-health": {
        "task": "deliveries.tasks.refresh_idle_health",
        "schedule": 300.0,
    },
    "prune-old-rows": {
        "task": "monitoring.tasks.prune",
        "schedule": env_float("RETENTION_INTERVAL_SECONDS", 600.0),
    },
    "monitoring-minute": {
        "task": "monitoring.tasks.run_minute",
        "schedule": env_float("MONITOR_INTERVAL_SECONDS", 60.0),
    },
    "delete-expired-test-sessions": {
        "task": "testsessions.tasks.delete_expired",
        "schedule": env_float("TEST_SESSION_SWEEP_SECONDS", 60.0),
    },
    "resume-stalled-replays": {
        "task": "replays.tasks.resume_stalled_replays",
        "schedule": 60.0,
    },
    "delete-expired-refresh-tokens": {
        "task": "accounts.tasks.delete_expired_tokens",
        "schedule": 3600.0,
    },
}
# How long a claimed or enqueued delivery may stay silent before the sweeper
# assumes its worker or its broker message was lost and sends it again.
# Never shorter than an endpoint's timeout plus a margin (deliveries/claims.py).
DELIVERY_LEASE_SECONDS = env_int("DELIVERY_LEASE_SECONDS", 90, minimum=1)
# The forwarding engine of each worker process (deliveries/engine.py).
DELIVERY_CONCURRENCY = env_int("DELIVERY_CONCURRENCY", 200, minimum=1)
DELIVERY_MAX_IN_FLIGHT_PER_ENDPOINT = env_int("DELIVERY_MAX_IN_FLIGHT_PER_ENDPOINT", 10, minimum=1)
DELIVERY_POLL_SECONDS = env_float("DELIVERY_POLL_SECONDS", 0.25)
HEALTH_REFRESH_SECONDS = env_float("HEALTH_REFRESH_SECONDS", 5.0)
RESPONSE_BODY_LIMIT = 64 * 1024
# Bulk replays: events per batch (the unit of resumption) and how many of a
# batch are sent at once.
REPLAY_BATCH_SIZE = env_int("REPLAY_BATCH_SIZE", 20, minimum=1)
REPLAY_CONCURRENCY = env_int("REPLAY_CONCURRENCY", 4, minimum=1)
# An edited replay carries a body up to MAX_BODY_BYTES, base64 in JSON.
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_BODY_BYTES * 4 // 3 + 64 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "endpoints.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only: form encodings cannot carry the lists and nulls the schema
    # describes, so advertising them would promise requests we must refuse.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "config.schema.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "config.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.api_errors.exception_handler",
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
    "AUTH_HEADER_TYPES": ("Bearer",),
    # A refresh token works once: a stolen copy dies with the first use by
    # either side (accounts/ also blacklists them on logout and password change).
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Hookline API",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    # Separate request and response shapes: read-only fields leave the
    # request, write-only ones the response, and required text gets minLength.
    "COMPONENT_SPLIT_REQUEST": True,
    # One schema name for alert types, used by alerts and channels alike.
    "ENUM_NAME_OVERRIDES": {"AlertTypeEnum": "monitoring.models.AlertType"},
}

# Monitoring: detector thresholds (README "Monitoring" lists each one).
MONITOR = {
    # traffic_spike: the last minute above SPIKE_FACTOR x the trailing
    # 10-minute average, and at least SPIKE_MIN events.
    "SPIKE_FACTOR": env_float("MONITOR_SPIKE_FACTOR", 5.0),
    "SPIKE_MIN": env_int("MONITOR_SPIKE_MIN", 10, minimum=1),
    # traffic_drop: the last 5 minutes below DROP_RATIO x the hour before,
    # when that hour averaged at least DROP_MIN_PER_MIN events a minute.
    "DROP_RATIO": env_float("MONITOR_DROP_RATIO", 0.2),
    "DROP_MIN_PER_MIN": env_float("MONITOR_DROP_MIN_PER_MIN", 5.0),
    # Counted over the last WINDOW_MINUTES (timeouts, retries, reports...).
    "WINDOW_MINUTES": env_int("MONITOR_WINDOW_MINUTES", 10, minimum=1),
    "TIMEOUTS_MIN": env_int("MONITOR_TIMEOUTS_MIN", 3, minimum=1),
    "TIMEOUTS_RATIO": env_float("MONITOR_TIMEOUTS_RATIO", 0.2),
    "RETRY_STORM_REPEATS": env_int("MONITOR_RETRY_STORM_REPEATS", 3, minimum=2),
    "SIGNATURE_FAILURES_MIN": env_int("MONITOR_SIGNATURE_FAILURES_MIN", 3, minimum=1),
    "PROCESSING_FAILURES_MIN": env_int("MONITOR_PROCESSING_FAILURES_MIN", 3, minimum=1),
    "PROCESSING_FAILURES_RATIO": env_float("MONITOR_PROCESSING_FAILURES_RATIO", 0.2),
    "SLOW_PROCESSING_MIN": env_int("MONITOR_SLOW_PROCESSING_MIN", 3, minimum=1),
    "SLOW_PROCESSING_RATIO": env_float("MONITOR_SLOW_PROCESSING_RATIO", 0.5),
    # latency_degradation: p95 of the last hour above LATENCY_FACTOR x the
    # 7-day p95, over at least LATENCY_MIN_ATTEMPTS attempts and LATENCY_FLOOR_MS.
    "LATENCY_FACTOR": env_float("MONITOR_LATENCY_FACTOR", 2.0),
    "LATENCY_MIN_ATTEMPTS": env_int("MONITOR_LATENCY_MIN_ATTEMPTS", 20, minimum=1),
    "LATENCY_FLOOR_MS": env_int("MONITOR_LATENCY_FLOOR_MS", 200, minimum=0),
}
# Email notifications: printed to the console under `make run` (DEBUG) unless
# an SMTP server is configured (Django's EMAIL_HOST, EMAIL_PORT, ... variables).
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "hookline@localhost")
# Retention, pruned in batches by beat (monitoring.retention).
RETENTION_DAYS = env_int("RETENTION_DAYS", 30, minimum=1)
REPORT_RETENTION_DAYS = env_int("REPORT_RETENTION_DAYS", 30, minimum=1)
MINUTE_ROLLUP_RETENTION_DAYS = env_int("MINUTE_ROLLUP_RETENTION_DAYS", 2, minimum=1)
HOUR_ROLLUP_RETENTION_DAYS = env_int("HOUR_ROLLUP_RETENTION_DAYS", 90, minimum=8)
RETENTION_BATCH = env_int("RETENTION_BATCH", 500, minimum=1)
# `GET /metrics` answers only `Authorization: Bearer <METRICS_TOKEN>`; unset: 404.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
MAX_REPORT_BYTES = env_int("MAX_REPORT_BYTES", 1024 * 1024, minimum=1)
# Anonymous test sessions (testsessions/)
TEST_SESSION_TTL_SECONDS = env_int("TEST_SESSION_TTL_SECONDS", 24 * 3600, minimum=60)
TEST_SESSIONS_PER_IP_PER_HOUR = env_int("TEST_SESSIONS_PER_IP_PER_HOUR", 10, minimum=1)
TEST_SESSION_INGEST_RATE_LIMIT = env_int("TEST_SESSION_INGEST_RATE_LIMIT", 10, minimum=1)

# Accounts and production hardening (accounts/, README "Security").
SIGNUP_ENABLED = env_bool("SIGNUP_ENABLED", True)
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
# django-axes counts failed logins in the database, so every server process
# sees them: LOGIN_FAILURE_LIMIT failures lock out that account from every
# address, and that address for every account, for LOGIN_LOCKOUT_MINUTES.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Tries during a lockout are not counted: it ends when Retry-After says.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# Requests per minute and address to the token endpoints, across processes.
AUTH_REQUESTS_PER_MINUTE = env_int("AUTH_REQUESTS_PER_MINUTE", 30, minimum=1)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": REDIS_PREFIX,
    }
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not DEBUG
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if PUBLIC_BASE_URL.startswith("https://") and not DEBUG:
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = True
    SECURE_SSL_REDIRECT = True
# Only behind a proxy that sets this header itself (e.g. X-Forwarded-Proto).
SECURE_PROXY_SSL_HEADER = proxy_ssl_header("SECURE_PROXY_SSL_HEADER", env_str("SECURE_PROXY_SSL_HEADER", ""))
# The dashboard loads nothing from elsewhere and runs no inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# WhiteNoise serves static files straight from the apps' folders (read once
# at start): no collectstatic step and no STATIC_ROOT to keep in step.
WHITENOISE_USE_FINDERS = True

# Realtime
WS_PING_SECONDS = env_float("WS_PING_SECONDS", 20.0)
WS_IDLE_SECONDS = env_float("WS_IDLE_SECONDS", 60.0)
WS_MAX_CONNECTIONS_PER_USER = env_int("WS_MAX_CONNECTIONS_PER_USER", 10, minimum=1)
WS_QUEUE_SIZE = env_int("WS_QUEUE_SIZE", 500, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
