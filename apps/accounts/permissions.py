from rest_framework import permissions


class HasTokenScope(permissions.BasePermission):
    """The view names the token scope each method needs in ``required_scopes``
    (e.g. ``{"GET": "statements:read", "POST": "usage:write"}``). A view that names none is closed.

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
        required = getattr(view, "required_scopes", {}).get(request.method)
        if request.method == "HEAD":
            required = getattr(view, "required_scopes", {}).get("GET")
        if request.method == "OPTIONS":
            return True
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
