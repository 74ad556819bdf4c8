"""Loopback webhook targets: allowed in the local and test settings, never in production (whatever the
environment says)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
CODE = "from django.conf import settings; print(settings.WEBHOOK_ALLOW_LOOPBACK, settings.PORTAL_URL)"


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("config.settings.production", "False https://chargeback.example.com"),
        ("config.settings.local", "True https://chargeback.example.com"),
        ("config.settings.test", "True https://chargeback.example.com"),
    ],
)
def test_loopback_is_allowed_only_outside_production(module, expected):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": module,
        "WEBHOOK_ALLOW_LOOPBACK": "true",
        "PORTAL_URL": "https://chargeback.example.com/",
        "SECRET_KEY": "x" * 20 + "a-long-random-production-key-9f8e7d6c5b4a",
        "CONNECTOR_ENCRYPTION_KEYS": "H1i0cuKpTG9Qihz0y-_kSwX-68A4YGCSmafXTyRZIGM=",
        "ALLOWED_HOSTS": "chargeback.example.com",
        "REDIS_CACHE_URL": "redis://127.0.0.1:6379/1",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", CODE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == expected
