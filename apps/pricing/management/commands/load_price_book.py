"""Load (create or update) the global list prices from a price-book file. Idempotent."""

from django.core.management.base import BaseCommand, CommandError

from apps.pricing.book_file import DEFAULT_PATH, PriceBookFileError
from apps.pricing.services import price_book_load


class Command(BaseCommand):
    help = "Upsert providers, models, aliases and list prices from a price-book YAML file (default: the shipped one)."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(DEFAULT_PATH), help="Price-book YAML file.")

    def handle(self, *args, path: str, **options):
        try:
            counts = price_book_load(path=path)
        except FileNotFoundError as exc:
            raise CommandError(f"No such file: {path}") from exc
        except PriceBookFileError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Loaded {path}")
        for kind, outcome in counts.items():
            self.stdout.write(
                f"  {kind.replace('_', ' ')}: {outcome['created']} created, {outcome['updated']} updated, "
                f"{outcome['unchanged']} unchanged"
            )
