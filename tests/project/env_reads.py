"""Which environment variables Keystand reads: recorded, not guessed from the source.

A fresh process replaces os.environ with a mapping that notes every name asked for, before
django-environ binds to it, then loads the settings and gunicorn's config file. Used to check
that every variable a deployment file sets is one that something reads (a misspelt name
would otherwise be ignored without a word).
"""

import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_RECORD = """
import json, os, runpy, sys

class Recording(os._Environ):
    asked = set()
    def __getitem__(self, key):
        Recording.asked.add(key)
        return super().__getitem__(key)
    def __contains__(self, key):
        Recording.asked.add(key)
        return super().__contains__(key)

env = os.environ
os.environ = Recording(env._data, env.encodekey, env.decodekey, env.encodevalue, env.decodevalue)
sys.path.insert(0, os.getcwd())
import importlib
importlib.import_module("config.settings")
runpy.run_path("config/gunicorn.py")
print(json.dumps(sorted(Recording.asked)))
"""


@cache
def names_read() -> frozenset[str]:
    """Return every environment variable name the settings and gunicorn's config ask for."""
    env = {
        "PATH": os.environ["PATH"],
        "KEYSTAND_ENV_FILE": "",
        "DEBUG": "true",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", _RECORD],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return frozenset(json.loads(result.stdout.strip().splitlines()[-1]))
