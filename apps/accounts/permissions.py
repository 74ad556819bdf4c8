from rest_framework import permissions


class HasTokenScope(permissions.BasePermission):
    """The view names the token scope each method needs in ``required_scopes``
    (e.g. ``{"GET": "statements:read", "POST": "usage:write"}``). A view that names none is closed."""

    message = "This token lacks the scope this request needs."

    def has_permission(self, request, view) -> bool:
        client = getattr(request, "auth", None)
        if client is None or not hasattr(client, "scopes"):
            return False
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
