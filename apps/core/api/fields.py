"""Request fields that take what their schema says and nothing else.

DRF's BooleanField also takes "yes", "on", 1 and "true"; its DecimalField also takes JSON numbers, which the
JSON parser has already turned into floats (12345678901234567.89 arrives as 12345678901234568); its CharField
takes numbers. The API's booleans are JSON booleans, its amounts decimal strings and its text strings, as
documented; anything else answers 400.
"""

from django.db import models
from rest_framework import serializers


class JsonBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Use true or false (a JSON boolean)."}

    def to_internal_value(self, data):
        if data is True or data is False:
            return data
        if data is None and self.allow_null:
            return None
        self.fail("invalid")


class DecimalStringField(serializers.DecimalField):
    default_error_messages = {"not_a_string": 'Give the amount as a string, e.g. "12.50": a JSON number loses digits.'}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class JsonModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose generated boolean and decimal fields are the strict ones above, and whose text
    fields take JSON strings only (DRF's CharField turns 0 into "0" although the schema says string)."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.BooleanField: JsonBooleanField,
        models.DecimalField: DecimalStringField,
    }

    def to_internal_value(self, data):
        if isinstance(data, dict):
            errors = {
                name: ["Give text (a JSON string)."]
                for name, field in self.fields.items()
                if isinstance(field, serializers.CharField)
                and not field.read_only
                and name in data
                and data[name] is not None
                and not isinstance(data[name], str)
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)
