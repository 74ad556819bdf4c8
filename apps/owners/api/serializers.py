"""Cost centres and budgets over the API. A parent is named by its code and owner users by their
usernames, the same vocabulary as the catalog files."""

import datetime

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.owners.models import Budget, BudgetOwner

User = get_user_model()


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2026-10"})
class MonthField(serializers.Field):
    """A calendar month as "YYYY-MM", stored as its first day."""

    default_error_messages = {"invalid": "Give the month as YYYY-MM, e.g. 2026-10."}

    def to_representation(self, value: datetime.date) -> str:
        return f"{value:%Y-%m}"

    def to_internal_value(self, data) -> datetime.date:
        try:
            return datetime.datetime.strptime(str(data), "%Y-%m").date()
        except ValueError:
            self.fail("invalid")


class CodeField(serializers.CharField):
    """Reads a related cost centre as its code; writes the code (resolved by the serializer)."""

    def to_representation(self, value: BudgetOwner) -> str:
        return value.code


class UsernamesField(serializers.ListField):
    child = serializers.CharField()

    def to_representation(self, value) -> list[str]:
        return sorted(user.username for user in value.all())


class BudgetOwnerSerializer(serializers.ModelSerializer):
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


class BudgetSerializer(serializers.ModelSerializer):
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
