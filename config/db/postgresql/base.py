"""
Django's PostgreSQL backend with a health check that costs no round trip.

With CONN_HEALTH_CHECKS, Django checks a reused connection before its first query in each
request by sending `SELECT 1`: on a token-authenticated API request that is half of the
database work (the other half is the token lookup). The check exists for one case: the server
went away while the connection sat idle (a restart, a failover, an idle timeout). In that case
the server has said goodbye on the socket (a FATAL "terminating connection" message, then EOF),
so the socket of an idle connection becomes readable; a healthy idle connection has nothing to
read. Asking the kernel (`select` with no timeout) answers the same question without leaving
the machine. A connection whose server vanished without a word (a cut network) is still caught
the old way: its query fails, the request answers 503 (config/middleware.py), and Django checks
it with a real `SELECT 1` before the next request (`errors_occurred`).

`make soak` stops PostgreSQL under load and checks that service returns within 5 seconds with
no 500s; `tests/reliability/test_reconnect.py` restarts a real server under a live connection.
"""

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
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
        try:
            readable, _, _ = select.select([connection.fileno()], [], [], 0)
        except (OSError, ValueError):
            return True
        # Nothing is due on an idle connection: anything to read is the server's goodbye (or a
        # notice we would discard anyway). Reconnecting costs a connect, never a wrong answer.
        return bool(readable)
