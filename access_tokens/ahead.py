"""
The token's lookup, sent ahead of the question on PostgreSQL.

On PostgreSQL most of what a token adds to a request is waiting: one round trip for the token's
query, in which the worker has nothing to do. Yet nothing in that query depends on the view,
and DRF asks for it only after every middleware, the URL routing and the view's own setup have
run. So `LookupAheadMiddleware`, the first middleware, sends the query as the request arrives,
and the authentication reads the answer when it asks for it (lookup.py's `_fetch`): the
database works while Django does the rest (docs/performance.md).

It sends nothing unless the answer will be asked for, and changes no answer:

- the header must hold a well-formed token (checksum and all) in a scheme the view's
  authentication reads (AccessToken or Bearer, or Basic with the token as password);
- the view must authenticate with this app's token classes; what is sent is the lookup, or,
  where the view finds its token in a query of its own (`token_finder`: the token list's
  first page, listing.FirstPageFinder), that query;
- the connection must already be open (a request never connects twice), on Keystand's backend
  (config/db/postgresql: Django's own cannot keep an answer from meeting another query), with
  no pool and nothing watching the queries (a test's query count, DEBUG's log), which always
  sees the usual path;
- the statement sent is the one psycopg prepared for the lookup's own cursor, by name, and
  only while psycopg still holds it (`_statement`); with prepared statements off
  (DATABASE_PREPARED_STATEMENTS) there is none, so nothing is sent;
- the answer goes only to the lookup of the same statement with the same digest; the backend
  (config/db/postgresql) reads it before any other use of the connection (a cursor, a commit,
  a rollback), and this middleware, at the latest, when the response is made;
- a send that fails leaves the lookup to run as before; an error in the answer is raised where
  the lookup runs, inside Django's error wrapping, as it would have been raised there.

`ACCESS_TOKEN_LOOKUP_AHEAD = False` turns it off. SQLite answers in-process, with nothing to
wait for, so it never sends ahead.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import select
from collections.abc import Callable

from django.core.signals import setting_changed
from django.db import router
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.views.decorators.debug import sensitive_variables

from .authentication import AccessTokenAuthentication, AccessTokenBasicAuthentication
from .conf import token_settings
from .lookup import Plan, kept_cursor, token_by_digest
from .models import AccessToken
from .token_format import is_well_formed, token_digest

_BEARER = ("accesstoken", "bearer")
_PLACEHOLDER = re.compile(r"%(s|%)")


class LookupAheadMiddleware:
    """Send a token's lookup as the request arrives; see the module's docstring."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        header = request.META.get("HTTP_AUTHORIZATION")
        if header is None or not token_settings.LOOKUP_AHEAD:
            return self.get_response(request)
        connection = send_for(request, header)
        if connection is None:
            return self.get_response(request)
        try:
            return self.get_response(request)
        finally:
            connection.take_ahead(None)  # an answer nobody asked for (an early refusal)


@sensitive_variables("header", "raw")
def send_for(request: HttpRequest, header: str):
    """Send the query that will look up the token in `header`, if the request's view will ask
    for it: the view's own finder's (`token_finder`, which is then the request's), or the
    lookup. Return the connection it went on, or None if nothing was sent."""
    scheme, raw = _presented(header)
    if raw is None:
        return None
    view = _reading_view(request, scheme)
    if view is None:
        return None
    digest = token_digest(raw)
    token_finder = getattr(view, "token_finder", None)
    finder = token_finder(request) if token_finder is not None else None
    if finder is not None:
        request.token_finder = finder  # the one the view's authentication then asks (api.py)
        return finder.send_ahead(digest)
    planned = token_by_digest.plan_for(router.db_for_read(AccessToken))
    if planned is None or not send(planned, {"digest": digest}):
        return None
    return planned.connection


@sensitive_variables("header", "credentials", "decoded")
def _presented(header: str) -> tuple[str, str | None]:
    """Return (scheme, the well-formed token `header` presents, or None)."""
    parts = header.split()
    if len(parts) != 2:
        return "", None
    scheme, credentials = parts[0].lower(), parts[1]
    if scheme == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return scheme, None
        _, _, credentials = decoded.partition(":")
    elif scheme not in _BEARER:
        return scheme, None
    return scheme, credentials if is_well_formed(credentials) else None


def _reading_view(request: HttpRequest, scheme: str) -> type | None:
    """The view class for `request` if it authenticates tokens presented in `scheme`."""
    routed = _view_class(request.path_info, getattr(request, "urlconf", None))
    if routed is None:
        return None
    view, authentication_classes = routed
    reads = AccessTokenBasicAuthentication if scheme == "basic" else AccessTokenAuthentication
    return view if any(issubclass(c, reads) for c in authentication_classes) else None


