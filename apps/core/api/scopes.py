"""Which token scope a request needs, decided in one place.

A view names two scopes: ``read_scope`` for the safe methods (GET, HEAD, OPTIONS) and ``write_scope`` for
every other method. A view that names neither is closed; a read-only view names only ``read_scope`` (a write
to it is refused by the permission check, or answered 405 when the view has no such method). Where a view
genuinely differs, ``required_scopes`` (method -> scope) overrides the pair for those methods.
"""

from rest_framework.permissions import SAFE_METHODS


class ReadWriteScopes:
    """The scope attributes a token-protected view declares."""

    read_scope: str | None = None
    write_scope: str | None = None
    required_scopes: dict[str, str] = {}


def required_scope(view, method: str) -> str | None:
    """The scope ``method`` needs on ``view``, or None when the view names none for it (closed)."""
    method = "GET" if method == "HEAD" else method
    overrides = getattr(view, "required_scopes", None) or {}
    if method in overrides:
        return overrides[method]
    return getattr(view, "read_scope" if method in SAFE_METHODS else "write_scope", None)
