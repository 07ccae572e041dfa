"""
Strict input for the API: a body is taken exactly as documented or refused with a 400.

DRF by default drops fields it does not know and turns numbers into strings; a client that
sends `"read_only": true` or `"token": 12345` then gets a 2xx for something it did not ask.
Here an unknown field is named in the error, a string field takes strings only, and
`expires_at` takes exactly the two documented forms.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from .expiry import end_of_day


class StrictFieldsMixin:
    """Refuse a body with fields the serializer does not take, naming each (code
    `unknown_field`), alongside any other problems with the fields it does take."""

    def to_internal_value(self, data):
        unknown: list[str] = []
        if isinstance(data, Mapping):
            writable = [name for name, field in self.fields.items() if not field.read_only]
            unknown = sorted(str(name) for name in data if name not in writable)
            accepted = ", ".join(writable)
        errors: dict = {}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as e:
            errors = dict(e.detail)
        for name in unknown:
            message = f"Unknown field: this endpoint takes {accepted}."
            errors[name] = [ErrorDetail(message, code="unknown_field")]
        if errors:
            raise serializers.ValidationError(errors)
        return value


class StrictCharField(serializers.CharField):
    """A CharField that takes a JSON string only: DRF's would turn 12345 into "12345"."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class TextField(StrictCharField):
    """A name or a description: a string without control characters. `schema_pattern` is
    what the OpenAPI document says of it (schema.py), the rule the services enforce."""

    def __init__(self, *, schema_pattern: str, **kwargs) -> None:
        self.schema_pattern = schema_pattern
        super().__init__(**kwargs)


# Unicode's control characters (Cc: C0, DEL, C1), which clean_token_name refuses. (It refuses
# lone surrogates too, which no JSON Schema tool can put in a pattern; JSON encoders do not
# produce them.) "+", not "*": drf-spectacular offers the empty string as a branch of its own.
NAME_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f]+$"
# The same but for line breaks (\n, or \r\n, which is stored as \n).
DESCRIPTION_PATTERN = r"^(?:[^\u0000-\u0009\u000b-\u001f\u007f-\u009f]|\r\n)+$"
# Text that is not blank once Python's str.strip() has run, without NUL (DRF refuses both):
# the whitespace is spelt out, since a pattern's \s is not quite Python's.
_SPACE = r"\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
PASTED_TEXT_PATTERN = rf"^[^\u0000]*[^\u0000{_SPACE}][^\u0000]*$"


class ScopesField(serializers.ListField):
    """A list of scope names; the schema lists the registry's names (schema.py)."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("child", StrictCharField())
        kwargs.setdefault("min_length", 1)
        super().__init__(**kwargs)


# RFC 3339 (the JSON Schema formats "date" and "date-time"): a full date, or a date and a time
# with seconds and an explicit offset. Python's fromisoformat alone would also take 20270131
# (the start of that day) and a time without an offset (in the server's zone).
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})")

EXPIRES_AT_FORMS = (
    "A date YYYY-MM-DD (the token works through the end of that day in the server's time "
    "zone) or an RFC 3339 date-time with an offset, YYYY-MM-DDTHH:MM:SS[.ffffff]Z or "
    "…+HH:MM (it works until that instant)."
)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "format": "date"},
            {"type": "string", "format": "date-time"},
        ],
        "nullable": True,
    }
)
class ExpiresAtField(serializers.Field):
    """`expires_at` as the API documents it: a date means the end of that day (as in the
    form), a date-time with an offset that instant, null never; anything else is refused."""

    default_error_messages = {
        "invalid": f"Not a valid expiry. {EXPIRES_AT_FORMS}",
        "date": "Not a valid date: {error}.",
        "overflow": "That date is too far in the future.",
    }

    def to_internal_value(self, value):
        if not isinstance(value, str):
            self.fail("invalid")
        if _DATE.fullmatch(value):
            try:
                day = dt.date.fromisoformat(value)
            except ValueError as e:
                self.fail("date", error=e)
            try:
                return end_of_day(day)
            except OverflowError:
                self.fail("overflow")
        if _DATE_TIME.fullmatch(value):
            text = value.upper().replace("Z", "+00:00")
            # Python takes at most six digits of a fraction; RFC 3339 any number.
            text = re.sub(r"(\.\d{6})\d+", r"\1", text)
            try:
                return dt.datetime.fromisoformat(text).astimezone(dt.UTC)
            except ValueError as e:
                self.fail("date", error=e)
            except OverflowError:
                self.fail("overflow")
        self.fail("invalid")

    def to_representation(self, value):
        return serializers.DateTimeField().to_representation(value)
