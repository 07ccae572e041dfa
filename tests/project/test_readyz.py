import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Ask /healthz and /readyz through Django's test Client inside a fresh process, so its
# settings (and its one database connection) are its own.
_PROBE = """
import django, json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
from django.test import Client
client = Client()
answers = {}
for path in ("/healthz", "/readyz"):
    r = client.get(path)
    answers[path] = {"status": r.status_code, "body": r.json()}
print(json.dumps(answers))
"""


def test_it_reports_a_reachable_database(client, db, django_assert_num_queries):
    with django_assert_num_queries(1):
        r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok"}


def test_it_is_never_cached(client, db):
    r = client.get("/readyz")
    assert "no-store" in r["Cache-Control"]


def test_it_refuses_post(client, db):
    assert client.post("/readyz").status_code == 405


def test_it_reports_an_unreachable_database_as_503():
    environ = {
        "PATH": os.environ["PATH"],
        "KEYSTAND_ENV_FILE": "",
        "DEBUG": "false",
        "SECRET_KEY": "test-only-key-for-an-unreachable-database-000000000000000000",
        "ALLOWED_HOSTS": "testserver",
        # Nothing listens on port 1: the connection is refused at once.
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere",
    }
    result = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    assert answers["/readyz"] == {
        "status": 503,
        "body": {"status": "unavailable", "database": "unreachable"},
    }
    # Liveness is unaffected: a slow or missing database must not get the process restarted.
    assert answers["/healthz"] == {"status": 200, "body": {"status": "ok"}}
