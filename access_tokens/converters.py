"""A path converter for token ids: a UUID in either case, compared as a UUID.

Django's `<uuid:…>` matches lower-case hex only, so `EEB6F563-…` (as some tools and people
write UUIDs) was a 404 for a token that exists. The value reaches the view as a uuid.UUID, so
the lookup compares UUIDs, whatever the case it came in.
"""

import uuid

from django.urls import register_converter


class AnyCaseUUIDConverter:
    regex = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

    def to_python(self, value: str) -> uuid.UUID:
        return uuid.UUID(value)

    def to_url(self, value: uuid.UUID | str) -> str:
        return str(uuid.UUID(str(value)))  # always the canonical lower case


register_converter(AnyCaseUUIDConverter, "token_id")
