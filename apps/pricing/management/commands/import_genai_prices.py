"""Rebuild the upstream price snapshot from the pinned genai-prices package and print what changed.

    python manage.py import_genai_prices            # print the diff against the committed snapshot
    python manage.py import_genai_prices --write    # ... and write data/upstream/genai-prices.yaml
    python manage.py import_genai_prices --check    # exit 1 when the committed snapshot is stale (CI)

Only this command imports genai-prices (and its pydantic/httpx2), lazily; the portal reads the snapshot.
After --write, review the diff, adjust data/corrections.yaml if an upstream figure is wrong, and run
`load_price_book` (a new price-book version is recorded when what prices changed).
"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from apps.pricing import upstream
from apps.pricing.book_file import read_upstream_snapshot


class Command(BaseCommand):
    help = "Rebuild the genai-prices snapshot of the price book and print the diff against the committed one."

    def add_arguments(self, parser):
        parser.add_argument("--write", action="store_true", help="Write the rebuilt snapshot.")
        parser.add_argument("--check", action="store_true", help="Exit 1 when the committed snapshot is stale.")
        parser.add_argument("--snapshot", default=str(upstream.SNAPSHOT_PATH), help="The snapshot file.")
        parser.add_argument("--show-skipped", action="store_true", help="List what the importer left out.")

    def handle(self, *args, write: bool, check: bool, snapshot: str, show_skipped: bool, **options):
        try:
            built = upstream.build_snapshot()
        except ImportError as exc:
            raise CommandError(
                "genai-prices is not installed here: it is a development dependency "
                "(pip install -r requirements/dev.txt)"
            ) from exc
        try:
            header, committed = read_upstream_snapshot(snapshot)
            old_rows, old_version = committed.rows, header.get("package_version")
        except FileNotFoundError:
            old_rows, old_version = [], None
        lines = upstream.row_diff(old_rows, built.rows)
        self.stdout.write(
            f"genai-prices {built.version} (committed snapshot: {old_version or 'none'}): "
            f"{len(built.rows)} rows of {len(built.models)} models; "
            f"{sum(line[0] == '+' for line in lines)} added, {sum(line[0] == '-' for line in lines)} removed, "
            f"{sum(line[0] == '~' for line in lines)} changed"
        )
        for line in lines:
            self.stdout.write(line)
        if show_skipped:
            for line in built.skipped:
                self.stdout.write(f"  skipped {line}")
        stale = bool(lines) or old_version != built.version
        if write:
            with open(snapshot, "w", encoding="utf-8") as stream:
                stream.write(upstream.snapshot_yaml(built, generated_on=date.today()))
            self.stdout.write(f"Wrote {snapshot}")
        elif check and stale:
            raise CommandError(
                "the committed price snapshot does not match the installed genai-prices: "
                "run `python manage.py import_genai_prices --write` and review the diff"
            )
