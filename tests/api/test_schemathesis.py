"""Schemathesis, a property-based OpenAPI fuzzer, against a live gunicorn on the schema the
server generates: every operation, every check, every phase (coverage, fuzzing, stateful),
with a real token; zero failures allowed.

Bounded and reproducible: a fixed number of examples per operation and Schemathesis's
deterministic mode (no random draws, so the same cases every run), with a fixed seed for
anything that still asks for one. The README gives the command to run it by hand.
tests/api/schemathesis_hooks.py keeps the token live and teaches the fuzzer the two rules
the schema cannot state.
"""

import os
import subprocess
import sys
from pathlib import Path

from tests.forked_manage import run_manage
from tests.project.conftest import fresh_database
from tests.project.test_gunicorn import Server
from tests.redis_cache import subprocess_cache_env

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
MAX_EXAMPLES = 5
SEED = 20261204

# What the fuzzer runs, less the URL (the README shows it with a local server's).
ARGS = [
    "--checks",
    "all",
    "--max-examples",
    str(MAX_EXAMPLES),
    "--seed",
    str(SEED),
    "--generation-deterministic",
    "--workers",
    "1",
    "--request-timeout",
    "30",
    "--no-color",
]


def _server_env(database_url: str, static_root: Path) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "KEYSTAND_ENV_FILE": "",
        "DEBUG": "false",
        "SECRET_KEY": "test-only-key-for-the-schemathesis-test-00000000000000000000000",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url,
        "STATIC_ROOT": str(static_root),
        "SECURE_SSL_REDIRECT": "false",
        "WEB_CONCURRENCY": "2",
        "ACCESS_TOKEN_CREATION_EMAIL": "false",
        # Limits that a fuzzer would hit and that are tested elsewhere: the fuzzer's
        # requests should reach the views, not the throttles (a 429 would still pass).
        "ACCESS_TOKEN_MAX_PER_USER": "100000",
        "API_THROTTLE_USER": "100000/min",
        "API_THROTTLE_ANON": "100000/min",
        "API_THROTTLE_REVOKE": "100000/min",
        "API_THROTTLE_FAILED_AUTH": "100000/min",
        **subprocess_cache_env(),
    }


def test_the_fuzzer_finds_nothing_wrong(tmp_path, static_root):
    with fresh_database(tmp_path) as database_url:
        env = _server_env(database_url, static_root)
        step = run_manage("migrate", "--no-input", env=env, timeout=120)
        assert step.returncode == 0, step.stdout + step.stderr
        server = Server(env, tmp_path / "gunicorn.log")
        try:
            server.wait_until_up()
            run = subprocess.run(
                [str(SCHEMATHESIS), "run", f"{server.base}/api/schema/?format=json", *ARGS],
                # Its own directory: Schemathesis keeps a cache of crashes (.schemathesis/)
                # where it runs, which would make the next run replay them first.
                cwd=tmp_path,
                env={
                    **server.env,
                    "PYTHONPATH": str(ROOT),
                    "SCHEMATHESIS_HOOKS": "tests.api.schemathesis_hooks",
                },
                capture_output=True,
                text=True,
                timeout=600,
            )
        finally:
            server.stop()
    report = run.stdout + run.stderr
    assert run.returncode == 0, report
    assert "No issues found" in report, report
    assert "Tested: 9" in report, report  # every operation of the schema
    for phase in ("Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in report, report
    assert "Traceback" not in server.text(), server.text()
