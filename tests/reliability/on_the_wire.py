"""A middleware for tests/reliability/connection_probe.py, in a module of its own so that the
probe (run as __main__) and Django's middleware loading share one class."""

import select

import psycopg
from django.db import connections


class OnTheWire:
    """Put right after the lookup-ahead middleware: notes, for each request, whether a query
    is then on the wire (sent ahead, not yet read); told to, it has the server end the
    connection at that moment (`terminate_with`: an admin connection, and the one holding the
    lock the lookup waits for, released once the server has said goodbye)."""

    seen: list[bool] = []
    terminate_with: "tuple[psycopg.Connection, psycopg.Connection] | None" = None

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        connection = connections["default"]  # the wrapper itself, not the proxy
        ahead = connection.__dict__.get("_ahead")
        OnTheWire.seen.append(ahead is not None and ahead[1] is not None)
        if OnTheWire.terminate_with is not None:
            (admin, locker), OnTheWire.terminate_with = OnTheWire.terminate_with, None
            pid = connection.connection.info.backend_pid
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
            poller = select.poll()
            poller.register(connection.connection.fileno(), select.POLLIN)
            poller.poll(5000)
            locker.rollback()
        return self.get_response(request)
