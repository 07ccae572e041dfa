"""
Planned queries: the token with a given digest, its owner joined (every token check), and the
API's default first page of a user's tokens, or of the owner of a digest (listing.py).

Django rebuilds a queryset's SQL on every execution, and for the lookup, run on every API
request, that was most of its cost (docs/performance.md, "Profiling"). So these queries are
planned once per thread and database, with Django's own pieces: the compiled SQL, the column
converters, and ModelIterable's recipe for turning a row into a model instance and its joined
relations (`get_related_populators`); each request only puts its own values (the digest; the
owner and the retention cutoff) in place of those the plan was compiled with. Those pieces are
Django internals, so:

- each planned query has its plain ORM twin, the reference (`orm_lookup` here,
  `listing.orm_first_page`); tests/access_tokens/test_lookup.py compares the two field by field
  on SQLite and PostgreSQL;
- if a future Django changes the internals so that a plan cannot be built (or a query's
  parameters cannot be told apart), that query logs one warning and uses its ORM twin from then
  on instead of failing every request.

The statement then goes straight to the driver's cursor, inside Django's own error wrapping,
unless something is watching the queries (a test's query count, DEBUG's query log, an execute
wrapper), which always sees the usual path:

- on SQLite, in SQLite's own placeholder style: Django's SQLite cursor rewrites `%s` to `?` with
  a regular expression on every execution, which was a fifth of the lookup's time;
- on PostgreSQL, through a server-binding psycopg cursor as a prepared statement. Django's
  cursors bind on the client and send the whole SQL text to be parsed and planned again on every
  request; prepared, the server plans it once per connection and each request sends only its
  values (`make bench` counts the round trips and the statements parsed at the driver).
  `DATABASE_PREPARED_STATEMENTS=false` turns it off (for a pooler that cannot keep prepared
  statements, such as PgBouncer before 1.21 in transaction mode); the queries then bind on
  the server without preparing, still in one round trip.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.db import connections, router
from django.db.models import Model, QuerySet, signals
from django.db.models.base import ModelState
from django.db.models.query import get_related_populators
from django.utils.dateparse import parse_datetime

from .models import AccessToken

logger = logging.getLogger(__name__)

_DIGEST_PLACEHOLDER = "digest placeholder"


class Plan:
    """A compiled query: its SQL (Django's, and the driver's own where it differs), its
    parameters with the positions of each variable one, and the row-to-instance recipe."""

    def __init__(self, queryset: QuerySet, db: str, slots: dict[str, Any]) -> None:
        """Compile `queryset`, built with `slots`' values as its variable parameters ({name:
        value as the compiler emits it}). Raise ValueError unless each slot's value is found
        among the parameters and no parameter could be two slots'."""
        compiler = queryset.query.get_compiler(db)
        sql, params = compiler.as_sql()
        self.sql, self.params = sql, list(params)
        self.slots: dict[str, list[int]] = {name: [] for name in slots}
        for at, param in enumerate(self.params):
            owners = [
                name
                for name, value in slots.items()
                if type(param) is type(value) and param == value
            ]
            if len(owners) > 1:
                raise ValueError(f"Slots {owners} have the same value; the plan is ambiguous.")
            if owners:
                self.slots[owners[0]].append(at)
        missing = [name for name, found in self.slots.items() if not found]
        if missing:
            raise ValueError(f"Not all slots are among the query's parameters: {missing}.")
        connection = connections[db]
        select, klass_info = compiler.select, compiler.klass_info
        converters = compiler.get_converters([s[0] for s in select[: compiler.col_count]])
        self.converters = [
            (at, _converter(convs, expression, connection))
            for at, (convs, expression) in converters.items()
        ]
        self.start = klass_info["select_fields"][0]
        self.end = klass_info["select_fields"][-1] + 1
        names = [s[0].target.attname for s in select[self.start : self.end]]
        self.build = _builder(klass_info["model"], names, db)
        self.populators = [
            _populator(populator) for populator in get_related_populators(klass_info, select, db)
        ]
        self.db = db
        # The thread's connection to `db`: a plan is its thread's (PlannedQuery), and Django
        # keeps one connection object per thread and alias for the thread's life. Asking
        # `connections` again on every run cost 5 % of what the lookup costs (asgiref's
        # thread-critical Local raises and catches a RuntimeError on each read). A caller
        # that adapts a slot's value as the compiler would uses it too.
        self.connection = connection
        self.fast_sql = _driver_sql(connection.vendor, sql, select)
        self.generation = _generation

    def bind(self, values: dict[str, Any]) -> list:
        """Return the query's parameters with these slot values in place."""
        params = self.params.copy()
        for name, positions in self.slots.items():
            for at in positions:
                params[at] = values[name]
        return params

    def run(self, values: dict[str, Any]) -> list:
        """Return the instances the query finds with these slot values."""
        rows = _fetch(self.connection, self.sql, self.fast_sql, self.bind(values))
        build, start, end, converters = self.build, self.start, self.end, self.converters
        found = []
        for row in rows:
            if converters:
                row = list(row)
                for at, convert in converters:
                    row[at] = convert(row[at])
            instance = build(row[start:end])
            for populate in self.populators:
                populate(row, instance)
            found.append(instance)
        return found


