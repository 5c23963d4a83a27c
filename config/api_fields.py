"""Serializer fields that take exactly what the API schema promises.

DRF's fields coerce: CharField turns 42 into "42", IntegerField takes "7"
and 7.0, BooleanField takes 0, "yes" and "off". The schema says string,
integer and boolean, so those requests would be accepted although the schema
calls them invalid; these fields refuse them.
"""

from django.db import models
from rest_framework import serializers


class TextField(serializers.CharField):
    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class IntegerField(serializers.IntegerField):
    def to_internal_value(self, data: object) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class BooleanField(serializers.BooleanField):
    def to_internal_value(self, data: object) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


# For ModelSerializer.serializer_field_mapping: model columns get the strict fields.
STRICT_FIELD_MAPPING = {
    **serializers.ModelSerializer.serializer_field_mapping,
    models.CharField: TextField,
    models.TextField: TextField,
    models.IntegerField: IntegerField,
    models.PositiveIntegerField: IntegerField,
    models.PositiveSmallIntegerField: IntegerField,
    models.SmallIntegerField: IntegerField,
    models.BigIntegerField: IntegerField,
    models.BooleanField: BooleanField,
}
