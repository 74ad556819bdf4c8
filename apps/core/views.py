"""View helpers every portal page may use; they know no domain."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


def set_active_view(
    request: HttpRequest,
    *,
    set_active: Callable[..., object],
    active: bool,
    done: str,
    to: str,
    **to_kwargs,
) -> HttpResponse:
    """The body of a deactivate or reactivate view (a POST with an optional ``reason``).

    Calls ``set_active(active=..., actor=..., reason=...)`` (a service's set-active bound to its row); a
    refusal (``ValidationError``) is shown as an error message, success as ``done``. Then back to the
    page named ``to`` (a URL name, with ``to_kwargs``).
    """
    try:
        set_active(active=active, actor=request.user, reason=request.POST.get("reason", "").strip())
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect(to, **to_kwargs)
