"""Settings shared by every runtime. Everything that differs between machines comes from the
environment; the defaults give the embedded runtime (SQLite, eager Celery, console e-mail)."""

import base64
import hashlib
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # The admin site asks for a verified second factor (apps/accounts/admin_site.py).
    "apps.accounts.apps.VerifiedAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "django_htmx",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "apps.core",
    "apps.tenancy",
    "apps.accounts",
    "apps.audit",
    "apps.jobs",
    "apps.portal",
    "apps.owners",
    "apps.taxonomy",
    "apps.pricing",
    "apps.fx",
    "apps.usage",
    "apps.invoices",
    "apps.connectors",
    "apps.reconciliation",
    "apps.allocation",
    "apps.periods",
    "apps.statements",
    "apps.disputes",
    "apps.showback",
    "apps.webhooks",
    "apps.journals",
]

MIDDLEWARE = [
    # First, so that the latency it records is the whole of Django's (apps/core/observability/metrics.py).
    "apps.core.observability.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): has this session passed a second factor (TOTP or a recovery code)?
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "apps.accounts.sessions.SessionIdleTimeoutMiddleware",
    # Turns "this needs a second factor" (apps.tenancy.permissions.SecondFactorRequired) into the step-up page.
    "apps.accounts.mfa.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "apps.tenancy.middleware.OrganizationScopeMiddleware",
    # Last, so that a locked-out login is answered before any view runs.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "apps.portal.context_processors.portal",
            ],
        },
    },
]

# Database: DATABASE_URL, else a SQLite file in the repository (git-ignored).
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's PostgreSQL backend, grouping tenant tables (keyed (organization_id, id)) by every selected column
    DATABASES["default"]["ENGINE"] = "apps.tenancy.db.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web process read while an ingest writes; IMMEDIATE takes the write lock at
        # BEGIN so two writers queue instead of failing with "database is locked" mid-transaction.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out username/IP pair before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Login throttling (django-axes). Lockout is per username *and* IP, so a stranger hammering a
# victim's username from elsewhere cannot lock the victim out, and it expires by itself.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# Failed attempts and lockouts are rows in the database, so every web process sees the same count.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"

# Session lifetime. Idle timeouts are per person: short for whoever is a finance admin, finance analyst or
# org admin anywhere (they move money or grant access), longer for budget owners and viewers. A session
# never outlives SESSION_MAX_HOURS, however active (apps/accounts/sessions.py).
SESSION_IDLE_MINUTES_FINANCE = int(os.environ.get("SESSION_IDLE_MINUTES_FINANCE", "30"))
SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "480"))
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_MAX_HOURS", "12")) * 3600

# Second factor (django-otp: TOTP apps and one-use recovery codes). Org admins and finance admins need
# one before they approve, override, close, reopen, change settings or manage members and API clients;
# an organisation can require it of every member (Organization.require_second_factor).
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "AI chargeback")
MFA_RECOVERY_CODES = 10

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "portal:switcher"
LOGOUT_REDIRECT_URL = "accounts:login"

# Content-Security-Policy (django-csp 4). Scripts and styles come only from the portal's own static files
# (htmx included): no inline <script>, no inline event handlers (onclick=…), no style attributes, no eval.
# Templates attach behaviour through data attributes read by apps/portal/static/portal/portal.js;
# tests/portal/test_csp.py checks the header and every template.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Received usage and invoice files are kept here until processed (and for re-runs).
INGEST_PAYLOAD_DIR = os.environ.get("INGEST_PAYLOAD_DIR", str(BASE_DIR / "media" / "ingest"))
# Form fields, request.body and (through apps/core/parsers.py) every JSON or form body of the API; ingest
# files have their own cap below. 413 over it.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Hard limits on what an ingest receives (apps/core/limits.py). Upload: the bytes as sent, on every path
# but a file the ingest commands read from disk (portal forms answer with a form error, the API with 413).
# Decompressed and ratio: a gzip file is decompressed as it is read, never whole, and refused beyond either.
INGEST_MAX_UPLOAD_BYTES = int(os.environ.get("INGEST_MAX_UPLOAD_MB", "50")) * 1024 * 1024
INGEST_MAX_DECOMPRESSED_BYTES = int(os.environ.get("INGEST_MAX_DECOMPRESSED_MB", "2048")) * 1024 * 1024
INGEST_MAX_GZIP_RATIO = int(os.environ.get("INGEST_MAX_GZIP_RATIO", "100"))
# Every uploaded file passes this handler first: it stops keeping bytes past the upload limit.
FILE_UPLOAD_HANDLERS = [
    "apps.core.uploads.CappedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Plausible timestamps in usage and invoice files: a row before the first day or more than the
# allowed time ahead of now is refused with its line and field (README, "Limits on numbers").
INGEST_EARLIEST_DATE = os.environ.get("INGEST_EARLIEST_DATE", "2015-01-01")
INGEST_MAX_FUTURE_HOURS = int(os.environ.get("INGEST_MAX_FUTURE_HOURS", "24"))

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "chargeback@localhost")
# A notification e-mail the mail server refused for a moment is tried again this many times (apps/core/mail.py).
MAIL_MAX_RETRIES = int(os.environ.get("MAIL_MAX_RETRIES", "8"))
# Where e-mails link to (statements issued, disputes opened and resolved).
PORTAL_URL = os.environ.get("PORTAL_URL", "http://127.0.0.1:8000").rstrip("/")

