"""
The token lookup alone, before and after it was planned once (docs/performance.md).

    .venv/bin/python bench/lookup.py [--profile]

CPU time per call (process time, so other jobs on the machine matter less) on a throwaway
SQLite database, for DRF authtoken's ORM lookup, the ORM lookup Keystand used before, and
the planned lookup check_access_token uses now. --profile adds a pyinstrument report of each.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_env  # noqa: E402

_tmp = tempfile.mkdtemp(prefix="keystand-lookup-")
os.environ.update(bench_env(f"sqlite:///{_tmp}/lookup.sqlite3"))

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from access_tokens import services  # noqa: E402
from access_tokens.models import AccessToken  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("alice", "alice@example.org", None)
    token, raw = services.create_access_token(user=user, name="lookup")
    services.record_access_token_use(token, ip="127.0.0.1")
    key = Token.objects.create(user=user).key
    digest = services.token_digest(raw)
    cases = {
        "authtoken ORM get": lambda: Token.objects.select_related("user").get(key=key),
        "Keystand ORM get (before)": lambda: AccessToken.objects.select_related("user").get(
            digest=digest
        ),
        "Keystand planned lookup (now)": lambda: services._token_by_digest(digest),
        "check_access_token (now)": lambda: services.check_access_token(raw),
    }
    samples = {name: [] for name in cases}
    clock = time.process_time_ns
    for _ in range(args.rounds):
        for name in random.sample(list(cases), len(cases)):
            fn = cases[name]
            start = clock()
            for _ in range(200):
                fn()
            samples[name].append((clock() - start) / 200 / 1000)
    base = statistics.median(samples["authtoken ORM get"])
    for name, values in samples.items():
        med = statistics.median(values)
        print(f"{name:32s} {med:8.1f} µs CPU/call  {med / base:5.2f}× authtoken")
    if args.profile:
        from pyinstrument import Profiler

        for name, fn in cases.items():
            profiler = Profiler(interval=0.0001)
            with profiler:
                for _ in range(3000):
                    fn()
            print(f"\n=== {name}")
            print(profiler.output_text(unicode=False, color=False))


if __name__ == "__main__":
    main()
