"""
JSON text written by hand for the API's two hottest answers, `/me/` and the token list's first
page, and the renderer that sends it as it is.

DRF's JSONRenderer turns a response's data into text with `json.dumps`, which escapes every key
and every string of the body again on each request: for the list's first page, building the
tokens' dicts and rendering them was most of what the list cost beyond the bare `Me` view
(docs/performance.md). `api.token_text` writes a token's JSON directly instead, its fixed parts
(the keys, the ids, the enums, the booleans) as they are and the stored strings through json's
own escaping (`string`).

A view sends that text only where the renderer DRF chose would have written the very same bytes
(`can_send_as_written`): DRF's own JSONRenderer, compact, UTF-8 as it is (COMPACT_JSON and
UNICODE_JSON, the defaults), no `indent` asked for. The request's renderer is then AS_WRITTEN
and the Response's data is the text (a str). Anything else (an indent, another renderer, other
JSON settings, the browsable API) gets DRF's data and DRF's rendering, as before.
tests/api/test_written_json.py checks that both give the same bytes.

A Response subclass that held the text and built DRF's data only when asked was tried first.
callgrind counted the list's request no cheaper with it: what the text saved came back as
attribute look-ups along the types' bases (`find_name_in_mro`) and in dicts. Replacing the
renderer instead keeps every response a plain Response.
"""

from json.encoder import encode_basestring  # json's own (C) escaping of a str without ensure_ascii

from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response


def string(value: str) -> str:
    """`value` as a JSON string, as JSONRenderer writes it: json's escaping, then U+2028 and
    U+2029 escaped too (DRF does so for the whole body, which only strings can hold them)."""
    text = encode_basestring(value)
    if "\u2028" in text or "\u2029" in text:
        text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return text


def string_or_null(value: str | None) -> str:
    return "null" if value is None else string(value)


def writes_as_is(renderer, media_type: str | None, context: dict | None) -> bool:
    """Whether `renderer` writes data as `string` and the hand-written text do: DRF's own
    JSONRenderer.render, compact separators, no ASCII escaping, no indent."""
    return (
        isinstance(renderer, JSONRenderer)
        and type(renderer).render is JSONRenderer.render
        and renderer.compact
        and not renderer.ensure_ascii
        and renderer.get_indent(media_type, context or {}) is None
    )


class AsWritten(BaseRenderer):
    """Sends a body written as JSON text already (a str) as it is: what a view puts in place
    of the renderer DRF chose when `writes_as_is` says that one would write the same bytes."""

    media_type = "application/json"
    format = "json"
    charset = None  # as JSONRenderer's: the Content-Type is application/json, no parameter

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return data.encode()


AS_WRITTEN = AsWritten()


def can_send_as_written(request) -> bool:
    """Whether `request` (a DRF Request, negotiated) may be answered with JSON text written by
    hand: whether the renderer DRF chose would write the same bytes."""
    return writes_as_is(request.accepted_renderer, request.accepted_media_type, None)


def written(request, text: str) -> Response:
    """The Response that sends `text` as it is: the request's renderer becomes AS_WRITTEN. Made
    only once the text is written, so that an error raised while writing it still gets DRF's
    own renderer."""
    request.accepted_renderer = AS_WRITTEN
    return Response(text)
