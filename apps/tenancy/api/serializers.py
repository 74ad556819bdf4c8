from rest_framework import serializers

from apps.tenancy.models import Organization


class OrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["slug", "name", "base_currency", "variance_tolerance_pct", "mode"]
        read_only_fields = fields
