import io
import json

import pytest
from django.core.management import CommandError, call_command
from django_scopes import scope

from apps.reconciliation.models import ReconciliationRun

pytestmark = pytest.mark.django_db


def reconcile(*args) -> str:
    out = io.StringIO()
    call_command("reconcile", *args, stdout=out)
    return out.getvalue()


def test_json_is_exactly_the_documented_object(world, october):
    output = reconcile("--org", "alpha", "--period", "2026-10", "--json")
    assert json.loads(output) == {
        "period": "2026-10",
        "tolerance_pct": "5",
        "providers": [
            {
                "provider": "anthropic",
                "estimated": "94.99",
                "invoiced": "100.00",
                "variance": "5.01",
                "variance_pct": "5.01",
                "within_tolerance": False,
            },
            {
                "provider": "google",
                "estimated": "0.00",
                "invoiced": "7.00",
                "variance": "7.00",
                "variance_pct": "100.00",
                "within_tolerance": False,
            },
            {
                "provider": "mistral",
                "estimated": "3.00",
                "invoiced": "0.00",
                "variance": "-3.00",
                "variance_pct": None,
                "within_tolerance": False,
            },
            {
                "provider": "openai",
                "estimated": "95.00",
                "invoiced": "100.00",
                "variance": "5.00",
                "variance_pct": "5.00",
                "within_tolerance": True,
            },
        ],
        "untagged_requests": {"team": 30, "feature": 7},
        "platform_overhead_pct": "10.36",
    }
    assert output.count("\n") == 1  # one JSON object, nothing else


def test_running_the_command_twice_keeps_both_runs(world, october):
    first = reconcile("--org", "alpha", "--period", "2026-10", "--json")
    second = reconcile("--org", "alpha", "--period", "2026-10", "--json")
    assert first == second
    with scope(organization=world.org("a")):
        assert ReconciliationRun.objects.count() == 2


def test_human_output_names_the_figures(world, october):
    output = reconcile("--org", "alpha", "--period", "2026-10")
    assert "2026-10: run #" in output and "outside tolerance (tolerance 5%)" in output
    assert "OUT anthropic" in output and "ok  openai" in output
    assert "note: mistral: usage with no invoice" in output
    assert "requests lacking tags: team 30, feature 7, environment 30, customer 240" in output
    assert "platform overhead: 10.36%" in output
    assert "unallocated (no team or no cost centre): 15.00" in output


def test_an_empty_month_reconciles_to_nothing(world):
    assert json.loads(reconcile("--org", "beta", "--period", "2026-01", "--json")) == {
        "period": "2026-01",
        "tolerance_pct": "5",
        "providers": [],
        "untagged_requests": {"team": 0, "feature": 0},
        "platform_overhead_pct": "0.00",
    }


@pytest.mark.parametrize(
    "args, message",
    [
        (["--org", "nope", "--period", "2026-10"], "No organisation with slug 'nope'"),
        (["--org", "alpha", "--period", "2026-13"], "use YYYY-MM"),
        (["--org", "alpha", "--period", "october"], "use YYYY-MM"),
    ],
)
def test_bad_arguments_are_refused(world, args, message):
    with pytest.raises(CommandError, match=message):
        reconcile(*args)
