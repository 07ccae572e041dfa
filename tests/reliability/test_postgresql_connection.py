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
    # access_tokens/ahead.py: each request finds its token's lookup already sent when it passes
    # the first middleware, still in that one round trip.
    ahead = result["ahead"]
    assert ahead["sent_ahead"] == [True] * 5
    assert ahead["statuses"] == [200] * 5
    # So does the token list's first page, its own query (the page, with the token in it),
    # once its first request has prepared that statement.
    assert ahead["list"] == {"sent_ahead": [False, True, True], "statuses": [200] * 3}
    # Refused before its view, a request leaves no answer on the connection.
    assert ahead["refused_before_the_view"] == 411
    assert ahead["left_on_the_wire"] is False
    # After a rollback psycopg has dropped its prepared statements: the first request sends
    # nothing ahead (its lookup prepares the statement again), the next ones do; none fails.
    assert ahead["after_a_rollback"] == {"sent_ahead": [False, True, True], "statuses": [200] * 3}
    # The server goes away before it answers: that request is a 503, as any lost database is,
    # and the next is served on a new connection.
    assert ahead["server_gone_sent_ahead"] == [True]
    assert ahead["server_gone_before_it_answered"] == 503
    assert (ahead["then"], ahead["reconnected"]) == (200, True)
    # With the socket's descriptor above 1023 (which select() refuses): one connection for
    # every request, and the lookup sent ahead once the first has prepared it again.
    many = result["many_files"]
    assert many["fd"] > 1023
    assert many["statuses"] == [200] * 4
    assert many["connections"] == 1
    assert many["sent_ahead"] == [False, True, True, True]


def _sent_nothing_ahead(result: dict) -> None:
    """Nothing was sent ahead, and every request was served as before."""
    ahead = result["ahead"]
    assert ahead["sent_ahead"] == [False] * 5
    assert ahead["statuses"] == [200] * 5
    assert ahead["list"] == {"sent_ahead": [False] * 3, "statuses": [200] * 3}
    assert ahead["refused_before_the_view"] == 411
    assert ahead["after_a_rollback"] == {"sent_ahead": [False] * 3, "statuses": [200] * 3}
    # The server's goodbye reached the socket before the lookup was sent: a new connection.
    assert ahead["server_gone_sent_ahead"] == [False]
    assert ahead["server_gone_before_it_answered"] == 200
    assert (ahead["then"], ahead["reconnected"]) == (200, True)


def test_nothing_is_sent_ahead_when_turned_off(database_url):
    result = _probe(database_url, ACCESS_TOKEN_LOOKUP_AHEAD="false")
    assert result["round_trips_per_request"] == 1
    _sent_nothing_ahead(result)


def test_without_prepared_statements_still_one_round_trip(database_url):
    # For a pooler that cannot keep prepared statements: nothing is prepared, and the lookup
    # still costs one round trip (bound on the server, parsed each time).
    result = _probe(database_url, DATABASE_PREPARED_STATEMENTS="false")
    assert result["round_trips_per_request"] == 1
    assert result["prepared_lookups"] == 0
    assert result["status_after_server_dropped_connection"] == 200
    _sent_nothing_ahead(result)  # there is no prepared statement to send


def test_the_count_sees_djangos_own_health_check(database_url):
    # The same probe on Django's stock backend counts its `SELECT 1` too: two round trips.
    # (This is what the count would miss if it were taken from Django's query log.)
    result = _probe(database_url, KEYSTAND_DB_ENGINE="django.db.backends.postgresql")
    assert result["engine"] == "django.db.backends.postgresql"
    assert result["round_trips_per_request"] == 2
    assert result["status_after_server_dropped_connection"] == 200
    # Nor is anything sent ahead: this backend cannot keep an answer from meeting another query.
    _sent_nothing_ahead(result)