# Bumped whenever a setting that a plan's converters depend on changes (override_settings);
# a plan from an older generation is built again.
_generation = 0
_PLAN_SETTINGS = {"USE_TZ", "TIME_ZONE", "DATABASES"}


def _new_generation(*, setting: str, **kwargs) -> None:
    global _generation
    if setting in _PLAN_SETTINGS:
        _generation += 1


setting_changed.connect(_new_generation)


def _converter(convs: list, expression, connection) -> Callable[[Any], Any]:
    """Return fn(value) -> what Django's converters for this column make of it.

    SQLite's datetimes are the one exception to calling Django's own: Django's converter
    reads settings.USE_TZ and the connection's zone for each value just to attach the zone;
    here both are read once, when the plan is built (and again after either changes). The
    value comes as text on the fast path (see _undeclared) and as a naive datetime through
    Django's cursor (the driver's converter that Django registers); both end the same.

    Where the connection's zone is UTC (no TIME_ZONE in DATABASES, the default), the text is
    read with a "+00:00" offset added, so that it comes out aware in one step: setting the zone
    afterwards (`replace(tzinfo=...)`) cost several times the parsing itself, and a token's
    lookup reads three to five such values. Text that already has an offset, a date alone, or
    anything else that this reading refuses or leaves naive goes the usual way."""
    ops = connection.ops
    if (
        connection.vendor == "sqlite"
        and convs == [ops.convert_datetimefield_value]
        and settings.USE_TZ
    ):
        zone, convert = connection.timezone, ops.convert_datetimefield_value
        in_utc = zone is dt.UTC
        read_iso = dt.datetime.fromisoformat

        def aware(value):
            if value is None:
                return None
            if type(value) is str:
                if in_utc:
                    try:
                        read = read_iso(value + "+00:00")
                    except ValueError:
                        pass
                    else:
                        # A date alone takes the offset for a time of day: it comes back naive.
                        if read.tzinfo is zone:
                            return read
                value = parse_datetime(value)  # what the driver's converter does with it
            if type(value) is dt.datetime and value.tzinfo is None:
                return value.replace(tzinfo=zone)
            return convert(value, expression, connection)

        return aware
    if len(convs) == 1:
        (only,) = convs
        return lambda value: only(value, expression, connection)

    def chain(value):
        for convert in convs:
            value = convert(value, expression, connection)
        return value

    return chain


def _builder(model: type[Model], names: list[str], db: str) -> Callable[[Any], Model]:
    """Return fn(values) -> the instance model.from_db(db, names, values) gives.

    For a model that builds its instances the standard way (Django's from_db and __init__,
    every concrete field fetched) the instance's fields are filled in directly: what
    Model.__init__ would do for them one setattr at a time, with no signal sent. Anything
    else, or once any pre_init/post_init receiver is connected, goes through from_db."""

    def standard(values):
        return model.from_db(db, names, values)

    if (
        model.from_db.__func__ is not Model.from_db.__func__
        or model.__init__ is not Model.__init__
        or model.__setattr__ is not Model.__setattr__
        or names != [f.attname for f in model._meta.concrete_fields]
    ):
        return standard
    new, pre_init, post_init = model.__new__, signals.pre_init, signals.post_init

    def direct(values):
        if pre_init.receivers or post_init.receivers:
            return standard(values)
        instance = new(model)
        fields = instance.__dict__
        fields.update(zip(names, values, strict=True))
        state = fields["_state"] = ModelState()
        state.adding = False
        state.db = db
        return instance

    return direct


