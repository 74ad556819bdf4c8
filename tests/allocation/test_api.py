"""The allocation API: a period's current run summary and its lines."""

import pytest
from django.urls import reverse
from django_scopes import scope

from apps.allocation.models import AllocationLine, AllocationRun
from apps.allocation.runs.services import allocation_run_create
from apps.tenancy.roles import TokenScope
from tests.scenarios import allocated

from .test_runs import OCT, ai_invoice, usage

pytestmark = pytest.mark.django_db


def summary_url(period: str = "2026-10") -> str:
    return reverse("api:period-allocation", kwargs={"period": period})


def lines_url(period: str = "2026-10") -> str:
    return reverse("api:period-allocation-lines", kwargs={"period": period})


@pytest.fixture
def run(world):
    allocated(world.org("a"))
    ai_invoice(world.org("a"), "openai", 22_500_000_000)
    return allocation_run_create(organization=world.org("a"), period=OCT, actor=None)


def test_the_summary_is_the_command_object_plus_the_run(world, run):
    response = world.api("a", [TokenScope.PERIODS_READ]).get(summary_url())
    assert response.status_code == 200
    assert response.json() == {
        "period": "2026-10",
        "rule_set_version": 1,
        "pool_total": "22.50",
        "unallocated": "1.00",
        "owners": [{"code": "CC-1101", "amount": "16.97"}, {"code": "CC-1201", "amount": "4.53"}],
        "lines": 7,
        "inputs_hash": run.inputs_hash,
        "currency": "USD",
        "status": "draft",
        "run_id": run.pk,
        "created_at": run.created_at.isoformat().replace("+00:00", "Z"),
        "estimated": "20.00",
        "true_up": "2.50",
    }


def test_the_summary_foots_estimated_and_true_up_to_the_pool(world):
    org = world.org("a")
    allocated(org)
    usage(org, {"team": "ads"}, requests=1, cost_input_nano=4_000_000)  # estimated 20.004
    ai_invoice(org, "openai", 22_508_000_000)  # true-up 2.504; pool 22.508 -> 22.51
    allocation_run_create(organization=org, period=OCT, actor=None)
    body = world.api("a").get(summary_url()).json()
    # rounded one by one they would show 20.00 + 2.50 = 22.50 beside a pool of 22.51; footed, the tie of
    # equal remainders goes to the first key
    assert (body["estimated"], body["true_up"], body["pool_total"]) == ("20.01", "2.50", "22.51")


def test_404_with_a_clear_detail(world, run):
    api = world.api("a")
    for url in (summary_url("2026-09"), lines_url("2026-09")):
        response = api.get(url)
        assert (response.status_code, response.json()) == (404, {"detail": "2026-09 has not been allocated."})
    for url in (summary_url("2026-13"), lines_url("latest")):
        response = api.get(url)
        assert (response.status_code, response.json()) == (404, {"detail": "Use a period as YYYY-MM, e.g. 2026-10."})


def test_lines_are_exact_and_cursor_paginated(world, run):
    api = world.api("a", [TokenScope.PERIODS_READ])
    first = api.get(lines_url(), {"page_size": 4})
    assert first.status_code == 200
    body = first.json()
    assert [line["owner"] for line in body["results"]] == ["CC-1101", "CC-1101", "CC-1101", "CC-1201"]
    assert body["results"][0] == {
        "id": body["results"][0]["id"],
        "owner": "CC-1101",
        "feature": "",
        "provider": "openai",
        "model": "",
        "cost_source": "true_up",
        "amount": "1.973684211",
        "rule_name": "true-up policy",
        "method": "true_up",
        "share": "0.789473684211",
        "explanation": "78.95% of the openai invoice true-up $2.50, by share of estimated openai cost",
    }
    rest = api.get(body["next"]).json()
    assert rest["next"] is None
    everything = body["results"] + rest["results"]
    assert len(everything) == 7
    assert everything[-1] == {
        "id": everything[-1]["id"],
        "owner": None,
        "feature": "",
        "provider": "openai",
        "model": "gpt-4o",
        "cost_source": "input",
        "amount": "1.000000000",
        "rule_name": "",
        "method": "unallocated",
        "share": "1.000000000000",
        "explanation": "Unallocated: no rule claims it",
    }
    total = sum(int(line["amount"].replace(".", "")) for line in everything)
    assert total == run.pool_total_nano == 22_500_000_000
    with scope(organization=world.org("a")):
        assert [line["id"] for line in everything] == list(
            AllocationLine.objects.filter(run=run).order_by("position").values_list("id", flat=True)
        )


def test_lines_filtered_by_owner(world, run):
    api = world.api("a")
    lines = api.get(lines_url(), {"owner": "cc-1201"}).json()["results"]
    assert [(line["owner"], line["cost_source"], line["amount"]) for line in lines] == [
        ("CC-1201", "true_up", "0.526315789"),
        ("CC-1201", "input", "4.000000000"),
        ("CC-1201", "output", "0.000000000"),
    ]
    assert api.get(lines_url(), {"owner": "CC-9999"}).json()["results"] == []


def test_each_organisation_reads_its_own_allocation_of_the_same_month(world, run):
    other = allocated(world.org("b")).run
    assert world.api("b").get(summary_url()).json()["run_id"] == other.pk
    assert world.api("a").get(summary_url()).json()["run_id"] == run.pk
    ids_b = {line["id"] for line in world.api("b").get(lines_url()).json()["results"]}
    with scope(organization=world.org("b")):
        assert ids_b == set(AllocationLine.objects.filter(run=other).values_list("id", flat=True))


def test_needs_the_periods_read_scope(world, run):
    api = world.api("a", [TokenScope.USAGE_READ])
    assert api.get(summary_url()).status_code == 403
    assert api.get(lines_url()).status_code == 403


def test_an_issued_run_is_still_the_periods_allocation(world, run):
    with scope(organization=world.org("a")):
        AllocationRun.objects.filter(pk=run.pk).update(status=AllocationRun.Status.ISSUED)
    assert world.api("a").get(summary_url()).json()["status"] == "issued"
