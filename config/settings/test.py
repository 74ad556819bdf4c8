"""Test settings: the embedded default unless DATABASE_URL / CELERY_BROKER_URL say otherwise."""

from .base import *  # noqa: F403
from .base import CONNECTOR_ENCRYPTION_KEYS, DEV_CONNECTOR_ENCRYPTION_KEY, SECRET_KEY

DEBUG = False
SECRET_KEY = SECRET_KEY or "test-only-not-secret-8d1c0b7a"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_client": "10000/min"}}

# No collectstatic here: WhiteNoise serves from the apps' static folders.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True

# seed_demo in tests: the same shapes, a fraction of the demo's 210,000 requests.
DEMO_USAGE_REQUESTS = {"acme": 4_000, "globex": 800}

# Webhooks to a receiver on this machine (development, tests); production keeps the base default, False.
WEBHOOK_ALLOW_LOOPBACK = True

# Provider credentials encrypted with the published development key unless CONNECTOR_ENCRYPTION_KEYS is set: fine
# for a laptop and the tests, never for real keys (production refuses to start without the setting).
CONNECTOR_ENCRYPTION_KEYS = CONNECTOR_ENCRYPTION_KEYS or [DEV_CONNECTOR_ENCRYPTION_KEY]
