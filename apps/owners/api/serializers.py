"""Cost centres and budgets over the API. A parent is named by its code and owner users by their
usernames, the same vocabulary as the catalog files."""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from apps.core.api.fields import JsonModelSerializer
from apps.core.api.months import MonthField
from apps.owners.models import Budget, BudgetOwner

User = get_user_model()


class CodeField(serializers.CharField):
    """Reads a related cost centre as its code; writes the code (resolved by the serializer)."""

    def to_representation(self, value: BudgetOwner) -> str:
        return value.code


class UsernamesField(serializers.ListField):
    child = serializers.CharField()

    def to_representation(self, value) -> list[str]:
        return sorted(user.username for user in value.all())


class BudgetOwnerSerializer(JsonModelSerializer):
    parent = CodeField(allow_null=True, allow_blank=True, required=False, help_text="Code of the parent cost centre.")
    owner_users = UsernamesField(required=False, help_text="Usernames of the members with the budget-owner role.")

    class Meta:
        model = BudgetOwner
        fields = [
            "id",
            "code",
            "name",
            "parent",
            "owner_users",
            "gl_account",
            "department",
            "company_code",
            "erp_class",
            "location",
            "is_active",
            "is_central",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # Uniqueness and hierarchy rules live in the services, with messages a finance user understands.
        validators: list = []
        extra_kwargs = {"code": {"validators": []}}

    @property
    def _organization(self):
        return self.context["request"].organization

    def validate_parent(self, value: str | None) -> BudgetOwner | None:
        if not value:
            return None
        parent = BudgetOwner.objects.filter(organization=self._organization, code__iexact=value).first()
        if parent is None:
            raise serializers.ValidationError(f"No cost centre has the code {value!r} in this organisation.")
        return parent

    def validate_owner_users(self, value: list[str]) -> list:
        wanted = list(dict.fromkeys(value))
        users = {
            user.username: user
            for user in User.objects.filter(username__in=wanted, memberships__organization=self._organization)
        }
        missing = [name for name in wanted if name not in users]
        if missing:
            raise serializers.ValidationError([f"{name} is not a member of this organisation." for name in missing])
        return [users[name] for name in wanted]


class BudgetSerializer(JsonModelSerializer):
    owner = CodeField(help_text="Code of the cost centre.")
    period = MonthField(help_text='The month, "YYYY-MM".')
    currency = serializers.CharField(required=False, help_text="ISO 4217 code; defaults to the organisation's.")

    class Meta:
        model = Budget
        fields = ["id", "owner", "period", "amount", "currency", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators: list = []

    def validate_owner(self, value: str) -> BudgetOwner:
        owner = BudgetOwner.objects.filter(
            organization=self.context["request"].organization, code__iexact=value
        ).first()
        if owner is None:
            raise serializers.ValidationError(f"No cost centre has the code {value!r} in this organisation.")
        return owner
