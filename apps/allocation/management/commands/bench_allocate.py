"""Allocation benchmark (``make bench``): a month allocated through the real service against a bare
``GROUP BY`` of the same usage rows by tag set and provider.

Runs in a scratch database created and dropped like the test runner's, on PostgreSQL only. The month is
loaded through the real ingest chunk path, ``apps.usage.services.ingest.ingest_events`` (tag normalisation,
pricing, COPY + ON CONFLICT, the DailyUsage cube and DailyDetailUsage), fed the synthetic generator's
events as objects instead of an NDJSON file: the rows are exactly what ``ingest_usage`` of the same events
stores, without the benchmark spending minutes on JSON parsing it does not measure. The demo cost centres,
taxonomy and rule set (platform and observability shared out, the team tag map, full-cost true-up) and the
demo invoices of every provider (so the true-up runs) are loaded by their own demo seeders.

Each figure is the best of ``--repeat`` timings after one warm-up. Prints its figures; asserts nothing.
"""

import cProfile
import io
import json
import logging
import pstats
import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test.utils import setup_databases, teardown_databases

from apps.tenancy.scoping import organization_scope

PERIOD = date(2026, 10, 1)
TARGET_RATIO = 3
LOAD_FILE_NAME = "bench-allocate.ndjson"


class Command(BaseCommand):
    help = (
        "Benchmark allocating a month on PostgreSQL: the real allocation service vs a bare GROUP BY of the same "
        "usage rows (prints figures, asserts nothing)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=1_000_000, help="Usage rows in the month (default 1,000,000).")
        parser.add_argument("--repeat", type=int, default=3, help="Timings per figure; the best is kept (default 3).")
        parser.add_argument(
            "--keep-db",
            action="store_true",
            help="Keep the scratch database, and reuse its loaded month when it has --rows rows (for profiling).",
        )
        parser.add_argument(
            "--profile", type=int, default=0, metavar="N", help="Also print the N costliest functions of one run."
        )

    def handle(self, *args, rows: int, repeat: int, profile: int, keep_db: bool, **options):
        if rows < 1 or repeat < 1:
            raise CommandError("--rows and --repeat must be at least 1.")
        if connection.vendor != "postgresql":
            raise CommandError("The allocation benchmark runs on PostgreSQL: set DATABASE_URL=postgres://…")
        logging.getLogger("celery.app.trace").setLevel(logging.WARNING)  # the demo invoices' eager tasks
        old_config = setup_databases(verbosity=0, interactive=False, keepdb=keep_db, serialized_aliases=())
        try:
            organization = self._loaded(rows) if keep_db else None
            load_seconds = None  # reused
            if organization is None:
                if keep_db:  # a kept database without this month: start from an empty one
                    teardown_databases(old_config, verbosity=0)
                    old_config = setup_databases(verbosity=0, interactive=False, keepdb=True, serialized_aliases=())
                organization = self._world()
                load_seconds = self._load(organization, rows)
                self._invoices_and_rules(organization)
            figures = self._measure(organization, repeat=repeat)
            if profile:
                self._profile(organization, top=profile)
        finally:
            teardown_databases(old_config, verbosity=0, keepdb=keep_db)
        self.stdout.write(
            json.dumps(
                {
                    "rows": rows,
                    "load_seconds": round(load_seconds, 1) if load_seconds is not None else None,
                    **figures,
                    "target": f"allocation_seconds <= {TARGET_RATIO} x group_by_seconds",
                    "target_met": figures["ratio_allocation_to_group_by"] <= TARGET_RATIO,
                },
                indent=2,
            )
        )

    # --- the world ------------------------------------------------------------------------------------

    def _loaded(self, rows: int):
        """With --keep-db: the organisation of an earlier run that loaded the same number of rows."""
        from apps.tenancy.models import Organization
        from apps.usage.models import IngestJob

        organization = Organization.objects.filter(slug="acme").first()
        if organization is None:
            return None
        with organization_scope(organization):
            job = IngestJob.objects.filter(file_name=LOAD_FILE_NAME, status=IngestJob.Status.SUCCEEDED).first()
        if job is None or job.accepted != rows:
            return None
        self.stdout.write(f"reusing the {rows:,} usage rows loaded by an earlier --keep-db run")
        return organization

    def _world(self):
        from django.contrib.auth import get_user_model

        from apps.owners.demo import seed_demo as seed_owners
        from apps.pricing.services import price_book_load_default
        from apps.taxonomy.demo import seed_demo as seed_taxonomy
        from apps.tenancy.models import Membership, Organization
        from apps.tenancy.roles import Role

        # "acme": the demo seeders (cost centres, invoices) know this organisation's codes and bills.
        organization = Organization.objects.create(slug="acme", name="Benchmark Org", base_currency="USD")
        owner = get_user_model().objects.create(username="acme-owner")
        with organization_scope(organization):
            Membership.objects.create(organization=organization, user=owner, role=Role.BUDGET_OWNER)
        quiet = io.StringIO()
        price_book_load_default()
        seed_owners(organization=organization, stdout=quiet)
        seed_taxonomy(organization=organization, stdout=quiet)
        return organization

    def _load(self, organization, rows: int) -> float:
        from apps.usage.services.ingest import ingest_events
        from apps.usage.synthetic import generate_events

        started = time.perf_counter()
        events = generate_events(count=rows, start=PERIOD, days=31, seed=7)
        job = ingest_events(organization=organization, events=events, expected=rows, file_name=LOAD_FILE_NAME)
        seconds = time.perf_counter() - started
        self.stdout.write(f"loaded {job.accepted:,} usage rows through the ingest chunk path in {seconds:,.1f}s")
        if job.accepted != rows:
            raise CommandError(f"Only {job.accepted:,} of {rows:,} rows were stored ({job.rejected:,} rejected).")
        return seconds

    def _invoices_and_rules(self, organization) -> None:
        from apps.allocation.demo import DOCUMENT, RULE_SET_NAME
        from apps.allocation.rules.services import draft_publish, draft_update, rule_set_create
        from apps.reconciliation.demo_invoices import seed_demo_invoices as seed_invoices

        quiet = io.StringIO()
        seed_invoices(organization=organization, stdout=quiet)
        rule_set = rule_set_create(organization=organization, actor=None, name=RULE_SET_NAME)
        with organization_scope(organization):
            draft = rule_set.versions.get(status="draft")
        draft, _ = draft_update(draft=draft, document=DOCUMENT, actor=None)
        draft_publish(draft=draft, actor=None)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

    # --- the clocks -----------------------------------------------------------------------------------

    def _measure(self, organization, *, repeat: int) -> dict:
        from apps.allocation.runs.services import allocation_run_create
        from apps.core.calendar import month_after
        from apps.usage.models import DailyUsage, UsageRecord

        def allocate():
            return allocation_run_create(organization=organization, period=PERIOD, actor=None)

        month = [organization.pk, PERIOD, month_after(PERIOD)]
        group_by_sql = (
            f"SELECT tagset_id, provider, SUM(estimated_nano) FROM {UsageRecord._meta.db_table} "  # noqa: S608 - a model's table
            "WHERE organization_id = %s AND day >= %s AND day < %s GROUP BY tagset_id, provider"
        )
        cube_rows_sql = (
            f"SELECT count(*) FROM {DailyUsage._meta.db_table} "  # noqa: S608 - a model's table
            "WHERE organization_id = %s AND day >= %s AND day < %s"
        )

        def group_by():
            with connection.cursor() as cursor:
                cursor.execute(group_by_sql, month)
                return cursor.fetchall()

        def drop_runs():
            self._drop_runs(organization)

        # Every timed allocation writes its run afresh: the draft left by the one before is removed first
        # (off the clock), else the service would see unchanged inputs and keep it.
        allocate()  # warm-up
        allocation_seconds = min(self._timed(allocate, before=drop_runs) for _ in range(repeat))
        run = allocate()  # inputs unchanged since the last timed run: the service keeps that run
        rerun_seconds = min(self._timed(allocate) for _ in range(repeat))
        groups = group_by()  # warm-up
        group_by_seconds = min(self._timed(group_by) for _ in range(repeat))
        with connection.cursor() as cursor:
            cursor.execute(cube_rows_sql, month)
            cube_rows = cursor.fetchone()[0]
        self.stdout.write(
            f"allocation {allocation_seconds:.3f}s, unchanged re-run {rerun_seconds:.3f}s, "
            f"bare GROUP BY {group_by_seconds:.3f}s ({len(groups):,} groups)"
        )
        return {
            "cube_rows": cube_rows,
            "cells": run.cells,
            "lines": run.line_count,
            "group_by_groups": len(groups),
            "allocation_seconds": round(allocation_seconds, 3),
            "rerun_unchanged_seconds": round(rerun_seconds, 3),
            "group_by_seconds": round(group_by_seconds, 3),
            "ratio_allocation_to_group_by": round(allocation_seconds / group_by_seconds, 2),
        }

    @staticmethod
    def _timed(function, before=None) -> float:
        if before is not None:
            before()
        started = time.perf_counter()
        function()
        return time.perf_counter() - started

    @staticmethod
    def _drop_runs(organization) -> None:
        from apps.allocation.models import AllocationLine, AllocationRun

        with organization_scope(organization):
            AllocationLine.objects.filter(organization=organization).delete()
            AllocationRun.objects.filter(organization=organization).delete()

    def _profile(self, organization, *, top: int) -> None:
        from apps.allocation.runs.services import allocation_run_create

        self._drop_runs(organization)
        profiler = cProfile.Profile()
        profiler.enable()
        allocation_run_create(organization=organization, period=PERIOD, actor=None)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
        self.stdout.write(out.getvalue())
