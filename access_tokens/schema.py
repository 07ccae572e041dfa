"""The OpenAPI document and its docs page: the token schemes (so "Authorize" in /api/docs/
works) and every error and header each operation can answer (AutoSchema). The views that
serve the document are in schema_views.py: drf-spectacular's views read DEFAULT_SCHEMA_CLASS,
this module's AutoSchema, as they are imported."""

import inspect

from django.contrib.auth import get_user_model
from drf_spectacular import authentication, openapi
from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.plumbing import force_instance
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer
from rest_framework import serializers

from . import errors
from . import scopes as scope_registry
from .fields import StrictFieldsMixin


class AccessTokenScheme(OpenApiAuthenticationExtension):
    target_class = "access_tokens.authentication.AccessTokenAuthentication"
    name = "AccessToken"

    def get_security_definition(self, auto_schema):
        # Swagger UI sends "Bearer <token>", which the server accepts like "AccessToken <token>".
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "kspat_…",
            "description": (
                "A personal access token. Send `Authorization: AccessToken kspat_…` or "
                "`Authorization: Bearer kspat_…`."
            ),
        }


class AccessTokenBasicScheme(OpenApiAuthenticationExtension):
    target_class = "access_tokens.authentication.AccessTokenBasicAuthentication"
    name = "AccessTokenBasic"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "basic",
            "description": "HTTP Basic with any username and a personal access token as password.",
        }


class UserIdFieldScheme(OpenApiSerializerFieldExtension):
    target_class = "access_tokens.api.UserIdField"

    def map_serializer_field(self, auto_schema, direction):
        # Whatever the host project's user model uses as its key, not a guess.
        return auto_schema._map_model_field(get_user_model()._meta.pk, direction)


class SessionScheme(authentication.SessionScheme):
    target_class = "access_tokens.authentication.SessionAuthentication"


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in a sentence.")
    code = serializers.ChoiceField(
        choices=list(errors.CODES),
        help_text="What went wrong, as a stable name to branch on (see the README).",
    )


ERROR_DESCRIPTIONS = {
    400: 'Invalid input: `detail` ("field: message") and, beside it, a list of messages for '
    "each invalid field (non_field_errors for the request as a whole); or a body that is not "
    "JSON (parse_error).",
    401: "No credentials, or refused ones (malformed, unknown, expired, revoked). "
    "WWW-Authenticate offers every scheme (AccessToken, Bearer, Basic).",
    403: "A token whose scopes do not allow the request (insufficient_scope), or a browser "
    "session without a CSRF token (csrf_failed) or a recent password (reauthentication_required).",
    404: "No such token among yours, or a page past the last.",
    406: "The Accept header excludes application/json.",
    411: "A chunked body where the server cannot decode it (runserver; gunicorn reads it "
    "whole): send a Content-Length.",
    413: "The body is larger than the server accepts (DATA_UPLOAD_MAX_MEMORY_SIZE).",
    415: "The body is not application/json.",
    429: "Throttled: try again after Retry-After seconds.",
    503: "The database is unreachable: try again after Retry-After seconds.",
}

_STRING = {"type": "string"}
_SECONDS = {"type": "integer", "minimum": 0}
RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": (_SECONDS, "Requests allowed per window, when a limit counted this one."),
    "RateLimit-Remaining": (_SECONDS, "Requests left in the window."),
    "RateLimit-Reset": (
        _SECONDS,
        "Seconds until the window ends (or, with none left, until one more request is let in).",
    ),
    "RateLimit-Policy": (_STRING, "The limit and its window in seconds, e.g. 1200;w=60."),
}
TOKEN_HEADERS = {
    "Keystand-Token-Expiration": (
        _STRING,
        "When the token the request came with stops working (ISO 8601, UTC), or never.",
    ),
    "Keystand-Token-Scopes": (_STRING, "That token's scopes, comma-separated."),
    "Keystand-Accepted-Scopes": (_STRING, "The scopes any one of which allows this request."),
}


class TextFieldScheme(OpenApiSerializerFieldExtension):
    target_class = "access_tokens.fields.TextField"

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["pattern"] = self.target.schema_pattern
        return schema


class ScopesFieldScheme(OpenApiSerializerFieldExtension):
    target_class = "access_tokens.fields.ScopesField"

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        # The names as this server knows them (a host project may add its own).
        schema["items"] = {"type": "string", "enum": list(scope_registry.registry())}
        return schema


