import pytest

from apps.connectors import client

from .fake_providers import FakeProvider


@pytest.fixture
def fake_provider(settings):
    fake = FakeProvider().start()
    settings.CONNECTOR_OPENAI_BASE_URL = fake.base_url
    settings.CONNECTOR_ANTHROPIC_BASE_URL = fake.base_url
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def waits(monkeypatch) -> list:
    """The client's waits on 429, recorded instead of slept (no test waits on a clock)."""
    recorded: list = []
    monkeypatch.setattr(client, "sleep", recorded.append)
    return recorded


@pytest.fixture(autouse=True)
def _tasks_in_process(eager_celery):
    """Ingest jobs and pulls run in-process: these tests follow the pull, not a worker."""