def _populator(populator) -> Callable[[Any, Model], None]:
    """Return fn(row, instance) that does what `populator.populate` (a RelatedPopulator of
    select_related) does, building the related instance as `_builder` does."""
    if populator.reorder_for_init or populator.related_populators:
        return populator.populate
    start, end, pk_at = populator.cols_start, populator.cols_end, populator.pk_idx
    build = _builder(populator.model_cls, populator.init_list, populator.db)
    local_setter, remote_setter = populator.local_setter, populator.remote_setter

    def populate(row, instance):
        values = row[start:end]
        related = None if values[pk_at] is None else build(values)
        local_setter(instance, related)
        if related is not None:
            remote_setter(related, instance)

    return populate


def _driver_sql(vendor: str, sql: str, select: list) -> str | None:
    """Return `sql` in the driver's own placeholder style (on SQLite, its columns undeclared),
    or None where the plan goes through Django's cursor."""
    if vendor == "sqlite":
        from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX

        return FORMAT_QMARK_REGEX.sub("?", _undeclared(sql, select)).replace("%%", "%")
    if vendor == "postgresql":
        from django.db.backends.postgresql import psycopg_any  # only where psycopg is installed

        if psycopg_any.is_psycopg3:
            return sql  # psycopg's server-binding cursor takes %s placeholders itself
    return None


def _undeclared(sql: str, select: list) -> str:
    """Return SQLite's `sql` with each selected column behind SQLite's no-op unary `+`, named
    by its position.

    Django opens SQLite connections with PARSE_DECLTYPES, so for every statement the driver
    reads each result column's declared type, upper-cases it and looks for a converter, then
    runs the ones it finds (datetimes, booleans) in Python. An expression has no declared
    type, so `+"table"."column"` comes back as stored, and the plan's converters, Django's own
    for each field, turn it into what the ORM gives (tests/access_tokens/test_lookup.py
    compares them field by field). The driver also decodes every column's name into
    `cursor.description` on each execution, which nothing here reads: `AS "7"` keeps those
    names short. For the thirty columns of the token and its owner the lookup's execution went
    from 13.8 to 9.7 µs in a loop (measured while writing this), about a tenth of what token
    authentication adds to a request once the caches are cold. A select list that is not what
    this expects (aliases, another layout) is left as it is: slower, same answers.
    """
    columns = []
    for _expression, (column, _params), alias in select:
        if alias is not None:
            return sql
        columns.append(column)
    keyword, _, rest = sql.partition(" ")
    listed = ", ".join(columns)
    if keyword != "SELECT" or not rest.startswith(listed + " FROM "):
        return sql
    undeclared = ", ".join(f'+{column} AS "{at}"' for at, column in enumerate(columns))
    return " ".join((keyword, undeclared)) + rest[len(listed) :]


def _load_timestamps_natively(connection, cursor) -> None:
    """Read timestamptz on `cursor` with psycopg's own loader (compiled, with psycopg[binary])
    where it gives exactly what Django's gives: Django wants aware UTC values (USE_TZ, no
    database TIME_ZONE) and the session's TimeZone is UTC (Django sets it so), so both make
    the same instant with `datetime.timezone.utc`. Django's loader is a Python subclass of
    psycopg's Python one: it parses each value in Python, then puts the same UTC back in. That
    was 8-12 µs a value on this project's machines, and a page of the list reads about ten:
    callgrind counted 11.7% fewer instructions per list request with psycopg's loader
    (measured while writing this; tests/access_tokens/test_lookup.py compares the values,
    tzinfo included, with the ORM's). Elsewhere Django's loader stays."""
    from psycopg import adapters, pq
    from psycopg.postgres import types

    if connection.timezone is not dt.UTC or cursor.connection.info.timezone is not dt.UTC:
        return
    oid = types["timestamptz"].oid
    for fmt in (pq.Format.TEXT, pq.Format.BINARY):
        loader = adapters.get_loader(oid, fmt)
        if loader is not None:
            cursor.adapters.register_loader(oid, loader)


