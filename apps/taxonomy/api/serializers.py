"""The taxonomy over the API. A value names its dimension by key and its cost centre by code, and
carries its aliases as a list of strings: the same vocabulary as the catalog files."""

from rest_framework import serializers

from apps.core.api.fields import JsonModelSerializer
from apps.owners.models import BudgetOwner
from apps.taxonomy.models import TagDimension, TagSet, TagValue


class TagDimensionSerializer(JsonModelSerializer):
    position = serializers.IntegerField(min_value=0, required=False, allow_null=True)

    class Meta:
        model = TagDimension
        fields = [
            "id",
            "key",
            "label",
            "description",
            "required",
            "case_rule",
            "granularity",
            "is_active",
            "position",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # Key format and uniqueness live in the services, with messages a finance user understands.
        validators: list = []
        extra_kwargs = {"key": {"validators": []}}


class AliasListField(serializers.ListField):
    """Written as a list of strings; read from the value's alias rows."""

    def to_representation(self, data) -> list[str]:
        return sorted(alias.alias for alias in data.all())


class TagValueSerializer(JsonModelSerializer):
    dimension = serializers.CharField(help_text="Key of the dimension, e.g. team.")
    owner = serializers.CharField(
        allow_null=True, allow_blank=True, required=False, help_text="Code of the cost centre, or null."
    )
    aliases = AliasListField(
        child=serializers.CharField(max_length=200),
        required=False,
        help_text="Other spellings of the value; on update the list replaces the current one.",
    )

    class Meta:
        model = TagValue
        fields = [
            "id",
            "dimension",
            "value",
            "description",
            "is_active",
            "owner",
            "aliases",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators: list = []

    def to_representation(self, instance: TagValue) -> dict:
        data = super().to_representation(instance)
        data["dimension"] = instance.dimension.key
        data["owner"] = instance.owner.code if instance.owner_id else None
        return data

    @property
    def _organization(self):
        return self.context["request"].organization

    def validate_dimension(self, value: str) -> TagDimension:
        dimension = TagDimension.objects.filter(organization=self._organization, key__iexact=value.strip()).first()
        if dimension is None:
            raise serializers.ValidationError(f"There is no tag dimension {value!r} in this organisation.")
        if self.instance is not None and dimension.pk != self.instance.dimension_id:
            raise serializers.ValidationError("A value cannot move to another dimension: create it there instead.")
        return dimension

    def validate_owner(self, value: str | None) -> BudgetOwner | None:
        if not value:
            return None
        owner = BudgetOwner.objects.filter(organization=self._organization, code__iexact=value.strip()).first()
        if owner is None:
            raise serializers.ValidationError(f"No cost centre has the code {value!r} in this organisation.")
        return owner


class TagSetSerializer(serializers.ModelSerializer):
    class Meta:
        model = TagSet
        fields = ["id", "hash", "tags", "created_at"]
        read_only_fields = fields
