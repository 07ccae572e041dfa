"""The REST API: who am I, and the caller's own tokens (DRF views and serializers)."""

import datetime as dt
import re

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, generics, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from . import services
from .models import AccessToken, AccessTokenEvent
from .throttling import RevokeThrottle

DEFAULT_LIFETIME_DAYS = 30


class AccessTokenSerializer(serializers.ModelSerializer):
    expired = serializers.SerializerMethodField()

    class Meta:
        model = AccessToken
        fields = [
            "id",
            "name",
            "last_four",
            "scope",
            "created_at",
            "expires_at",
            "last_used_at",
            "expired",
        ]
        read_only_fields = fields

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
                end = services.end_of_day(day)
                end.astimezone(dt.UTC)  # the database stores UTC: 9999-12-31 may not fit
            except OverflowError:
                self.fail("overflow")
            return end
        return super().to_internal_value(value)


class AccessTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    expires_at = ExpiresAtField(
        required=False,
        allow_null=True,
        help_text=(
            "ISO 8601 date and time in the future (a bare date YYYY-MM-DD means the end of "
            "that day in the server's time zone). null: never expires (unless the server "
            "caps lifetimes). Omitted: the end of the day 30 days from now."
        ),
    )
    scope = serializers.ChoiceField(
        choices=AccessToken.Scope.choices, default=AccessToken.Scope.READ_WRITE
    )

    def validate_name(self, name: str) -> str:
        try:
            return services.clean_token_name(name)
        except DjangoValidationError as e:
            raise serializers.ValidationError(e.message_dict["name"]) from None

    def validate(self, attrs: dict) -> dict:
        if "expires_at" not in attrs:
            today = timezone.localdate()
            attrs["expires_at"] = services.end_of_day(
                today + dt.timedelta(days=DEFAULT_LIFETIME_DAYS)
            )
        try:
            services.validate_new_token(
                user=self.context["request"].user,
                expires_at=attrs["expires_at"],
                scope=attrs["scope"],
            )
        except DjangoValidationError as e:
            raise serializers.ValidationError(_drf_errors(e)) from None
        return attrs


class AccessTokenCreatedSerializer(AccessTokenSerializer):
    token = serializers.CharField(help_text="The raw token. It is sent this once only.")

    class Meta(AccessTokenSerializer.Meta):
        fields = [*AccessTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in a sentence.")


_ERROR_DESCRIPTIONS = {
    400: 'Invalid input: `detail` ("field: message") and, beside it, a list of messages for '
    "each invalid field (non_field_errors for the request as a whole).",
    401: "No credentials, or refused ones (malformed, unknown, expired). See WWW-Authenticate.",
    403: "A read-only token on an unsafe method, or a session without a CSRF token.",
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
    @extend_schema(
        summary="Who am I",
        responses={
            200: inline_serializer(
                "Me",
                {
                    "id": serializers.IntegerField(),
                    "username": serializers.CharField(),
                    "email": serializers.EmailField(),
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
                "email": user.email,
                "authenticated_by": "access_token" if by_token else "session",
                "token": AccessTokenSerializer(token).data if by_token else None,
            }
        )


class AccessTokenList(generics.ListCreateAPIView):
    serializer_class = AccessTokenSerializer
    pagination_class = None

    def get_queryset(self):
        return self.request.user.access_tokens.all()

    @extend_schema(
        summary="List your tokens, newest first",
        responses={200: AccessTokenSerializer(many=True), **_errors(401, 429)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a token",
        request=AccessTokenCreateSerializer,
        responses={201: AccessTokenCreatedSerializer, **_errors(400, 401, 403, 413, 429)},
    )
    def post(self, request, *args, **kwargs):
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
        token.token = raw
        data = AccessTokenCreatedSerializer(token).data
        return Response(data, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})


class AccessTokenDetail(generics.RetrieveDestroyAPIView):
    serializer_class = AccessTokenSerializer
    lookup_url_kwarg = "token_id"

    def get_queryset(self):
        # Through the owner: anyone else's id is simply not found.
        return self.request.user.access_tokens.all()

    @extend_schema(
        summary="Show one of your tokens",
        responses={200: AccessTokenSerializer, **_errors(401, 404, 429)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Delete one of your tokens",
        responses={204: None, **_errors(401, 403, 404, 429)},
    )
    def delete(self, request, *args, **kwargs):
        return super().delete(request, *args, **kwargs)

    def perform_destroy(self, token: AccessToken) -> None:
        services.delete_access_token(
            token=token, actor=self.request.user, request=self.request, via=AccessTokenEvent.Via.API
        )


class RevokeSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=1000, trim_whitespace=True)


class RevokeView(APIView):
    """Kill a leaked token by its value. No authentication: whoever holds it may end it."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [RevokeThrottle]

    @extend_schema(
        summary="Revoke a token by its value",
        description=(
            "Anyone holding a token can revoke it. The answer is always 202, whether or not "
            "the token existed, so it tells nothing about which tokens are live."
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
        services.revoke_access_token_by_value(serializer.validated_data["token"], request=request)
        return Response(
            {"detail": "If that was a live token, it has been revoked."},
            status=status.HTTP_202_ACCEPTED,
        )


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body is too large."
    default_code = "request_too_large"


def exception_handler(exc, context):
    """Give every API error a JSON `detail`, field errors beside it."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, RequestDataTooBig):
        # Raised by Django when the JSON parser reads a body over DATA_UPLOAD_MAX_MEMORY_SIZE;
        # left alone it would reach the generic 400 handler with a logged traceback.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        exc = RequestTooLarge(f"Request body is too large (the limit is {limit} bytes).")
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.ValidationError):
        return response
    errors = (
        response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
    )
    if not errors:
        response.data = {"detail": "Invalid input."}
        return response
    first_field, first_messages = next(iter(errors.items()))
    first = first_messages[0] if isinstance(first_messages, list) else first_messages
    summary = str(first) if first_field == "non_field_errors" else f"{first_field}: {first}"
    response.data = {"detail": summary, **errors}
    return response
