"""
The soak's fault: PostgreSQL stopped midway through the run and started again.

A fault that silently does not happen would let the recovery checks pass on nothing, so the
fault thread keeps evidence that it happened (when the stop was asked for, how many times the
database was then seen down, when it answered again) and any exception it met; so does the
/readyz probe. The report fails the run unless that evidence is there (report.fault_check).
"""

from __future__ import annotations

import subprocess
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

from soak.service import Server, log, wait_for

PROBE_INTERVAL = 0.25  # seconds between two looks at the database while it should be down


@dataclass
class Outage:
    planned: bool = True  # False only with --no-outage, whose run must FAIL
    length: float = 0.0  # how long the database should stay down, in seconds
    down_at: float | None = None  # the stop was asked for
    up_at: float | None = None  # the database answered again after the start
    seen_down: int = 0  # looks at the database, between stop and start, that found it down
    seen_up: int = 0  # ... that found it answering (the stop did not hold)
    readyz: list[tuple[float, int]] = field(default_factory=list)  # (time, status) of /readyz
    errors: list[str] = field(default_factory=list)  # exceptions in the fault or probe thread


def _describe(exc: BaseException) -> str:
    text = "".join(traceback.format_exception_only(exc)).strip()
    if isinstance(exc, subprocess.CalledProcessError) and exc.stderr:
        text += f" ({exc.stderr.strip()[:300]})"
    return text


class Fault(threading.Thread):
    """Stop the database `at` seconds after `start`, keep it down for the outage's length,
    watching that it really is down, then start it and wait until it answers again."""

    def __init__(
        self,
        outage: Outage,
        *,
        start: float,
        at: float,
        stop_database: Callable[[], object],
        start_database: Callable[[], object],
        database_ready: Callable[[], bool],
    ) -> None:
        super().__init__(name="fault", daemon=True)
        self.outage = outage
        self.when = start + at
        self.stop_database = stop_database
        self.start_database = start_database
        self.database_ready = database_ready

    def run(self) -> None:
        try:
            self._run()
        except BaseException as e:  # noqa: BLE001  (the report must see it, not the thread)
            self.outage.errors.append(f"fault thread: {_describe(e)}")
            log(f"The fault failed: {_describe(e)}")

    def _run(self) -> None:
        time.sleep(max(0.0, self.when - time.time()))
        if not self.outage.planned:
            log("No outage (--no-outage): this run must FAIL its fault checks")
            return
        log(f"Stopping PostgreSQL for {self.outage.length:.0f} s")
        self.outage.down_at = time.time()
        self.stop_database()
        deadline = self.outage.down_at + self.outage.length
        while time.time() < deadline:
            if self.database_ready():
                self.outage.seen_up += 1
            else:
                self.outage.seen_down += 1
            time.sleep(PROBE_INTERVAL)
        self.start_database()
        wait_for(self.database_ready, 30, "PostgreSQL to come back")
        self.outage.up_at = time.time()
        log("PostgreSQL is back")


class ReadyzProbe(threading.Thread):
    """Ask /readyz ten times a second until told to stop, noting each answer."""

    def __init__(self, outage: Outage, server: Server, stop: threading.Event) -> None:
        super().__init__(name="readyz", daemon=True)
        self.outage = outage
        self.server = server
        self.stop = stop

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                try:
                    headers = {"Host": self.server.host_header}
                    status = self.server.request("GET", "/readyz", headers, None, 5)[0]
                except OSError:
                    status = 0
                self.outage.readyz.append((time.time(), status))
                time.sleep(0.1)
        except BaseException as e:  # noqa: BLE001
            self.outage.errors.append(f"readyz probe: {_describe(e)}")
