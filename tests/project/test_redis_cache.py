"""config/cache.py: Django's Redis cache, with one redis-py client per connection pool rather
than a new one for every cache call. Against the suite's real Redis."""

import pytest
import redis
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

from config.cache import RedisCache

OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}


@pytest.fixture
def clients_made(monkeypatch):
    """Return the list of every redis-py client constructed from here on."""
    made = []
    construct = redis.Redis.__init__

    def counted(self, *args, **kwargs):
        made.append(self)
        construct(self, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "__init__", counted)
    return made


def _every_kind_of_call(backend) -> None:
    backend.set("k", 1)
    backend.add("k2", 2)
    assert backend.get("k") == 1
    assert backend.incr("k") == 2
    backend.set_many({"a": 1, "b": 2})
    assert backend.get_many(["a", "b"]) == {"a": 1, "b": 2}
    assert backend.has_key("a")
    backend.touch("a", 60)
    backend.delete("k")
    backend.delete_many(["a", "b", "k2"])
    assert backend.get("k") is None


def _backend(cls, location: str, prefix: str):
    return cls(location, {"OPTIONS": dict(OPTIONS), "KEY_PREFIX": prefix})


def test_the_suite_runs_on_keystands_redis_cache():
    # tests/conftest.py keeps settings.py's choice for CACHE_URL=redis://, under a prefix.
    assert isinstance(caches["default"], RedisCache)


def test_every_call_shares_one_client(settings, clients_made):
    location = settings.CACHES["default"]["LOCATION"]
    prefix = settings.CACHES["default"]["KEY_PREFIX"] + "-reuse"
    backend = _backend(RedisCache, location, prefix)
    for _ in range(3):
        _every_kind_of_call(backend)
    assert len(clients_made) == 1
    assert backend._cache.get_client(write=True) is backend._cache.get_client()


def test_djangos_own_backend_makes_one_per_call(settings, clients_made):
    # Why config/cache.py exists: should a Django release stop doing this, this fails, and
    # the subclass can go.
    location = settings.CACHES["default"]["LOCATION"]
    prefix = settings.CACHES["default"]["KEY_PREFIX"] + "-django"
    _every_kind_of_call(_backend(DjangoRedisCache, location, prefix))
    assert len(clients_made) >= 11


def test_a_replica_pool_has_a_client_of_its_own():
    # Writes go to the first server, reads to the others (Django's rule); nothing connects
    # until a command is sent.
    backend = _backend(RedisCache, "redis://10.0.0.1:6379/0,redis://10.0.0.2:6379/0", "x")
    writer = backend._cache.get_client(write=True)
    reader = backend._cache.get_client()
    assert writer is not reader
    assert writer.connection_pool is not reader.connection_pool
    assert reader.connection_pool.connection_kwargs["host"] == "10.0.0.2"
    assert backend._cache.get_client(write=True) is writer
    assert backend._cache.get_client() is reader
