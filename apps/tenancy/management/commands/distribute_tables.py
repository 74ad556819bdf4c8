"""Distribute the tenant tables by organisation on Citus: reference tables first, then every tenant table, colocated,
referenced tables before the tables that reference them. Idempotent (tables Citus already manages are skipped);
does nothing without the ``citus`` extension. Run it after ``migrate``, every time: a table a migration adds
stays local until it runs. The plan comes from the catalog: see ``apps.tenancy.distribution``."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from apps.tenancy import distribution


class Command(BaseCommand):
    help = (
        "Make the global tables that tenant tables reference into Citus reference tables and distribute every "
        "tenant table by organization_id, colocated. Nothing happens without the citus extension."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Print the plan (also without Citus) and change nothing."
        )

    def handle(self, *args, dry_run=False, **options):
        database = connection.settings_dict["NAME"]
        if not distribution.is_postgresql():
            self.stdout.write(f"The database is {connection.vendor}, not PostgreSQL: there is nothing to distribute.")
            return
        version = distribution.citus_version()
        if version is None:
            self.stdout.write(
                f"The citus extension is not installed in {database}: nothing to distribute, nothing changed."
            )
            if not dry_run:
                return
            self.stdout.write("The plan for a database with the citus extension:")
        catalog = distribution.read_catalog()
        plan = distribution.make_plan(catalog)
        act = version is not None and not dry_run
        started = time.monotonic()
        self.stdout.write(
            f"{'Citus ' + version if version else 'PostgreSQL'} in {database}: {plan.tenant_count} tenant tables, "
            f"{len(plan.reference) + len(plan.reference_done)} reference tables."
        )

        self.stdout.write(f"Settings (this session, and ALTER DATABASE {database} SET):")
        for sql in distribution.settings_sql():
            error = distribution.run(sql) if act else None
            if error:
                raise CommandError(f"{sql}: {error}")
            self.stdout.write(f"  {'done' if act else 'would run'}: {sql}")

        failed: dict[str, str] = {}
        needs: dict[str, set[str]] = {}
        for key in catalog.foreign_keys:
            needs.setdefault(key.table, set()).add(key.target)

        def step(table, sql, params, verb):
            missing = sorted(needs.get(table, set()) & failed.keys() - {table})
            if missing:
                failed[table] = f"references {', '.join(missing)}, which failed"
                return f"skipped: {failed[table]}"
            if not act:
                return f"would {verb}"
            error = distribution.run(sql, params)
            if error:
                failed[table] = error
                return f"FAILED: {error}"
            return f"{verb}d" if verb.endswith("e") else f"{verb}ed"

        self.stdout.write("Reference tables (referenced first):")
        for table in plan.reference_done:
            self.stdout.write(f"  {table}: already a reference table")
        for table in plan.reference:
            sql, params = distribution.reference_sql(table)
            self.stdout.write(f"  {table}: {step(table, sql, params, 'create')}")

        self.stdout.write(
            f"Tenant tables by {distribution.TENANT_COLUMN}, colocated with {plan.colocate_with} (referenced first):"
        )
        for table in plan.distributed_done:
            self.stdout.write(f"  {table}: already distributed")
        colocate_with = plan.colocate_with if plan.distributed_done else None
        for table in plan.distribute:
            sql, params = distribution.distribute_sql(table, colocate_with)
            outcome = step(table, sql, params, "distribute")
            if table in catalog.partitioned:
                outcome += " (partitioned: its partitions follow)"
            self.stdout.write(f"  {table}: {outcome}")
            if colocate_with is None and table not in failed:
                colocate_with = table

        if plan.blocked:
            self.stdout.write(f"Stay local ({len(plan.blocked)}), not distributable as the catalog stands:")
            for table in [*plan.blocked_tenant_tables, *sorted(plan.blocked.keys() - set(plan.blocked_tenant_tables))]:
                for reason in plan.blocked[table]:
                    self.stdout.write(f"  {table}: {reason}")

        distributed = len(plan.distributed_done) + len([t for t in plan.distribute if t not in failed])
        references = len(plan.reference_done) + len([t for t in plan.reference if t not in failed])
        if act:
            self.stdout.write(
                f"Tenant tables distributed: {distributed} of {plan.tenant_count}; reference tables: {references} of "
                f"{len(plan.reference) + len(plan.reference_done)}; {time.monotonic() - started:.1f} s."
            )
            left = plan.tenant_count - distributed
            if left:
                raise CommandError(f"{left} tenant tables stay local (listed above); the rest is distributed.")
        else:
            self.stdout.write(
                f"Dry run: {len(plan.distribute)} tenant tables and {len(plan.reference)} reference tables to make, "
                f"{len(plan.blocked_tenant_tables)} tenant tables would stay local; nothing changed."
            )
