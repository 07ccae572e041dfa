"""The REST API: who am I, and the caller's own tokens (DRF views and serializers)."""

import contextvars
import datetime as dt
import functools

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.signals import setting_changed
from django.db.models import Q
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import ISO_8601, exceptions, generics, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from . import errors, services
from . import scopes as scope_registry
from .fields import (
    DESCRIPTION_PATTERN,
    EXPIRES_AT_FORMS,
    NAME_PATTERN,
    PASTED_TEXT_PATTERN,
    ExpiresAtField,
    ScopesField,
    StrictCharField,
    StrictFieldsMixin,
    TextField,
)
from .instants import iso
from .listing import (
    PAGE_SIZE,
    FirstPageFinder,
    ListQuerySerializer,
    TokenPagination,
    default_list,
    first_page,
    one_page,
    one_page_text,
    search_sort_filter,
)
from .metadata import WritableFieldsMetadata
from .models import AccessToken, AccessTokenEvent
from .reauth import check_session_write
from .schema import ErrorSerializer
from .throttling import RevokeThrottle
from .token_format import find_tokens, has_token_shape, is_well_formed, mask
from .users import email_of
from .written_json import can_send_as_written, string, string_or_null, written


class AccessTokenSerializer(serializers.ModelSerializer):
    scopes = serializers.ListField(
        source="scope_list",
        child=serializers.CharField(),
        help_text="What the token may do: names from the scope registry (api, read_api, …).",
    )
    scope = serializers.SerializerMethodField(
        help_text="Deprecated: read_write for a token with api, read_only for read_api, else "
        "null. Read `scopes` instead."
    )
    active = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField()
    expired = serializers.SerializerMethodField()
    created_by_token = serializers.UUIDField(source="created_by_token_id", allow_null=True)
    rotated_from = serializers.UUIDField(source="rotated_from_id", allow_null=True)
    revoked_reason = serializers.ChoiceField(
        choices=AccessToken.RevokedReason.choices,
        allow_blank=True,
        read_only=True,
        help_text="Why the token was revoked; an empty string while it is not.",
    )

    class Meta:
        model = AccessToken
        fields = [
            "id",
            "name",
            "description",
            "last_four",
            "scopes",
            "scope",
            "created_at",
            "created_via",
            "created_by_token",
            "rotated_from",
            "expires_at",
            "last_used_at",
            "last_used_ip",
            "active",
            "state",
            "expired",
            "revoked_at",
            "revoked_reason",
        ]
        read_only_fields = fields

    def to_representation(self, token: AccessToken) -> dict:
        """The same dict DRF's generic field-by-field walk gives (tests/api/
        test_token_representation.py compares the two on every kind of token), built directly
        by token_json: /api/v1/me/ and every list page serialise tokens, and the walk cost a
        quarter of /me/'s throughput under load (docs/performance.md)."""
        return token_json(token, timezone.now())

    def get_scope(self, token: AccessToken) -> str | None:
        return _legacy_scope(token.scope_list)

    def get_active(self, token: AccessToken) -> bool:
        return token.is_active()

    def get_state(self, token: AccessToken) -> str:
        return token.state()

    def get_expired(self, token: AccessToken) -> bool:
        return token.is_expired()


_EXPIRES_AT_HELP = (
    f"In the future. {EXPIRES_AT_FORMS} null: never expires (unless the server caps lifetimes)."
)


def _field_error(error: DjangoValidationError, field: str) -> serializers.ValidationError:
    return serializers.ValidationError(error.message_dict[field])


class AccessTokenCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    name = TextField(
        schema_pattern=NAME_PATTERN, max_length=100, required=False, allow_blank=True, default=""
    )
    description = TextField(
        schema_pattern=DESCRIPTION_PATTERN,
        max_length=1000,
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=True,
    )
    expires_at = ExpiresAtField(
        required=False,
        allow_null=True,
        help_text=_EXPIRES_AT_HELP
        + " Omitted: the end of the day 30 days from now (never beyond the token you call with).",
    )
    scopes = ScopesField(
        required=False,
        allow_empty=False,
        help_text="Scope names (api, read_api, read_user, self_rotate, or the server's own). "
        'Default: ["api"], but never wider than the token you call with.',
    )
    scope = serializers.ChoiceField(
        choices=list(scope_registry.LEGACY_SCOPES),
        required=False,
        help_text="Deprecated: read_write means scopes [api], read_only means [read_api].",
    )

    def validate_name(self, name: str) -> str:
        try:
            return services.clean_token_name(name)
        except DjangoValidationError as e:
            raise _field_error(e, "name") from None

    def validate_description(self, description: str) -> str:
        try:
            return services.clean_token_description(description)
        except DjangoValidationError as e:
            raise _field_error(e, "description") from None

    def validate(self, attrs: dict) -> dict:
        request = self.context["request"]
        parent = services.acting_token(request)
        legacy = attrs.pop("scope", None)
        if legacy is not None:
            if "scopes" in attrs and set(attrs["scopes"]) != set(
                scope_registry.LEGACY_SCOPES[legacy]
            ):
                raise serializers.ValidationError(
                    {"scope": "Send scopes or the deprecated scope, not both."}
                )
            attrs["scopes"] = list(scope_registry.LEGACY_SCOPES[legacy])
        if "scopes" not in attrs:
            attrs["scopes"] = parent.scope_list if parent is not None else [scope_registry.API]
        if "expires_at" not in attrs:
            attrs["expires_at"] = services.default_expiry_for(parent)
        try:
            services.validate_new_token(
                user=request.user,
                expires_at=attrs["expires_at"],
                scopes=attrs["scopes"],
                parent=parent,
            )
        except DjangoValidationError as e:
            raise serializers.ValidationError(_drf_errors(e)) from None
        return attrs


class AccessTokenUpdateSerializer(StrictFieldsMixin, serializers.Serializer):
    name = TextField(schema_pattern=NAME_PATTERN, max_length=100, required=False, allow_blank=True)
    description = TextField(
        schema_pattern=DESCRIPTION_PATTERN, max_length=1000, required=False, allow_blank=True
    )


class RotateSerializer(StrictFieldsMixin, serializers.Serializer):
    expires_at = ExpiresAtField(
        required=False,
        allow_null=True,
        help_text=_EXPIRES_AT_HELP
        + " Omitted: as many days from today as the old token had from its creation, never "
        "beyond the token you call with.",
    )


# DRF's own datetime output (ISO 8601 in the current time zone, "Z" for UTC; None stays None).
_DATETIME = serializers.DateTimeField()


def _str_or_none(value) -> str | None:
    return None if value is None else str(value)


def _legacy_scope(granted: list[str]) -> str | None:
    if scope_registry.API in granted:
        return "read_write"
    return "read_only" if scope_registry.READ_API in granted else None


@functools.cache
def _iso_in_current_zone() -> bool:
    """Whether DRF writes datetimes as ISO 8601 in the current time zone (USE_TZ on,
    DATETIME_FORMAT iso-8601, the defaults); read once, again after either setting changes."""
    return settings.USE_TZ and api_settings.DATETIME_FORMAT.lower() == ISO_8601


@receiver(setting_changed)
def _forget_datetime_output(*, setting: str, **kwargs) -> None:
    if setting in ("USE_TZ", "REST_FRAMEWORK"):
        _iso_in_current_zone.cache_clear()


def _zone_variable():
    """The context variable behind django.utils.timezone's active zone (asgiref's Local keeps
    it there since asgiref 3.7), or None where that Local is built otherwise."""
    try:
        variable = vars(vars(timezone._active)["_storage"])["_data"]
    except (AttributeError, KeyError, TypeError):  # no such attribute, or no __dict__
        return None
    return variable if isinstance(variable, contextvars.ContextVar) else None


_ZONE = _zone_variable()


def _current_zone():
    """timezone.get_current_timezone(), read without its cost where no zone was ever
    activated in this context (the usual case: Keystand activates none): asgiref's Local
    then answers by raising and catching an AttributeError, nearly a third of what writing a
    token costs. Anything else (a zone activated, even deactivated since; another asgiref)
    asks Django."""
    if _ZONE is not None and _ZONE.get(None) is None:
        return timezone.get_default_timezone()
    return timezone.get_current_timezone()


def _instant_json():
    """Return fn(datetime) -> what _DATETIME gives: the same ISO 8601 text, made without
    DRF's per-value look-ups of the format and the time zone where they are the defaults (an
    aware value, USE_TZ on, DATETIME_FORMAT iso-8601); DRF's own field otherwise."""
    if not _iso_in_current_zone():
        return _DATETIME.to_representation
    return _writer_in(_current_zone())


