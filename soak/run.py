"""
Soak and fault run: gunicorn on its own PostgreSQL cluster, several clients for a minute, and
PostgreSQL stopped and started again midway. Then check that nothing was lost or let through.

    make soak            (or: .venv/bin/python soak/run.py [--seconds 60] [--clients 8])

It needs PostgreSQL 15's cluster tools (pg_createcluster, pg_ctlcluster) and the right to run
them (root or the postgres user). It creates, or reuses, a throwaway cluster "soak" on port
5433, so a PostgreSQL already serving 5432 is never touched. Results go to
docs/reliability.md; logs and a database dump stay in $TMPDIR/keystand-soak/.

The package: service.py (the cluster and gunicorn), scenario.py (the clients), faults.py (the
outage and the evidence that it happened), report.py (the checks and the page).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from soak import service  # noqa: E402  (after sys.path)
from soak.faults import Fault, Outage, ReadyzProbe  # noqa: E402
from soak.report import RunInfo, check_everything, write_report  # noqa: E402
from soak.scenario import Client, ClientState, Record  # noqa: E402
from soak.service import PG_CLUSTER, PG_PORT, PG_VERSION, WORK, log  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--outage-at", type=float, default=None, help="default: a third in")
    parser.add_argument("--outage-seconds", type=float, default=5.0)
    parser.add_argument(
        "--no-outage",
        action="store_true",
        help="cause no fault: proves the report's guards, so the run must FAIL",
    )
    parser.add_argument("--report", default=str(ROOT / "docs" / "reliability.md"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = dt.datetime.now(dt.UTC)
    given = sys.argv[1:] if argv is None else argv
    command = ".venv/bin/python soak/run.py" + "".join(f" {a}" for a in given)
    if not given:
        command = "make soak"

    for tool in ("pg_createcluster", "pg_ctlcluster", "pg_isready", "psql", "pg_dump"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found: the soak needs PostgreSQL {PG_VERSION}'s tools.")
    WORK.mkdir(parents=True, exist_ok=True)
    service.ensure_cluster()
    service.fresh_database()
    env = service.service_env()
    names = [f"soak{n}" for n in range(args.clients)]
    log("Migrating, collecting static files, creating users")
    service.prepare(env, names)
    logfile = WORK / "gunicorn.log"
    log(f"Starting gunicorn ({args.workers} workers)")
    proc, server = service.start_gunicorn(env, args.workers, logfile)
    log(f"gunicorn answers on {server.host_header}")

    records: list[Record] = []
    lock = threading.Lock()
    stop = threading.Event()
    outage = Outage(planned=not args.no_outage, length=args.outage_seconds)
    states = [ClientState(f"c{n}", name) for n, name in enumerate(names)]
    try:
        clients = [Client(s, server, records, lock, stop, seed=n) for n, s in enumerate(states)]
        t0 = time.time()
        log(f"{args.clients} clients for {args.seconds} s")
        probe = ReadyzProbe(outage, server, stop)
        probe.start()
        fault = Fault(
            outage,
            start=t0,
            at=args.outage_at if args.outage_at is not None else args.seconds / 3,
            stop_database=service.stop_database_now,
            start_database=service.start_database,
            database_ready=service.pg_ready,
        )
        fault.start()
        for c in clients:
            c.start()
        time.sleep(max(0.0, t0 + args.seconds - time.time()))
        fault.join()
        stop.set()
        for c in clients:
            c.join(timeout=120)  # a client still running counts as a problem (not finished)
        probe.join(timeout=10)
        log(f"Clients done: {len(records)} requests")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    # If the fault failed midway, the database may still be down: bring it back for the dump.
    service.ensure_cluster()
    dump = service.dump_database()
    (WORK / "dump.sql").write_text(dump)
    logs = logfile.read_text(errors="replace")
    with lock:
        checks = check_everything(states, list(records), outage, dump, logs)
    print()
    for c in checks:
        print(f"{c.verdict.upper() if c.ok else c.verdict}  {c.name}")
        print(f"      {'; '.join(map(str, c.seen))}")
        print(f"      {c.detail}")
    info = RunInfo(
        command=command,
        seconds=args.seconds,
        clients=args.clients,
        workers=args.workers,
        started=started,
        t0=t0,
        pg_version=PG_VERSION,
        pg_cluster=PG_CLUSTER,
        pg_port=PG_PORT,
    )
    write_report(Path(args.report), info, checks, records, outage)
    service.stop_cluster()
    ok = all(c.ok for c in checks)
    print(f"\n{'PASS' if ok else 'FAIL'}: report written to {args.report}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
