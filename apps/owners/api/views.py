from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from apps.owners import services
from apps.owners.filters import BudgetFilter, BudgetOwnerFilter
from apps.owners.models import Budget, BudgetOwner
from apps.tenancy.api.views import OrganizationListCreateViewSet, OrganizationModelViewSet
from apps.tenancy.roles import TokenScope

from .serializers import BudgetOwnerSerializer, BudgetSerializer


class BudgetOwnerViewSet(mixins.UpdateModelMixin, OrganizationListCreateViewSet):
    """Cost centres (budget owners). Cost centres are never deleted: PATCH ``is_active`` to false
    once nothing active hangs below them."""

    queryset = BudgetOwner.objects.none()
    serializer_class = BudgetOwnerSerializer
    filterset_class = BudgetOwnerFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    read_scope = TokenScope.CATALOG_READ
    write_scope = TokenScope.CATALOG_WRITE

    def restrict_queryset(self, queryset):
        return queryset.select_related("parent").prefetch_related("owner_users")

    def perform_create(self, serializer):
        serializer.instance = services.budget_owner_create(
            organization=self.request.organization, actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.budget_owner_update(
            owner=serializer.instance, actor=self.request.user, data=serializer.validated_data
        )


class BudgetViewSet(OrganizationModelViewSet):
    """Monthly budgets per cost centre. POST sets the budget of a cost centre for a month: it
    creates it (201) or replaces the amount of the existing one (200)."""

    queryset = Budget.objects.none()
    serializer_class = BudgetSerializer
    filterset_class = BudgetFilter
    read_scope = TokenScope.CATALOG_READ
    write_scope = TokenScope.CATALOG_WRITE

    def restrict_queryset(self, queryset):
        return queryset.select_related("owner")

    @extend_schema(
        responses={201: BudgetSerializer, 200: BudgetSerializer},
        description="Set the budget of a cost centre for a month: 201 when it is new, 200 when it replaced the "
        "amount of the existing one.",
    )
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        budget, created = services.budget_set(
            organization=request.organization,
            actor=request.user,
            owner=data["owner"],
            period=data["period"],
            amount=data["amount"],
            currency=data.get("currency", request.organization.base_currency),
        )
        return Response(
            self.get_serializer(budget).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    def perform_update(self, serializer):
        budget, data = serializer.instance, serializer.validated_data
        moved = {}
        if data.get("owner", budget.owner) != budget.owner:
            moved["owner"] = ["A budget cannot move to another cost centre: delete it and set a new one."]
        if data.get("period", budget.period) != budget.period:
            moved["period"] = ["A budget cannot move to another month: delete it and set a new one."]
        if moved:
            raise serializers.ValidationError(moved)
        serializer.instance, _ = services.budget_set(
            organization=self.request.organization,
            actor=self.request.user,
            owner=budget.owner,
            period=budget.period,
            amount=data.get("amount", budget.amount),
            currency=data.get("currency", budget.currency),
        )

    def perform_destroy(self, instance):
        services.budget_delete(budget=instance, actor=self.request.user)
