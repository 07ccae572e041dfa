"""The product's URLs plus the benchmark's: one view class, one route per authentication."""

from django.urls import path
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated

from access_tokens.authentication import (
    AccessTokenAuthentication,
    AccessTokenBasicAuthentication,
)
from access_tokens.permissions import TokenScopePermission
from config.urls import urlpatterns as product_urlpatterns

from .views import Hello, Me, NaiveArgon2Authentication, Throttled, ThrottledQuietly

# Every authenticated case runs the product's default permissions.
_PERMISSIONS = [IsAuthenticated, TokenScopePermission]
_KEYSTAND = [AccessTokenAuthentication, AccessTokenBasicAuthentication]

urlpatterns = [
    path(
        "bench/none/",
        Hello.as_view(authentication_classes=[], permission_classes=[AllowAny]),
    ),
    path(
        "bench/authtoken/",
        Hello.as_view(
            authentication_classes=[TokenAuthentication], permission_classes=_PERMISSIONS
        ),
    ),
    path(
        "bench/keystand/",
        Hello.as_view(authentication_classes=_KEYSTAND, permission_classes=_PERMISSIONS),
    ),
    path(
        "bench/keystand/throttled/",
        Throttled.as_view(authentication_classes=_KEYSTAND, permission_classes=_PERMISSIONS),
    ),
    path(
        "bench/keystand/throttled-quietly/",
        ThrottledQuietly.as_view(authentication_classes=_KEYSTAND, permission_classes=_PERMISSIONS),
    ),
    path(
        "bench/argon2/",
        Hello.as_view(
            authentication_classes=[NaiveArgon2Authentication], permission_classes=_PERMISSIONS
        ),
    ),
    path(
        "bench/me/authtoken/",
        Me.as_view(authentication_classes=[TokenAuthentication], permission_classes=_PERMISSIONS),
    ),
    path(
        "bench/me/keystand/",
        Me.as_view(authentication_classes=_KEYSTAND, permission_classes=_PERMISSIONS),
    ),
    # The product's own patterns spliced in, not include()d under "": its /api/v1/me/ then
    # resolves through as many levels here as in production, no more than the bench's Me.
    *product_urlpatterns,
]

handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
