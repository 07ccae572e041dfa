"""
The fixed cast of every test: alice owns tokens, bob is another user, charlie is staff-less
and gets 404 for other people's things; olivia is an operator (staff and superuser).
"""

import fcntl
import shutil
import time
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.db import connection
from django.test.utils import override_settings
from rest_framework.test import APIClient

from access_tokens import services
from tests.redis_cache import REDIS_BACKEND, require_redis, run_prefix

PASSWORD = "correct-horse-battery-staple-42"
# Passwords are hashed with a fast hasher in the suite: Argon2 costs a tenth of a second and
# 100 MiB per hash, and hundreds of fixtures and sign-ins would pay it where hashing is not
# what they test (a sign-in would also re-hash a fast hash with Argon2, Django's upgrade).
# Tests marked real_password_hashers keep the product's list, Argon2 first, and check it:
# tests/project/test_settings.py and tests/accounts/test_signup.py.
FIXTURE_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"
# Olivia, an operator, has two-factor set up (staff need it for the admin): this is the secret
# her authenticator app holds; tests.totp.totp_code(OLIVIA_TOTP_SECRET) is her current code.
OLIVIA_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def pytest_configure(config):
    """Keep the cache on Redis, as in production, under a prefix of this process's own."""
    from django.conf import settings

    default = settings.CACHES["default"]
    if default["BACKEND"] != REDIS_BACKEND:
        return  # CACHE_URL chose another shared cache on purpose
    require_redis(default["LOCATION"])
    override_settings(
        CACHES={
            **settings.CACHES,
            "default": {
                **default,
                "BACKEND": "tests.redis_cache.ScopedRedisCache",
                "KEY_PREFIX": run_prefix(),
            },
        }
    ).enable()


# `make test` hands whole files to pytest-xdist's workers (`--dist loadfile
# --no-loadscope-reorder`): a file's module-scoped servers and databases are then set up once,
# on one worker. Files go out in the order below, so the longest start first and the short ones
# fill in at the end (longest-first is what keeps a worker from running one long file alone
# after the others have finished). The order is by the time each file took in a full run; the
# files not named here are short and follow in the usual order. Order only; nothing is left
# out.
SLOWEST_FIRST = (
    "tests/project/test_cluster.py",
    "tests/project/test_settings.py",
    "tests/browser/test_accessibility.py",
    "tests/package/test_wheel.py",
    "tests/api/test_schemathesis.py",
    "tests/project/test_chunked_bodies.py",
    "tests/project/test_gunicorn.py",
    "tests/operators/test_mail_queue.py",
    "tests/browser/test_admin.py",
    "tests/browser/test_token_pages.py",
    "tests/browser/test_colour_schemes.py",
    "tests/operators/test_run_schedule.py",
    "tests/reliability/test_postgresql_connection.py",
    "tests/api/test_schema.py",
    "tests/project/test_kubernetes.py",
    "tests/browser/test_messages.py",
    "tests/browser/test_account_journey.py",
    "tests/browser/test_create_token.py",
    "tests/browser/test_long_names.py",
    "tests/browser/test_sign_in_and_menu.py",
    "tests/api/test_authentication_headers.py",
    "tests/operators/test_create_access_token_command.py",
    "tests/security/test_hostile_input.py",
)


def pytest_collection_modifyitems(session, config, items):
    rank = {path: i for i, path in enumerate(SLOWEST_FIRST)}
    # A stable sort: tests keep their order within a file.
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(SLOWEST_FIRST)))


def made_once_per_run(tmp_path_factory, worker_id: str, name: str, make) -> Path:
    """Return the directory `name`, filled by `make(directory)` once per test run and shared by
    pytest-xdist's workers: the first to ask makes it under a lock in their common temporary
    directory, the others wait for it and reuse it."""
    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":  # popen-gwN: the run's own directory is the parent
        shared = shared.parent
    directory = shared / name
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (directory / ".ready").exists():
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir()
            make(directory)
            (directory / ".ready").touch()
    return directory


@pytest.fixture(scope="session")
def static_root(tmp_path_factory, worker_id) -> Path:
    """Return a STATIC_ROOT filled by collectstatic, for the production servers tests start.

    Collected once per test run (made_once_per_run), as a deployment collects once per
    release: collectstatic (hashing and compressing the admin's and the API docs' files too)
    took 4 CPU-seconds, and five files ran it. The servers only read it.
    """
    from tests.project.test_gunicorn import collect_static

    def collect(directory: Path) -> None:
        collect_static(directory / "staticfiles")

    directory = made_once_per_run(tmp_path_factory, worker_id, "keystand-static", collect)
    return directory / "staticfiles"


