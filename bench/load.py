"""
Under load: gunicorn (4 sync workers) on PostgreSQL, driven by wrk from this machine.

Run by bench/run.py with the environment of bench.common.bench_env, against the database the
per-request benchmark has already filled (a million tokens). Creates its own user and tokens,
starts gunicorn on a free port in 8200-8299, checks every URL answers 200 with the right body,
then runs wrk for each case in alternating rounds, so a busy moment on the shared machine hits
both. Prints one JSON document on stdout.
"""

import argparse
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from access_tokens import services  # noqa: E402
from access_tokens.models import AccessToken  # noqa: E402
from bench.common import ROOT  # noqa: E402

LUA = Path(__file__).with_name("wrk_report.lua")
WORKERS = 4


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def free_port() -> int:
    for port in range(8200, 8300):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8200-8299")


def get(url: str, authorization: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": authorization})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wrk(url: str, authorization: str, seconds: int, connections: int, threads: int) -> dict:
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(LUA),
            "-H",
            f"Authorization: {authorization}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("{"))
    return json.loads(line)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=30, help="per case, split over rounds")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    tokens_in_table = AccessToken.objects.count()  # what the per-request run left here
    user = get_user_model().objects.create_user("lara", "lara@example.org", None)
    expires = timezone.now() + dt.timedelta(days=30)
    _, raw = services.create_access_token(user=user, name="load", expires_at=expires)
    key = Token.objects.create(user=user).key
    cases = {
        "authtoken": ("/api/v1/bench/me/authtoken/", f"Token {key}"),
        "keystand": ("/api/v1/bench/me/keystand/", f"AccessToken {raw}"),
        "keystand_api_me": ("/api/v1/me/", f"AccessToken {raw}"),
        "keystand_api_list": ("/api/v1/access-tokens/", f"AccessToken {raw}"),
    }

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    errlog = tempfile.NamedTemporaryFile("w+", prefix="bench-gunicorn-", suffix=".log")  # noqa: SIM115
    gunicorn = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "config.wsgi:application",
            "--workers",
            str(WORKERS),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--error-logfile",
            errlog.name,
        ],
        cwd=ROOT,
        env=os.environ,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, body = get(base + cases["authtoken"][0], cases["authtoken"][1])
                break
            except OSError:
                if time.monotonic() > deadline or gunicorn.poll() is not None:
                    raise
                time.sleep(0.3)
        for name, (path, authorization) in cases.items():
            status, body = get(base + path, authorization)
            answer = json.loads(body) if status == 200 else {}
            who = answer["results"][0]["name"] if "results" in answer else answer.get("username")
            if who not in ("lara", "load"):
                raise RuntimeError(f"{name}: {path} answered {status}: {body[:200]!r}")

        per_round = max(1, args.seconds // args.rounds)
        results: dict[str, list[dict]] = {name: [] for name in cases}
        names = list(cases)
        for name in names:  # warm every worker's connection and imports
            wrk(base + cases[name][0], cases[name][1], 2, args.connections, args.threads)
        for r in range(args.rounds):
            order = names if r % 2 == 0 else names[::-1]
            for name in order:
                log(f"  load: round {r + 1}/{args.rounds}, {name}, {per_round} s")
                path, authorization = cases[name]
                results[name].append(
                    wrk(base + path, authorization, per_round, args.connections, args.threads)
                )
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)
    errlog.seek(0)
    errors = errlog.read().strip()

    out = {
        "workers": WORKERS,
        "tokens_in_table": tokens_in_table,
        "connections": args.connections,
        "threads": args.threads,
        "seconds_per_case": per_round * args.rounds,
        "rounds": args.rounds,
        "gunicorn_errors": errors[-2000:],
        "cases": {},
    }
    for name, runs in results.items():
        requests = sum(run["requests"] for run in runs)
        duration = sum(run["duration_us"] for run in runs) / 1e6
        out["cases"][name] = {
            "path": cases[name][0],
            "requests": requests,
            "rps": requests / duration,
            "p50_ms": sorted(run["p50_us"] for run in runs)[len(runs) // 2] / 1000,
            "p99_ms": sorted(run["p99_us"] for run in runs)[len(runs) // 2] / 1000,
            "non_2xx": sum(run["status_errors"] for run in runs),
            "socket_errors": sum(
                run["connect"] + run["read"] + run["write"] + run["timeout"] for run in runs
            ),
            "rounds": runs,
        }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
