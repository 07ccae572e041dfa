"""
System checks for a deployment that is really shared.

Sign-in limits, API throttles and the failed-token count must be one count for every gunicorn
worker and every replica, so with DEBUG off they may not live in a cache that each process keeps
for itself. `manage.py check`, `check --deploy`, `migrate`, `runserver` and gunicorn's start
(config/gunicorn.py) all run these checks and stop on an error.
"""

from django.conf import settings
from django.core.checks import Error, register

# Backends whose state lives in one process (or one machine's disk), never shared by replicas.
PROCESS_LOCAL_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache": "an in-memory cache in each process",
    "django.core.cache.backends.dummy.DummyCache": "a cache that keeps nothing",
    "django.core.cache.backends.filebased.FileBasedCache": "a cache in files on one machine",
}


@register()
def check_shared_cache(app_configs, **kwargs) -> list[Error]:
    """Refuse a process-local cache when DEBUG is off."""
    if settings.DEBUG:
        return []
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend not in PROCESS_LOCAL_CACHES:
        return []
    return [
        Error(
            f"The default cache is {PROCESS_LOCAL_CACHES[backend]} ({backend.rsplit('.', 1)[-1]}):"
            " every worker and replica would count sign-in failures and API throttles on its"
            " own, multiplying every limit.",
            hint="Set CACHE_URL=redis://<host>:6379/0 (or DEBUG=true for local development).",
            id="keystand.E001",
        )
    ]
