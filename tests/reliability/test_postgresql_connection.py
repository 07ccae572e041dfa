"""On PostgreSQL a token-authenticated request costs one round trip while its token's
last-used time is fresh, counted by the driver (the connection health check included), and a
connection the server dropped while idle is replaced before it can fail a request.

Runs on the local PostgreSQL server whatever database the rest of the suite uses, in a process
of its own (tests/reliability/connection_probe.py) with a database of its own.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.forked_manage import run_manage

ROOT = Path(__file__).resolve().parents[2]
SERVER = os.environ.get("KEYSTAND_TEST_PG_SERVER", "postgres://postgres@127.0.0.1:5432")


def _admin(statement: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(statement)


@pytest.fixture(scope="module")
def migrated_template():
    """A database migrated once for the module, which each test's database copies (CREATE
    DATABASE … TEMPLATE): the probes' own migrate then finds nothing to do."""
    name = f"keystand_probe_tpl_{secrets.token_hex(4)}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        env = {**os.environ, "DATABASE_URL": f"{SERVER}/{name}"}
        done = run_manage("migrate", "--no-input", env=env, timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
        yield name
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(migrated_template):
    name = f"keystand_probe_{secrets.token_hex(4)}"
    _admin(f'CREATE DATABASE "{name}" TEMPLATE "{migrated_template}"')
    try:
        yield f"{SERVER}/{name}"
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _probe(database_url: str, **extra) -> dict:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.update(extra)
    r = subprocess.run(
        [sys.executable, "-m", "tests.reliability.connection_probe"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout)


def test_one_round_trip_per_request_and_no_failure_after_a_dropped_connection(database_url):
    result = _probe(database_url)
    assert result["engine"] == "config.db.postgresql"
    assert result["round_trips_per_request"] == 1
    assert result["prepared_lookups"] == 1  # the server plans the lookup once per connection
    assert result["status_after_server_dropped_connection"] == 200
    assert result["reconnected"] is True


def test_without_prepared_statements_still_one_round_trip(database_url):
    # For a pooler that cannot keep prepared statements: nothing is prepared, and the lookup
    # still costs one round trip (bound on the server, parsed each time).
    result = _probe(database_url, DATABASE_PREPARED_STATEMENTS="false")
    assert result["round_trips_per_request"] == 1
    assert result["prepared_lookups"] == 0
    assert result["status_after_server_dropped_connection"] == 200


def test_the_count_sees_djangos_own_health_check(database_url):
    # The same probe on Django's stock backend counts its `SELECT 1` too: two round trips.
    # (This is what the count would miss if it were taken from Django's query log.)
    result = _probe(database_url, KEYSTAND_DB_ENGINE="django.db.backends.postgresql")
    assert result["engine"] == "django.db.backends.postgresql"
    assert result["round_trips_per_request"] == 2
    assert result["status_after_server_dropped_connection"] == 200
