from rest_framework import serializers


class FxRateSerializer(serializers.Serializer):
    """One rate: ``1 from = rate to`` on ``day``. ``scope``: ``global`` (the ECB's) or ``own``."""

    id = serializers.IntegerField(read_only=True)
    day = serializers.DateField()
    rate = serializers.SerializerMethodField()
    source = serializers.CharField()
    scope = serializers.SerializerMethodField()
    note = serializers.SerializerMethodField()

    def get_fields(self):
        fields = super().get_fields()
        # "from" is a Python keyword: the two currency fields are added by name.
        fields["from"] = serializers.CharField(source="from_currency")
        fields["to"] = serializers.CharField(source="to_currency")
        return fields

    def get_rate(self, obj) -> str:
        return format(obj.rate.normalize(), "f")

    def get_scope(self, obj) -> str:
        return "own" if hasattr(obj, "organization_id") else "global"

    def get_note(self, obj) -> str:
        return getattr(obj, "note", "")


class OwnRateInSerializer(serializers.Serializer):
    day = serializers.CharField()
    rate = serializers.CharField(help_text="Units of 'to' per one 'from', a decimal string such as \"0.8712\".")
    source = serializers.CharField(required=False, allow_blank=True, max_length=40)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.CharField(max_length=3)
        fields["to"] = serializers.CharField(max_length=3)
        return fields


class OwnRatesInSerializer(serializers.Serializer):
    rates = OwnRateInSerializer(many=True, allow_empty=False, max_length=5000)


class OwnRatesLoadedSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    load = serializers.IntegerField(help_text="The id of the load.")
