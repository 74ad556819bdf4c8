import io
from datetime import date

import pytest

from apps.fx import demo
from apps.fx.models import FxRate

pytestmark = pytest.mark.django_db


def test_demo_loads_the_shipped_history_since_2024_once(world):
    out = io.StringIO()
    demo.seed_demo(organization=world.org("a"), stdout=out)
    demo.seed_demo(organization=world.org("b"), stdout=out)
    text = out.getvalue()
    assert (
        "alpha: ECB reference rates (shared by every organisation) 21507 created, 0 updated, 0 unchanged "
        "(2024-01-02 to 2026-10-30)" in text
    )
    assert "beta: ECB reference rates (shared by every organisation) 0 created, 0 updated, 21507 unchanged" in text
    assert FxRate.objects.count() == 21_507
    assert not FxRate.objects.filter(day__gt=date(2026, 10, 30)).exists()  # November 2026 is a gap in the demo
