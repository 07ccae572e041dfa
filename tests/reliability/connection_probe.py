"""
Run by tests/reliability/test_postgresql_connection.py in a process of its own, on a PostgreSQL
database of its own: how many round trips a token-authenticated request costs, counted by the
driver (libpq's protocol trace), and whether a connection the server dropped while idle costs a
failed request; and, for the token's lookup sent as the request arrives (access_tokens/ahead.py),
whether a request finds it on the wire, and what happens when it is not taken, when psycopg
forgot its statements, and when the server goes away before it answers.

Prints one JSON document on stdout.
"""

import io
import json
import os
import resource
import select
import sys
import tempfile
import time

import django

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402

from access_tokens import services  # noqa: E402
from tests.reliability.on_the_wire import OnTheWire  # noqa: E402

settings.MIDDLEWARE = [
    *settings.MIDDLEWARE[:1],
    "tests.reliability.on_the_wire.OnTheWire",
    *settings.MIDDLEWARE[1:],
]
assert settings.MIDDLEWARE[0] == "access_tokens.ahead.LookupAheadMiddleware"
HANDLER = get_wsgi_application()
REQUESTS = 20


def me(raw: str, path: str = "/api/v1/me/", **extra) -> int:
    env = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_AUTHORIZATION": f"Bearer {raw}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **extra,
    }
    statuses = []
    result = HANDLER(env, lambda status, headers, exc_info=None: statuses.append(status))
    try:
        b"".join(result)
    finally:
        result.close()  # fires request_finished, as gunicorn does
    return int(statuses[0][:3])


def round_trips_per_request(raw: str) -> float:
    """Count the server's ReadyForQuery messages (one per round trip) over REQUESTS requests."""
    pgconn = connection.connection.pgconn
    with tempfile.TemporaryFile() as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        statuses = [me(raw) for _ in range(REQUESTS)]
        pgconn.untrace()
        trace.seek(0)
        lines = trace.read().decode(errors="replace").splitlines()
    assert statuses == [200] * REQUESTS, statuses
    ready = sum(1 for line in lines if line.startswith("B") and "ReadyForQuery" in line)
    return ready / REQUESTS


def prepared_lookups() -> int:
    """How many token lookups this connection holds prepared on the server."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%access_tokens_accesstoken%digest%"],
        )
        return cursor.fetchone()[0]


def ahead(raw: str, admin_url: str) -> dict:
    """Where the lookup is sent ahead, and what happens around it."""
    found = {}
    OnTheWire.seen.clear()
    statuses = [me(raw) for _ in range(5)]
    found["sent_ahead"] = OnTheWire.seen[:]
    found["statuses"] = statuses
    # The token list's first page sends its own query (the page with the token in it).
    OnTheWire.seen.clear()
    statuses = [me(raw, "/api/v1/access-tokens/") for _ in range(3)]
    found["list"] = {"sent_ahead": OnTheWire.seen[:], "statuses": statuses}
    # A request refused before its view (a chunked body this server cannot read): the answer is
    # read and dropped by the time the response is made, and the next request is as usual.
    found["refused_before_the_view"] = me(raw, HTTP_TRANSFER_ENCODING="chunked")
    found["left_on_the_wire"] = connections["default"].__dict__.get("_ahead") is not None
    # A rollback makes psycopg drop every prepared statement (DEALLOCATE ALL): nothing is sent
    # ahead until the lookup has prepared its statement again, and no request fails.
    try:
        with transaction.atomic():
            get_user_model().objects.update(first_name="changed")
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    OnTheWire.seen.clear()
    statuses = [me(raw) for _ in range(3)]
    found["after_a_rollback"] = {"sent_ahead": OnTheWire.seen[:], "statuses": statuses}
    # The server goes away while the lookup waits for a lock (held here), so its answer is the
    # connection's end: that request is a 503 (the database is unavailable), and the next one
    # is served on a new connection.
    with psycopg.connect(f"{admin_url}/{settings.DATABASES['default']['NAME']}") as locker:
        locker.execute("LOCK TABLE access_tokens_accesstoken IN ACCESS EXCLUSIVE MODE")
        with psycopg.connect(f"{admin_url}/postgres", autocommit=True) as admin:
            pid = connection.connection.info.backend_pid
            OnTheWire.terminate_with = (admin, locker)
            OnTheWire.seen.clear()
            found["server_gone_before_it_answered"] = me(raw)
            found["server_gone_sent_ahead"] = OnTheWire.seen[:]
    found["then"] = me(raw)
    found["reconnected"] = connection.connection.info.backend_pid != pid
    return found


def many_files(raw: str) -> dict:
    """With over a thousand files open the database socket's descriptor is above 1023, which
    select() refuses: the health check and the lookup sent ahead must still work, and the
    connection must last from one request to the next."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2048:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(2048, hard), hard))
    connection.close()  # first, so that the next connection cannot take its descriptor back
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        OnTheWire.seen.clear()
        statuses, pids = [], []
        for _ in range(4):
            statuses.append(me(raw))
            pids.append(connection.connection.info.backend_pid)
        return {
            "fd": connection.connection.fileno(),
            "sent_ahead": OnTheWire.seen[:],
            "statuses": statuses,
            "connections": len(set(pids)),
        }
    finally:
        for fd in held:
            os.close(fd)


def main() -> None:
    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("probe", "probe@example.org", "x" * 20)
    _token, raw = services.create_access_token(user=user, expires_at=None)
    assert me(raw) == 200  # opens the connection and makes last_used fresh
    result = {
        "engine": settings.DATABASES["default"]["ENGINE"],
        "round_trips_per_request": round_trips_per_request(raw),
        "prepared_lookups": prepared_lookups(),
    }
    db = settings.DATABASES["default"]
    admin_url = f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    result["ahead"] = ahead(raw, admin_url)
    result["many_files"] = many_files(raw)
    # The server drops the idle connection, as a restart or failover does to every connection.
    pid = connection.connection.info.backend_pid
    with psycopg.connect(f"{admin_url}/postgres", autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 5
    fd = connection.connection.fileno()
    poller = select.poll()  # not select(): the descriptor may be above 1023 (many_files)
    poller.register(fd, select.POLLIN)
    while time.monotonic() < deadline and not poller.poll(50):
        pass
    result["status_after_server_dropped_connection"] = me(raw)
    result["reconnected"] = connection.connection.info.backend_pid != pid
    print(json.dumps(result))


if __name__ == "__main__":
    main()
