"""
Django's Redis cache, with one redis-py client per connection pool instead of one per call.

Django's `RedisCacheClient.get_client()` makes a new `redis.Redis` for every cache operation,
and redis-py builds its whole response-callback table (some 170 commands, each name
upper-cased into a `CaseInsensitiveDict`) in every one it makes (redis-py issue 3624). On this
project's machines that took 150 µs a client, and an API request's throttle makes three cache
calls (add, incr, get), each with a client of its own that is thrown away at once. Measured
with `bench/hotpath.py --redis` (SQLite, one process, two runs each), as a multiple of the same
run's request without authentication: the bare `Me` view cost 6.08× and 5.54× with Django's
backend, 4.24× and 4.64× with this one. (The throttles have since gone to one round trip,
access_tokens/throttling.py, which still asks for a client once per request: 2.80× and 2.83×.)

A redis-py client is safe to share between threads (each command takes a connection from the
pool and gives it back), and holds nothing of its own but the pool and that table; so here each
pool gets one client, made the first time it is asked for. Django's cache handler already gives
every thread its own cache object, and so its own pools and clients. Everything else, the
pools, the reconnecting after an outage, the serializer, is Django's own.

`CACHE_URL=redis://...` selects this backend (config/settings.py).
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's client, handing out one redis-py client per connection pool."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            # Django keeps each pool for the cache object's life, so its id stays its own.
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    """`django.core.cache.backends.redis.RedisCache`, with ReusedClientRedisCacheClient."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
