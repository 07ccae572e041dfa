"""Settings as an operator meets them: each case starts a fresh `manage.py` process, on the
database engine the suite runs on (DATABASE_URL)."""

import os
import secrets
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from tests.conftest import PASSWORD
from tests.forked_manage import run_manage
from tests.project.conftest import tables_in
from tests.redis_cache import subprocess_cache_env

ROOT = Path(__file__).resolve().parents[2]


def _manage(database_url: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    """Run manage.py with only the given settings: no .env file, nothing from pytest-env."""
    environ = {
        "PATH": os.environ["PATH"],
        "KEYSTAND_ENV_FILE": "",
        "DATABASE_URL": database_url,
        **env,
    }
    return run_manage(*args, env=environ, timeout=60)


def _production(**overrides: str) -> dict[str, str]:
    """Return what an operator sets in production; every SECURE_* stays at its default."""
    return {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "keystand.example.com",
        **subprocess_cache_env(),
        **overrides,
    }


@pytest.mark.parametrize("secret_key", [None, ""])
def test_it_refuses_to_start_without_a_secret_key_when_not_debugging(
    fresh_database_url, secret_key
):
    env = {"DEBUG": "false"}
    if secret_key is not None:
        env["SECRET_KEY"] = secret_key
    result = _manage(fresh_database_url, "check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_it_refuses_when_debug_is_not_set_at_all(fresh_database_url):
    # DEBUG defaults to false, so a forgotten DEBUG is production, not a free pass.
    result = _manage(fresh_database_url, "check")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize(
    "secret_key",
    [
        # Django's own startproject placeholder, and the key `make run` uses in DEBUG.
        "django-insecure-" + "k" * 50,
        "django-insecure-development-only-key-do-not-use-in-production",
        "CHANGE-ME-" + "Qx7vL2pW9tZk4mR8sN3bJ6hD1fG5cY0aE" * 2,
        "please_change_me_" + "Qx7vL2pW9tZk4mR8sN3bJ6hD1fG5cY0aE" * 2,
    ],
)
def test_it_refuses_a_placeholder_secret_key_when_not_debugging(fresh_database_url, secret_key):
    result = _manage(fresh_database_url, "check", **_production(SECRET_KEY=secret_key))
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY looks like a placeholder" in result.stderr
    assert "secrets.token_urlsafe(50)" in result.stderr
    # The refusal names the problem, never the key itself.
    assert secret_key not in result.stderr


@pytest.mark.parametrize(
    "secret_key", ["s3cr3t", "Qx7vL2pW9tZk4mR8sN3bJ6hD1fG5cY0aE-uT4oI8wX3nV7qB2y"[:49], "ab" * 40]
)
def test_it_refuses_a_short_or_simple_secret_key_when_not_debugging(fresh_database_url, secret_key):
    result = _manage(fresh_database_url, "check", **_production(SECRET_KEY=secret_key))
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is too short or too simple" in result.stderr
    assert "secrets.token_urlsafe(50)" in result.stderr
    assert secret_key not in result.stderr


def test_it_accepts_a_generated_secret_key(fresh_database_url):
    # What the error message, the README and .env.example tell operators to run.
    result = _manage(
        fresh_database_url, "check", **_production(SECRET_KEY=secrets.token_urlsafe(50))
    )
    assert result.returncode == 0, result.stderr


def test_it_allows_any_secret_key_in_debug(fresh_database_url):
    result = _manage(fresh_database_url, "check", DEBUG="true", SECRET_KEY="short-insecure")
    assert result.returncode == 0, result.stderr


def test_it_starts_without_a_secret_key_in_debug(fresh_database_url):
    result = _manage(fresh_database_url, "check", DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_it_reads_an_env_file(tmp_path, fresh_database_url):
    env_file = tmp_path / "keystand.env"
    env_file.write_text("DEBUG=true\n")
    result = _manage(fresh_database_url, "check", KEYSTAND_ENV_FILE=str(env_file))
    assert result.returncode == 0, result.stderr


def test_it_passes_the_deploy_check_in_production(fresh_database_url):
    result = _manage(
        fresh_database_url, "check", "--deploy", "--fail-level", "WARNING", **_production()
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_it_fails_the_deploy_check_when_security_is_relaxed(fresh_database_url):
    # Proves the deploy check above is live: relaxing one setting is reported.
    env = _production(SECURE_SSL_REDIRECT="false", SECURE_COOKIES="false")
    result = _manage(fresh_database_url, "check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode != 0
    assert "security.W008" in result.stderr
    assert "security.W012" in result.stderr


@pytest.mark.parametrize(
    "cache_url", ["locmemcache://", "dummycache://", "filecache:///tmp/keystand-cache", None]
)
@pytest.mark.parametrize("command", [["check"], ["check", "--deploy"], ["migrate", "--no-input"]])
def test_it_refuses_a_process_local_cache_when_not_debugging(
    fresh_database_url, cache_url, command
):
    env = _production()
    del env["CACHE_URL"]  # None: CACHE_URL unset, so the in-memory default
    if cache_url is not None:
        env["CACHE_URL"] = cache_url
    result = _manage(fresh_database_url, *command, **env)
    assert result.returncode != 0
    assert "keystand.E001" in result.stderr
    assert "Set CACHE_URL=redis://" in result.stderr
    # migrate stops before touching the database.
    assert tables_in(fresh_database_url) == []


def test_it_allows_a_process_local_cache_in_debug(fresh_database_url):
    result = _manage(fresh_database_url, "check", DEBUG="true", CACHE_URL="locmemcache://")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("cache_url", ["redis://redis.internal:6379/0", "dbcache://cache_table"])
def test_it_accepts_a_shared_cache(fresh_database_url, cache_url):
    # The check reads the configuration only; nothing needs to listen there.
    result = _manage(fresh_database_url, "check", **_production(CACHE_URL=cache_url))
    assert result.returncode == 0, result.stderr


def test_a_redis_url_selects_keystands_redis_cache(fresh_database_url):
    # Django's backend, minus a new redis-py client for every call (config/cache.py).
    show = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    env = _production(CACHE_URL="redis://redis.internal:6379/0")
    result = _manage(fresh_database_url, "shell", "-c", show, **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "config.cache.RedisCache"


@pytest.mark.real_password_hashers
def test_it_hashes_passwords_with_argon2_first(django_user_model):
    assert settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    user = django_user_model.objects.create_user("zoe", "zoe@example.org", PASSWORD)
    assert user.password.startswith("argon2$")


def test_it_has_no_missing_migrations(db):
    # Raises SystemExit(1) when a model change has no migration.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.parametrize(
    "name, value",
    [
        ("RATE_LIMIT_SIGNUP", "lots"),
        ("RATE_LIMIT_PASSWORD_RESET", "10/h/ip,3/fortnight/key"),
        ("LOGIN_FAILURES_PER_ACCOUNT", "0"),
        ("ACCESS_TOKEN_REAUTH_SECONDS", "-1"),
    ],
)
def test_it_refuses_a_bad_account_limit(fresh_database_url, name, value):
    r = _manage(fresh_database_url, "check", **_production(**{name: value}))
    assert r.returncode != 0
    assert name in r.stderr


def test_it_requires_two_factor_for_staff_unless_debugging(fresh_database_url):
    show = "from django.conf import settings; print(settings.REQUIRE_2FA_FOR_STAFF)"
    production = _manage(fresh_database_url, "shell", "-c", show, **_production())
    assert production.stdout.strip().splitlines()[-1] == "True"
    debug = _manage(fresh_database_url, "shell", "-c", show, DEBUG="true")
    assert debug.stdout.strip().splitlines()[-1] == "False"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TASK_BACKEND", "celery", "TASK_BACKEND must be one of database, immediate"),
        ("EMAIL_TIMEOUT", "0", "EMAIL_TIMEOUT must be at least 1"),
    ],
)
def test_it_refuses_a_bad_mail_setting(fresh_database_url, name, value, message):
    result = _manage(fresh_database_url, "check", **_production(**{name: value}))
    assert result.returncode != 0
    assert message in result.stderr


def test_it_queues_mail_in_the_database_unless_debugging(fresh_database_url):
    # Production sends mail from the worker (db_worker); development runs tasks at once.
    show = "from django.conf import settings; print(settings.TASKS['default']['BACKEND'])"
    production = _manage(fresh_database_url, "shell", "-v", "0", "-c", show, **_production())
    assert production.stdout.strip() == "django_tasks_db.DatabaseBackend", production.stderr
    debug = _manage(fresh_database_url, "shell", "-v", "0", "-c", show, DEBUG="true")
    assert debug.stdout.strip() == "django_tasks.backends.immediate.ImmediateBackend"


@pytest.mark.parametrize(
    "origins",
    [
        "*",
        "app.example.com",
        "https://app.example.com/",
        "https://*.example.com",
        "ftp://x.example",
    ],
)
def test_it_refuses_a_cors_origin_that_is_not_one(fresh_database_url, origins):
    r = _manage(fresh_database_url, "check", **_production(CORS_ALLOWED_ORIGINS=origins))
    assert r.returncode != 0
    assert "CORS_ALLOWED_ORIGINS" in r.stderr


def test_it_reads_cors_origins_as_a_list(fresh_database_url):
    show = "from django.conf import settings; print(settings.CORS_ALLOWED_ORIGINS)"
    origins = "https://app.example.com,http://localhost:3000"
    r = _manage(
        fresh_database_url, "shell", "-c", show, **_production(CORS_ALLOWED_ORIGINS=origins)
    )
    assert r.returncode == 0, r.stderr
    assert (
        r.stdout.strip().splitlines()[-1] == "['https://app.example.com', 'http://localhost:3000']"
    )
