"""docs/scaling.md: what the run did and found, written fresh each time."""

from __future__ import annotations

import datetime as dt
import os
import platform
from pathlib import Path

from .checks import Check


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def write(path: Path, run, checks: list[Check], throughput: dict, command: str) -> None:
    passed = all(c.passed for c in checks)
    one, three = throughput.get(1), throughput.get(3)
    lines = [
        "# Scaling: three replicas behind HAProxy",
        "",
        "Written by `cluster/` (`make cluster`). Do not edit by hand; run it again.",
        "",
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- Command: `{command}`",
        f"- Machine: {os.cpu_count()} CPU cores ({_cpu()}), shared with other work: load "
        f"average {run.load_at_start:.1f} when the run started.",
        f"- Set-up: {len(run.replicas)} gunicorn replicas (the image's command, "
        f"`gunicorn -c config/gunicorn.py`, {run.workers} sync workers each) on loopback "
        "ports behind HAProxy (round robin, health checks on `/healthz` every 0.5 s, "
        "`option forwardfor`), `TRUSTED_PROXIES=127.0.0.1`, one PostgreSQL database of the "
        f"run's own (`{run.database.name}` on the local server), a private Redis on a free "
        f"port. {run.clients} API clients per fault run, {run.seconds:.0f} s each"
        + (
            f", each sending at most {1 / run.pace:.0f} requests/s."
            if run.pace
            else ", each sending as fast as it is answered."
        ),
        (
            "- Limits checked (the quick run lowers the per-user rate to keep it short): "
            if run.quick
            else "- Documented limits checked at their defaults: "
        )
        + f"`LOGIN_FAILURES_PER_ACCOUNT={run.login_failures_per_account}`, "
        f"`API_THROTTLE_FAILED_AUTH={run.rates['failed_auth']}`, "
        f"`API_THROTTLE_USER={run.rates['user']}`. For the fault runs and the throughput "
        "figures the API throttles are lifted (every client would otherwise share them); the "
        "checks above cover them.",
        "",
        f"## Result: {'PASS' if passed else 'FAIL'}",
        "",
        "| Check | Result | Detail |",
        "|---|---|---|",
    ]
    for c in checks:
        detail = c.detail.replace("|", "\\|")
        lines.append(f"| {c.name} | {'pass' if c.passed else '**FAIL**'} | {detail} |")
    lines += [
        "",
        "## Requests per second",
        "",
        f"`wrk -t2 -c{run.connections} -d{run.wrk_seconds}s` through HAProxy, "
        "`GET /api/v1/me/` with a personal access token (authentication, a token lookup, "
        "the per-user throttle in Redis, JSON), the other replicas put in maintenance for the "
        "1-replica figure.",
        "",
        "| Replicas behind HAProxy | gunicorn workers | Requests/s | p50 latency | p99 latency "
        "| Errors |",
        "|---|---|---|---|---|---|",
    ]
    for n, result in sorted(throughput.items()):
        lines.append(
            f"| {n} | {n * run.workers} | {result['rps']:.0f} | {result['p50']} | "
            f"{result['p99']} | {result['errors']} |"
        )
    ratio = f"{three['rps'] / one['rps']:.2f}" if one and three and one["rps"] else "n/a"
    lines += [
        "",
        f"Three replicas served {ratio}× what one did. On this machine that is the expected "
        f"answer, not a disappointment: {os.cpu_count()} cores run the load generator, "
        "HAProxy, PostgreSQL, Redis and every gunicorn worker, and one replica's "
        f"{run.workers} workers already keep them busy. Replicas add throughput only when "
        "they add CPUs.",
        "",
        "## What a larger machine (or a cluster) would change",
        "",
        "- **Throughput grows with cores, not with replicas.** Each sync worker serves one "
        "request at a time, and the work is CPU-bound Python (authentication, the ORM, JSON); "
        "on a host with 8 cores, 3 replicas × 5 workers would keep them busy, and in "
        "Kubernetes each replica brings its own CPU request, so 3 replicas should serve close "
        "to 3× one replica's figure until PostgreSQL or Redis becomes the limit.",
        "- **PostgreSQL next.** Every authenticated request reads one token row (and writes "
        "`last_used_at` at most once a minute per token); the sessions of browser users live "
        "there too. `CONN_MAX_AGE=60` keeps one connection per worker, so replicas × workers "
        "must stay under `max_connections` (100 by default) or go through PgBouncer.",
        "- **Redis is unlikely to be the bottleneck**: a throttled request costs it three "
        "small commands (add, incr, get), a tiny fraction of what one request costs the "
        "Python side. A managed Redis with a replica matters for availability; when it is "
        "down, token requests keep working and only sign-in pauses (checked above).",
        "- **The limits do not change with the number of replicas**: they are counted in "
        "Redis, which is what the checks above prove; adding replicas adds no budget to an "
        "attacker.",
        "",
        "## How to read this",
        "",
        "- Each check needs a minimum number of observations and, for the fault runs, proof "
        "that the fault happened (the replica's processes gone and HAProxy marking it down; "
        "Redis refusing connections); with fewer it fails rather than passing on nothing.",
        '- A request "in flight" on the killed replica is one sent before the kill that '
        "HAProxy's log shows it forwarded to that replica: its answer may be lost, and the "
        "accounting allows for it (a create or delete whose answer never came).",
        "- The throttle checks send from several threads at once through all three replicas: "
        "a count lost between replicas would show as more requests let through than the "
        "limit. (DRF's own throttles lost most of such a burst; Keystand's count each request "
        "with one atomic Redis INCR, `access_tokens/throttling.py`.) The sliding minute is "
        "estimated from two fixed ones, so a burst that straddles the turn of a minute may get "
        "a few percent more than the limit; the check allows the issue's 10 %.",
        "- Sign-in is refused at the attempt after the limit, wherever the attempts land.",
        "",
    ]
    path.write_text("\n".join(lines))
