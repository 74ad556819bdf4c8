"""Production: PostgreSQL, a real broker, gunicorn behind TLS. Refuses to start without a key."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import (
    CELERY_BROKER_URL,
    CONNECTOR_ENCRYPTION_KEYS,
    REDIS_CACHE_URL,
    env_bool,
    env_list,
    redis_cache,
    require_secret_key,
)

DEBUG = False
require_secret_key()
# Provider credentials are encrypted with these keys: never with the development key (apps/connectors/crypto.py).
if not CONNECTOR_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "Set CONNECTOR_ENCRYPTION_KEYS (one or more Fernet keys, comma-separated; make one with "
        "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')."
    )

# The filesystem transport (`make demo`) is a folder on one machine, and a killed worker loses its message there.
if CELERY_BROKER_URL.startswith("filesystem://"):
    raise ImproperlyConfigured(
        "CELERY_BROKER_URL=filesystem:// is the demo's broker (one machine, a folder): production needs Redis."
    )

# Several web processes: throttle counters must live in one place they all see (see base.py).
if not REDIS_CACHE_URL:
    if not CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        raise ImproperlyConfigured(
            "Production needs a shared cache for the API rate limit: set REDIS_CACHE_URL "
            "(or a redis:// CELERY_BROKER_URL, whose Redis is then used)."
        )
    CACHES = {"default": redis_cache(CELERY_BROKER_URL)}

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")

# /metrics only with METRICS_TOKEN: behind a proxy on this machine every request would come from loopback.
METRICS_ALLOW_LOOPBACK = env_bool("METRICS_ALLOW_LOOPBACK", False)

# Never a webhook to this machine or its neighbours, whatever the environment says.
WEBHOOK_ALLOW_LOOPBACK = False
