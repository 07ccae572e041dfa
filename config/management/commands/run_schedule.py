"""
Run the periodic commands on their schedule, for hosts without a cron (docker compose).

Kubernetes runs the same commands from CronJobs instead (deploy/kubernetes/). One process of
this command per deployment: two would run every job twice.
"""

from __future__ import annotations

import datetime as dt
import signal
import threading
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.utils import timezone

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Job:
    """A management command run every day (weekday None) or every week, at a local time."""

    command: str
    at: dt.time
    weekday: int | None = None
    args: tuple[str, ...] = ()

    def describe(self) -> str:
        when = "daily" if self.weekday is None else f"weekly on {WEEKDAYS[self.weekday]}"
        command = " ".join((self.command, *self.args))
        return f"{command} ({when} at {self.at.isoformat()} {settings.TIME_ZONE})"


def next_run(job: Job, after: dt.datetime) -> dt.datetime:
    """Return the first time strictly after `after` at which `job` is due, in TIME_ZONE.

    Wall-clock times: 06:00 stays 06:00 across daylight-saving changes (a time that does not
    exist that day runs at the same offset as before the change, an hour later in spring).
    """
    zone = ZoneInfo(settings.TIME_ZONE)
    local = after.astimezone(zone)
    day = local.date()
    if job.weekday is not None:
        day += dt.timedelta(days=(job.weekday - day.weekday()) % 7)
    step = dt.timedelta(days=1 if job.weekday is None else 7)
    while True:
        # Through UTC, so a time skipped by a DST change lands on a real instant.
        candidate = dt.datetime.combine(day, job.at, tzinfo=zone).astimezone(dt.UTC)
        if candidate > after:
            return candidate
        day += step


def _time(value: str) -> dt.time:
    try:
        return dt.time.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Expected a time such as 06:00 or 06:00:30, not {value!r}.") from None


def _weekly(value: str) -> tuple[int, dt.time]:
    day, _, time = value.strip().partition(" ")
    if day.lower()[:3] not in WEEKDAYS or not time:
        raise CommandError(f"Expected a day and a time such as 'sun 03:00', not {value!r}.")
    return WEEKDAYS.index(day.lower()[:3]), _time(time)


class Command(BaseCommand):
    help = (
        "Run notify_expiring_tokens daily and purge_access_token_events weekly, at fixed "
        "local times (TIME_ZONE), until stopped (SIGTERM or Ctrl-C). For docker compose; "
        "on Kubernetes the CronJobs do this."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--notify-at",
            default="06:00",
            metavar="HH:MM",
            help="When to email owners about tokens that expire soon, daily (default: 06:00).",
        )
        parser.add_argument(
            "--purge-at",
            default="sun 03:00",
            metavar="'DAY HH:MM'",
            help="When to purge old audit events, weekly (default: 'sun 03:00').",
        )
        parser.add_argument(
            "--keep-events-days",
            default="365",
            metavar="DAYS",
            help="The purge deletes audit events older than this (default: 365).",
        )
        parser.add_argument(
            "--list",
            action="store_true",
            dest="list_only",
            help="Print the next run of each job and exit.",
        )

    def handle(self, *args, notify_at, purge_at, keep_events_days, list_only, **options) -> None:
        weekday, purge_time = _weekly(purge_at)
        jobs = [
            Job("notify_expiring_tokens", _time(notify_at), args=("--within", "7")),
            Job(
                "purge_access_token_events",
                purge_time,
                weekday,
                args=("--older-than", keep_events_days),
            ),
        ]
        due = {job: next_run(job, timezone.now()) for job in jobs}
        for job in jobs:
            self.stdout.write(f"Scheduled {job.describe()}; next run {due[job].isoformat()}.")
        if list_only:
            return

        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())

        while not stop.is_set():
            job = min(jobs, key=due.__getitem__)
            wait = (due[job] - timezone.now()).total_seconds()
            if wait > 0:
                # Wake at least once a minute, so a clock that jumps is noticed.
                stop.wait(min(wait, 60))
                continue
            self._run(job)
            due[job] = next_run(job, timezone.now())
            self.stdout.write(f"Next run of {job.command}: {due[job].isoformat()}.")
        self.stdout.write("Stopped.")

    def _run(self, job: Job) -> None:
        """Run one job; a failure is reported and the schedule goes on."""
        self.stdout.write(f"Running {job.command}.")
        try:
            call_command(job.command, *job.args, stdout=self.stdout, stderr=self.stderr)
        except Exception as exc:  # noqa: BLE001 - one bad run must not stop the schedule
            self.stderr.write(f"{job.command} failed: {exc!r}")
        else:
            self.stdout.write(f"Finished {job.command}.")
        finally:
            # The next run may be a day away: no connection should sit open (or stale) until then.
            connections.close_all()
        self.stdout.flush()
