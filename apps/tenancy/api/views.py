"""Base classes for every organisation-scoped API view.

The token's organisation is activated as the django-scopes scope once, in ``initial()``, before
any handler runs, and stays active until the response is finalised; ``get_queryset`` also filters
by it explicitly. Views declare ``queryset = Model.objects.none()`` (the model), a serializer,
a filterset and the token scopes their reads and writes need (``read_scope``, ``write_scope``: see
``apps.core.api.scopes``); they never filter by organisation themselves.
"""

from contextlib import ExitStack

from rest_framework import generics, mixins, viewsets
from rest_framework.exceptions import NotAuthenticated

from apps.core.api.scopes import ReadWriteScopes
from apps.tenancy.scoping import organization_scope


class OrganizationScopedMixin(ReadWriteScopes):
    def dispatch(self, request, *args, **kwargs):
        with ExitStack() as stack:
            self._scope_stack = stack
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        client = request.auth
        if client is None or not hasattr(client, "organization"):
            raise NotAuthenticated()
        request.organization = client.organization
        self._scope_stack.enter_context(organization_scope(request.organization))

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