@functools.lru_cache(maxsize=64)
def _writer_in(zone):
    """_instant_json's answer for `zone`, made once per zone."""
    if getattr(zone, "key", None) == "UTC":
        # zoneinfo's UTC and the fixed-offset one agree on every instant, and give the same
        # text; zoneinfo's offset look-ups made each value cost several times as much.
        zone = dt.UTC
    drf = _DATETIME.to_representation

    def when(value):
        if value is None:
            return None
        if value.tzinfo is None:
            return drf(value)
        return iso(value, zone)

    return when


# A token's id as text, kept for the ids met again (uuid.UUID.__str__ is Python code that
# formats the number anew each time; the look-up costs two fifths of it).
_id_text = functools.lru_cache(maxsize=4096)(str)


def token_json(token: AccessToken, now, when=None) -> dict:
    """Return the token as the API shows it (AccessTokenSerializer's fields), at `now`;
    `when` is _instant_json()'s answer, made once for a page of tokens."""
    when = when or _instant_json()
    granted = token.scope_list
    state = token.state(now)
    return {
        "id": _id_text(token.id),
        "name": token.name,
        "description": token.description,
        "last_four": token.last_four,
        "scopes": granted,
        "scope": _legacy_scope(granted),
        "created_at": when(token.created_at),
        "created_via": token.created_via,
        "created_by_token": _str_or_none(token.created_by_token_id),
        "rotated_from": _str_or_none(token.rotated_from_id),
        "expires_at": when(token.expires_at),
        "last_used_at": when(token.last_used_at),
        "last_used_ip": token.last_used_ip,
        "active": state == "active",  # what is_active(now) says, from the state in hand
        "state": state,
        "expired": token.is_expired(now),
        "revoked_at": when(token.revoked_at),
        "revoked_reason": token.revoked_reason,
    }


def token_text(token: AccessToken, now, when) -> str:
    """Return the JSON text JSONRenderer writes for token_json(token, now, when), written
    directly (written_json.py): the same keys in the same order, the stored strings escaped
    by json itself, the rest (ids, enums, booleans) as they are."""
    granted = token.scope_list
    state = token.state(now)
    legacy = _legacy_scope(granted)
    created_by, rotated_from = token.created_by_token_id, token.rotated_from_id
    return _TOKEN_TEXT % (
        _id_text(token.id),
        string(token.name),
        string(token.description),
        string(token.last_four),
        ",".join(map(string, granted)),
        "null" if legacy is None else f'"{legacy}"',
        string_or_null(when(token.created_at)),
        string(token.created_via),
        "null" if created_by is None else f'"{_id_text(created_by)}"',
        "null" if rotated_from is None else f'"{_id_text(rotated_from)}"',
        string_or_null(when(token.expires_at)),
        string_or_null(when(token.last_used_at)),
        string_or_null(token.last_used_ip),
        "true" if state == "active" else "false",
        state,
        "true" if token.is_expired(now) else "false",
        string_or_null(when(token.revoked_at)),
        string(token.revoked_reason),
    )


_TOKEN_TEXT = (
    '{"id":"%s","name":%s,"description":%s,"last_four":%s,"scopes":[%s],"scope":%s,'
    '"created_at":%s,"created_via":%s,"created_by_token":%s,"rotated_from":%s,'
    '"expires_at":%s,"last_used_at":%s,"last_used_ip":%s,"active":%s,"state":"%s",'
    '"expired":%s,"revoked_at":%s,"revoked_reason":%s}'
)


