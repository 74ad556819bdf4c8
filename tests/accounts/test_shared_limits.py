"""Limits that must hold across web processes: the API rate limit (a shared cache) and login lockouts
(django-axes, in the database). gunicorn runs several worker processes; a count kept per process lets
N workers allow N times the rate."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache.backends.redis import RedisCache
from django.test import RequestFactory

from apps.accounts.throttling import ApiClientRateThrottle

ROOT = Path(__file__).resolve().parent.parent.parent


def _skip(reason: str) -> None:
    # CI sets REQUIRE_SERVICES=1: there a missing service is a failure, never a quiet skip.
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def _redis_url() -> str:
    url = os.environ.get("REDIS_CACHE_URL") or os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith(("redis://", "rediss://")):
        _skip("no Redis configured (REDIS_CACHE_URL or a redis:// CELERY_BROKER_URL; CI sets one)")
    return url


def _settings_of(module: str, code: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {"REDIS_CACHE_URL", "CELERY_BROKER_URL", "SECRET_KEY"}}
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env={
            **base,
            "DJANGO_SETTINGS_MODULE": module,
            "ALLOWED_HOSTS": "x.example.com",
            # A test key: production refuses to start without the connectors' encryption keys.
            "CONNECTOR_ENCRYPTION_KEYS": "H1i0cuKpTG9Qihz0y-_kSwX-68A4YGCSmafXTyRZIGM=",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


CACHE_OF = "from django.conf import settings; c = settings.CACHES['default']; print(c['BACKEND'], c.get('LOCATION'))"


def test_production_uses_the_brokers_redis_when_no_cache_url_is_set():
    result = _settings_of(
        "config.settings.production", CACHE_OF, SECRET_KEY="k" * 50, CELERY_BROKER_URL="redis://10.0.0.5:6379/0"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["django.core.cache.backends.redis.RedisCache", "redis://10.0.0.5:6379/0"]


def test_production_prefers_redis_cache_url():
    result = _settings_of(
        "config.settings.production",
        CACHE_OF,
        SECRET_KEY="k" * 50,
        CELERY_BROKER_URL="redis://10.0.0.5:6379/0",
        REDIS_CACHE_URL="redis://10.0.0.6:6379/3",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "redis://10.0.0.6:6379/3"


def test_production_refuses_to_start_with_a_per_process_cache():
    result = _settings_of("config.settings.production", CACHE_OF, SECRET_KEY="k" * 50)
    assert result.returncode != 0
    assert "Production needs a shared cache for the API rate limit: set REDIS_CACHE_URL" in result.stderr


def test_axes_keeps_lockouts_in_the_database_every_process_shares():
    # A cache- or memory-based handler would count failures per process (or per cache) again.
    assert settings.AXES_HANDLER == "axes.handlers.database.AxesDatabaseHandler"


class _Client:
    def __init__(self, key_prefix: str):
        self.key_prefix = key_prefix


def _allowed(throttle_cache, key_prefix: str, rate: str) -> bool:
    throttle = ApiClientRateThrottle()
    throttle.rate = rate
    throttle.num_requests, throttle.duration = throttle.parse_rate(rate)
    throttle.cache = throttle_cache
    request = RequestFactory().get("/api/v1/organization/")
    request.auth = _Client(key_prefix)
    return throttle.allow_request(request, None)


CHILD = """
import django, sys
django.setup()
from django.core.cache import cache
from tests.accounts.test_shared_limits import _allowed
print(",".join(str(_allowed(cache, sys.argv[1], "5/min")) for _ in range(3)))
"""


def test_two_processes_share_one_api_rate_count():
    """A separate process (its own cache client, as a second gunicorn worker has) spends 3 of the client's
    5 requests a minute; this process then gets only the 2 that are left."""
    url = _redis_url()
    key_prefix = f"t{uuid.uuid4().hex[:12]}"
    child = subprocess.run(
        [sys.executable, "-c", CHILD, key_prefix],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "REDIS_CACHE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip().splitlines()[-1] == "True,True,True"
    ours = RedisCache(url, {"KEY_PREFIX": "cbk"})
    try:
        assert [_allowed(ours, key_prefix, "5/min") for _ in range(3)] == [True, True, False]
    finally:
        ours.delete(ApiClientRateThrottle.cache_format % {"scope": "api_client", "ident": key_prefix})
