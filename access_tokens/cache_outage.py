"""
What an unreachable cache looks like, and a log that says so once a minute, not per request.

Throttles fail open on these errors (access_tokens/throttling.py): a token request must not
fail because Redis is restarting. The host project decides what other pages do (Keystand's
sign-in answers 503; config/middleware.py).
"""

from __future__ import annotations

import logging
import threading
import time

try:
    from redis.exceptions import RedisError
except ImportError:  # the app also runs on other cache backends

    class RedisError(Exception):  # type: ignore[no-redef]
        """Stands for redis-py's base error where redis-py is not installed."""


# A refused, reset or timed-out connection to Redis, the shared cache Keystand supports.
# (Not OSError: a refused SMTP connection is one too, and is no cache outage.)
CACHE_ERRORS: tuple[type[BaseException], ...] = (RedisError,)


def _now() -> float:
    return time.monotonic()


class OutageLog:
    """Log a warning at most once per `interval` seconds in this process, counting the rest,
    so an outage under load leaves a few lines rather than one per request."""

    def __init__(self, logger: logging.Logger, interval: float = 60.0) -> None:
        self.logger = logger
        self.interval = interval
        self._last: float | None = None
        self._suppressed = 0
        self._lock = threading.Lock()

    def warning(self, message: str, *args: object) -> None:
        with self._lock:
            now = _now()
            if self._last is not None and now - self._last < self.interval:
                self._suppressed += 1
                return
            self._last, suppressed, self._suppressed = now, self._suppressed, 0
        if suppressed:
            message += " (%d more since the last report)"
            args = (*args, suppressed)
        self.logger.warning(message, *args)
