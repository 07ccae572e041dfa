"""Middleware for the account pages."""

from collections.abc import Callable

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers


class NeverCacheAccountPages:
    """Keep every account page (sign-in, passwords, two-factor secrets, recovery codes) out of
    every cache: allauth marks only some of its views never_cache."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.prefix = reverse("account_login").rsplit("login/", 1)[0]

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(self.prefix):
            add_never_cache_headers(response)
        return response


class StaffTwoFactorMiddleware:
    """With REQUIRE_2FA_FOR_STAFF, send staff without two-factor to set it up before the admin.

    An operator's password alone can revoke every token and read the audit trail; GitHub
    requires a second factor for much less.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.admin_prefix = reverse("admin:index")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.REQUIRE_2FA_FOR_STAFF
            and request.path.startswith(self.admin_prefix)
            and request.user.is_authenticated
            and request.user.is_staff
            and not is_mfa_enabled(request.user)
        ):
            messages.warning(
                request,
                "Operators must use two-factor authentication: set it up here to use the admin.",
            )
            return redirect("mfa_index")
        return self.get_response(request)
