from django.core.management.base import BaseCommand

from apps.connectors.schedule import rotate_encryption


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored provider credential under the first CONNECTOR_ENCRYPTION_KEYS key (put the new "
        "key first, run this, then drop the old key)."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"{rotate_encryption()} credential(s) re-encrypted under the first key.")
