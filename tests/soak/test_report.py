"""
The soak's report cannot pass on nothing: every check needs a stated number of observations,
and the fault must be proven to have happened. Fed a made-up run, the checks pass only when
everything was seen; take any evidence away and the run FAILs.
"""

import collections
import dataclasses
import datetime as dt
import subprocess
import time

import pytest

from access_tokens.token_format import generate_token
from soak import report
from soak.faults import Fault, Outage
from soak.scenario import ClientState, Known, Record

T0 = 1_000.0
DOWN, UP = T0 + 20, T0 + 26


def _healthy_outage() -> Outage:
    outage = Outage(planned=True, length=5.0, down_at=DOWN, up_at=UP, seen_down=20)
    t = T0
    while t < T0 + 60:
        outage.readyz.append((t, 503 if DOWN <= t < UP + 0.1 else 200))
        t += 0.1
    return outage


def _record(kind: str, t: float, status: int, path: str = "/api/v1/me/") -> Record:
    body = '{"detail": "Service unavailable."}' if status == 503 else "{}"
    return Record("c0", kind, "GET", path, t, t + 0.01, status, body, "application/json")


def healthy_run():
    """Return (states, records, outage, dump, logs) of a run in which everything was seen."""
    state = ClientState("c0", "soak0", finished=True)
    records: list[Record] = []
    events, rows = [], []
    for n in range(160):
        token_id = f"00000000-0000-0000-0000-{n:012d}"
        expires = T0 + 30 if n < 60 else None
        state.tokens[token_id] = Known(generate_token(), "api", T0 + 1, expires)
        events.append(("created", token_id))
        if n >= 100:  # 60 deleted: 10 through the form, 50 through the API
            state.deleted[token_id] = T0 + 40
            state.deletes_confirmed["form" if n < 110 else "API"] += 1
            events.append(("deleted", token_id))
            for i, kind in enumerate(["use_live", "use_live", "use_racing"]):
                state.uses.append((token_id, kind, T0 + 41 + i, 401))
        else:
            rows.append(token_id)
            if expires is not None:
                state.uses.append((token_id, "use_expired", T0 + 45, 401))
    state.double_submits["1 token(s) made"] = 6
    for i in range(2_000):
        t = T0 + 30 + i * 0.01  # after the recovery deadline
        records.append(_record("use_live", t, 200))
    for i in range(30):
        records.append(_record("use_live", DOWN + 0.1 * i, 503))
    for i in range(150):
        records.append(_record("use_junk", T0 + 50 + i * 0.01, 401))
    dump = "\n".join(
        [
            *(
                f"INSERT INTO public.access_tokens_accesstoken (id, name) VALUES ('{t}', 'x');"
                for t in rows
            ),
            *(
                "INSERT INTO public.access_tokens_accesstokenevent (action, token_id, "
                f"actor_username) VALUES ('{action}', '{t}', 'soak0');"
                for action, t in events
            ),
        ]
    )
    logs = "\n".join(f'127.0.0.1 "GET /api/v1/me/ HTTP/1.1" 200 {n}' for n in range(1_200))
    return [state], records, _healthy_outage(), dump, logs


def verdicts(states, records, outage, dump, logs) -> dict[str, str]:
    checks = report.check_everything(states, records, outage, dump, logs)
    return {c.name: c.verdict for c in checks}


def test_it_passes_a_run_in_which_everything_was_seen():
    assert set(verdicts(*healthy_run()).values()) == {"pass"}


def test_it_fails_every_check_of_a_run_that_saw_nothing():
    outage = Outage(planned=True, length=5.0)
    results = verdicts([], [], outage, "", "")
    assert len(results) == 9
    assert "pass" not in results.values()


def test_it_fails_a_run_without_the_outage():
    states, records, _, dump, logs = healthy_run()
    outage = Outage(planned=False, length=5.0)  # --no-outage: the fault thread did nothing
    outage.readyz = [(T0 + 0.1 * i, 200) for i in range(600)]
    records = [r for r in records if r.status != 503]
    results = verdicts(states, records, outage, dump, logs)
    assert results["The fault happened: PostgreSQL stopped, seen down, started again"] == "FAIL"
    assert results["During the outage: 503 with a short JSON (API) or HTML body"] == (
        "FAIL (too few observations)"
    )
    assert results["Recovered by itself within 5 s of the database's return"] == "FAIL"


