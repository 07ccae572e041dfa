"""The REST API: who am I, and the caller's own tokens (DRF views and serializers)."""

import datetime as dt
import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions, generics, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from . import errors, services
from . import scopes as scope_registry
from .expiry import end_of_day
from .models import AccessToken, AccessTokenEvent
from .reauth import check_session_write
from .throttling import RevokeThrottle


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

    def get_scope(self, token: AccessToken) -> str | None:
        granted = token.scope_list
        if scope_registry.API in granted:
            return "read_write"
        return "read_only" if scope_registry.READ_API in granted else None

    def get_active(self, token: AccessToken) -> bool:
        return token.is_active()

    def get_state(self, token: AccessToken) -> str:
        return token.state()

    def get_expired(self, token: AccessToken) -> bool:
        return token.is_expired()


_DATE_ONLY_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


class ExpiresAtField(serializers.DateTimeField):
    """An ISO 8601 date and time; a bare date means the end of that day, as in the form,
    so `"expires_at": "2030-01-31"` works through all of January 31st."""

    def to_internal_value(self, value):
        if isinstance(value, str) and _DATE_ONLY_RE.fullmatch(value.strip()):
            try:
                day = dt.date.fromisoformat(value.strip())
            except ValueError:
                self.fail("invalid", format="YYYY-MM-DD")
            try:
                return end_of_day(day)
            except OverflowError:
                self.fail("overflow")
        return super().to_internal_value(value)


_EXPIRES_AT_HELP = (
    "ISO 8601 date and time in the future (a bare date YYYY-MM-DD means the end of that day "
    "in the server's time zone). null: never expires (unless the server caps lifetimes)."
)


def _field_error(error: DjangoValidationError, field: str) -> serializers.ValidationError:
    return serializers.ValidationError(error.message_dict[field])


class AccessTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    description = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, default="", trim_whitespace=True
    )
    expires_at = ExpiresAtField(
        required=False,
        allow_null=True,
        help_text=_EXPIRES_AT_HELP
        + " Omitted: the end of the day 30 days from now (never beyond the token you call with).",
    )
    scopes = serializers.ListField(
        child=serializers.CharField(),
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


class AccessTokenUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    description = serializers.CharField(max_length=1000, required=False, allow_blank=True)


class RotateSerializer(serializers.Serializer):
    expires_at = ExpiresAtField(
        required=False,
        allow_null=True,
        help_text=_EXPIRES_AT_HELP
        + " Omitted: as many days from today as the old token had from its creation, never "
        "beyond the token you call with.",
    )


class AccessTokenCreatedSerializer(AccessTokenSerializer):
    token = serializers.CharField(help_text="The raw token. It is sent this once only.")

    class Meta(AccessTokenSerializer.Meta):
        fields = [*AccessTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in a sentence.")
    code = serializers.ChoiceField(
        choices=list(errors.CODES),
        help_text="What went wrong, as a stable name to branch on (see the README).",
    )


_ERROR_DESCRIPTIONS = {
    400: 'Invalid input: `detail` ("field: message") and, beside it, a list of messages for '
    "each invalid field (non_field_errors for the request as a whole).",
    401: "No credentials, or refused ones (malformed, unknown, expired). WWW-Authenticate "
    "offers every scheme (AccessToken, Bearer, Basic).",
    403: "A token whose scopes do not allow the request (insufficient_scope), or a session "
    "without a CSRF token (csrf_failed).",
    404: "No such token among yours.",
    413: "The body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE.",
    429: "Throttled: try again after Retry-After seconds.",
}


def _errors(*statuses: int) -> dict:
    """Return OpenAPI responses for the errors an endpoint can answer."""
    return {
        code: OpenApiResponse(ErrorSerializer, description=_ERROR_DESCRIPTIONS[code])
        for code in statuses
    }


def _drf_errors(error: DjangoValidationError) -> dict:
    return {
        ("non_field_errors" if field == "__all__" else field): messages
        for field, messages in error.message_dict.items()
    }


class MeView(APIView):
    required_scopes = [scope_registry.READ_USER]

    @extend_schema(
        summary="Who am I",
        responses={
            200: inline_serializer(
                "Me",
                {
                    "id": serializers.CharField(),
                    "username": serializers.CharField(),
                    "email": serializers.CharField(),
                    "authenticated_by": serializers.ChoiceField(["access_token", "session"]),
                    "token": AccessTokenSerializer(allow_null=True),
                },
            ),
            **_errors(401, 429),
        },
    )
    def get(self, request):
        user, token = request.user, request.auth
        by_token = isinstance(token, AccessToken)
        return Response(
            {
                "id": user.pk,
                "username": user.get_username(),
                "email": getattr(user, "email", ""),
                "authenticated_by": "access_token" if by_token else "session",
                "token": AccessTokenSerializer(token).data if by_token else None,
            }
        )


def _created(token: AccessToken, raw: str) -> Response:
    """Answer 201 with the raw token: the one response that ever carries it."""
    token.token = raw
    data = AccessTokenCreatedSerializer(token).data
    return Response(data, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})


_STATES = {"active", "inactive", "all"}


class AccessTokenList(generics.ListCreateAPIView):
    serializer_class = AccessTokenSerializer
    pagination_class = None

    def get_queryset(self):
        tokens = self.request.user.access_tokens.retained()
        state = self.request.query_params.get("state", "all")
        if state not in _STATES:
            raise serializers.ValidationError({"state": ["Choose active, inactive or all."]})
        if state == "active":
            return tokens.active()
        if state == "inactive":
            return tokens.inactive()
        return tokens

    @extend_schema(
        summary="List your tokens, newest first",
        description="Active tokens and those that stopped working in the last "
        "ACCESS_TOKEN_INACTIVE_RETENTION_DAYS days. `?state=active` or `?state=inactive` "
        "narrows the list.",
        parameters=[
            OpenApiParameter("state", str, enum=sorted(_STATES), description="Default: all.")
        ],
        responses={200: AccessTokenSerializer(many=True), **_errors(400, 401, 403, 429)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a token",
        description="When you call with a token, the new token can't outlive it or have "
        "wider scopes, and is revoked with it.",
        request=AccessTokenCreateSerializer,
        responses={201: AccessTokenCreatedSerializer, **_errors(400, 401, 403, 413, 429)},
    )
    def post(self, request, *args, **kwargs):
        check_session_write(request)
        serializer = AccessTokenCreateSerializer(data=request.data, context={"request": request})
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
        return _created(token, raw)


class AccessTokenDetail(generics.RetrieveUpdateDestroyAPIView):
    serializer_class = AccessTokenSerializer
    lookup_url_kwarg = "token_id"
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self):
        # Through the owner: anyone else's id is simply not found.
        tokens = self.request.user.access_tokens.retained()
        if self.request.method == "DELETE":
            # A revoked token is a record now; there is nothing left to delete.
            return tokens.filter(revoked_at__isnull=True)
        return tokens

    @extend_schema(
        summary="Show one of your tokens",
        responses={200: AccessTokenSerializer, **_errors(401, 403, 404, 429)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Rename one of your tokens or change its description",
        request=AccessTokenUpdateSerializer,
        responses={200: AccessTokenSerializer, **_errors(400, 401, 403, 404, 429)},
    )
    def patch(self, request, *args, **kwargs):
        token = self.get_object()
        serializer = AccessTokenUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.update_access_token(
                token=token,
                actor=request.user,
                request=request,
                via=AccessTokenEvent.Via.API,
                **serializer.validated_data,
            )
        except DjangoValidationError as e:
            raise serializers.ValidationError(_drf_errors(e)) from None
        return Response(AccessTokenSerializer(token).data)

    @extend_schema(
        summary="Delete (revoke) one of your tokens",
        description="The token stops working at once, with every token made with it. It stays "
        "listed as inactive for ACCESS_TOKEN_INACTIVE_RETENTION_DAYS days.",
        responses={204: None, **_errors(401, 403, 404, 429)},
    )
    def delete(self, request, *args, **kwargs):
        return super().delete(request, *args, **kwargs)

    def perform_destroy(self, token: AccessToken) -> None:
        services.delete_access_token(
            token=token, actor=self.request.user, request=self.request, via=AccessTokenEvent.Via.API
        )


def _rotate(request, token: AccessToken) -> Response:
    check_session_write(request)
    serializer = RotateSerializer(data=request.data)
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
    except DjangoValidationError as e:
        raise serializers.ValidationError(_drf_errors(e)) from None
    return _created(new, raw)


_ROTATE_DESCRIPTION = (
    "Replace the token with a new secret that keeps its name, description and scopes. The old "
    "token stops working in the same transaction; the new one is in `token`, this once."
)


class RotateView(generics.GenericAPIView):
    lookup_url_kwarg = "token_id"

    def get_queryset(self):
        return self.request.user.access_tokens.retained()

    @extend_schema(
        summary="Rotate one of your tokens",
        description=_ROTATE_DESCRIPTION,
        request=RotateSerializer,
        responses={201: AccessTokenCreatedSerializer, **_errors(400, 401, 403, 404, 429)},
    )
    def post(self, request, token_id):
        return _rotate(request, self.get_object())


class SelfRotateView(APIView):
    required_scopes = [scope_registry.SELF_ROTATE]

    @extend_schema(
        summary="Rotate the token you call with",
        description=_ROTATE_DESCRIPTION
        + " Needs a token with the self_rotate (or api) scope. The new token can't outlive "
        "the old one.",
        request=RotateSerializer,
        responses={201: AccessTokenCreatedSerializer, **_errors(400, 401, 403, 429)},
    )
    def post(self, request):
        token = request.auth
        if not isinstance(token, AccessToken):
            raise exceptions.PermissionDenied(
                "Only a request authenticated with a token can rotate itself."
            )
        return _rotate(request, token)


class RevokeSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=1000, trim_whitespace=True)


_REVOKED_HOW = {
    AccessToken.RevokedReason.DELETED: "deleted by its owner",
    AccessToken.RevokedReason.REVOKED_BY_OPERATOR: "revoked by an operator",
    AccessToken.RevokedReason.REVOKED_BY_VALUE: "reported as leaked",
    AccessToken.RevokedReason.ROTATED: "replaced by rotation",
    AccessToken.RevokedReason.PARENT_REVOKED: "revoked with the token that created it",
}


def _revoke_answer(result: services.RevokeByValueResult) -> str:
    """Say what became of the token without saying whose it is."""
    token = result.token
    if result.outcome == "revoked":
        return "That token was live and has been revoked."
    if token is not None and token.revoked_at is not None:
        when = timezone.localtime(token.revoked_at).strftime("%Y-%m-%d %H:%M %Z")
        return f"That token was already revoked: {_REVOKED_HOW[token.revoked_reason]} on {when}."
    if token is not None:
        return "That token has already expired; it no longer works."
    return "If that was a live token, it has been revoked."


class RevokeView(APIView):
    """Kill a leaked token by its value. No authentication: whoever holds it may end it."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [RevokeThrottle]

    @extend_schema(
        summary="Revoke a token by its value",
        description=(
            "Anyone holding a token can revoke it. The answer is always 202 and never says "
            "whose the token is; it says whether it was live, already revoked (when, and how) "
            "or expired, which only the holder of the token can ask."
        ),
        request=RevokeSerializer,
        responses={
            202: OpenApiResponse(ErrorSerializer, description="Accepted, whatever the token was."),
            **_errors(400, 413, 429),
        },
        auth=[],
    )
    def post(self, request):
        serializer = RevokeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = services.revoke_access_token_by_value(
            serializer.validated_data["token"], request=request
        )
        return Response({"detail": _revoke_answer(result)}, status=status.HTTP_202_ACCEPTED)
