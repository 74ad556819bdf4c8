"""The embedded default: SQLite, eager Celery, console e-mail, DEBUG on."""

from .base import *  # noqa: F403
from .base import SECRET_KEY, env_bool

DEBUG = env_bool("DEBUG", True)
# A fixed key is fine for a developer's laptop; production refuses to start without one.
SECRET_KEY = SECRET_KEY or "local-dev-only-not-secret-5b2f7c1e9a4d"

# No collectstatic here: WhiteNoise serves from the apps' static folders.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True

# Webhooks to a receiver on this machine (development, tests); production keeps the base default, False.
WEBHOOK_ALLOW_LOOPBACK = True
