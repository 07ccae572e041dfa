"""`make cluster`, short: three gunicorn replicas behind HAProxy with a PostgreSQL database and
a private Redis of the run's own; every check in its report must pass (each needs a minimum of
observations and proof that its fault happened, so a run that saw nothing fails)."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECK_ROW = re.compile(r"^\| (?P<name>[^|]+) \| (?P<result>pass|\*\*FAIL\*\*) \|")


def test_it_holds_every_promise_across_three_replicas(tmp_path, static_root):
    report = tmp_path / "scaling.md"
    env = {"PATH": os.environ["PATH"], "KEYSTAND_ENV_FILE": ""}
    if "CLUSTER_PG_ADMIN_URL" in os.environ:
        env["CLUSTER_PG_ADMIN_URL"] = os.environ["CLUSTER_PG_ADMIN_URL"]
    result = subprocess.run(
        [sys.executable, "-m", "cluster", "--quick", "--report", str(report)]
        + ["--static-root", str(static_root)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = result.stdout[-4000:] + result.stderr[-4000:]
    assert report.exists(), output
    text = report.read_text()
    rows = [m.groupdict() for line in text.splitlines() if (m := CHECK_ROW.match(line))]
    failed = [row["name"] for row in rows if row["result"] != "pass"]
    assert not failed, f"{failed}\n{text}"
    assert result.returncode == 0, output
    assert "## Result: PASS" in text
    # Every check ran: the limits, the cross-replica ones, and both fault runs with their
    # accounting (a check missing from the report would otherwise pass unseen).
    names = " / ".join(row["name"] for row in rows)
    for expected in (
        "Sign-in limit",
        "Failed-token throttle",
        "Per-user API throttle",
        "created on one replica",
        "one-time display",
        "killed with SIGKILL",
        "in-flight",
        "Redis stopped",
        "sign-in fails closed",
        "resumes by itself",
        "Throughput measured without a single error",
    ):
        assert expected in names, expected
    assert len(rows) == 18
    # Throughput was measured for one replica and for three.
    assert re.search(r"^\| 1 \| \d+ \| \d+ \|", text, re.M)
    assert re.search(r"^\| 3 \| \d+ \| \d+ \|", text, re.M)
