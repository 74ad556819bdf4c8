from rest_framework.throttling import SimpleRateThrottle


class ApiClientRateThrottle(SimpleRateThrottle):
    """Per-client request rate; over it DRF answers 429 with Retry-After."""

    scope = "api_client"

    def get_cache_key(self, request, view):
        client = getattr(request, "auth", None)
        if client is None or not hasattr(client, "key_prefix"):
            return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
        return self.cache_format % {"scope": self.scope, "ident": client.key_prefix}