@functools.lru_cache(maxsize=256)
def _view_class(path: str, urlconf) -> tuple[type, list] | None:
    """The DRF view class that `path` routes to, with the authentication classes it runs
    (`as_view()` may set its own), or None (no route, or not a DRF view)."""
    try:
        match = resolve(path, urlconf)
    except Resolver404:
        return None
    view = getattr(match.func, "cls", None)  # DRF's as_view() names its class so
    if not hasattr(view, "authentication_classes"):
        return None
    initkwargs = getattr(match.func, "initkwargs", {})
    return view, list(initkwargs.get("authentication_classes", view.authentication_classes))


def _forget_routes(*, setting: str, **kwargs) -> None:
    if setting == "ROOT_URLCONF":
        _view_class.cache_clear()


setting_changed.connect(_forget_routes)


def send(planned: Plan, values: dict) -> bool:
    """Send `planned` with these slot values without waiting for the answer; return whether it
    was sent. Its rows then go to the first `planned.run` with the same values."""
    connection = planned.connection
    raw = connection.connection
    sql, params = planned.fast_sql, planned.bind(values)
    if (
        raw is None
        or sql is None
        or not hasattr(connection, "sent_ahead")
        or connection.pool
        or raw.prepare_threshold is None
        or connection.queries_logged
        or connection.execute_wrappers
    ):
        return False
    connection.validate_thread_sharing()
    connection.take_ahead(None)  # nothing may be on the wire already
    connection.close_if_health_check_failed()
    raw = connection.connection
    if raw is None or connection.needs_rollback:
        return False
    name = _statement(connection, raw, sql)
    if name is None:
        return False
    from psycopg.adapt import PyFormat

    _, transformer = kept_cursor(connection)
    pgconn = raw.pgconn
    try:
        # As text, which the server reads by the types the statement was prepared with.
        dumped = transformer.dump_sequence(params, [PyFormat.TEXT] * len(params))
        pgconn.send_query_prepared(name, dumped)
    except Exception:
        return False  # nothing was sent: the lookup runs as usual (and meets the error there)
    connection.sent_ahead((sql, params), functools.partial(_read, pgconn, raw, transformer))
    return True


def _statement(connection, raw, sql: str) -> bytes | None:
    """Return the name psycopg prepared `sql` under on `raw` (the lookup's own cursor prepares
    it on first use, lookup.py), or None if it is not prepared now.

    psycopg keeps its statements' names in its own cache and drops them all (DEALLOCATE ALL)
    after a rollback or a DROP or ALTER; asking that cache on every send means never sending
    a statement the server no longer has. That cache is psycopg's internals (`_prepared`):
    should a future psycopg keep it otherwise, nothing is sent ahead and the lookup runs as
    usual (tests/access_tokens/test_ahead.py checks that it is sent ahead on this one)."""
    names = getattr(getattr(raw, "_prepared", None), "_names", None)
    if not isinstance(names, dict):
        return None
    kept = connection.__dict__.get("_ahead_keys")
    if kept is None or kept[0] is not raw:
        kept = connection.__dict__["_ahead_keys"] = (raw, {})
    key = kept[1].get(sql)
    if key is None:
        numbered = iter(range(1, sql.count("%s") + 1))
        server_sql = _PLACEHOLDER.sub(lambda m: "%" if m[1] == "%" else f"${next(numbered)}", sql)
        wanted = server_sql.encode()
        key = next((k for k in names if type(k) is tuple and k and k[0] == wanted), None)
        if key is None:
            return None
        kept[1][sql] = key
    return names.get(key)


def _read(pgconn, raw, transformer) -> list:
    """Wait for the answer on `pgconn` and return its rows, loaded as the lookup's own cursor
    loads them, or raise the error it carries."""
    import psycopg
    from psycopg import pq

    # poll(), not select(): select() refuses a descriptor above 1023, which a process with many
    # files open gives its database socket.
    while pgconn.flush():  # the send is normally out at once; a full socket buffer waits
        _wait(pgconn.socket, select.POLLOUT)
    pgconn.consume_input()
    while pgconn.is_busy():
        _wait(pgconn.socket, select.POLLIN)
        pgconn.consume_input()
    results = []
    while (result := pgconn.get_result()) is not None:
        results.append(result)
    for result in results:
        if result.status != pq.ExecStatus.TUPLES_OK:
            error = psycopg.errors.error_from_result(result, encoding=raw.info.encoding)
            raise error
    if len(results) != 1:
        raise psycopg.OperationalError(f"Expected one result, got {len(results)}.")
    transformer.set_pgresult(results[0])
    return transformer.load_rows(0, results[0].ntuples, tuple)


def _wait(fd: int, event: int) -> None:
    """Block until `fd` is ready for `event` (or has failed, which the next call reports)."""
    poller = select.poll()
    poller.register(fd, event)
    poller.poll()
