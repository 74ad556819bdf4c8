"""Allocation runs and lines in the Django admin: visible, never added, changed or deleted there."""

import pytest
from django.test import Client
from django.urls import reverse
from django_scopes import scope

from apps.allocation.models import AllocationLine
from apps.tenancy.roles import Role
from tests.factories import UserFactory
from tests.mfa import pass_second_factor
from tests.scenarios import allocated

pytestmark = pytest.mark.django_db


def test_runs_and_lines_are_read_only_in_the_admin(world):
    run = allocated(world.org("a")).run
    with scope(organization=world.org("a")):
        line = AllocationLine.objects.filter(run=run).first()
    client = Client()
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    pass_second_factor(client, root)
    for model, obj in (("allocationrun", run), ("allocationline", line)):
        change = client.get(reverse(f"admin:allocation_{model}_change", args=[obj.pk]))
        assert change.status_code == 200
        assert b'name="_save"' not in change.content
        assert client.get(reverse(f"admin:allocation_{model}_add")).status_code == 403
        delete = client.post(reverse(f"admin:allocation_{model}_delete", args=[obj.pk]), {"post": "yes"})
        assert delete.status_code == 403
    with scope(organization=world.org("a")):
        assert AllocationLine.objects.filter(run=run).count() == 5


def test_a_staff_org_admin_sees_only_their_organisations_runs(world):
    allocated(world.org("a"))
    allocated(world.org("b"))
    user = world.user("a", Role.ORG_ADMIN)
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    pass_second_factor(client, user)
    response = client.get(reverse("admin:allocation_allocationrun_changelist"))
    assert response.status_code == 200
    assert {run.organization.slug for run in response.context["cl"].result_list} == {"alpha"}
    lines = client.get(reverse("admin:allocation_allocationline_changelist"))
    assert {line.organization.slug for line in lines.context["cl"].result_list} == {"alpha"}
