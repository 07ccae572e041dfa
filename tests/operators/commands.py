"""Run a management command the way a shell would, in or out of the test process."""

import os
import subprocess
from io import StringIO
from pathlib import Path

from django.core.management import call_command

from tests.forked_manage import run_manage

ROOT = Path(__file__).resolve().parents[2]


def run(*args) -> tuple[str, str]:
    """Call the command in this process (on the test database). Return (stdout, stderr)."""
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err, no_color=True)
    return out.getvalue(), err.getvalue()


def run_in_shell(*args) -> subprocess.CompletedProcess:
    """Run `manage.py` as a separate process, for what only a shell sees: exit status, usage."""
    return run_manage(
        *args,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{ROOT / 'does-not-exist' / 'x.db'}"},
        timeout=60,
    )
