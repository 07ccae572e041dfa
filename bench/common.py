"""What every part of the benchmark shares: paths, the environment, the databases."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").is_dir() else sys.executable
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PG_DB = os.environ.get("BENCH_PG_DB", "keystand_bench")


def pg_url(dbname: str = PG_DB) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + dbname


def bench_env(database_url: str, **extra: str) -> dict[str, str]:
    """Return a production-like environment that ignores .env and uses the bench's own DB."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "KEYSTAND_ENV_FILE": "",
            "DEBUG": "false",
            "SECRET_KEY": "bench-only-secret-key-not-for-production-00000000000000000000",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_COOKIES": "false",
            "SECURE_HSTS_SECONDS": "0",
            "CACHE_URL": "locmemcache://",
            "EMAIL_URL": "dummymail://",
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": database_url,
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update(extra)
    return env


def recreate_pg_database(dbname: str = PG_DB) -> None:
    """Drop and create the bench's PostgreSQL database, so every run starts empty."""
    import psycopg

    with psycopg.connect(pg_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}"')
