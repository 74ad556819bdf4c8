import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_the_deploy_check():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="x" * 20 + "a-long-random-production-key-9f8e7d6c5b4a",
        ALLOWED_HOSTS="chargeback.example.com",
        REDIS_CACHE_URL="redis://127.0.0.1:6379/1",
        CONNECTOR_ENCRYPTION_KEYS="H1i0cuKpTG9Qihz0y-_kSwX-68A4YGCSmafXTyRZIGM=",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_connector_encryption_keys():
    result = _manage(
        "check",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="x" * 20 + "a-long-random-production-key-9f8e7d6c5b4a",
        ALLOWED_HOSTS="chargeback.example.com",
        REDIS_CACHE_URL="redis://127.0.0.1:6379/1",
        CONNECTOR_ENCRYPTION_KEYS="",
    )
    assert result.returncode != 0
    assert "Set CONNECTOR_ENCRYPTION_KEYS" in result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings.production"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_embedded_default_runs_tasks_eagerly_without_a_broker():
    code = "from django.conf import settings; print(settings.CELERY_TASK_ALWAYS_EAGER, settings.CELERY_BROKER_URL)"
    env = {k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings.local"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout.strip().splitlines()[-1] == "True memory://", result.stderr