class AccessTokenCreatedSerializer(AccessTokenSerializer):
    token = serializers.CharField(help_text="The raw token. It is sent this once only.")

    def to_representation(self, token: AccessToken) -> dict:
        data = super().to_representation(token)
        data["token"] = token.token
        return data

    class Meta(AccessTokenSerializer.Meta):
        fields = [*AccessTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


_CONFLICT = {
    409: OpenApiResponse(
        ErrorSerializer,
        description="The token is revoked or expired: token_inactive.",
    )
}


def _not_deleted(token: AccessToken) -> AccessToken:
    """Return the token, unless its owner deleted it: a DELETE removes the resource (RFC 9110
    §9.3.5), so its URL answers 404 (code token_deleted) from then on, while the list keeps
    showing it as inactive for ACCESS_TOKEN_INACTIVE_RETENTION_DAYS."""
    if token.revoked_reason == AccessToken.RevokedReason.DELETED:
        when = timezone.localtime(token.revoked_at).strftime("%Y-%m-%d %H:%M %Z")
        raise errors.TokenDeleted(f"This token was deleted on {when}.")
    return token


def _conflict(error: services.TokenInactiveError) -> errors.Conflict:
    return errors.Conflict(error.messages[0])


def _drf_errors(error: DjangoValidationError) -> dict:
    return {
        ("non_field_errors" if field == "__all__" else field): messages
        for field, messages in error.message_dict.items()
    }


class UserIdField(serializers.ReadOnlyField):
    """The user's primary key, typed in the schema as the user model declares it (an integer
    for Django's own User; schema.py)."""


class MeView(APIView):
    required_scopes = [scope_registry.READ_USER]

    @extend_schema(
        summary="Who am I",
        responses={
            200: inline_serializer(
                "Me",
                {
                    "id": UserIdField(),
                    "username": serializers.CharField(),
                    "email": serializers.CharField(
                        help_text="The account's email address; an empty string when it has none."
                    ),
                    "authenticated_by": serializers.ChoiceField(["access_token", "session"]),
                    "token": AccessTokenSerializer(allow_null=True),
                },
            ),
        },
    )
    def get(self, request):
        user, token = request.user, request.auth
        by_token = isinstance(token, AccessToken)
        username, email = user.get_username(), email_of(user)
        if (
            by_token
            and type(user.pk) is int  # a custom user model's pk (a UUID, say): DRF writes it
            and type(username) is str
            and type(email) is str
            and can_send_as_written(request)
        ):
            # Written as JSON text directly (written_json.py), as the list's first page is.
            token_part = token_text(token, timezone.now(), _instant_json())
            text = _ME_TEXT % (user.pk, string(username), string(email), token_part)
            return written(request, text)
        return Response(
            {
                "id": user.pk,
                "username": username,
                "email": email,
                "authenticated_by": "access_token" if by_token else "session",
                "token": token_json(token, timezone.now()) if by_token else None,
            }
        )


_ME_TEXT = '{"id":%d,"username":%s,"email":%s,"authenticated_by":"access_token","token":%s}'


def _created(request, token: AccessToken, raw: str) -> Response:
    """Answer 201 with the raw token, the one response that ever carries it, and the new
    token's URL in Location."""
    token.token = raw
    data = AccessTokenCreatedSerializer(token).data
    location = request.build_absolute_uri(reverse("api-access-token", args=[token.pk]))
    headers = {"Cache-Control": "no-store", "Location": location}
    return Response(data, status=status.HTTP_201_CREATED, headers=headers)


class AccessTokenList(generics.ListCreateAPIView):
    pagination_class = TokenPagination
    metadata_class = WritableFieldsMetadata

    def get_serializer_class(self):
        # OPTIONS describes POST with the serializer POST really reads.
        if self.request is not None and self.request.method == "POST":
            return AccessTokenCreateSerializer
        return AccessTokenSerializer

    def get_queryset(self):
        if not self.request.query_params:
            return default_list(self.request.user, timezone.now())
        query = ListQuerySerializer.of(self.request.query_params)
        query.is_valid(raise_exception=True)
        filters = {k: v for k, v in query.validated_data.items() if k not in ("page", "page_size")}
        return search_sort_filter(self.request.user.access_tokens.retained(), **filters)

    @classmethod
    def token_finder(cls, request) -> FirstPageFinder | None:
        """The finder with which a token's authentication of this (Django) request fetches
        more in the same query, or None: for the call nearly every client makes, the first
        page in the default order (listing.py). ahead.py sends its query ahead."""
        if request.method in ("GET", "HEAD") and not request.GET:
            return FirstPageFinder()
        return None

    def initial(self, request, *args, **kwargs):
        # The finder whose query ahead.py sent as the request arrived, or a new one.
        finder = vars(request._request).get("token_finder") or self.token_finder(request._request)
        if finder is not None:
            request.token_finder = finder
        super().initial(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        if request.query_params:
            return super().list(request, *args, **kwargs)
        # The first page, default order: the rows the token's own query brought, or one
        # planned query for them (a session); a COUNT only when the page is full.
        user, finder = request.user, request.token_finder
        now = finder.now or timezone.now()  # the token check's moment, or (a session) now
        rows = finder.page_for(user)
        if rows is None:
            rows = first_page(user, now)
        when = _instant_json()
        if len(rows) < PAGE_SIZE:
            if can_send_as_written(request):
                # The whole list on one page, written as JSON text directly (written_json.py).
                return written(request, one_page_text([token_text(t, now, when) for t in rows]))
            return Response(one_page([token_json(t, now, when) for t in rows]))
        results = [token_json(t, now, when) for t in rows]
        self.paginator.first(rows, lambda: default_list(user, now).count(), request)
        return self.paginator.get_paginated_response(results)

    @extend_schema(
        summary="List your tokens, a page at a time",
        description="Active tokens and those that stopped working in the last "
        "ACCESS_TOKEN_INACTIVE_RETENTION_DAYS days, newest first unless `ordering` says "
        "otherwise, 25 to a page. When there is more than one page, the Link header (RFC 8288) "
        "has the first, prev, next and last pages.",
        parameters=[ListQuerySerializer],
        responses={200: AccessTokenSerializer(many=True)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a token",
        description="When you call with a token, the new token can't outlive it or have "
        "wider scopes, and is revoked with it.",
        request=AccessTokenCreateSerializer,
        responses={201: AccessTokenCreatedSerializer},
    )
    def post(self, request, *args, **kwargs):
        check_session_write(request)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            token, raw = services.create_access_token(
                user=request.user,
                request=request,
                via=AccessTokenEvent.Via.API,
                **serializer.validated_data,
            )
        except DjangoValidationError as e:
            # Lost a race for the last slot under the limit.
            raise serializers.ValidationError(_drf_errors(e)) from None
        return _created(request, token, raw)


class AccessTokenDetail(generics.RetrieveUpdateDestroyAPIView):
    lookup_url_kwarg = "token_id"
    http_method_names = ["get", "patch", "delete", "head", "options"]
    metadata_class = WritableFieldsMetadata

    def get_serializer_class(self):
        # OPTIONS describes PATCH with the serializer PATCH really reads.
        if self.request is not None and self.request.method == "PATCH":
            return AccessTokenUpdateSerializer
        return AccessTokenSerializer

    def get_queryset(self):
        # Through the owner: anyone else's id is simply not found.
        tokens = self.request.user.access_tokens.retained()
        if self.request.method == "DELETE":
            # A revoked token is a record now; there is nothing left to delete (and a
            # deleted one says so).
            return tokens.filter(
                Q(revoked_at__isnull=True) | Q(revoked_reason=AccessToken.RevokedReason.DELETED)
            )
        return tokens

    def get_object(self):
        return _not_deleted(super().get_object())

    @extend_schema(
        summary="Show one of your tokens",
        responses={200: AccessTokenSerializer},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Rename one of your tokens or change its description",
        request=AccessTokenUpdateSerializer,
        responses={200: AccessTokenSerializer, **_CONFLICT},
    )
    def patch(self, request, *args, **kwargs):
        token = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.update_access_token(
                token=token,
                actor=request.user,
                request=request,
                via=AccessTokenEvent.Via.API,
                **serializer.validated_data,
            )
        except services.TokenInactiveError as e:
            raise _conflict(e) from None
        except DjangoValidationError as e:
            raise serializers.ValidationError(_drf_errors(e)) from None
        return Response(AccessTokenSerializer(token).data)

    @extend_schema(
        summary="Delete (revoke) one of your tokens",
        description="The token stops working at once, with every token made with it. It stays "
        "listed as inactive for ACCESS_TOKEN_INACTIVE_RETENTION_DAYS days.",
        responses={204: None},
    )
    def delete(self, request, *args, **kwargs):
        return super().delete(request, *args, **kwargs)

    def perform_destroy(self, token: AccessToken) -> None:
        services.delete_access_token(
            token=token, actor=self.request.user, request=self.request, via=AccessTokenEvent.Via.API
        )


def _rotate(view, request, token: AccessToken) -> Response:
    check_session_write(request)
    serializer = view.get_serializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    expires_at = serializer.validated_data.get("expires_at", services.KEEP)
    try:
        new, raw = services.rotate_access_token(
            token=token,
            actor=request.user,
            via=AccessTokenEvent.Via.API,
            expires_at=expires_at,
            request=request,
        )
    except services.TokenInactiveError as e:
        raise _conflict(e) from None
    except DjangoValidationError as e:
        raise serializers.ValidationError(_drf_errors(e)) from None
    return _created(request, new, raw)


_ROTATE_DESCRIPTION = (
    "Replace the token with a new secret that keeps its name, description and scopes. The old "
    "token stops working in the same transaction; the new one is in `token`, this once."
)


class RotateView(generics.GenericAPIView):
    lookup_url_kwarg = "token_id"
    serializer_class = RotateSerializer
    metadata_class = WritableFieldsMetadata

    def get_queryset(self):
        return self.request.user.access_tokens.retained()

    def get_object(self):
        return _not_deleted(super().get_object())

    @extend_schema(
        summary="Rotate one of your tokens",
        description=_ROTATE_DESCRIPTION,
        request=RotateSerializer,
        responses={201: AccessTokenCreatedSerializer, **_CONFLICT},
    )
    def post(self, request, token_id):
        return _rotate(self, request, self.get_object())


class SelfRotateView(generics.GenericAPIView):
    required_scopes = [scope_registry.SELF_ROTATE]
    serializer_class = RotateSerializer
    metadata_class = WritableFieldsMetadata

    @extend_schema(
        summary="Rotate the token you call with",
        description=_ROTATE_DESCRIPTION
        + " Needs a token with the self_rotate (or api) scope. The new token can't outlive "
        "the old one.",
        request=RotateSerializer,
        responses={201: AccessTokenCreatedSerializer},
    )
    def post(self, request):
        token = request.auth
        if not isinstance(token, AccessToken):
            raise exceptions.PermissionDenied(
                "Only a request authenticated with a token can rotate itself."
            )
        return _rotate(self, request, token)


MAX_REVOKE_BATCH = 100  # as GitHub's credential revocation API
_PASTE_HELP = (
    "A token, or text that holds tokens (a log line, an Authorization header, a config file): "
    "every token in it is revoked."
)


class RevokeSerializer(StrictFieldsMixin, serializers.Serializer):
    token = StrictCharField(max_length=10_000, required=False, help_text=_PASTE_HELP)
    tokens = serializers.ListField(
        child=StrictCharField(max_length=10_000),
        allow_empty=False,
        max_length=MAX_REVOKE_BATCH,
        required=False,
        help_text=f"Up to {MAX_REVOKE_BATCH} of those, to revoke at once.",
    )

    def validate(self, attrs: dict) -> dict:
        if ("token" in attrs) == ("tokens" in attrs):
            raise serializers.ValidationError(
                "Send token (a string) or tokens (a list of up to "
                f"{MAX_REVOKE_BATCH} strings), not both and not neither."
            )
        # Each string holds at least one candidate (a blank one was refused), and each token
        # is answered once, under the first string it was found in.
        first_seen: dict[str, int] = {}
        for index, text in enumerate(attrs.get("tokens") or [attrs["token"]]):
            for raw in find_tokens(text):
                first_seen.setdefault(raw, index)
        if len(first_seen) > MAX_REVOKE_BATCH:
            raise serializers.ValidationError(
                f"At most {MAX_REVOKE_BATCH} tokens at once: this request holds {len(first_seen)}."
            )
        return {"found": [(index, raw) for raw, index in first_seen.items()]}


class _RevokeOneRequest(StrictFieldsMixin, serializers.Serializer):
    token = TextField(schema_pattern=PASTED_TEXT_PATTERN, max_length=10_000, help_text=_PASTE_HELP)


class _RevokeManyRequest(StrictFieldsMixin, serializers.Serializer):
    tokens = serializers.ListField(
        child=TextField(schema_pattern=PASTED_TEXT_PATTERN, max_length=10_000),
        min_length=1,
        max_length=MAX_REVOKE_BATCH,
        help_text=f"Up to {MAX_REVOKE_BATCH} tokens or texts holding them.",
    )


_OUTCOMES = {
    "revoked": "That token was live and has been revoked.",
    "expired": "That token had already expired, so it no longer worked; it is revoked now too, "
    "with the tokens made with it.",
    "already_revoked": "That token was already revoked: {how} on {when}.",
    "unknown": "If that was a live token, it has been revoked.",
    "checksum_mismatch": "That is not a valid Keystand token: its checksum does not match, so it "
    "was most likely mistyped or cut short. Nothing was revoked.",
    "malformed": "That is not a Keystand token (one starts with kspat_ and has 55 characters). "
    "Nothing was revoked.",
}

_REVOKED_HOW = {
    AccessToken.RevokedReason.DELETED: "deleted by its owner",
    AccessToken.RevokedReason.REVOKED_BY_OPERATOR: "revoked by an operator",
    AccessToken.RevokedReason.REVOKED_BY_VALUE: "reported as leaked",
    AccessToken.RevokedReason.ROTATED: "replaced by rotation",
    AccessToken.RevokedReason.PARENT_REVOKED: "revoked with the token that created it",
}


class RevokeResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(
        help_text="Which string of the request it was found in (0 for `token`)."
    )
    token = serializers.CharField(
        allow_null=True,
        help_text="The token as kspat_…(last four), or null for text that holds none.",
    )
    outcome = serializers.ChoiceField(choices=list(_OUTCOMES))
    detail = serializers.CharField()


class RevokeAnswerSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="The one result's detail, or a summary of them.")
    results = RevokeResultSerializer(many=True, help_text="One per token found, in order.")


@sensitive_variables("raw")
def _revoke_one(raw: str, request) -> tuple[str | None, str, str]:
    """Revoke one pasted token; return it masked, the outcome and what to say. Never whose."""
    if not is_well_formed(raw):
        if has_token_shape(raw):
            return mask(raw), "checksum_mismatch", _OUTCOMES["checksum_mismatch"]
        return None, "malformed", _OUTCOMES["malformed"]
    result = services.revoke_access_token_by_value(raw, request=request)
    token = result.token
    if token is None:
        return mask(raw), "unknown", _OUTCOMES["unknown"]
    if result.outcome == "revoked":
        outcome = "expired" if token.is_expired() else "revoked"
        return mask(raw), outcome, _OUTCOMES[outcome]
    if token.revoked_at is None:  # expired, and revoked by someone else meanwhile
        return mask(raw), "expired", _OUTCOMES["expired"]
    when = timezone.localtime(token.revoked_at).strftime("%Y-%m-%d %H:%M %Z")
    how = _REVOKED_HOW[token.revoked_reason]
    return mask(raw), "already_revoked", _OUTCOMES["already_revoked"].format(how=how, when=when)


def _summary(results: list[dict]) -> str:
    if len(results) == 1:
        return results[0]["detail"]
    counts = dict.fromkeys(_OUTCOMES, 0)
    for result in results:
        counts[result["outcome"]] += 1
    parts = [f"{n} {outcome.replace('_', ' ')}" for outcome, n in counts.items() if n]
    return f"Checked {len(results)} tokens: {', '.join(parts)}."


class RevokeView(generics.GenericAPIView):
    """Kill leaked tokens by their value. No authentication: whoever holds one may end it."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [RevokeThrottle]
    serializer_class = RevokeSerializer
    metadata_class = WritableFieldsMetadata

    @extend_schema(
        summary="Revoke tokens by their value",
        description=(
            "Anyone holding a token can revoke it: send it as `token`, or up to "
            f"{MAX_REVOKE_BATCH} as `tokens`; text around a token (a log line, a header) is "
            "fine. The answer is always 202 and never says whose a token is; for each token "
            "found it says whether it was live, already revoked (when, and how), expired, "
            "unknown, or not a token at all, which only its holder can ask."
        ),
        request=PolymorphicProxySerializer(
            component_name="RevokeRequest",
            serializers=[_RevokeOneRequest, _RevokeManyRequest],
            resource_type_field_name=None,
        ),
        responses={202: RevokeAnswerSerializer},
        auth=[],
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        results = []
        for index, raw in serializer.validated_data["found"]:
            masked, outcome, detail = _revoke_one(raw, request)
            results.append({"index": index, "token": masked, "outcome": outcome, "detail": detail})
        body = {"detail": _summary(results), "results": results}
        return Response(body, status=status.HTTP_202_ACCEPTED)
