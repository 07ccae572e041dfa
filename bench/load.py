"""
Under load: gunicorn (4 sync workers) on PostgreSQL, driven by wrk from this machine.

Run by bench/run.py with the environment of bench.common.bench_env, against the database the
per-request benchmark has already filled (a million tokens). Creates its own user and tokens,
starts gunicorn on a free port in 8200-8299, checks every URL answers 200 with the right body,
then runs wrk for each case in alternating rounds, so a busy moment on the shared machine hits
both, and reads around each run the CPU time gunicorn, PostgreSQL and wrk used (bench/cpu.py,
on Linux); last, an interleaved run of the bare view and the product's two views (interleaved()).
Prints one JSON document on stdout.
"""

import argparse
import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from access_tokens import services  # noqa: E402
from access_tokens.models import AccessToken  # noqa: E402
from bench import cpu  # noqa: E402
from bench.common import ROOT  # noqa: E402

LUA = Path(__file__).with_name("wrk_report.lua")
MIXED_LUA = Path(__file__).with_name("wrk_mixed.lua")
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


def _wrk_json(args: list[str]) -> dict:
    """Run wrk; return the JSON line its script printed."""
    out = subprocess.run(["wrk", *args], capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("{"))
    return json.loads(line)


def wrk(url: str, authorization: str, seconds: int, connections: int, threads: int) -> dict:
    return _wrk_json(
        [f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(LUA)]
        + ["-H", f"Authorization: {authorization}", url]
    )


def start_gunicorn(port: int, error_log: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
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
            error_log,
            *extra,
        ],
        cwd=ROOT,
        env=os.environ,
    )


def wait_until_up(gunicorn: subprocess.Popen, url: str, authorization: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            get(url, authorization)
            return
        except OSError:
            if time.monotonic() > deadline or gunicorn.poll() is not None:
                raise
            time.sleep(0.3)


# The interleaved run's paths: the bare view and the two product views judged against it.
MIXED = ("keystand", "keystand_api_me", "keystand_api_list")


def interleaved(
    paths: dict[str, str], authorization: str, seconds: int, connections: int, threads: int
) -> dict:
    """One wrk run sending each path in turn on every connection (wrk_mixed.lua), against a
    gunicorn that logs how long each request spent in its worker (the access log's %(D)s).

    The rounds of main() alternate cases every few seconds, and a shared machine's speed moves
    between them; here every path meets the same moments. What it gives is each path's mean
    time in the worker, so `bare mean / case mean` is the case's share of the bare view's rate
    counted in the worker alone, leaving out what a request costs outside it (wrk, gunicorn's
    parsing, the kernel).
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with (
        tempfile.NamedTemporaryFile("w+", prefix="bench-gunicorn-", suffix=".log") as errlog,
        tempfile.NamedTemporaryFile("w+", prefix="bench-access-", suffix=".log") as access,
    ):
        gunicorn = start_gunicorn(
            port,
            errlog.name,
            "--access-logfile",
            access.name,
            "--access-logformat",
            "%(U)s %(s)s %(D)s",
        )
        try:
            first = next(iter(paths.values()))
            wait_until_up(gunicorn, base + first, authorization)
            wrk_args = ["-s", str(MIXED_LUA), "-H", f"Authorization: {authorization}", base]
            for duration in (2, seconds):  # the first run warms every worker and is not kept
                log(f"  load: interleaved, {len(paths)} paths, {duration} s")
                access.truncate(0)
                summary = _wrk_json(
                    [f"-t{threads}", f"-c{connections}", f"-d{duration}s", *wrk_args]
                    + ["--", *paths.values()]
                )
        finally:
            gunicorn.terminate()
            gunicorn.wait(timeout=30)
        access.seek(0)
        lines = access.read().split("\n")
    times: dict[str, list[int]] = {path: [] for path in paths.values()}
    non_200 = dict.fromkeys(paths.values(), 0)
    for line in lines:
        parts = line.split()
        if len(parts) == 3 and parts[0] in times:
            times[parts[0]].append(int(parts[2]))
            non_200[parts[0]] += parts[1] != "200"
    if not all(times.values()):
        raise RuntimeError(f"the interleaved run logged no request for some path: {summary}")
    return {
        "seconds": seconds,
        "wrk": summary,
        "paths": {
            name: {
                "path": path,
                "requests": len(times[path]),
                "mean_us": statistics.mean(times[path]),
                "median_us": statistics.median_low(times[path]),
                "non_200": non_200[path],
            }
            for name, path in paths.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=30, help="per case, split over rounds")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--mixed-seconds", type=int, default=20, help="the interleaved run (interleaved())"
    )
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
    gunicorn = start_gunicorn(port, errlog.name)
    try:
        wait_until_up(gunicorn, base + cases["authtoken"][0], cases["authtoken"][1])
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
        meter = cpu.Meter(gunicorn.pid, cpu.postmaster_of(connection)) if cpu.available() else None
        for r in range(args.rounds):
            order = names if r % 2 == 0 else names[::-1]
            for name in order:
                log(f"  load: round {r + 1}/{args.rounds}, {name}, {per_round} s")
                path, authorization = cases[name]
                if meter is not None:
                    meter.start()
                run = wrk(base + path, authorization, per_round, args.connections, args.threads)
                if meter is not None:
                    run["cpu"] = meter.stop()
                results[name].append(run)
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)
    errlog.seek(0)
    errors = errlog.read().strip()
    mixed = interleaved(
        {name: cases[name][0] for name in MIXED},
        cases["keystand"][1],
        args.mixed_seconds,
        args.connections,
        args.threads,
    )

    out = {
        "workers": WORKERS,
        "tokens_in_table": tokens_in_table,
        "connections": args.connections,
        "threads": args.threads,
        "seconds_per_case": per_round * args.rounds,
        "rounds": args.rounds,
        "gunicorn_errors": errors[-2000:],
        "cases": {},
        "interleaved": mixed,
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
