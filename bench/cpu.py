"""
CPU time by process under load, read from Linux's /proc: where a request's cost goes.

Requests/s say how much more one path costs than another, not where. Around each wrk run of
the load rounds (bench/load.py) this reads the CPU time used by gunicorn (its master and
workers), by the PostgreSQL server (the postmaster and every process under it: the workers'
backends, the background writers) and by wrk itself (the one child the run waits for), so
that the report can split a path's extra cost between the application, the database and the
load generator. A process that ends during a run (each worker's backend closes after
CONN_MAX_AGE, and the workers, started together, close theirs in the same round) takes what it
used with it: the reading says so, and the report leaves that round out of that column. Where
/proc is missing (not Linux) nothing is read and the report leaves the table out.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def available() -> bool:
    return (PROC / "self" / "stat").is_file()


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (which may hold spaces), or None
    for a process that is gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text.rpartition(")")[2].split()


def parent_of(pid: int) -> int | None:
    fields = _stat(pid)
    return None if fields is None else int(fields[1])


def _is_postgres(pid: int) -> bool:
    try:
        return (PROC / str(pid) / "comm").read_text().strip().startswith("postgres")
    except (FileNotFoundError, ProcessLookupError):
        return False


def children_of(parent: int) -> list[int]:
    """The processes whose parent is `parent` now."""
    found = []
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and int(fields[1]) == parent:
                found.append(int(entry.name))
    return found


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User plus system CPU time of each process still there."""
    times = {}
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            times[pid] = (int(fields[11]) + int(fields[12])) / _TICKS
    return times


def used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two readings: by the processes present at both, and all of a
    process's that only the second reading has (it started in between: a backend opened for
    a worker's new connection). A process that ended in between (a backend closed at
    CONN_MAX_AGE, a worker recycled) loses what it used since the first reading: /proc has no
    record of it any more (`ended` says whether that happened)."""
    return sum(spent - before.get(pid, 0.0) for pid, spent in after.items())


def ended(before: dict[int, float], after: dict[int, float]) -> int:
    """How many processes of the first reading are gone from the second: a reading with one
    is short by what they used between the two."""
    return sum(pid not in after for pid in before)


class Meter:
    """Reads, around one wrk run, the CPU used by a gunicorn (`server`: its pid) and by the
    PostgreSQL server whose postmaster is `postmaster` (None: not measured), and by the
    calling process's waited-for children (wrk)."""

    def __init__(self, server: int, postmaster: int | None) -> None:
        self.server, self.postmaster = server, postmaster

    def _pids(self) -> tuple[list[int], list[int]]:
        app = [self.server, *children_of(self.server)]
        db = [] if self.postmaster is None else [self.postmaster, *children_of(self.postmaster)]
        return app, db

    def start(self) -> None:
        app, db = self._pids()
        self._app, self._db = cpu_seconds(app), cpu_seconds(db)
        self._children = _children_cpu()

    def stop(self) -> dict[str, float | int | None]:
        """CPU seconds by kind since start(), and for the app and the database how many of
        the processes metered at start() had ended (their share of the run is missing)."""
        app, db = self._pids()
        app_after, db_after = cpu_seconds(app), cpu_seconds(db)
        return {
            "app_s": used(self._app, app_after),
            "database_s": used(self._db, db_after) if self.postmaster else None,
            "load_generator_s": _children_cpu() - self._children,
            "app_ended": ended(self._app, app_after),
            "database_ended": ended(self._db, db_after),
        }


def _children_cpu() -> float:
    times = os.times()
    return times.children_user + times.children_system


def postmaster_of(connection) -> int | None:
    """The PostgreSQL postmaster's pid, found from the backend serving `connection` (a
    Django connection), or None where that server is not a process on this machine (another
    host, a container with its own pids: the pid the server reports is then no postgres
    process here)."""
    if connection.vendor != "postgresql" or not available():
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    postmaster = parent_of(backend) if _is_postgres(backend) else None
    return postmaster if postmaster is not None and _is_postgres(postmaster) else None
