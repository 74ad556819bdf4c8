from rest_framework import permissions

from apps.core.api.scopes import required_scope


class HasTokenScope(permissions.BasePermission):
    """The view names the token scope its reads need (``read_scope``) and the one its writes need
    (``write_scope``); ``apps.core.api.scopes.required_scope`` picks the one a method needs. A view that
    names none is closed.

    DRF checks permissions before it looks for the method's handler, so a write to a read-only endpoint would
    answer 403 ("lacks the scope") although no scope could allow it. An authenticated client asking for a
    method the endpoint does not have passes here, and the view answers the honest 405 with ``Allow``."""

    message = "This token lacks the scope this request needs."

    def has_permission(self, request, view) -> bool:
        client = getattr(request, "auth", None)
        if client is None or not hasattr(client, "scopes"):
            return False
        if not supports_method(view, request.method):
            return True
        if request.method == "OPTIONS":
            return True
        required = required_scope(view, request.method)
        if required is None:
            return False
        if required not in client.scopes:
            self.message = f"This token lacks the '{required}' scope."
            return False
        return True


def supports_method(view, method: str) -> bool:
    """Whether the view has a handler for ``method`` (as DRF's dispatch looks it up)."""
    name = method.lower()
    return name in view.http_method_names and getattr(view, name, None) is not None