def test_it_fails_when_the_fault_thread_raises():
    outage = Outage(planned=True, length=5.0)

    def stop_database():
        subprocess.run(["false"], check=True)  # the stop command fails, as pg_ctlcluster might

    fault = Fault(
        outage,
        start=time.time(),
        at=0,
        stop_database=stop_database,
        start_database=lambda: None,
        database_ready=lambda: True,
    )
    fault.start()
    fault.join(timeout=10)
    assert len(outage.errors) == 1
    assert "CalledProcessError" in outage.errors[0]

    states, records, healthy, dump, logs = healthy_run()
    outage.readyz = healthy.readyz
    check = report.fault_check(records, outage)
    assert check.verdict == "FAIL"
    assert "errors: fault thread: subprocess.CalledProcessError" in check.detail
    assert report.recovery_check(records, outage).verdict == "FAIL"


def test_it_fails_when_the_database_kept_answering_during_the_outage():
    states, records, outage, dump, logs = healthy_run()
    outage.seen_up = 3
    assert report.fault_check(records, outage).verdict == "FAIL"


def test_it_fails_when_the_outage_was_shorter_than_planned():
    states, records, outage, dump, logs = healthy_run()
    outage.length = 10.0  # down 6 s of a planned 10
    assert report.fault_check(records, outage).verdict == "FAIL"


@pytest.mark.parametrize(
    ("take_away", "check_name"),
    [
        ("uses_after_delete", "No deleted, expired or junk token was ever accepted"),
        ("uses_after_expiry", "No deleted, expired or junk token was ever accepted"),
        ("junk", "No deleted, expired or junk token was ever accepted"),
        (
            "double_submits",
            "A form submitted twice at once made one token; clients saw nothing odd",
        ),
        ("log_lines", "No raw token in the database dump or the server log"),
        ("after_return", "Recovered by itself within 5 s of the database's return"),
    ],
)
def test_it_fails_a_check_that_saw_too_little(take_away, check_name):
    states, records, outage, dump, logs = healthy_run()
    [state] = states
    if take_away == "uses_after_delete":
        state.uses = [u for u in state.uses if u[0] not in state.deleted]
    elif take_away == "uses_after_expiry":
        state.uses = [u for u in state.uses if u[1] != "use_expired"]
    elif take_away == "junk":
        records = [r for r in records if r.kind != "use_junk"]
    elif take_away == "double_submits":
        state.double_submits = collections.Counter({"inconclusive (outage)": 6})
    elif take_away == "log_lines":
        logs = "\n".join(logs.splitlines()[:10])
    elif take_away == "after_return":
        # The same requests, all sent before the outage: none judges the recovery.
        shift = {"use_live": 29.5, "use_junk": 40.0}
        records = [
            dataclasses.replace(r, t_send=r.t_send - shift[r.kind], t_recv=r.t_recv - shift[r.kind])
            if r.status != 503
            else r
            for r in records
        ]
    results = verdicts(states, records, outage, dump, logs)
    assert results[check_name] == "FAIL (too few observations)"
    assert [name for name, v in results.items() if v != "pass"] == [check_name]


def test_it_fails_when_a_deleted_token_was_accepted():
    states, records, outage, dump, logs = healthy_run()
    [state] = states
    token_id = next(iter(state.deleted))
    state.uses.append((token_id, "use_racing", state.deleted[token_id] + 0.5, 200))
    check = verdicts(states, records, outage, dump, logs)
    assert check["No deleted, expired or junk token was ever accepted"] == "FAIL"


def test_it_fails_when_a_raw_token_reaches_the_log():
    states, records, outage, dump, logs = healthy_run()
    raw = next(iter(states[0].tokens.values())).raw
    check = verdicts(states, records, outage, dump, logs + f"\nAuthorization: Bearer {raw}")
    assert check["No raw token in the database dump or the server log"] == "FAIL"


def test_it_fails_when_a_client_never_finished():
    states, records, outage, dump, logs = healthy_run()
    states[0].finished = False
    check = verdicts(states, records, outage, dump, logs)
    assert check["A form submitted twice at once made one token; clients saw nothing odd"] == (
        "FAIL"
    )


def test_the_page_says_fail_and_names_the_minimums(tmp_path):
    states, records, _, dump, logs = healthy_run()
    outage = Outage(planned=False, length=5.0)
    checks = report.check_everything(states, records, outage, dump, logs)
    info = report.RunInfo(
        command=".venv/bin/python soak/run.py --no-outage",
        seconds=60,
        clients=1,
        workers=4,
        started=dt.datetime(2026, 1, 1),
        t0=T0,
        pg_version="15",
        pg_cluster="soak",
        pg_port=5433,
    )
    page = report.render(info, checks, records, outage)
    assert "## Result: FAIL" in page
    assert "- Fault: none: the run was started with `--no-outage`, which must FAIL." in page
    assert "0 looks at the stopped database that found it down (needs ≥ 4)" in page
