"""
The query behind every token check: the token with a given digest, its owner joined.

Django rebuilds a queryset's SQL on every execution, and for this one query, run on every API
request, that was most of its cost (docs/performance.md, "Profiling"). So the query is planned
once per thread and database, with Django's own pieces: the compiled SQL, the column
converters, and ModelIterable's recipe for turning a row into a token and its user
(`get_related_populators`). Those pieces are Django internals, so:

- `orm_lookup` is the plain ORM query, the reference; tests/access_tokens/test_lookup.py
  compares the two field by field on SQLite and PostgreSQL;
- if a future Django changes the internals so that the plan cannot be built, the lookup logs
  one warning and falls back to `orm_lookup` instead of failing every request.

The statement then goes straight to the driver's cursor, inside Django's own error wrapping,
unless something is watching the queries (a test's query count, DEBUG's query log, an execute
wrapper), which always sees the usual path:

- on SQLite, in SQLite's own placeholder style: Django's SQLite cursor rewrites `%s` to `?` with
  a regular expression on every execution, which was a fifth of the lookup's time;
- on PostgreSQL, through a server-binding psycopg cursor as a prepared statement. Django's
  cursors bind on the client and send the whole SQL text to be parsed and planned again on every
  request; prepared, the server plans it once per connection and each request sends only the
  digest (`make bench` counts the round trips and the statements parsed at the driver).
  `DATABASE_PREPARED_STATEMENTS=false` turns it off (for a pooler that cannot keep prepared
  statements, such as PgBouncer before 1.21 in transaction mode); the lookup then binds on
  the server without preparing, still in one round trip.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from django.db import connections, router
from django.db.models.query import get_related_populators

from .models import AccessToken

logger = logging.getLogger(__name__)

_PLACEHOLDER = "digest placeholder"


def orm_lookup(digest: str, using: str | None = None) -> AccessToken | None:
    """Return the token with this digest, its owner joined, with the plain ORM."""
    db = using or router.db_for_read(AccessToken)
    return AccessToken.objects.using(db).select_related("user").filter(digest=digest).first()


def plan(db: str) -> tuple:
    """Compile the lookup for database `db`: SQL, parameters, and the row-to-token recipe."""
    queryset = AccessToken.objects.using(db).select_related("user")
    queryset = queryset.filter(digest=_PLACEHOLDER).order_by()[:1]
    compiler = queryset.query.get_compiler(db)
    sql, params = compiler.as_sql()
    params = list(params)
    select, klass_info = compiler.select, compiler.klass_info
    converters = compiler.get_converters([s[0] for s in select[: compiler.col_count]])
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    names = [s[0].target.attname for s in select[start:end]]
    populators = get_related_populators(klass_info, select, db)
    at = params.index(_PLACEHOLDER)
    fast_sql = None
    vendor = connections[db].vendor
    if vendor == "sqlite":
        from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX

        fast_sql = FORMAT_QMARK_REGEX.sub("?", sql).replace("%%", "%")
    elif vendor == "postgresql":
        from django.db.backends.postgresql import psycopg_any  # only where psycopg is installed

        if psycopg_any.is_psycopg3:
            fast_sql = sql  # psycopg's server-binding cursor takes %s placeholders itself
    return sql, params, at, compiler, converters, start, end, names, populators, fast_sql


def _driver_fetchone(connection, sql: str, params: list) -> tuple | None:
    """Run `sql` on the driver's own cursor: SQLite's, or on PostgreSQL a server-binding
    psycopg cursor (Django's connection hands out client-binding ones, which are never
    prepared), prepared on first use when the connection allows it (prepare_threshold is not
    None: settings.DATABASE_PREPARED_STATEMENTS)."""
    if connection.vendor == "postgresql":
        import psycopg

        with psycopg.Cursor(connection.connection) as cursor:
            return cursor.execute(sql, params, prepare=True).fetchone()
    cursor = connection.connection.cursor()
    try:
        return cursor.execute(sql, params).fetchone()
    finally:
        cursor.close()


def _fetch(db: str, sql: str, fast_sql: str | None, params: list) -> tuple | None:
    connection = connections[db]
    if fast_sql is not None and not connection.queries_logged and not connection.execute_wrappers:
        # What Django's cursor does around a query, minus its per-execution SQL handling.
        connection.close_if_health_check_failed()
        connection.ensure_connection()
        connection.validate_thread_sharing()
        connection.validate_no_broken_transaction()
        with connection.wrap_database_errors:
            return _driver_fetchone(connection, fast_sql, params)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


class DigestLookup(threading.local):
    """`lookup(digest)`: the token with this digest, its owner joined, or None.

    `planner` builds the plan for a database (`plan` above); when it fails the lookup uses
    `orm_lookup` from then on, after one warning.
    """

    def __init__(self, planner: Callable[[str], tuple] = plan) -> None:
        self.planner = planner
        self.plans: dict[str, Any] = {}

    def _plan_for(self, db: str):
        try:
            return self.planner(db)
        except Exception:
            logger.warning(
                "Could not plan the token lookup on this Django version; using the plain ORM "
                "query instead (slower, same answers).",
                exc_info=True,
            )
            return None

    def __call__(self, digest: str) -> AccessToken | None:
        db = router.db_for_read(AccessToken)
        if db not in self.plans:
            self.plans[db] = self._plan_for(db)
        planned = self.plans[db]
        if planned is None:
            return orm_lookup(digest, db)
        sql, params, at, compiler, converters, start, end, names, populators, fast = planned
        params = params.copy()
        params[at] = digest
        row = _fetch(db, sql, fast, params)
        if row is None:
            return None
        if converters:
            row = next(compiler.apply_converters([row], converters))
        token = AccessToken.from_db(db, names, row[start:end])
        for populator in populators:
            populator.populate(row, token)
        return token


token_by_digest = DigestLookup()
