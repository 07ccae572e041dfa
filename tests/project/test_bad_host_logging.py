"""A request with a Host we do not serve gets a 400 and leaves no traceback in the log:
a stream of garbage must not flood the operators' logs. The process runs on the database
engine the suite runs on (DATABASE_URL)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import django
django.setup()
from django.test import Client
response = Client(HTTP_HOST="evil.example").get("/api/v1/me/")
print(response.status_code, response.json()["detail"])
"""


def test_it_answers_400_without_a_traceback_in_the_log(fresh_database_url):
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "KEYSTAND_ENV_FILE": "",
        "DEBUG": "false",
        "SECRET_KEY": "a-test-secret-key-that-is-long-enough-0123456789-abcdefghij",
        "ALLOWED_HOSTS": "keystand.example.com",
        "DATABASE_URL": fresh_database_url,
        "PYTHONWARNINGS": "ignore",
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "400 Bad request."
    assert "Traceback" not in result.stderr
    assert "DisallowedHost" not in result.stderr
