"""Middleware for the account pages."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
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
