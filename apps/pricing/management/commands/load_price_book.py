"""Load (create or update) the global list prices from a price-book file. Idempotent."""

from django.core.management.base import BaseCommand, CommandError

from apps.pricing.book_file import PriceBookFileError
from apps.pricing.services import price_book_load


class Command(BaseCommand):
    help = (
        "Upsert providers, models, aliases and list prices from the shipped book (the genai-prices snapshot "
        "with the reviewed corrections on top) or from one price-book YAML file; record a new price-book "
        "version when what prices changed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path", nargs="?", default=None, help="One price-book YAML file (default: the shipped book)."
        )

    def handle(self, *args, path: str, **options):
        try:
            counts = price_book_load(path=path)
        except FileNotFoundError as exc:
            raise CommandError(f"No such file: {path}") from exc
        except PriceBookFileError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Loaded {path or 'the shipped price book (upstream snapshot + corrections)'}")
        version = counts.pop("version")
        for kind, outcome in counts.items():
            self.stdout.write(
                f"  {kind.replace('_', ' ')}: {outcome['created']} created, {outcome['updated']} updated, "
                f"{outcome['unchanged']} unchanged"
            )
        state = "new" if version["created"] else "unchanged"
        self.stdout.write(f"  price-book version: r{version['number']} ({state})")
