"""
Django's PostgreSQL backend with a health check that costs no round trip.

With CONN_HEALTH_CHECKS, Django checks a reused connection before its first query in each
request by sending `SELECT 1`: on a token-authenticated API request that is half of the
database work (the other half is the token lookup). The check exists for one case: the server
went away while the connection sat idle (a restart, a failover, an idle timeout). In that case
the server has said goodbye on the socket (a FATAL "terminating connection" message, then EOF),
so the socket of an idle connection becomes readable; a healthy idle connection has nothing to
read. Asking the kernel (`poll` with no timeout) answers the same question without leaving
the machine. A connection whose server vanished without a word (a cut network) is still caught
the old way: its query fails, the request answers 503 (config/middleware.py), and Django checks
it with a real `SELECT 1` before the next request (`errors_occurred`).

`make soak` stops PostgreSQL under load and checks that service returns within 5 seconds with
no 500s; `tests/reliability/test_reconnect.py` restarts a real server under a live connection.

It also keeps a query sent ahead of its answer (the token lookup, access_tokens/ahead.py) from
ever meeting another use of the connection: whatever comes first, a cursor, a commit, a
rollback, a change of autocommit, the health check, reads the answer first and keeps it for the
lookup (`settle`); closing the connection drops it.
"""

import select
from collections.abc import Callable

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    # A query sent ahead (ahead.py): (its key, fn() -> its answer while still on the wire, or
    # None once read, (rows, error) once read), or None.
    _ahead: tuple | None = None

    def sent_ahead(self, key: object, read: Callable[[], list]) -> None:
        """Note that a query is on the wire; `read()` waits for its rows (or raises)."""
        self._ahead = (key, read, None)

    def settle(self) -> None:
        """Read the answer of a query sent ahead, if it is still on the wire, and keep it."""
        ahead = self._ahead
        if ahead is not None and ahead[1] is not None:
            key, read, _ = ahead
            self._ahead = None  # whatever happens while reading, it is not read twice
            try:
                answer = (read(), None)
            except Exception as e:
                answer = (None, e)
            self._ahead = (key, None, answer)

    def take_ahead(self, key: object) -> list | None:
        """Return the rows of the query sent ahead with `key` (or raise its error), or None if
        no query was sent ahead or another was; either way the answer is gone afterwards."""
        self.settle()
        ahead, self._ahead = self._ahead, None
        if ahead is None or ahead[0] != key:
            return None
        rows, error = ahead[2]
        if error is not None:
            raise error
        return rows

    def create_cursor(self, name=None):
        self.settle()
        return super().create_cursor(name)

    def _commit(self):
        self.settle()
        return super()._commit()

    def _rollback(self):
        self.settle()
        return super()._rollback()

    def _set_autocommit(self, autocommit):
        self.settle()
        return super()._set_autocommit(autocommit)

    def is_usable(self):
        self.settle()
        return super().is_usable()

    def _close(self):
        self._ahead = None  # closing the connection drops the answer with it
        return super()._close()

    def close_if_health_check_failed(self) -> None:
        # An answer on the wire would look like the server's goodbye: read it first.
        self.settle()
        if (
            self.connection is None
            or self.pool
            or not self.health_check_enabled
            or self.health_check_done
        ):
            return super().close_if_health_check_failed()
        if self._closed_by_server():
            self.close()
        self.health_check_done = True

    def _closed_by_server(self) -> bool:
        """Return whether the idle connection is known dead, without a round trip."""
        connection = self.connection
        if connection.closed or connection.broken:
            return True
        # poll(), not select(): select() refuses a descriptor above 1023, and a process with
        # many files open would then have reconnected before every request.
        try:
            poller = select.poll()
            poller.register(connection.fileno(), select.POLLIN)
            ready = poller.poll(0)
        except (OSError, ValueError):
            return True
        # Nothing is due on an idle connection: anything to read is the server's goodbye (or a
        # notice we would discard anyway), and a hang-up or error says the same. Reconnecting
        # costs a connect, never a wrong answer.
        return bool(ready)
