"""Base classes for every organisation-scoped API view.

The token's organisation is activated as the django-scopes scope once, in ``initial()``, before
any handler runs, and stays active until the response is finalised; ``get_queryset`` also filters
by it explicitly. Views declare ``queryset = Model.objects.none()`` (the model), a serializer,
a filterset and the token scopes their reads and writes need (``read_scope``, ``write_scope``: see
``apps.core.api.scopes``); they never filter by organisation themselves.

The sync conventions hold for every view built on ``OrganizationScopedMixin``, without the view doing anything:

- **Idempotency-Key** on every POST (``apps.tenancy.idempotency``): claimed after authentication, scope and
  throttle checks (a 401, 403 or 429 stores nothing), before the handler; the same key with the same method,
  path and body answers the stored status and body with ``Idempotent-Replayed: true``; with another request
  422; while the first still runs 409; a 5xx is not stored. A view whose handler keeps its own idempotency
  (the two upload endpoints: a key names their job) lists the action, or the method name of a plain view, in
  ``own_idempotency_actions``.
- **ETag** on every successful GET (list and detail): the MD5 of the body as sent (Django's
  ``set_response_etag``), with ``Cache-Control: private, no-cache`` and ``Vary: Authorization``; a request whose
  ``If-None-Match`` names it gets 304 with no body (Django's ``get_conditional_response``, as its
  ``ConditionalGetMiddleware`` does, here for the API only).
"""

from contextlib import ExitStack

from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers, set_response_etag
from rest_framework import generics, mixins, status, viewsets
from rest_framework.exceptions import APIException, NotAuthenticated
from rest_framework.response import Response

from apps.core.api.scopes import ReadWriteScopes
from apps.tenancy import idempotency
from apps.tenancy.scoping import organization_scope

CONDITIONAL_METHODS = ("GET", "HEAD")


class IdempotencyRefused(APIException):
    """An Idempotency-Key this request may not use: invalid (400), another request's (422), still running (409)."""

    def __init__(self, exc: idempotency.IdempotencyError):
        super().__init__(exc.message)
        self.status_code = exc.status_code


class IdempotentReplay(Exception):
    """Raised from ``initial()`` to answer a known key's stored response instead of running the handler."""

    def __init__(self, response: Response):
        super().__init__("replay")
        self.response = response


class OrganizationScopedMixin(ReadWriteScopes):
    # Actions (or, on a plain view, lower-case method names) whose handler honours Idempotency-Key itself.
    own_idempotency_actions: tuple[str, ...] = ()

    def dispatch(self, request, *args, **kwargs):
        self._idempotency_claim = None
        with ExitStack() as stack:
            self._scope_stack = stack
            try:
                return super().dispatch(request, *args, **kwargs)
            except BaseException:
                self._idempotency_settle(None)  # no answer: the client may retry with the key
                raise

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        client = request.auth
        if client is None or not hasattr(client, "organization"):
            raise NotAuthenticated()
        request.organization = client.organization
        self._scope_stack.enter_context(organization_scope(request.organization))
        self._idempotency_begin(request)

    def uses_shared_idempotency(self, request) -> bool:
        if request.method != "POST":
            return False
        handler = getattr(self, "action", None) or request.method.lower()
        return handler not in self.own_idempotency_actions

    def _idempotency_begin(self, request) -> None:
        key = request.headers.get(idempotency.HEADER)
        if key is None or not self.uses_shared_idempotency(request):
            return
        try:
            outcome = idempotency.idempotency_claim(
                organization=request.organization,
                client_id=request.auth.pk,
                key=idempotency.key_check(key),
                method=request.method,
                path=request.get_full_path(),
                # Reading the body here answers its 400/413/415 before any claim, as the handler would.
                fingerprint=idempotency.request_fingerprint(
                    method=request.method, path=request.get_full_path(), data=request.data
                ),
            )
        except idempotency.IdempotencyError as exc:
            raise IdempotencyRefused(exc) from exc
        if isinstance(outcome, idempotency.Replay):
            response = Response(outcome.body, status=outcome.status_code, headers=outcome.headers)
            response[idempotency.REPLAYED_HEADER] = "true"
            raise IdempotentReplay(response)
        self._idempotency_claim = outcome.record

    def _idempotency_settle(self, response) -> None:
        """Store the answer of a claimed key, or drop the claim (a 5xx, or no answer at all)."""
        record, self._idempotency_claim = getattr(self, "_idempotency_claim", None), None
        if record is None:
            return
        organization = self.request.organization
        if response is None or response.status_code >= status.HTTP_500_INTERNAL_SERVER_ERROR:
            idempotency.idempotency_release(organization=organization, record=record)
            return
        if isinstance(response, Response):
            body = idempotency.response_body_text(response.data)
        else:  # not JSON data (never a POST of this API today): not replayable, so not kept
            idempotency.idempotency_release(organization=organization, record=record)
            return
        idempotency.idempotency_complete(
            organization=organization,
            record=record,
            status_code=response.status_code,
            body_text=body,
            headers={name: response[name] for name in idempotency.KEPT_HEADERS if response.has_header(name)},
        )

    def handle_exception(self, exc):
        if isinstance(exc, IdempotentReplay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        self._idempotency_settle(response)
        if request.method in CONDITIONAL_METHODS and response.status_code == status.HTTP_200_OK:
            response = self._conditional(request, response)
        return response

    def _conditional(self, request, response):
        """ETag, Cache-Control and Vary on a successful read, and 304 when If-None-Match names the ETag."""
        patch_cache_control(response, private=True, no_cache=True)
        patch_vary_headers(response, ("Authorization",))
        if response.streaming:
            return response
        if hasattr(response, "render") and not response.is_rendered:
            response.render()
        if not response.has_header("ETag"):
            set_response_etag(response)
        return get_conditional_response(request, etag=response.get("ETag"), response=response)

    def get_queryset(self):
        model = self.queryset.model
        queryset = model.objects.filter(organization=self.request.organization)
        return self.restrict_queryset(queryset)

    def restrict_queryset(self, queryset):
        """Hook for select_related/annotations; organisation filtering is already done."""
        return queryset

    def perform_create(self, serializer):
        serializer.save(organization=self.request.organization)


class OrganizationReadOnlyViewSet(OrganizationScopedMixin, viewsets.ReadOnlyModelViewSet):
    pass


class OrganizationModelViewSet(OrganizationScopedMixin, viewsets.ModelViewSet):
    pass


class OrganizationListCreateViewSet(OrganizationScopedMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    pass


class OrganizationAPIView(OrganizationScopedMixin, generics.GenericAPIView):
    pass
