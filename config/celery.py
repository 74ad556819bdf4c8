"""Celery application, wired the conventional way.

Settings come from Django settings under the ``CELERY_`` namespace; tasks are found in each
app's ``tasks.py``. With no ``CELERY_BROKER_URL`` the settings make every task run eagerly
in-process (the embedded default).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("chargeback")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
