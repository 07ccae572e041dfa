"""The product's URLs plus the benchmark's: one view class, one route per authentication."""

from django.urls import include, path
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated

from access_tokens import api_urls
from access_tokens.authentication import (
    AccessTokenAuthentication,
    AccessTokenBasicAuthentication,
)
from access_tokens.permissions import TokenScopePermission
from config.urls import urlpatterns as product_urlpatterns

from .views import (
    Hello,
    Me,
    NaiveArgon2Authentication,
    RoundTripOnlyAuthentication,
    Throttled,
    ThrottledQuietly,
    WaitingTokenAuthentication,
)

# Every authenticated case runs the product's default permissions.
_PERMISSIONS = [IsAuthenticated, TokenScopePermission]
_KEYSTAND = [AccessTokenAuthentication, AccessTokenBasicAuthentication]

# The bare `Me` views sit inside the product's own /api/v1/ include, after its routes, so that
# they and the product's /api/v1/me/ resolve through the same levels and meet the same
# middleware (CORS answers for /api/v1/ only): the comparison prices the view alone.
_BENCH_API = [
    path(
        "bench/me/authtoken/",
        Me.as_view(authentication_classes=[TokenAuthentication], permission_classes=_PERMISSIONS),
    ),
    path(
        "bench/me/keystand/",
        Me.as_view(authentication_classes=_KEYSTAND, permission_classes=_PERMISSIONS),
    ),
]


def _with_bench_api(pattern):
    if str(pattern.pattern) != "api/v1/":
        return pattern
    return path("api/v1/", include([*api_urls.urlpatterns, *_BENCH_API]))


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
        "bench/keystand/waiting/",
        Hello.as_view(
            authentication_classes=[WaitingTokenAuthentication], permission_classes=_PERMISSIONS
        ),
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
        "bench/round-trip/",
        Hello.as_view(
            authentication_classes=[RoundTripOnlyAuthentication], permission_classes=_PERMISSIONS
        ),
    ),
    path(
        "bench/argon2/",
        Hello.as_view(
            authentication_classes=[NaiveArgon2Authentication], permission_classes=_PERMISSIONS
        ),
    ),
    # The product's own patterns spliced in, not include()d under "": its /api/v1/me/ then
    # resolves through as many levels here as in production.
    *(_with_bench_api(p) for p in product_urlpatterns),
]

handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
