"""tests/forked_manage.py stands in for `subprocess.run(python manage.py …)` in the suite: it
must answer as a fresh process would (exit status, output, environment, time limit)."""

import os
import subprocess
import sys
import tempfile

import pytest

from tests.forked_manage import ROOT, run_manage

# A database of this test process's own, never the developer's db.sqlite3 (none of these
# commands opens it, but nothing here should point at it).
ENV = {
    "PATH": os.environ["PATH"],
    "KEYSTAND_ENV_FILE": "",
    "DEBUG": "true",
    "DATABASE_URL": f"sqlite:///{tempfile.gettempdir()}/keystand-forked-{os.getpid()}.sqlite3",
}


def _fresh(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("check",), ENV),
        (("check",), {**ENV, "DEBUG": "false"}),  # settings refuse: no SECRET_KEY
        (("no_such_command",), ENV),
        (("shell", "-c", "import os, sys; print(os.environ['MARK']); sys.exit(3)"), ENV),
    ],
)
def test_it_answers_as_a_fresh_process_does(args, env):
    env = {**env, "MARK": "seen"}
    forked, fresh = run_manage(*args, env=env), _fresh(*args, env=env)
    assert forked.returncode == fresh.returncode
    assert forked.stdout == fresh.stdout
    assert forked.stderr.splitlines()[-1:] == fresh.stderr.splitlines()[-1:]


def test_it_sees_only_the_environment_it_is_given():
    shown = run_manage(
        "shell", "-c", "import os; print(sorted(os.environ))", env={**ENV, "ONLY": "1"}
    )
    assert shown.returncode == 0, shown.stderr
    names = eval(shown.stdout.strip().splitlines()[-1])  # noqa: S307 (our own output)
    assert "ONLY" in names and "PYTEST_CURRENT_TEST" not in names
    # Django's own defaults (manage.py sets DJANGO_SETTINGS_MODULE) and nothing of pytest's.
    assert set(names) <= {*ENV, "ONLY", "DJANGO_SETTINGS_MODULE", "TZ"}


def test_it_stops_a_command_that_overruns_its_time():
    with pytest.raises(subprocess.TimeoutExpired):
        run_manage("shell", "-c", "import time; time.sleep(30)", env=ENV, timeout=1)