# Webhooks (apps/webhooks, README "Webhooks"). Targets on private, link-local, reserved and multicast
# addresses are always refused; loopback only where this allows it (local and test settings, never production).
WEBHOOK_ALLOW_LOOPBACK = env_bool("WEBHOOK_ALLOW_LOOPBACK", False)
# An endpoint whose deliveries have failed without a success for this many days is disabled (Svix: 5 days).
WEBHOOK_DISABLE_AFTER_DAYS = int(os.environ.get("WEBHOOK_DISABLE_AFTER_DAYS", "5"))
# A receiver has this long to answer (Svix: 15 s); after a rotation the old secret signs too for this long.
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "15"))
WEBHOOK_SECRET_OVERLAP_HOURS = int(os.environ.get("WEBHOOK_SECRET_OVERLAP_HOURS", "24"))

# Audit anchoring (apps/audit/anchoring.py, README "Audit trail anchoring"): each organisation's chain head is
# published, signed with AUDIT_ANCHOR_KEY, to AUDIT_ANCHOR_DIR (read back by verify_audit_chain) and optionally
# POSTed to a webhook and e-mailed to auditors. Unset directory: nothing is anchored (verification says so).
AUDIT_ANCHOR_KEY = os.environ.get("AUDIT_ANCHOR_KEY", "")
AUDIT_ANCHOR_DIR = os.environ.get("AUDIT_ANCHOR_DIR", "")
AUDIT_ANCHOR_WEBHOOK_URL = os.environ.get("AUDIT_ANCHOR_WEBHOOK_URL", "")
AUDIT_ANCHOR_WEBHOOK_TIMEOUT = float(os.environ.get("AUDIT_ANCHOR_WEBHOOK_TIMEOUT", "10"))
AUDIT_ANCHOR_EMAILS = env_list("AUDIT_ANCHOR_EMAILS")

# Prometheus metrics at /metrics (README "Health and metrics"): a scraper sends "Authorization: Bearer
# <METRICS_TOKEN>"; with no token set, only requests from this machine are answered where this allows it
# (not in production, where a proxy on the same machine would make every request look local).
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_ALLOW_LOOPBACK = env_bool("METRICS_ALLOW_LOOPBACK", True)

# Provider connectors (apps/connectors, README "Provider connectors"). Credentials are encrypted with Fernet keys
# (comma-separated, the first encrypts, all decrypt: add the new key first to rotate). Production refuses to start
# without them; local and test settings fall back to DEV_CONNECTOR_ENCRYPTION_KEY, derived from a published string.
CONNECTOR_ENCRYPTION_KEYS = env_list("CONNECTOR_ENCRYPTION_KEYS")
DEV_CONNECTOR_ENCRYPTION_KEY = base64.urlsafe_b64encode(
    hashlib.sha256(b"ai-chargeback development connector key: public, protects nothing").digest()
).decode()
CONNECTOR_OPENAI_BASE_URL = os.environ.get("CONNECTOR_OPENAI_BASE_URL", "https://api.openai.com").rstrip("/")
CONNECTOR_ANTHROPIC_BASE_URL = os.environ.get("CONNECTOR_ANTHROPIC_BASE_URL", "https://api.anthropic.com").rstrip("/")
# A connection is pulled by the hourly beat task once its last pull started this long ago.
CONNECTOR_PULL_EVERY_MINUTES = int(os.environ.get("CONNECTOR_PULL_EVERY_MINUTES", "60"))
# How far back the first pull of a new connection reads.
CONNECTOR_BACKFILL_DAYS = int(os.environ.get("CONNECTOR_BACKFILL_DAYS", "31"))
CONNECTOR_TIMEOUT_SECONDS = float(os.environ.get("CONNECTOR_TIMEOUT_SECONDS", "30"))
# 429 answers: wait what Retry-After says (at most CONNECTOR_MAX_RETRY_AFTER_SECONDS), this many times a request.
CONNECTOR_MAX_RETRIES = int(os.environ.get("CONNECTOR_MAX_RETRIES", "5"))
CONNECTOR_MAX_RETRY_AFTER_SECONDS = int(os.environ.get("CONNECTOR_MAX_RETRY_AFTER_SECONDS", "120"))
# A pull still "running" after this long (its worker died) no longer blocks the next one.
CONNECTOR_PULL_STALE_MINUTES = int(os.environ.get("CONNECTOR_PULL_STALE_MINUTES", "30"))

