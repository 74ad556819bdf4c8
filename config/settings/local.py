"""The embedded default: SQLite, eager Celery, console e-mail, DEBUG on."""

from .base import *  # noqa: F403
from .base import CONNECTOR_ENCRYPTION_KEYS, DEV_CONNECTOR_ENCRYPTION_KEY, SECRET_KEY, env_bool

DEBUG = env_bool("DEBUG", True)
# A fixed key is fine for a developer's laptop; production refuses to start without one.
SECRET_KEY = SECRET_KEY or "local-dev-only-not-secret-5b2f7c1e9a4d"

# No collectstatic here: WhiteNoise serves from the apps' static folders.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True

# Webhooks to a receiver on this machine (development, tests); production keeps the base default, False.
WEBHOOK_ALLOW_LOOPBACK = True

# Provider credentials encrypted with the published development key unless CONNECTOR_ENCRYPTION_KEYS is set: fine
# for a laptop and the tests, never for real keys (production refuses to start without the setting).
CONNECTOR_ENCRYPTION_KEYS = CONNECTOR_ENCRYPTION_KEYS or [DEV_CONNECTOR_ENCRYPTION_KEY]
