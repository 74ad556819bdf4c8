"""The page benchmark finds its pages from the URL conf and refuses to run where it should not."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from apps.portal.management.commands.bench_pages import api_lists, portal_pages


def test_it_walks_every_org_page_without_other_arguments_and_every_api_list():
    pages = portal_pages()
    for name in ("usage:records", "usage:explorer", "usage:tagging_health", "periods:board", "portal:home"):
        assert name in pages
    # pages that need an object id, and downloads, are not in the walk
    assert "usage:job_detail" not in pages and "usage:job_errors_csv" not in pages
    lists = api_lists()
    assert {"api:statement-list", "api:usage-job-list", "api:period-list"} <= set(lists)
    assert all(name.endswith("-list") for name in lists)


def test_it_runs_only_on_postgresql_on_this_machine(monkeypatch):
    from django.conf import settings

    if connection.vendor != "postgresql":
        with pytest.raises(CommandError, match="runs on PostgreSQL"):
            call_command("bench_pages", "--rows", "10000")
    else:
        monkeypatch.setitem(settings.DATABASES["default"], "HOST", "db.example.com")
        with pytest.raises(CommandError, match="on this machine only"):
            call_command("bench_pages", "--rows", "10000")


def test_it_refuses_a_row_count_out_of_bounds():
    with pytest.raises(CommandError, match="--rows"):
        call_command("bench_pages", "--rows", "50000000")
