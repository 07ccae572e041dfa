"""
DRF's own throttles with the rates read when used.

Their counters live in `SimpleRateThrottle.cache`, which is `django.core.cache.cache`: a proxy
that looks up `caches["default"]` on every use, so the counters go wherever CACHE_URL points
(Redis in production, shared by every worker) and follow a CACHES override in tests.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

from .client_ip import client_ip


class _LiveRateMixin:
    """Read the rate when asked rather than when the class was defined, so changing
    DEFAULT_THROTTLE_RATES (in tests, or at startup from the environment) takes effect; and
    count by the one client address Keystand uses everywhere."""

    def get_ident(self, request):
        # client_ip honours TRUSTED_PROXIES; DRF's own get_ident would read NUM_PROXIES.
        return client_ip(request) or "unknown"

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class UserThrottle(_LiveRateMixin, UserRateThrottle):
    """Per-user rate for authenticated calls (per IP for anonymous ones)."""


class AnonThrottle(_LiveRateMixin, AnonRateThrottle):
    """Per-IP rate for unauthenticated calls."""


class _PerAddressThrottle(_LiveRateMixin, SimpleRateThrottle):
    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class RevokeThrottle(_PerAddressThrottle):
    """Per-IP rate for the unauthenticated revoke endpoint."""

    scope = "revoke"


class FailedAuthenticationThrottle(_PerAddressThrottle):
    """Per-IP count of refused credentials; consulted only when a credential fails, so a
    good token pays nothing for it."""

    scope = "failed_auth"
