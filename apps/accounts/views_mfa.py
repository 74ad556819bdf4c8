"""Sign-in with a second factor: the verification step (at login, or before a protected action), the
enrolment and management page, and the login view that leads to the step."""

from base64 import b32encode
from urllib.parse import urlencode

import django_otp
import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from apps.tenancy.permissions import session_is_verified

from . import mfa


class TokenForm(forms.Form):
    otp_token = forms.CharField(
        label="Code",
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
        help_text="The 6-digit code your authenticator app shows now, or one of your recovery codes.",
    )


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


def _with_next(url: str, target: str) -> str:
    return f"{url}?{urlencode({'next': target})}"


class LoginView(auth_views.LoginView):
    """Password first; a person with an authenticator then confirms a code before going on."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        if mfa.has_second_factor(form.get_user()):
            return HttpResponseRedirect(_with_next(reverse("accounts:mfa_verify"), self.get_success_url()))
        return response


@login_required
def verify(request):
    """The second step: a code from the app or a recovery code. Without an authenticator: enrol first."""
    target = _next_url(request)
    if not mfa.has_second_factor(request.user):
        return redirect(_with_next(reverse("accounts:mfa_setup"), target))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = mfa.second_factor_verify(user=request.user, token=form.cleaned_data["otp_token"])
        if device is not None:
            django_otp.login(request, device)
            if device.persistent_id.startswith("otp_static"):
                left = mfa.recovery_codes_left(request.user)
                messages.warning(
                    request, f"You used a recovery code; {left} left. Make new ones on the Two-step sign-in page."
                )
            return redirect(target)
        form.add_error("otp_token", mfa.WRONG_CODE)
    return render(request, "accounts/mfa_verify.html", {"form": form, "next": target})


def _qr_svg(device) -> str:
    # Drawn here as inline SVG: no image service sees the secret, and no CDN is needed.
    return segno.make(device.config_url, error="m").svg_inline(scale=4, border=2)


@login_required
def setup(request):
    """Enrol an authenticator (QR code and secret, confirmed with a code), then manage it."""
    target = _next_url(request)
    user = request.user
    context = {"next": target, "verified": session_is_verified(user), "enrolled": mfa.has_second_factor(user)}
    if context["enrolled"]:
        context["recovery_codes_left"] = mfa.recovery_codes_left(user)
        context["disable_form"] = TokenForm()
        return render(request, "accounts/mfa_setup.html", context)
    device = mfa.totp_device_pending(user=user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = mfa.second_factor_enrol(user=user, device=device, token=form.cleaned_data["otp_token"])
        except ValidationError as exc:
            form.add_error("otp_token", exc)
        else:
            device.refresh_from_db()
            django_otp.login(request, device)
            # Shown in this response only: the page never shows them again.
            return render(
                request, "accounts/mfa_recovery_codes.html", {"codes": codes, "next": target, "enrolled_now": True}
            )
    context.update(
        form=form,
        qr_svg=_qr_svg(device),
        secret=b32encode(device.bin_key).decode(),
    )
    return render(request, "accounts/mfa_setup.html", context)


@require_POST
@login_required
def recovery_codes(request):
    if not session_is_verified(request.user):
        return redirect(_with_next(reverse("accounts:mfa_verify"), reverse("accounts:mfa_setup")))
    try:
        codes = mfa.recovery_codes_regenerate(user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("accounts:mfa_setup")
    return render(request, "accounts/mfa_recovery_codes.html", {"codes": codes, "next": reverse("accounts:mfa_setup")})


@require_POST
@login_required
def disable(request):
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            mfa.second_factor_disable(user=request.user, token=form.cleaned_data["otp_token"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, "Two-step sign-in is off. Approvals and administration will ask you to set it up again."
            )
    else:
        messages.error(request, "Enter a current code to turn two-step sign-in off.")
    return redirect("accounts:mfa_setup")
