"""Price rows and overrides over the API. Providers and models are named by their codes, the same
vocabulary as the price-book file and the catalog files."""

from rest_framework import serializers

from apps.core.api.fields import JsonModelSerializer
from apps.pricing.models import AiModel, PriceOverride, PriceRow, Provider


class PriceRowSerializer(serializers.ModelSerializer):
    provider = serializers.CharField(source="provider.code", read_only=True)
    model = serializers.CharField(source="model.code", read_only=True)

    class Meta:
        model = PriceRow
        fields = [
            "id",
            "provider",
            "model",
            "service_tier",
            "usage_type",
            "unit",
            "price",
            "currency",
            "effective_from",
            "effective_to",
            "min_context_tokens",
            "source",
            "source_date",
        ]
        read_only_fields = fields


class PriceOverrideSerializer(JsonModelSerializer):
    provider = serializers.CharField(help_text="Provider code, e.g. anthropic.")
    model = serializers.CharField(
        allow_null=True, allow_blank=True, required=False, help_text="Model code; empty for every model."
    )

    class Meta:
        model = PriceOverride
        fields = [
            "id",
            "provider",
            "model",
            "usage_type",
            "service_tier",
            "price",
            "unit",
            "discount_pct",
            "effective_from",
            "effective_to",
            "note",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators: list = []  # the services check with messages a finance user understands
        extra_kwargs = {
            "usage_type": {"required": False},
            "service_tier": {"required": False},
            "unit": {"required": False},
        }

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["provider"] = instance.provider.code
        data["model"] = instance.model.code if instance.model_id else None
        return data

    def validate_provider(self, value: str) -> Provider:
        provider = Provider.objects.filter(code__iexact=value.strip()).first()
        if provider is None:
            raise serializers.ValidationError(f"No provider has the code {value!r}.")
        return provider

    def validate(self, attrs):
        provider = attrs.get("provider") or (self.instance.provider if self.instance else None)
        if "model" in attrs:
            code = (attrs["model"] or "").strip()
            if not code:
                attrs["model"] = None
            else:
                model = AiModel.objects.filter(provider=provider, code__iexact=code).first()
                if model is None:
                    raise serializers.ValidationError({"model": [f"{provider.name} has no model {code!r}."]})
                attrs["model"] = model
        return attrs
