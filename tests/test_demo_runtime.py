"""`make demo`'s runtime: CELERY_BROKER_URL=filesystem:// gives a real (not eager) Celery on kombu's filesystem
transport, whose folders the settings make, with no result backend (the job rows are the results). The worker
itself is exercised end to end in tests/usage/test_filesystem_worker.py."""

import json
import os
import subprocess
import sys

from tests.test_settings import ROOT

CODE = (
    "import json; from django.conf import settings as s; print(json.dumps([s.CELERY_TASK_ALWAYS_EAGER, "
    "s.CELERY_BROKER_URL, s.CELERY_RESULT_BACKEND, s.CELERY_BROKER_TRANSPORT_OPTIONS]))"
)


def test_the_filesystem_broker_is_a_real_celery_with_its_folders(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("CELERY_RESULT_BACKEND", "CELERY_FILESYSTEM_POLL_SECONDS")}
    folder = tmp_path / "broker"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", CODE],
        cwd=ROOT,
        env={
            **env,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "CELERY_BROKER_URL": "filesystem://",
            "CELERY_FILESYSTEM_DIR": str(folder),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    eager, broker, backend, options = json.loads(result.stdout.strip().splitlines()[-1])
    assert (eager, broker, backend) == (False, "filesystem://", None), result.stderr
    assert options == {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),  # one folder: the web process writes, a worker takes
        "control_folder": str(folder / "control"),
        "polling_interval": 0.2,
    }
    assert (folder / "queue").is_dir() and (folder / "control").is_dir()


def test_production_refuses_the_filesystem_broker(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": "x" * 20 + "a-long-random-production-key-9f8e7d6c5b4a",
            "CONNECTOR_ENCRYPTION_KEYS": "H1i0cuKpTG9Qihz0y-_kSwX-68A4YGCSmafXTyRZIGM=",
            "REDIS_CACHE_URL": "redis://127.0.0.1:6379/1",
            "CELERY_BROKER_URL": "filesystem://",
            "CELERY_FILESYSTEM_DIR": str(tmp_path / "broker"),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "CELERY_BROKER_URL=filesystem:// is the demo's broker" in result.stderr
