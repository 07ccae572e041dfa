"""
Slow down password guessing: after repeated failures for one account, or from one address,
refuse sign-in for a while.

Counters live in Django's cache (Redis in production, shared by every worker). Only the sign-in
and change-password views consult them: API requests authenticated by token never touch this.
Accounts and addresses are hashed into the key, so any username is a valid cache key and none
is kept in the clear.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from access_tokens.client_ip import client_ip

KEY_PREFIX = "login-limit"


def _now() -> float:
    return time.time()


def client_address(request: HttpRequest) -> str:
    """Return the caller's address as every limit sees it (honours TRUSTED_PROXIES)."""
    return client_ip(request) or "unknown"


def _key(kind: str, value: str) -> str:
    return f"{KEY_PREFIX}:{kind}:{hashlib.sha256(value.encode()).hexdigest()}"


def _subjects(request: HttpRequest, username: str) -> list[tuple[str, int]]:
    """Return (counter key, allowed failures) for the address and, if given, the account."""
    subjects = [(_key("address", client_address(request)), settings.LOGIN_FAILURES_PER_ADDRESS)]
    if username:
        # casefold: "Alice" and "alice" share one counter, so case games buy no extra guesses.
        subjects.append((_key("account", username.casefold()), settings.LOGIN_FAILURES_PER_ACCOUNT))
    return subjects


def locked_for(request: HttpRequest, username: str) -> int:
    """Return how many seconds sign-in stays refused for this account or address (0: not)."""
    locks = cache.get_many([f"{key}:locked" for key, _ in _subjects(request, username)])
    until = max(locks.values(), default=0)
    return max(0, math.ceil(until - _now()))


def record_failure(request: HttpRequest, username: str) -> None:
    """Count one failed attempt; lock the account or address once it reaches its limit."""
    lockout = settings.LOGIN_LOCKOUT_SECONDS
    for key, limit in _subjects(request, username):
        cache.add(key, 0, timeout=lockout)
        try:
            failures = cache.incr(key)
        except ValueError:  # the counter expired between add() and incr()
            cache.set(key, 1, timeout=lockout)
            failures = 1
        if failures >= limit:
            cache.set(f"{key}:locked", _now() + lockout, timeout=lockout)
            cache.delete(key)


def record_success(request: HttpRequest, username: str) -> None:
    """Forget the account's failures. The address keeps its count: signing in to one's own
    account must not reset the budget for guessing someone else's."""
    cache.delete(_key("account", username.casefold()))


def locked_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    wait = "1 minute" if minutes == 1 else f"{minutes} minutes"
    return (
        "Too many failed sign-in attempts for this account or from your network. "
        f"For your security, sign-in is paused: try again in {wait}."
    )
