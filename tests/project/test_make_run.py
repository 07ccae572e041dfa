"""`make run` serves on another port or address when asked (port 8000 is often taken)."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _dry_run(*args: str) -> str:
    # -n prints what would run without running it (no server, no migration).
    make = shutil.which("make")
    if make is None:
        pytest.fail("make is not installed")
    done = subprocess.run(
        [make, "-n", "-C", str(ROOT), "run", *args], capture_output=True, text=True, check=True
    )
    return done.stdout


def test_it_serves_on_127_0_0_1_port_8000_by_default():
    out = _dry_run()
    assert "manage.py runserver 127.0.0.1:8000" in out
    assert "http://127.0.0.1:8000/" in out


def test_it_takes_port_and_host():
    out = _dry_run("PORT=8001", "HOST=0.0.0.0")
    assert "manage.py runserver 0.0.0.0:8001" in out
    assert "Keystand is starting at http://0.0.0.0:8001/" in out
    assert "8000" not in out
