"""Serializer fields shared by the apps' APIs."""

from __future__ import annotations

from rest_framework import serializers


class NumberField(serializers.FloatField):
    """A finite number. DRF's FloatField takes JSON ``true`` as 1.0 and the strings "nan" and
    "inf"; a metric, threshold or KPI value that is a boolean or not finite is a client's
    mistake, refused with a 400."""

    default_error_messages = {"invalid": "A number is required."}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        value = super().to_internal_value(data)
        if value != value or value in (float("inf"), float("-inf")):
            self.fail("invalid")
        return value