def _header(schema: dict, description: str, required: bool = False) -> dict:
    return {"schema": schema, "description": description, "required": required}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema, plus every error an operation can answer (in the one
    error shape, the Error component) and the headers each answer carries.

    Which errors apply is read from the operation itself, so a new view is described without
    a list to keep in step: every operation can be throttled (429), refuse a non-JSON Accept
    (406) and meet a database outage (503); one that takes credentials can refuse them (401)
    or the scope (403); one that reads a body can find it invalid (400), unframed (411),
    too large (413) or not JSON (415); one that validates query parameters can refuse them
    (400); one with a path parameter or pages can answer 404. A method an endpoint does not
    have answers 405 with Allow, which no listed operation does (so it is not listed).
    """

    def error_statuses(self) -> set[int]:
        statuses = {406, 429, 503}
        if any(self.get_auth()):
            statuses |= {401, 403}
        if self.method in ("POST", "PUT", "PATCH"):
            statuses |= {400, 411, 413, 415}
        if self.get_override_parameters():
            statuses.add(400)
        if openapi.uritemplate.variables(self.path) or self._lists():
            statuses.add(404)
        return statuses

    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if isinstance(serializer, StrictFieldsMixin):
            if direction == "request":
                schema["additionalProperties"] = False  # an unknown field is a 400
            if schema.get("description") == inspect.cleandoc(StrictFieldsMixin.__doc__):
                del schema["description"]  # the mixin's docstring, not the body's
        return schema

    def _get_request_for_media_type(self, serializer, direction="request"):
        schema, required = super()._get_request_for_media_type(serializer, direction)
        proxy = force_instance(serializer)
        if isinstance(proxy, PolymorphicProxySerializer):
            # One of several bodies (the revoke endpoint's): drf-spectacular cannot tell that
            # a body is needed, but one is when each of them has a required field.
            forms = proxy.serializers
            forms = forms.values() if isinstance(forms, dict) else forms
            required = all(
                any(field.required for field in force_instance(form).fields.values())
                for form in forms
            )
        return schema, required

    def _lists(self) -> bool:
        return self.method == "GET" and self._is_list_view()

    def _get_response_bodies(self, direction="response") -> dict:
        # Not get_response_serializers: @extend_schema(responses=...) overrides that one.
        responses = super()._get_response_bodies(direction)
        for status in sorted(self.error_statuses()):
            if str(status) not in responses:
                error = OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[status])
                responses[str(status)] = self._get_response_for_code(
                    error, str(status), direction=direction
                )
        return responses

    def _get_response_headers_for_code(self, status_code, direction="response") -> dict:
        headers = super()._get_response_headers_for_code(status_code, direction)
        status = int(status_code)
        if any(self.get_auth()) and status != 401:  # a refused token is not described
            headers.update({k: _header(*v) for k, v in TOKEN_HEADERS.items()})
        headers.update({k: _header(*v) for k, v in RATE_LIMIT_HEADERS.items()})
        if status == 401:
            headers["WWW-Authenticate"] = _header(
                _STRING, "A challenge for each scheme the API accepts.", required=True
            )
        if status in (429, 503):
            headers["Retry-After"] = _header(
                _SECONDS, "Seconds to wait before trying again.", required=True
            )
        if status == 201:
            headers["Location"] = _header(
                {"type": "string", "format": "uri"}, "The new token's URL.", required=True
            )
        if status == 200 and self._lists():
            headers["Link"] = _header(
                _STRING,
                'The first, prev, next and last pages (RFC 8288), as <url>; rel="next". Left '
                "out when every result fits on one page, as GitHub's API does.",
            )
        return headers


def _nullable_references(node) -> None:
    """Spell a nullable reference as OpenAPI 3.0.3 means it.

    drf-spectacular writes `{"allOf": [{"$ref": ...}], "nullable": true}`, but in 3.0.3
    `nullable` only adds null to a `type` beside it, so strict validators refuse null there.
    One of the object or a schema that allows null only is what every tool reads alike.
    """
    if isinstance(node, dict):
        if node.get("nullable") is True and "allOf" in node and "type" not in node:
            del node["nullable"]
            node["oneOf"] = [
                *node.pop("allOf"),
                {"type": "object", "nullable": True, "enum": [None]},
            ]
        for value in node.values():
            _nullable_references(value)
    elif isinstance(node, list):
        for value in node:
            _nullable_references(value)


def _blank_defaults(node) -> None:
    """Lift `default: ""` out of drf-spectacular's "pattern or blank" oneOf, whose first
    branch a blank string does not match: a default must be valid for the whole schema."""
    if isinstance(node, dict):
        branches = node.get("oneOf")
        if (
            isinstance(branches, list)
            and len(branches) == 2
            and branches[1] == {"type": "string", "maxLength": 0}
            and branches[0].get("default") == ""
        ):
            node["default"] = branches[0].pop("default")
        for value in node.values():
            _blank_defaults(value)
    elif isinstance(node, list):
        for value in node:
            _blank_defaults(value)


def postprocess(result: dict, generator, request, public) -> dict:
    """A drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS)."""
    _nullable_references(result)
    _blank_defaults(result)
    return result
