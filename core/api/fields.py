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


# The largest integer a BIGINT column holds, and SQLite's own limit: a larger number in a filter
# or a row overflows inside the database driver (a 500 on SQLite) instead of being refused.
DB_INTEGER_MAX = 2**63 - 1
# Version numbers and other INTEGER columns.
DB_INT32_MAX = 2**31 - 1


class IdField(serializers.IntegerField):
    """The id of a row, sent in a request body: a positive integer a database can hold, else a
    400 naming the field (never an overflow in the driver)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", DB_INTEGER_MAX)
        super().__init__(**kwargs)


class CountField(serializers.IntegerField):
    """A size or count sent in a body: 0 or more, and no larger than a database integer."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", DB_INTEGER_MAX)
        super().__init__(**kwargs)
