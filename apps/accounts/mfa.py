"""Second factor for signing in: an authenticator app (TOTP) with one-use recovery codes, on django-otp.

Who needs it and for what is decided in ``apps.tenancy.roles`` (``second_factor_needed``) and enforced by
``apps.tenancy.permissions.require_org_perm``; this module enrols, verifies and disables, each write in
one transaction with its audit event. A second factor belongs to a person, not an organisation, so its
events are recorded in the history of every organisation the person belongs to.
"""

import secrets

import django_otp
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scopes_disabled

from apps.audit.services import audit_record
from apps.tenancy.models import Membership
from apps.tenancy.permissions import SecondFactorRequired, second_factor_redirect

TOTP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"
WRONG_CODE = "That code is not right, or was already used. Enter the current 6-digit code from your app."


def normalise_token(token: str) -> str:
    """Codes may be typed with spaces or the dash recovery codes are shown with."""
    return "".join(token.split()).replace("-", "").lower()


def confirmed_totp_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def has_second_factor(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def _audit_everywhere(*, user, action: str, after: dict | None = None) -> None:
    with scopes_disabled():
        organizations = [m.organization for m in Membership.objects.filter(user=user).select_related("organization")]
    for organization in organizations:
        audit_record(
            organization=organization,
            actor=user,
            action=action,
            object_type="auth.user",
            object_id=str(user.pk),
            after=after,
        )


def totp_device_pending(*, user) -> TOTPDevice:
    """The not yet confirmed device whose secret the enrolment page shows (one per person)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def _recovery_codes_new(*, user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [secrets.token_hex(5) for _ in range(settings.MFA_RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def second_factor_enrol(*, user, device: TOTPDevice, token: str) -> list[str]:
    """Confirm the pending device with a code from the app; returns the recovery codes, shown once."""
    if device.user_id != user.pk or device.confirmed:
        raise ValidationError("This enrolment has expired: start again.")
    if not device.verify_token(normalise_token(token)):  # commits its failure count on its own
        raise ValidationError(WRONG_CODE)
    with transaction.atomic():
        return _enrol_confirmed(user=user, device=device)


def _enrol_confirmed(*, user, device: TOTPDevice) -> list[str]:
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    codes = _recovery_codes_new(user=user)
    _audit_everywhere(user=user, action="second_factor.enrolled", after={"recovery_codes": len(codes)})
    return codes


@transaction.atomic
def recovery_codes_regenerate(*, user) -> list[str]:
    """New recovery codes (the old ones stop working), shown once."""
    if not has_second_factor(user):
        raise ValidationError("Set up an authenticator app first.")
    codes = _recovery_codes_new(user=user)
    _audit_everywhere(
        user=user, action="second_factor.recovery_codes_regenerated", after={"recovery_codes": len(codes)}
    )
    return codes


def second_factor_verify(*, user, token: str):
    """The device that accepts ``token`` (a 6-digit code from the app, or a recovery code, which is then
    used up), or None. Failed attempts slow down further ones (django-otp's throttling, per device), so
    each attempt commits on its own: a refusal further up must not roll the failure count back."""
    token = normalise_token(token)
    if not token:
        return None
    # Route by shape, so a mistyped recovery code does not count as a failed app code and the reverse.
    is_app_code = token.isdigit() and len(token) == 6
    model = TOTPDevice if is_app_code else StaticDevice
    for device in model.objects.filter(user=user, confirmed=True).order_by("pk"):
        verified = django_otp.verify_token(user, device.persistent_id, token)
        if verified is None:
            continue
        if not is_app_code:
            with transaction.atomic():
                _audit_everywhere(
                    user=user,
                    action="second_factor.recovery_code_used",
                    after={"recovery_codes_left": recovery_codes_left(user)},
                )
        return verified
    return None


def second_factor_disable(*, user, token: str) -> None:
    """Remove the authenticator and the recovery codes; needs a current code (or a recovery code)."""
    if not has_second_factor(user):
        raise ValidationError("No second factor is set up.")
    if second_factor_verify(user=user, token=token) is None:
        raise ValidationError(WRONG_CODE)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        _audit_everywhere(user=user, action="second_factor.disabled")


class SecondFactorMiddleware:
    """Answers ``SecondFactorRequired`` (raised by the role checks) with the verification step."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, SecondFactorRequired):
            return second_factor_redirect(request)
        return None
