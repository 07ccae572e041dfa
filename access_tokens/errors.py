"""
One shape for every error the API answers: `{"detail": "...", "code": "...", ...}`.

`detail` is a sentence for people; `code` is a stable, machine-readable name from CODES below
(the OpenAPI schema lists them as an enum); a validation error adds each invalid field's
messages beside them, keyed by field name (`non_field_errors` for the request as a whole).
DRF's views answer through `exception_handler`; Django's own error views and middleware under
/api/ (config/views.py, config/middleware.py) build the same body with `error_body`.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

# Every code an error body may carry, with what it means: the contract with API clients.
# Add to it freely; never rename or reuse a code.
CODES: dict[str, str] = {
    "bad_request": "The request could not be understood (e.g. a Host this server does not serve).",
    "parse_error": "The body is not valid JSON (or not in a charset the server reads).",
    "invalid": "A field or the request as a whole failed validation; see the field errors.",
    "unknown_field": "The body has a field this endpoint does not take; see the field errors.",
    "not_authenticated": "No credentials were sent.",
    "invalid_header": "The Authorization header is not in a form Keystand reads.",
    "malformed_token": "The token is not in the Keystand format (kspat_ and 49 more characters).",
    "checksum_mismatch": "The token has the right form but its checksum does not match: "
    "most likely a typo or a token cut short.",
    "unknown_token": "No such token on this server.",
    "token_expired": "The token has expired.",
    "token_revoked": "The token has been revoked (deleted, rotated or reported).",
    "owner_inactive": "The token's owner is inactive or deleted.",
    "permission_denied": "The credentials may not do this.",
    "insufficient_scope": "The token's scopes do not allow this request.",
    "csrf_failed": "A browser session sent a write without a valid CSRF token.",
    "reauthentication_required": "A browser session whose password was entered too long ago "
    "tried to create or rotate a token: confirm the password in the browser, or use a token.",
    "not_found": "No such resource (another user's token is not found either).",
    "method_not_allowed": "The URL does not take this method; see the Allow header.",
    "token_deleted": "The token named in the URL was deleted: it is gone from its URL (a 404), "
    "though the list still shows it as inactive until it is purged.",
    "token_inactive": "The token named in the URL is revoked or expired: it can't be changed "
    "or rotated any more.",
    "not_acceptable": "The Accept header asks for something other than JSON.",
    "length_required": "The body was sent without a length this server can read.",
    "request_too_large": "The body is larger than the server accepts.",
    "unsupported_media_type": "The body is not application/json.",
    "throttled": "Too many requests; retry after Retry-After seconds.",
    "trailing_slash_required": "Not an error but a 308 redirect: API URLs end with a slash; "
    "the Location header has the right one.",
    "server_error": "Something went wrong on the server.",
    "service_unavailable": "The database or the cache is unreachable; retry after Retry-After "
    "seconds.",
}

# The keys of an error body that are not field names.
RESERVED_KEYS = ("detail", "code")


def error_body(detail: str, code: str, **fields: list[str]) -> dict:
    """Return an error body; `fields` are per-field messages."""
    assert code in CODES, code
    return {"detail": detail, "code": code, **fields}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The token is no longer active."
    default_code = "token_inactive"


class TokenDeleted(exceptions.NotFound):
    """A 404 that says why: the token was deleted. (Not a 410: HTTP lets a server answer 404
    for a resource it removed, and clients and fuzzers treat 404 as "gone" after a DELETE.)"""

    default_detail = "This token was deleted."
    default_code = "token_deleted"


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body is too large."
    default_code = "request_too_large"


def _flat_codes(codes) -> list[str]:
    if isinstance(codes, dict):
        return [c for value in codes.values() for c in _flat_codes(value)]
    if isinstance(codes, list):
        return [c for value in codes for c in _flat_codes(value)]
    return [codes]


def _flatten(errors, path: str = "") -> dict[str, list]:
    """Return nested field errors as lists of messages keyed by path: a list item's error
    (`{"tokens": {0: [...]}}`) is reported as "tokens.0"."""
    if isinstance(errors, dict):
        flat: dict[str, list] = {}
        for key, value in errors.items():
            for name, messages in _flatten(value, f"{path}.{key}" if path else str(key)).items():
                flat.setdefault(name, []).extend(messages)
        return flat
    if isinstance(errors, list) and any(isinstance(e, dict | list) for e in errors):
        flat = {}
        for item in errors:
            for name, messages in _flatten(item, path).items():
                flat.setdefault(name, []).extend(messages)
        return flat
    return {path: errors if isinstance(errors, list) else [errors]}


def _validation_body(exc: exceptions.ValidationError) -> dict:
    """Return `detail` (the first problem, as "field: message"), `code`, and the field errors."""
    detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
    errors = _flatten(detail)
    fields: dict[str, list] = {}
    for field, messages in errors.items():
        if field in RESERVED_KEYS:
            # A field named like a key of the body itself (an unknown "code", say) is
            # reported among the request's own errors rather than overwrite that key.
            field_messages = [f"{field}: {message}" for message in messages]
            fields.setdefault("non_field_errors", []).extend(field_messages)
        else:
            fields.setdefault(str(field), []).extend(messages)
    code = "unknown_field" if "unknown_field" in _flat_codes(exc.get_codes()) else "invalid"
    if not fields:
        return error_body("Invalid input.", code)
    first_field, first_messages = next(iter(fields.items()))
    first = first_messages[0]
    summary = str(first) if first_field == "non_field_errors" else f"{first_field}: {first}"
    return error_body(summary, code, **fields)


def _code(exc: exceptions.APIException) -> str:
    code = exc.get_codes()
    code = code if isinstance(code, str) else "invalid"
    if code in CODES:
        return code
    # A code from someone else's exception (a host project's, DRF's "error"): the nearest
    # documented one for its status, so clients only ever see codes from CODES.
    return {
        400: "invalid",
        401: "not_authenticated",
        403: "permission_denied",
        404: "not_found",
        405: "method_not_allowed",
        406: "not_acceptable",
        409: "token_inactive",
        413: "request_too_large",
        415: "unsupported_media_type",
        429: "throttled",
        503: "service_unavailable",
    }.get(exc.status_code, "server_error" if exc.status_code >= 500 else "bad_request")


def exception_handler(exc, context):
    """Answer every error a DRF view raises with the one error body."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        # Raised by Django when the JSON parser reads a body over DATA_UPLOAD_MAX_MEMORY_SIZE;
        # left alone it would reach the generic 400 handler with a logged traceback.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        exc = RequestTooLarge(f"Request body is too large (the limit is {limit} bytes).")
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = _validation_body(exc)
    else:
        response.data = error_body(str(exc.detail), _code(exc))
    for name, value in getattr(exc, "response_headers", {}).items():
        response[name] = value
    wait = getattr(exc, "wait", None)
    if wait is not None:
        # DRF writes "%d", which turns 0.4 s into "0": round up, and never below one second.
        response["Retry-After"] = str(max(1, math.ceil(wait)))
    challenge = getattr(exc, "www_authenticate", None)
    if challenge and response.status_code == status.HTTP_401_UNAUTHORIZED:
        response["WWW-Authenticate"] = challenge
    return response
