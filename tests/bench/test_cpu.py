"""
The load run's CPU meter reads real processes: a child's CPU lands where it belongs, one that
starts during a run counts whole, one that ends during it is reported as ended, and the
database's processes are found from the connection.
"""

import os
import subprocess
import sys
import time

import pytest
from django.db import connection

from bench import cpu

BURN = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"


def test_a_waited_for_child_counts_as_the_load_generator_not_the_app():
    meter = cpu.Meter(server=os.getpid(), postmaster=None)
    meter.start()
    subprocess.run([sys.executable, "-c", BURN], check=True)
    used = meter.stop()
    assert used["load_generator_s"] >= 0.25  # the child's 0.3 s, in clock ticks
    # The child came and went between the readings: the app side never saw it.
    assert used["app_s"] < 0.25
    assert used["database_s"] is None


def test_the_servers_children_are_counted_with_it():
    child = subprocess.Popen([sys.executable, "-c", BURN + "\ntime.sleep(30)"])
    try:
        assert child.pid in cpu.children_of(os.getpid())
        assert cpu.parent_of(child.pid) == os.getpid()
        meter = cpu.Meter(server=os.getpid(), postmaster=None)
        own = cpu.cpu_seconds([os.getpid()])
        meter.start()
        # Wait, sleeping, until the child has burnt its 0.3 s (then it sleeps too).
        deadline = time.monotonic() + 60
        while cpu.cpu_seconds([child.pid])[child.pid] < 0.29:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        used = meter.stop()
        # What the server's child burnt while metered, beyond the server's own use.
        assert used["app_s"] - cpu.used(own, cpu.cpu_seconds([os.getpid()])) >= 0.15
    finally:
        child.kill()
        child.wait()
    # Gone: no reading, so no share; what the processes still there used is all that counts.
    assert cpu.cpu_seconds([child.pid]) == {}
    now = cpu.cpu_seconds([os.getpid()])
    assert cpu.used({child.pid: 1.0, os.getpid(): 0.0}, now) == now[os.getpid()]


def _burnt(pid: int) -> None:
    """Wait, sleeping, until process `pid` has burnt BURN's 0.3 s of CPU."""
    deadline = time.monotonic() + 60
    while cpu.cpu_seconds([pid]).get(pid, 0.0) < 0.29:
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_a_process_started_during_the_run_counts_whole_and_one_that_ends_is_reported():
    """A backend opened in the middle of a round (a worker's new connection, the old one
    closed at CONN_MAX_AGE) is the server's from its start: all it used is the round's. The
    one it replaced took its CPU with it, and the reading says so."""
    meter = cpu.Meter(server=os.getpid(), postmaster=None)
    own = cpu.cpu_seconds([os.getpid()])
    meter.start()
    child = subprocess.Popen([sys.executable, "-c", BURN + "\ntime.sleep(30)"])
    try:
        _burnt(child.pid)
        used = meter.stop()
        assert used["app_s"] - cpu.used(own, cpu.cpu_seconds([os.getpid()])) >= 0.25
        assert used["app_ended"] == 0
        meter.start()  # the child is metered from here on
    finally:
        child.kill()
        child.wait()
    used = meter.stop()
    assert used["app_ended"] == 1
    assert used["database_ended"] == 0  # no database metered: nothing of it can end
    assert cpu.ended({1: 0.0, 2: 0.0}, {2: 1.0, 3: 1.0}) == 1
    assert cpu.used({1: 5.0, 2: 1.0}, {2: 1.5, 3: 0.25}) == 0.75


@pytest.mark.django_db
def test_the_postgresql_server_is_found_from_the_connection():
    postmaster = cpu.postmaster_of(connection)
    if connection.vendor != "postgresql":
        assert postmaster is None
        return
    # The suite's PostgreSQL runs on this machine (make test, CI): its backend is a child of
    # the postmaster found.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    assert postmaster is not None
    assert backend in cpu.children_of(postmaster)
