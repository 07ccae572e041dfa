"""run_schedule: the periodic commands on a schedule, for docker compose's `scheduler`."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config.management.commands.run_schedule import Job, next_run
from tests.forked_manage import run_manage
from tests.redis_cache import subprocess_cache_env

ROOT = Path(__file__).resolve().parents[2]
UTC = dt.UTC


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        ("2026-03-10T05:59:59+00:00", "2026-03-10T06:00:00+00:00"),
        # Exactly at the time: already run, so tomorrow.
        ("2026-03-10T06:00:00+00:00", "2026-03-11T06:00:00+00:00"),
        ("2026-12-31T23:00:00+00:00", "2027-01-01T06:00:00+00:00"),
    ],
)
def test_it_runs_daily_jobs_at_the_time(settings, after, expected):
    settings.TIME_ZONE = "UTC"
    assert next_run(Job("x", dt.time(6)), _at(after)) == _at(expected)


def test_it_runs_weekly_jobs_on_the_day(settings):
    settings.TIME_ZONE = "UTC"
    sunday = Job("x", dt.time(3), weekday=6)
    # 2026-03-10 is a Tuesday.
    assert next_run(sunday, _at("2026-03-10T12:00:00+00:00")) == _at("2026-03-15T03:00:00+00:00")
    assert next_run(sunday, _at("2026-03-15T02:00:00+00:00")) == _at("2026-03-15T03:00:00+00:00")
    assert next_run(sunday, _at("2026-03-15T03:00:00+00:00")) == _at("2026-03-22T03:00:00+00:00")


def test_it_keeps_the_wall_clock_time_across_daylight_saving(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    job = Job("x", dt.time(6))
    # Berlin moves from UTC+1 to UTC+2 on 2026-03-29: 06:00 local is 05:00 UTC, then 04:00.
    assert next_run(job, _at("2026-03-28T06:00:00+00:00")) == _at("2026-03-29T04:00:00+00:00")
    assert next_run(job, _at("2026-03-27T06:00:00+00:00")) == _at("2026-03-28T05:00:00+00:00")
    # 02:30 does not exist that night; the job still runs once, at a real instant.
    skipped = Job("x", dt.time(2, 30))
    run = next_run(skipped, _at("2026-03-28T12:00:00+00:00"))
    assert run.date() == dt.date(2026, 3, 29)
    assert next_run(skipped, run) > run + dt.timedelta(hours=20)


@pytest.fixture(scope="module")
def schedule_env(tmp_path_factory) -> dict[str, str]:
    """A production-like environment on a migrated SQLite file of the module's own (migrate
    takes seconds; the jobs only read it, and --list does not open it)."""
    tmp_path = tmp_path_factory.mktemp("schedule")
    env = {
        "PATH": os.environ["PATH"],
        "KEYSTAND_ENV_FILE": "",
        "PYTHONUNBUFFERED": "1",
        "DEBUG": "false",
        "SECRET_KEY": "test-only-key-for-the-scheduler-test-00000000000000000000000",
        "ALLOWED_HOSTS": "keystand.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "EMAIL_URL": "consolemail://",
        "TIME_ZONE": "UTC",
        **subprocess_cache_env(),
    }
    migrate = run_manage("migrate", "--no-input", env=env, timeout=120)
    assert migrate.returncode == 0, migrate.stderr
    return env


def _start_scheduler(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, dt.datetime]:
    """Start run_schedule with both jobs due a few seconds from now; return it and when.

    The time must still lie ahead once Django has started, or both jobs wait for tomorrow. A
    few seconds suffice on a quiet machine; when the scheduler's first lines show that it
    started too late, it is stopped and started again with more time to spare.
    """
    for margin in (4, 8, 15, 30):
        soon = dt.datetime.now(UTC).replace(microsecond=0) + dt.timedelta(seconds=margin)
        with log.open("w") as out:
            scheduler = subprocess.Popen(
                [sys.executable, "manage.py", "run_schedule"]
                + ["--notify-at", f"{soon:%H:%M:%S}"]
                + ["--purge-at", f"{soon:%a} {soon:%H:%M:%S}"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while log.read_text().count("Scheduled ") < 2:
            assert scheduler.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        if log.read_text().count(f"next run {soon.isoformat()}") == 2:
            return scheduler, soon
        scheduler.kill()
        scheduler.wait()
    pytest.fail(f"run_schedule never started in time:\n{log.read_text()}")


def test_it_runs_both_commands_when_due_and_stops_on_sigterm(tmp_path, schedule_env):
    log = tmp_path / "schedule.log"
    scheduler, soon = _start_scheduler(schedule_env, log)
    try:
        deadline = time.monotonic() + 75
        while log.read_text().count("Finished ") < 2:
            assert scheduler.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        scheduler.send_signal(signal.SIGTERM)
        assert scheduler.wait(timeout=10) == 0
    finally:
        if scheduler.poll() is None:
            scheduler.kill()
            scheduler.wait()
    text = log.read_text()
    assert f"next run {soon.isoformat()}" in text
    # The commands' own summary lines: they really ran, on the database.
    assert "Notified 0 owner(s) about 0 token(s)" in text
    assert "Deleted 0 access token event(s) older than 365 day(s)" in text
    # Each is rescheduled for its next slot: a day and a week later.
    tomorrow = (soon + dt.timedelta(days=1)).date().isoformat()
    next_week = (soon + dt.timedelta(days=7)).date().isoformat()
    assert f"Next run of notify_expiring_tokens: {tomorrow}" in text
    assert f"Next run of purge_access_token_events: {next_week}" in text
    assert text.rstrip().endswith("Stopped.")


def test_it_lists_the_schedule(schedule_env):
    result = subprocess.run(
        [sys.executable, "manage.py", "run_schedule", "--list"],
        cwd=ROOT,
        env=schedule_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "notify_expiring_tokens --within 7 (daily at 06:00:00 UTC)" in result.stdout
    assert (
        "purge_access_token_events --older-than 365 (weekly on sun at 03:00:00 UTC)"
        in result.stdout
    )


@pytest.mark.parametrize(
    ("option", "value"), [("--notify-at", "6 o'clock"), ("--purge-at", "someday 03:00")]
)
def test_it_refuses_a_bad_time(schedule_env, option, value):
    result = subprocess.run(
        [sys.executable, "manage.py", "run_schedule", option, value, "--list"],
        cwd=ROOT,
        env=schedule_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Expected a" in result.stderr
    assert "Traceback" not in result.stderr