def kept_cursor(connection) -> tuple[Callable, Any]:
    """Return (execute, transformer) for the driver's own cursor, kept for the connection's
    life: SQLite's, or on PostgreSQL a server-binding psycopg cursor (Django's connection hands
    out client-binding ones, which are never prepared), prepared on first use when the
    connection allows it (prepare_threshold is not None: settings.DATABASE_PREPARED_STATEMENTS).
    `execute(sql, params)` runs a query on it; on PostgreSQL `transformer` is a psycopg
    Transformer with the cursor's adapters, which dumps values and loads rows as the cursor
    does (ahead.py), and None elsewhere."""
    raw = connection.connection
    kept = connection.__dict__.get("_planned_query_cursor")
    if kept is None or kept[0] is not raw:
        # A cursor is tied to its connection: a new one after Django reconnects. Making one
        # per query cost ~20 µs a request on PostgreSQL (psycopg copies its adapters).
        if connection.vendor == "postgresql":
            import psycopg
            from psycopg.adapt import Transformer

            cursor = psycopg.Cursor(raw)
            _load_timestamps_natively(connection, cursor)
            execute = functools.partial(cursor.execute, prepare=True)
            transformer = Transformer(cursor)
        else:
            execute, transformer = raw.cursor().execute, None
        kept = connection.__dict__["_planned_query_cursor"] = (raw, execute, transformer)
    return kept[1], kept[2]


def _driver_fetch(connection, sql: str, params: list) -> list:
    """Run `sql` on the driver's kept cursor (kept_cursor). Every row is fetched, so no
    statement is left open (on SQLite an open one would hold its read lock)."""
    return kept_cursor(connection)[0](sql, params).fetchall()


def _fetch(connection, sql: str, fast_sql: str | None, params: list) -> list:
    if fast_sql is not None and not connection.queries_logged and not connection.execute_wrappers:
        # What Django's cursor does around a query, minus its per-execution SQL handling.
        connection.close_if_health_check_failed()
        connection.ensure_connection()
        connection.validate_thread_sharing()
        connection.validate_no_broken_transaction()
        with connection.wrap_database_errors:
            if connection.__dict__.get("_ahead") is not None:
                # Sent as the request arrived (ahead.py): its answer if it is this query.
                rows = connection.take_ahead((fast_sql, params))
                if rows is not None:
                    return rows
            return _driver_fetch(connection, fast_sql, params)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


class PlannedQuery(threading.local):
    """A query planned once per thread and database by `planner(db)` (a Plan), with its
    ORM twin for when planning fails; `what` names it in the one warning that then says so."""

    def __init__(self, planner: Callable[..., Plan], what: str) -> None:
        self.planner = planner
        self.what = what
        self.plans: dict[str, Plan | None] = {}

    def plan_for(self, db: str, *args) -> Plan | None:
        """Return the plan for `db` (built by planner(db, *args) the first time), or None,
        after one warning, if it cannot be built."""
        planned = self.plans.get(db, False)
        if planned is not False and (planned is None or planned.generation == _generation):
            return planned
        try:
            planned = self.planner(db, *args)
        except Exception:
            logger.warning(
                "Could not plan %s on this Django version; using the plain ORM query instead "
                "(slower, same answers).",
                self.what,
                exc_info=True,
            )
            planned = None
        self.plans[db] = planned
        return planned


def orm_lookup(digest: str, using: str | None = None) -> AccessToken | None:
    """Return the token with this digest, its owner joined, with the plain ORM."""
    db = using or router.db_for_read(AccessToken)
    return AccessToken.objects.using(db).select_related("user").filter(digest=digest).first()


def plan(db: str) -> Plan:
    """Plan the lookup by digest for database `db`."""
    queryset = AccessToken.objects.using(db).select_related("user")
    queryset = queryset.filter(digest=_DIGEST_PLACEHOLDER).order_by()[:1]
    return Plan(queryset, db, {"digest": _DIGEST_PLACEHOLDER})


class DigestLookup(PlannedQuery):
    """`lookup(digest)`: the token with this digest, its owner joined, or None.

    `planner` builds the plan for a database (`plan` above); when it fails the lookup uses
    `orm_lookup` from then on, after one warning.
    """

    def __init__(self, planner: Callable[[str], Plan] = plan) -> None:
        super().__init__(planner, "the token lookup")

    def __call__(self, digest: str) -> AccessToken | None:
        db = router.db_for_read(AccessToken)
        planned = self.plan_for(db)
        if planned is None:
            return orm_lookup(digest, db)
        found = planned.run({"digest": digest})
        return found[0] if found else None


token_by_digest = DigestLookup()
