"""Fixtures for the tests that start Keystand in a process of its own."""

import contextlib
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection


@contextlib.contextmanager
def fresh_database(directory: Path) -> Iterator[str]:
    """Yield a DATABASE_URL for a Keystand process that a test starts: a new, empty database
    on the engine the suite runs on, so that production serving is tested end to end on
    PostgreSQL as well as SQLite.

    SQLite: a file in `directory`. PostgreSQL: a database of its own on the suite's server,
    named after the suite's database plus a random suffix (so parallel workers and other
    people's runs never share one), dropped afterwards.
    """
    db = settings.DATABASES["default"]
    if connection.vendor != "postgresql":
        yield f"sqlite:///{directory / 'db.sqlite3'}"
        return

    import psycopg

    name = f"{db['NAME'][:40]}_proc_{secrets.token_hex(4)}"
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    server = f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def tables_in(database_url: str) -> list[str]:
    """Return the names of the tables in a database made by fresh_database."""
    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        if not path.exists():
            return []
        with contextlib.closing(sqlite3.connect(path)) as conn:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            return [name for (name,) in rows]
    import psycopg

    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
        return [name for (name,) in rows]


@pytest.fixture
def fresh_database_url(tmp_path) -> Iterator[str]:
    """Return a DATABASE_URL of a new, empty database for a process the test starts."""
    with fresh_database(tmp_path) as url:
        yield url
