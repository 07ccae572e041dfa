"""The suite's cache: real Redis, shared with other test runs, so it clears only its own keys."""

import os
import secrets

import redis

from config.cache import RedisCache

# What settings.py makes of CACHE_URL=redis://... (config/cache.py).
REDIS_BACKEND = "config.cache.RedisCache"


def run_prefix() -> str:
    """Return a key prefix unique to this test process (each xdist worker is one)."""
    return f"keystand-test-{secrets.token_hex(6)}"


class ScopedRedisCache(RedisCache):
    """Keystand's Redis cache whose clear() deletes only keys under its own prefix.

    Django's clear() is FLUSHDB, which would wipe every other run's keys on a shared server.
    """

    def clear(self) -> bool:
        client = self._cache.get_client(None, write=True)
        keys = list(client.scan_iter(match=f"{self.key_prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        return True


def require_redis(url: str) -> None:
    """Fail the run at once, with the fix, when the suite's Redis is not there."""
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        raise SystemExit(
            f"The test suite needs Redis at {url} (CACHE_URL): {exc}.\n"
            "Start one with `redis-server --daemonize yes`, or point CACHE_URL at yours."
        ) from exc


def subprocess_cache_env() -> dict[str, str]:
    """Return CACHE_URL and a fresh key prefix for a server or command a test starts."""
    return {"CACHE_URL": os.environ["CACHE_URL"], "CACHE_KEY_PREFIX": run_prefix()}
