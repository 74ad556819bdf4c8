import pytest


@pytest.fixture(autouse=True)
def _configured_throttle_rates():
    # A test elsewhere leaves DRF's class-level throttle rates at 3/min; re-read the configured ones.
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
