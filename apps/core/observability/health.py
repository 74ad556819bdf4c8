"""``/health/`` (django-health-check): the database, the cache, the broker, and a worker that answers.

JSON whatever the client accepts (the package's HTML page carries inline styles the portal's CSP forbids); 200
when every check passes, 500 with the failing check's reason otherwise.
"""

import dataclasses
import datetime

from celery import current_app
from health_check.base import HealthCheck
from health_check.contrib.celery import Ping
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker accepts a connection (any kombu transport: Redis, the embedded memory or filesystem)."""

    timeout = datetime.timedelta(seconds=3)

    def run(self):
        try:
            with current_app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=self.timeout.total_seconds())
        except Exception as exc:  # kombu raises its transport's own errors
            raise ServiceUnavailable(f"Broker unreachable: {type(exc).__name__}") from exc

    def __repr__(self):
        return "Broker"


@dataclasses.dataclass
class Worker(Ping):
    """A Celery worker answers a ping and consumes the default queue. In the embedded runtime tasks run eagerly
    in the web process, so there is no worker to ask and none is needed."""

    app: object = dataclasses.field(default=None, repr=False)
    timeout: datetime.timedelta = dataclasses.field(default=datetime.timedelta(seconds=2), repr=False)

    def run(self):
        self.app = self.app or current_app
        if self.app.conf.task_always_eager:
            return
        super().run()

    def __repr__(self):
        return "Worker"


class HealthView(HealthCheckView):
    checks = (
        "health_check.checks.Database",
        "health_check.checks.Cache",
        Broker,
        Worker,
    )

    def render_to_response(self, context, **response_kwargs):
        return self.render_to_response_json(response_kwargs.get("status", 200))
