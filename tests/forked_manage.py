"""
`run_manage(*args, env=...)`: what `subprocess.run([python, "manage.py", *args], cwd=ROOT,
env=env, capture_output=True, text=True)` gives, from a process forked off a server that has
already imported Django and the libraries Keystand uses (multiprocessing's forkserver).

The suite starts manage.py some 150 times (a settings case, a migrate for a served database,
a management command's exit status), and four fifths of each start went to importing the same
~1,100 modules: 0.8 s a start, 0.25 s forked. What each test checks still happens in a process
of its own: the settings module reads that process's environment, Django is set up there, the
command runs and exits with its own status and output. Only modules that read no setting at
import time are preloaded (`PRELOAD`; the server is started without DJANGO_SETTINGS_MODULE, so
one that did would fail to load rather than load with the wrong settings); should settings
ever be configured in the server all the same, a child replaces itself with a fresh Python
(`os.execve`) instead.

Processes whose life is under test (gunicorn, run_schedule's signals, the wheel's own venv)
are still started with subprocess.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRELOAD = (
    "django.db.models",
    "django.contrib.admin",
    "django.core.management",
    "django.core.management.commands.migrate",
    "django.core.management.commands.check",
    "django.core.management.commands.shell",
    "django.contrib.staticfiles.management.commands.collectstatic",
    "django.contrib.postgres.fields",
    "django.db.backends.sqlite3.base",
    "django.db.backends.postgresql.base",
    "django.template.defaulttags",
    "django.template.loader_tags",
    "django.test",
    "rest_framework.fields",
    "rest_framework.serializers",
    "rest_framework.response",
    "rest_framework.request",
    "rest_framework.permissions",
    "rest_framework.authentication",
    "drf_spectacular.utils",
    "allauth.account",
    "allauth.mfa",
    "fido2.server",
    "psycopg",
    "redis",
    "cryptography.fernet",
    "cryptography.hazmat.primitives.ciphers.aead",
    "yaml",
    "django_tasks",
    "django_tasks_db",
    "corsheaders",
    "csp",
    "whitenoise.middleware",
    "environ",
    "argon2",
    "sqlparse",
)


def preload() -> None:
    """Import PRELOAD with no settings module named: run once, in the fork server only
    (tests/forked_preload.py calls it when the server imports that module)."""
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: S112 (a module that needs settings is simply not preloaded)
            continue


def _settings_untouched() -> bool:
    from django.conf import settings

    return not settings.configured


def _child(args: list[str], env: dict[str, str], cwd: str, out: str, err: str | None) -> None:
    """Runs in the forked process: become `python manage.py *args` and exit as it would."""
    import runpy
    import traceback

    sys.stdout.flush()
    sys.stderr.flush()
    argv = [sys.executable, "manage.py", *args]
    stdin = os.open(os.devnull, os.O_RDONLY)
    stdout = os.open(out, os.O_WRONLY | os.O_TRUNC)
    stderr = stdout if err is None else os.open(err, os.O_WRONLY | os.O_TRUNC)
    for fd, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
        os.dup2(fd, target)
    os.chdir(cwd)
    if not _settings_untouched():
        os.execve(sys.executable, argv, env)  # a fresh interpreter, as subprocess would start
    os.environ.clear()
    os.environ.update(env)
    sys.argv = argv[1:]
    sys.path.insert(0, cwd)
    code = 0
    try:
        runpy.run_path(os.path.join(cwd, "manage.py"), run_name="__main__")
    except SystemExit as exit:
        if exit.code is None or isinstance(exit.code, int):
            code = exit.code or 0
        else:  # sys.exit("message"): Python prints it and exits 1
            print(exit.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


_context = None


def _forkserver():
    global _context
    if _context is None:
        from multiprocessing import forkserver

        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(["tests.forked_preload"])
        # The server imports tests.forked_preload wherever the suite was started from.
        before = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), before]))
        try:
            forkserver.ensure_running()
        finally:
            if before is None:
                del os.environ["PYTHONPATH"]
            else:
                os.environ["PYTHONPATH"] = before
    return _context


def run_manage(
    *args: str,
    env: dict[str, str],
    timeout: float = 60,
    cwd: Path = ROOT,
    stderr_to_stdout: bool = False,
) -> subprocess.CompletedProcess:
    """Run manage.py with exactly `env` as its environment, as subprocess.run would with
    capture_output=True, text=True (or stderr=STDOUT when stderr_to_stdout); raise
    subprocess.TimeoutExpired after `timeout` seconds, the process killed."""
    cmd = [sys.executable, "manage.py", *args]
    with tempfile.TemporaryDirectory(prefix="keystand-manage-") as tmp:
        out = Path(tmp) / "stdout"
        err = None if stderr_to_stdout else Path(tmp) / "stderr"
        for path in (out, err):
            if path is not None:
                path.touch()
        process = _forkserver().Process(
            target=_child,
            args=(list(args), dict(env), str(cwd), str(out), None if err is None else str(err)),
        )
        process.start()
        process.join(timeout)
        if process.exitcode is None:
            process.kill()
            process.join()
            raise subprocess.TimeoutExpired(cmd, timeout, output=out.read_text())
        stdout = out.read_text(errors="replace")
        stderr = None if err is None else err.read_text(errors="replace")
    return subprocess.CompletedProcess(cmd, process.exitcode, stdout, stderr)