def pytest_unconfigure(config):
    from django.conf import settings

    if settings.CACHES["default"]["BACKEND"] == "tests.redis_cache.ScopedRedisCache":
        cache.clear()  # this run's keys only


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters live in the cache; every test starts with none (only this run's
    keys are deleted: the Redis server is shared)."""
    cache.clear()
    yield
    cache.clear()


# pytest starts autouse fixtures in name order and ends them in reverse. Those that take
# `settings` sort after _fresh_cache, so a test's own settings (a cache it points elsewhere)
# are undone before _fresh_cache clears the suite's cache.
@pytest.fixture(autouse=True)
def _password_hashers(request, settings):
    """Hash with the fast hasher first, unless the test checks the product's hashing (then
    the fast one comes last, so that the cast's passwords still verify)."""
    if request.node.get_closest_marker("real_password_hashers"):
        settings.PASSWORD_HASHERS = [*settings.PASSWORD_HASHERS, FIXTURE_HASHER]
    else:
        settings.PASSWORD_HASHERS = [FIXTURE_HASHER, *settings.PASSWORD_HASHERS]


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    """Serve static files unhashed: the suite runs without collectstatic, so there is no
    manifest for the production storage to read (tests/project/test_gunicorn.py covers the
    real collectstatic + WhiteNoise path).

    WhiteNoise finds a file when it is asked for (WHITENOISE_AUTOREFRESH, as in development)
    instead of indexing all 180 static files whenever a test client builds its middleware:
    that index took a sixth of the in-process tests' CPU time (17 %), once per test client,
    where a served process builds it once."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_AUTOREFRESH = True


def _verified(user):
    """Mark the user's address verified, as signing up and opening the link would."""
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def _user(django_user_model, username: str, **extra):
    password = make_password(PASSWORD, hasher="md5")
    user = django_user_model.objects.create(
        username=username, email=f"{username}@example.org", password=password, **extra
    )
    return _verified(user)


@pytest.fixture
def alice(django_user_model):
    return _user(django_user_model, "alice", first_name="Alice", last_name="Liddell")


@pytest.fixture
def bob(django_user_model):
    return _user(django_user_model, "bob")


@pytest.fixture
def charlie(django_user_model):
    return _user(django_user_model, "charlie")


@pytest.fixture
def olivia(django_user_model):
    olivia = _user(django_user_model, "olivia", is_staff=True, is_superuser=True)
    TOTP.activate(olivia, OLIVIA_TOTP_SECRET)
    return olivia


def sign_in(client, user, password: str = PASSWORD):
    """Sign in through the real form, so the session knows when the password was entered
    (creating a token needs a recent one)."""
    r = client.post("/accounts/login/", {"login": user.get_username(), "password": password})
    assert r.status_code == 302, r.content.decode()[:500]
    client.get(r["Location"])  # shows (and so uses up) the "Successfully signed in" message
    # Signing in may have re-hashed the password (with the product's hashers, Argon2); a stale
    # object would give force_login elsewhere a session hash that no longer matches.
    user.refresh_from_db()
    return client


@pytest.fixture
def alice_client(client, alice):
    return sign_in(client, alice)


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def make_token():
    """Create a token through the service, as every real path does. Returns (token, raw)."""

    def make(user, **kwargs):
        return services.create_access_token(user=user, **kwargs)

    return make


@pytest.fixture(scope="session", autouse=True)
def _let_other_sessions_end(django_db_setup, django_db_blocker):
    """Before the test database is dropped, wait (up to 5 s) for every other PostgreSQL session
    on it to end. DROP DATABASE found one more session at the end of most PostgreSQL runs and
    left the test database behind with a warning; it was gone within milliseconds (most likely
    a server backend outliving its client by a moment), so a short wait is enough."""
    yield
    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + 5
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.05)


@pytest.fixture
def throttle_rates(settings):
    """Set some of DEFAULT_THROTTLE_RATES for one test (a new dict, so DRF reloads it)."""

    def set_rates(**rates):
        rf = settings.REST_FRAMEWORK
        settings.REST_FRAMEWORK = {
            **rf,
            "DEFAULT_THROTTLE_RATES": {**rf["DEFAULT_THROTTLE_RATES"], **rates},
        }

    return set_rates
