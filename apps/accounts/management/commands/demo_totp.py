"""Print the current second-factor code of a demo user (one enrolled by seed_demo with the published
secret). Refuses any other user: a real authenticator's secret never leaves the database this way."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.demo import DEMO_DEVICE_NAME, demo_totp_key


class Command(BaseCommand):
    help = "Print the current 6-digit sign-in code of a demo user (acme-admin, acme-finadmin, …)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user called {username!r}.")
        device = TOTPDevice.objects.filter(user=user, name=DEMO_DEVICE_NAME, key=demo_totp_key()).first()
        if device is None:
            raise CommandError(f"{username} has no demo authenticator: only users seed_demo enrolled have one.")
        code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
        self.stdout.write(f"{code:0{device.digits}d}")
