"""Raw usage retention (``Organization.usage_retention_months``): export each month past retention to compressed
CSV with a manifest, then remove it; audited per organisation and month. See ``apps/usage/services/retention.py``
for the two ways a month goes (partition dropped, rows deleted) and when each is taken."""

import time
from collections import defaultdict
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from apps.tenancy.models import Organization
from apps.tenancy.scoping import organization_scope
from apps.usage import partitions
from apps.usage.services.retention import (
    PARTITION_DROPPED,
    ROWS_DELETED,
    retention_cutoff,
    usage_month_delete,
    usage_month_export,
    usage_month_rows,
    usage_months_past_retention,
    usage_retention_audit,
)


class Command(BaseCommand):
    help = (
        "Remove raw usage rows older than each organisation's retention (usage_retention_months; empty keeps all): "
        "every month past it is exported to <path>/<org>/usage-<org>-<YYYY-MM>.csv.gz with a manifest (rows, "
        "sha256), then removed: its PostgreSQL partition is detached and dropped when every organisation with rows "
        "in it is past retention there, otherwise that organisation's rows are deleted in batches. Each removed "
        "month is an audit event of its organisation. The daily totals (the cube) are kept. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--path", help="Directory for the exports (required unless --dry-run).")
        parser.add_argument("--organization", action="append", default=[], help="Only this organisation (slug).")
        parser.add_argument("--dry-run", action="store_true", help="Say what would happen; export and remove nothing.")
        parser.add_argument("--batch", type=int, default=50_000, help="Rows a DELETE batch (default 50000).")
        parser.add_argument("--today", type=date.fromisoformat, default=None, help="Run as of this day (UTC).")

    def handle(self, *args, path, organization, dry_run, batch, today, **options):
        if not dry_run and not path:
            raise CommandError("--path is required (where the exports are written), or use --dry-run.")
        if batch < 1:
            raise CommandError("--batch must be at least 1.")
        today = today or timezone.now().date()
        directory = Path(path) if path else None
        organizations = Organization.objects.filter(usage_retention_months__isnull=False).order_by("slug")
        if organization:
            organizations = organizations.filter(slug__in=organization)
            known = Organization.objects.filter(slug__in=organization).values_list("slug", flat=True)
            unknown = set(organization) - set(known)
            if unknown:
                raise CommandError(f"Unknown organisation(s): {', '.join(sorted(unknown))}.")
        organizations = list(organizations)
        # (organisation, month) -> rows, for every month with rows past its organisation's retention
        due: dict[tuple[int, date], int] = {}
        by_id = {o.pk: o for o in organizations}
        for org in organizations:
            with organization_scope(org):
                for month_rows in usage_months_past_retention(organization=org, today=today):
                    due[(org.pk, month_rows.month)] = month_rows.rows
        if not due:
            self.stdout.write("Nothing past retention.")
            return
        done: set[tuple[int, date]] = set()
        for partition in self._droppable(due, by_id, today):
            holders = sorted({org_id for org_id, month in due if month in partition.months})
            items = sorted((org_id, month) for org_id, month in due if month in partition.months)
            total = sum(due[item] for item in items)
            self.stdout.write(
                f"{partition.name}: {total} rows of {len(holders)} organisation(s), all past retention: "
                f"{'would be ' if dry_run else ''}exported, then {PARTITION_DROPPED}"
            )
            if dry_run:
                done.update(items)
                continue
            exports = {}
            for org_id, month in items:
                org = by_id[org_id]
                started = time.perf_counter()
                with organization_scope(org):
                    exports[(org_id, month)] = usage_month_export(organization=org, month=month, directory=directory)
                self._exported(org, month, exports[(org_id, month)], time.perf_counter() - started)
            started = time.perf_counter()
            with transaction.atomic():
                partitions.detach_and_drop(partition)
                for org_id, month in items:
                    org = by_id[org_id]
                    with organization_scope(org):
                        usage_retention_audit(
                            organization=org,
                            month=month,
                            rows=due[(org_id, month)],
                            method=PARTITION_DROPPED,
                            export=exports[(org_id, month)],
                            months=org.usage_retention_months,
                        )
            self.stdout.write(f"  {partition.name} detached and dropped in {time.perf_counter() - started:.3f} s")
            done.update(items)
        for (org_id, month), rows in sorted(due.items(), key=lambda item: (item[0][1], item[0][0])):
            if (org_id, month) in done:
                continue
            org = by_id[org_id]
            self.stdout.write(
                f"{org.slug} {month:%Y-%m}: {rows} rows: {'would be ' if dry_run else ''}exported, then {ROWS_DELETED}"
            )
            if dry_run:
                continue
            with organization_scope(org):
                started = time.perf_counter()
                export = usage_month_export(organization=org, month=month, directory=directory)
                self._exported(org, month, export, time.perf_counter() - started)
                started = time.perf_counter()
                deleted = usage_month_delete(organization=org, month=month, batch=batch)
                seconds = time.perf_counter() - started
                with transaction.atomic():
                    left = usage_month_rows(organization=org, month=month).rows
                    if left:  # rows arrived meanwhile: they were not exported; the next run takes them
                        self.stdout.write(f"  {left} rows arrived during the removal; run again")
                    usage_retention_audit(
                        organization=org,
                        month=month,
                        rows=deleted,
                        method=ROWS_DELETED,
                        export=export,
                        months=org.usage_retention_months,
                    )
            self.stdout.write(f"  {deleted} rows deleted in {seconds:.3f} s")

    def _exported(self, org, month, export, seconds: float) -> None:
        state = "already exported" if export.reused else "exported"
        self.stdout.write(
            f"  {org.slug} {month:%Y-%m}: {export.rows} rows {state} to {export.path} (sha256 {export.sha256}) "
            f"in {seconds:.2f} s"
        )

    def _droppable(self, due, by_id, today) -> list[partitions.Partition]:
        """Partitions every one of whose organisations with rows is past retention over the partition's whole
        range (PostgreSQL). With --organization, only a partition whose sole holder is one of those given."""
        found = []
        due_months = defaultdict(set)
        for org_id, month in due:
            due_months[month].add(org_id)
        for partition in partitions.partitions():
            if not any(month in due_months for month in partition.months):
                continue
            holders = partitions.organizations_with_rows(partition)
            if not holders or not holders <= set(by_id):
                continue  # an organisation that keeps everything, or was not asked about, has rows there
            if all(
                (cutoff := retention_cutoff(organization=by_id[org_id], today=today)) is not None
                and partition.after <= cutoff
                for org_id in holders
            ):
                found.append(partition)
        return found
