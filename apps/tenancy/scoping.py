"""The one tenant convention for services and selectors.

Every service and selector takes the organisation explicitly, as the keyword argument ``organization``
(or an object that belongs to one, such as ``membership`` or ``billing_period``, named by ``via``).
It never relies on whatever scope happens to be active: the ``tenant_scoped`` decorator enters the
organisation's scope for the call, so the function's queries are fail-closed to that organisation
whether it is called from a request, a Celery task, a command or a test.

Calling it inside another organisation's active scope is refused (``CrossTenantCall``): a request
for one tenant can never reach into another by passing the wrong object along.

The entry points that have no organisation yet (the scoping middleware, sign-in, API token lookup)
are the only places that enter a scope by hand.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from django_scopes import get_scope, scope

from .models import Organization

F = TypeVar("F", bound=Callable)


class CrossTenantCall(RuntimeError):
    """A call for one organisation made inside another organisation's active scope."""


def organization_of(value) -> Organization:
    """The organisation of ``value``: an Organization itself, or anything with ``.organization``."""
    if isinstance(value, Organization):
        return value
    organization = getattr(value, "organization", None)
    if not isinstance(organization, Organization):
        raise TypeError(f"{value!r} is neither an organisation nor belongs to one.")
    return organization


@contextmanager
def organization_scope(organization: Organization) -> Iterator[Organization]:
    """Enter ``organization``'s scope; refuse when another organisation's scope is already active."""
    current = get_scope()
    active = current.get("organization") if current.get("_enabled") else None
    active_id = getattr(active, "pk", active)  # a scope may be entered with the organisation or its id
    if active_id is not None and active_id != organization.pk:
        raise CrossTenantCall(
            f"A call for organisation {organization.pk} was made inside organisation {active_id}'s scope."
        )
    with scope(organization=organization):
        yield organization


def tenant_scoped(func: F | None = None, *, via: str = "organization") -> F:
    """Run the decorated service or selector in the scope of the organisation it is given.

    ``via`` names the keyword argument that carries the organisation (``organization``, the default)
    or an object that belongs to it (``membership``, ``billing_period``, ``job``...). The argument must
    be passed by keyword: a missing one is a programming error, reported as a TypeError by name.
    """

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            if via not in kwargs:
                raise TypeError(f"{function.__qualname__}() needs the keyword argument {via!r}.")
            with organization_scope(organization_of(kwargs[via])):
                return function(*args, **kwargs)

        wrapper.tenant_via = via  # what the convention test reads
        return wrapper  # type: ignore[return-value]

    if func is not None:
        return decorate(func)
    return decorate  # type: ignore[return-value]
