from django.urls import path

from . import api, converters  # noqa: F401  (registers <token_id:…>)

urlpatterns = [
    path("me/", api.MeView.as_view(), name="api-me"),
    path("access-tokens/", api.AccessTokenList.as_view(), name="api-access-tokens"),
    path("access-tokens/revoke/", api.RevokeView.as_view(), name="api-access-tokens-revoke"),
    path(
        "access-tokens/self/rotate/",
        api.SelfRotateView.as_view(),
        name="api-access-tokens-self-rotate",
    ),
    path(
        "access-tokens/<token_id:token_id>/",
        api.AccessTokenDetail.as_view(),
        name="api-access-token",
    ),
    path(
        "access-tokens/<token_id:token_id>/rotate/",
        api.RotateView.as_view(),
        name="api-access-token-rotate",
    ),
]
