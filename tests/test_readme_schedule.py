"""The README's table of scheduled tasks lists exactly what CELERY_BEAT_SCHEDULE runs."""

import re
from pathlib import Path

from django.conf import settings

README = Path(__file__).resolve().parent.parent / "README.md"


def _documented() -> set[str]:
    text = README.read_text()
    table = text.split("### Scheduled tasks", 1)[1].split("\n### ", 1)[0]
    return {match.group(1) for match in re.finditer(r"^\| `([\w.]+)` \|", table, flags=re.MULTILINE)}


def test_every_scheduled_task_has_a_row_and_every_row_is_scheduled():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert _documented() == scheduled


def test_every_scheduled_task_exists():
    from config.celery import app

    app.loader.import_default_modules()
    missing = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} - set(app.tasks)
    assert not missing