# Celery: unset broker = the embedded runtime, where tasks run eagerly in-process.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", CELERY_BROKER_URL or None)
# `filesystem://` (what `make demo` and `make worker` set): kombu's filesystem transport, a real worker beside
# the development server with no service to run. A message is a file in CELERY_FILESYSTEM_DIR/queue (the
# web process writes it, a worker moves it away), the exchange tables are files in .../control (so fanout,
# e.g. `celery inspect ping`, reaches the workers). No result backend: the job rows are the results.
CELERY_FILESYSTEM_DIR = Path(os.environ.get("CELERY_FILESYSTEM_DIR", str(BASE_DIR / ".celery")))


def filesystem_broker_options(folder: Path, *, poll_seconds: float = 0.2) -> dict:
    """kombu's filesystem transport options for the broker kept in ``folder`` (its folders made here).
    ``poll_seconds``: how often an idle worker looks for a new message (kombu's default is 1 s)."""
    for name in ("queue", "control"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "control_folder": str(folder / "control"),
        "polling_interval": poll_seconds,
    }


if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(
        CELERY_FILESYSTEM_DIR, poll_seconds=float(os.environ.get("CELERY_FILESYSTEM_POLL_SECONDS", "0.2"))
    )
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
# The queue tasks are sent to and workers read by default (a real-worker test gives its worker a queue of its own).
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
# A job still queued after this many seconds: its page says no worker has taken it (is one running?).
WORKER_WAIT_WARNING_SECONDS = int(os.environ.get("WORKER_WAIT_WARNING_SECONDS", "15"))
CELERY_TASK_ACKS_LATE = True  # a killed worker's task is redelivered, and every task is safe to re-run
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# A running ingest job whose worker has not reported for this long (a usage job beats at every committed
# chunk, an invoice job while it reads) is marked interrupted by the sweeper, and can then be retried.
INGEST_STALE_AFTER = timedelta(minutes=int(os.environ.get("INGEST_STALE_AFTER_MINUTES", "15")))
# Background jobs (apps/jobs): a running job's worker beats every JOB_HEARTBEAT_SECONDS; one silent for
# JOB_STALE_AFTER_MINUTES is marked interrupted by the sweeper (and can be retried).
JOB_HEARTBEAT_SECONDS = int(os.environ.get("JOB_HEARTBEAT_SECONDS", "30"))
JOB_STALE_AFTER = timedelta(minutes=int(os.environ.get("JOB_STALE_AFTER_MINUTES", "5")))
# A received upload body is deleted as soon as its job cannot be re-run (succeeded, refused); that of a job
# that failed or was interrupted (a retry reads it again) is kept this many days after it stopped.
INGEST_PAYLOAD_RETENTION_DAYS = int(os.environ.get("INGEST_PAYLOAD_RETENTION_DAYS", "7"))
# Idempotency-Key on the API's POSTs (apps/tenancy/idempotency.py): a key and its stored answer are kept this
# many hours (at least 24) and then purged by the beat task; a request still running with a key after
# IDEMPOTENCY_STALE_AFTER (its process died before it answered) lets a retry with the key run again.
IDEMPOTENCY_KEY_RETENTION = timedelta(hours=max(24, int(os.environ.get("IDEMPOTENCY_KEY_RETENTION_HOURS", "48"))))
IDEMPOTENCY_STALE_AFTER = timedelta(minutes=int(os.environ.get("IDEMPOTENCY_STALE_AFTER_MINUTES", "10")))
# Periodic tasks, run by `celery -A config beat`.
CELERY_BEAT_SCHEDULE = {
    "usage-sweep-stale-jobs": {"task": "usage.sweep_stale_jobs", "schedule": 60.0},
    "invoices-sweep-stale-jobs": {"task": "invoices.sweep_stale_jobs", "schedule": 60.0},
    "jobs-sweep-stale": {"task": "jobs.sweep_stale", "schedule": 60.0},
    "ingest-purge-payloads": {"task": "usage.purge_ingest_payloads", "schedule": 3600.0},
    # The usage table's monthly partitions, this month and the next three (apps/usage/partitions.py).
    "usage-create-partitions": {"task": "usage.create_usage_partitions", "schedule": 6 * 3600.0},
    # Budget thresholds, this month and the last until its period closes; an alert fires once (apps/showback).
    "showback-evaluate-budgets": {"task": "showback.evaluate_budgets", "schedule": 3600.0},
    # Showback (apps/showback/tasks.py): idempotent, so the schedule only bounds how late they notice.
    "showback-snapshot-forecasts": {"task": "showback.snapshot_forecasts", "schedule": 6 * 3600.0},
    "showback-detect-spikes": {"task": "showback.detect_spikes", "schedule": 3600.0},
    # Webhook deliveries that are due (first sends whose message was lost, and retries): apps/webhooks/tasks.py.
    "webhooks-send-due": {"task": "webhooks.send_due", "schedule": 30.0},
    # Provider connectors due a pull (apps/connectors/tasks.py): each connection at most every
    # CONNECTOR_PULL_EVERY_MINUTES, re-reading its last repull_days.
    "connectors-pull-due": {"task": "connectors.pull_due", "schedule": 3600.0},
    # Idempotency keys older than IDEMPOTENCY_KEY_RETENTION (apps/tenancy/tasks.py).
    "tenancy-purge-idempotency-keys": {"task": "tenancy.purge_idempotency_keys", "schedule": 3600.0},
    # Each organisation's audit chain head to the anchor sinks, and the nightly check of every chain against
    # the last published head, alerting org admins on a failure (apps/audit/tasks.py).
    "audit-publish-anchors": {"task": "audit.publish_anchors", "schedule": crontab(minute=5)},
    "audit-verify-chains": {"task": "audit.verify_chains", "schedule": crontab(hour=2, minute=30)},
    # Draft statements whose dispute window closes within a day: their owners are reminded once (apps/disputes).
    "disputes-remind-deadlines": {"task": "disputes.remind_deadlines", "schedule": 3600.0},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["apps.accounts.authentication.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["apps.accounts.permissions.HasTokenScope"],
    # The API kit (apps/core/api): one error body for every error, documented on every operation; filters
    # and page_size checked (400) rather than ignored. JSON bodies only, read under the size limit (413 over
    # DATA_UPLOAD_MAX_MEMORY_SIZE); the upload endpoints read raw bodies under their own limit.
    "DEFAULT_SCHEMA_CLASS": "apps.core.api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.errors.api_exception_handler",
    "DEFAULT_FILTER_BACKENDS": ["apps.core.api.filtering.StrictFilterBackend"],
    "DEFAULT_PARSER_CLASSES": ["apps.core.parsers.CappedJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "apps.portal.api.pagination.StableCursorPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_THROTTLE_CLASSES": ["apps.accounts.throttling.ApiClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_client": os.environ.get("API_RATE", "600/min")},
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "AI chargeback portal API",
    "DESCRIPTION": "Organisation-bound REST API for ERP connectors and gateways.",
    "VERSION": "1.0.0",
    # Request bodies get their own components, with what the server refuses (blank strings, read-only fields).
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # Several models have a "status"; name the statement and dispute ones instead of hashing a suffix.
    "ENUM_NAME_OVERRIDES": {
        "StatementStatusEnum": "apps.statements.models.Statement.Status",
        "DisputeStatusEnum": "apps.disputes.models.Dispute.Status",
        # A job's status (apps/jobs), the same choices as an ingest job's: one enum for both.
        "JobStatusEnum": "apps.jobs.models.Job.Status",
        # The event types, wherever a field takes them (the event feed's type, a webhook endpoint's events).
        "EventTypeEnum": "apps.webhooks.models.EventType",
        # A provider connection's last pull and each pull's status (apps/connectors).
        "ConnectorPullStatusEnum": "apps.connectors.models.PullStatus",
    },
}

# The API throttle counts requests in the default cache, so that cache must be shared by every web process
# (gunicorn's workers are separate processes: a per-process cache would let N workers allow N times the
# rate). REDIS_CACHE_URL names it; production falls back to the Redis of CELERY_BROKER_URL and refuses to
# start with neither (config/settings/production.py). The embedded runtime is one process: memory is enough.
# Login lockouts (django-axes) are kept in the database, which every process shares already.
REDIS_CACHE_URL = os.environ.get("REDIS_CACHE_URL", "")


def redis_cache(url: str) -> dict:
    return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "KEY_PREFIX": "cbk"}


CACHES = {
    "default": redis_cache(REDIS_CACHE_URL)
    if REDIS_CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}


def require_secret_key() -> None:
    if not SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY must be set in the environment for this runtime.")
