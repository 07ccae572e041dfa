"""
DRF's own throttles with the rates read when used.

Their counters live in `SimpleRateThrottle.cache`, which is `django.core.cache.cache`: a proxy
that looks up `caches["default"]` on every use, so the counters go wherever CACHE_URL points
(Redis in production, shared by every worker) and follow a CACHES override in tests.

While the cache is unreachable every throttle lets requests through (fails open) and says so
in the log once a minute: a token request must keep working while Redis restarts, and an
outage of minutes costs at most that long without limits.
"""

import logging

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

from .cache_outage import CACHE_ERRORS, OutageLog
from .client_ip import client_ip

outage_log = OutageLog(logging.getLogger("access_tokens.throttling"))


class _LiveRateMixin:
    """Read the rate when asked rather than when the class was defined, so changing
    DEFAULT_THROTTLE_RATES (in tests, or at startup from the environment) takes effect;
    count by the one client address Keystand uses everywhere; and let the request through
    when the cache cannot be reached."""

    def get_ident(self, request):
        # client_ip honours TRUSTED_PROXIES; DRF's own get_ident would read NUM_PROXIES.
        return client_ip(request) or "unknown"

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS as exc:
            outage_log.warning(
                "Cache unreachable; API throttles let requests through until it is back: %s",
                exc,
            )
            return True


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
