"""
The soak's verdict: every check over what the clients saw, the fault's evidence, the database
dump and the server log, written to docs/reliability.md.

A check passes only when its rule held *and* it saw enough to judge: each row states the
minimum number of observations it needs, so a run in which the fault never happened, or in
which a kind of request never got through, FAILs instead of passing on nothing.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from soak.faults import Outage
from soak.scenario import TOKEN_RE, ClientState, Record

RECOVERY_LIMIT = 5.0  # seconds after the database is back

# The fewest observations each check needs before its verdict means anything. A default run
# (60 s, 8 clients) sees these several times over even at load average 15 on two cores, where
# it makes about a tenth of the requests it makes on a quiet machine; a quiet run sees ten to
# a hundred times these.
MINIMUM = {
    "requests": 1_000,
    "seen_down": 4,
    "readyz_down": 3,
    "outage_503": 10,
    "after_return": 100,
    "readyz_after_return": 10,
    "tokens_seen": 50,
    "deletes_form": 5,
    "deletes_api": 10,
    "uses_after_delete": 50,
    "racing_after_delete": 10,
    "uses_after_expiry": 10,
    "junk": 50,
    "created_events": 50,
    "delete_events": 20,
    "double_submits": 5,
    "raw_tokens": 50,
    "log_lines": 1_000,
    "dump_rows": 10,
}


@dataclass(frozen=True)
class Seen:
    """How many of something a check saw, and how many it needs."""

    what: str
    count: int
    minimum: int

    @property
    def enough(self) -> bool:
        return self.count >= self.minimum

    def __str__(self) -> str:
        return f"{self.count:,} {self.what} (needs ≥ {self.minimum:,})"


def seen(key: str, what: str, count: int) -> Seen:
    return Seen(what, count, MINIMUM[key])


@dataclass
class Check:
    name: str
    held: bool  # the rule held over everything that was seen
    detail: str
    seen: list[Seen] = field(default_factory=list)

    @property
    def too_few(self) -> list[Seen]:
        return [s for s in self.seen if not s.enough]

    @property
    def ok(self) -> bool:
        return self.held and not self.too_few

    @property
    def verdict(self) -> str:
        if self.ok:
            return "pass"
        return "FAIL" if not self.held else "FAIL (too few observations)"


def check_everything(
    states: list[ClientState], records: list[Record], outage: Outage, dump: str, logs: str
) -> list[Check]:
    return [
        fault_check(records, outage),
        no_500_check(records),
        outage_503_check(records, outage),
        recovery_check(records, outage),
        *token_checks(states, records, dump),
        clients_check(states),
        no_raw_token_check(states, dump, logs),
    ]


def _answered_during(records: list[Record], outage: Outage) -> list[Record]:
    if outage.down_at is None:
        return []
    end = outage.up_at if outage.up_at is not None else float("inf")
    return [r for r in records if outage.down_at <= r.t_recv and r.t_send <= end]


def fault_check(records: list[Record], outage: Outage) -> Check:
    """Prove the fault happened: stopped, seen down, started again, and noticed by clients."""
    down_503 = [r for r in _answered_during(records, outage) if r.status == 503]
    readyz_down = 0
    if outage.down_at is not None:
        end = outage.up_at if outage.up_at is not None else float("inf")
        readyz_down = sum(outage.down_at <= t <= end and s != 200 for t, s in outage.readyz)
    lasted = (
        outage.up_at - outage.down_at
        if outage.down_at is not None and outage.up_at is not None
        else None
    )
    held = (
        outage.planned
        and not outage.errors
        and lasted is not None
        and lasted >= outage.length
        and outage.seen_up == 0
    )
    if not outage.planned:
        detail = "no outage was caused (--no-outage), so nothing below about recovery is proven"
    elif outage.down_at is None:
        detail = "the database was never stopped"
    elif outage.up_at is None:
        detail = "the database was stopped but never seen back"
    else:
        detail = (
            f"down {lasted:.1f} s (planned {outage.length:.1f} s); "
            f"{outage.seen_up} looks found it still answering"
        )
    if outage.errors:
        detail += "; errors: " + "; ".join(outage.errors)
    return Check(
        "The fault happened: PostgreSQL stopped, seen down, started again",
        held,
        detail,
        [
            seen("seen_down", "looks at the stopped database that found it down", outage.seen_down),
            seen("readyz_down", "/readyz answers other than 200 during the outage", readyz_down),
            seen("outage_503", "503 answers to clients during the outage", len(down_503)),
        ],
    )


def no_500_check(records: list[Record]) -> Check:
    five_hundreds = [r for r in records if r.status >= 500 and r.status != 503]
    traces = [r for r in records if "Traceback" in r.body or 'File "' in r.body]
    answered = [r for r in records if r.status != 0]
    return Check(
        "No 500 answers and no tracebacks in any body",
        not five_hundreds and not traces,
        f"{len(five_hundreds)} answers ≥ 500 other than 503; {len(traces)} bodies with a trace",
        [seen("requests", "requests answered", len(answered))],
    )


def outage_503_check(records: list[Record], outage: Outage) -> Check:
    """503s are short, well-formed, and only between the stop and the recovery deadline."""
    all_503 = [r for r in records if r.status == 503]
    bad = []
    for r in all_503:
        if len(r.body) > 2000:
            bad.append("a long body")
        elif r.path.startswith("/api/"):
            try:
                if "detail" not in json.loads(r.body):
                    bad.append("JSON without detail")
            except ValueError:
                bad.append("non-JSON body under /api/")
        elif "text/html" not in r.content_type:
            bad.append("a page that is not HTML")
    if outage.down_at is None or outage.up_at is None:
        stray = all_503
    else:
        grace_end = outage.up_at + RECOVERY_LIMIT
        stray = [r for r in all_503 if not (r.t_recv >= outage.down_at and r.t_send <= grace_end)]
    no_answer = [r for r in records if r.status == 0]
    return Check(
        "During the outage: 503 with a short JSON (API) or HTML body",
        not bad and not stray and not no_answer,
        f"{len(all_503)} answers 503, {len(bad)} malformed, {len(stray)} outside the outage; "
        f"{len(no_answer)} requests without any HTTP answer",
        [seen("outage_503", "answers 503", len(all_503) - len(stray))],
    )


def recovery_check(records: list[Record], outage: Outage) -> Check:
    name = f"Recovered by itself within {RECOVERY_LIMIT:.0f} s of the database's return"
    up = outage.up_at
    if up is None:
        return Check(
            name,
            False,
            "the database never came back in this run, so recovery was never tried",
            [
                seen("after_return", "requests sent after the recovery deadline", 0),
                seen("readyz_after_return", "/readyz answers after the return", 0),
            ],
        )
    failed_after = [
        r.t_send - up for r in records if r.t_send >= up and (r.status == 0 or r.status >= 500)
    ]
    probe_failed_after = [t - up for t, s in outage.readyz if t >= up and s != 200]
    last_failure = max(failed_after + probe_failed_after, default=0.0)
    first_ok = next((t - up for t, s in outage.readyz if t >= up and s == 200), None)
    judged = [r for r in records if r.t_send >= up + RECOVERY_LIMIT]
    probes_after = [t for t, _s in outage.readyz if t >= up]
    first_ok_text = "never" if first_ok is None else f"{first_ok:.2f} s"
    return Check(
        name,
        last_failure < RECOVERY_LIMIT and first_ok is not None,
        f"first /readyz 200 {first_ok_text} after the database returned; "
        + (
            f"the last failed request was sent {last_failure:.2f} s after it"
            if failed_after or probe_failed_after
            else "no request sent after it failed"
        ),
        [
            seen("after_return", "requests sent after the recovery deadline", len(judged)),
            seen("readyz_after_return", "/readyz answers after the return", len(probes_after)),
        ],
    )


def token_checks(states: list[ClientState], records: list[Record], dump: str) -> list[Check]:
    existing = db_rows(dump, "access_tokens_accesstoken")
    events = db_rows(dump, "access_tokens_accesstokenevent")
    # A deleted token keeps its row (inactive, revoked_at set) until it is purged.
    existing_ids = {row["id"] for row in existing if row.get("revoked_at") is None}
    deleted_events: dict[str, list[dict]] = collections.defaultdict(list)
    created_events: collections.Counter = collections.Counter()
    for e in events:
        if e["action"] == "created":
            created_events[e["token_id"]] += 1
        elif e["action"] in (
            "deleted",
            "revoked_by_operator",
            "revoked_by_value",
            "revoked_with_parent",
        ):
            deleted_events[e["token_id"]].append(e)

    # Every token a client saw created is listed, or was deleted by that client.
    lost, seen_created = [], 0
    for s in states:
        for token_id in s.tokens:
            seen_created += 1
            listed = token_id in existing_ids
            by_client = (token_id in s.deleted or token_id in s.gone_on_retry) and any(
                e["actor_username"] == s.username for e in deleted_events[token_id]
            )
            if listed == by_client:  # neither, or deleted yet still there
                lost.append(token_id)
    pending = sum(len(s.pending_delete) for s in states)
    confirmed: collections.Counter = collections.Counter()
    for s in states:
        confirmed.update(s.deletes_confirmed)
    accounted = Check(
        "Every token a client saw created is listed or was deleted by that client",
        not lost and not pending,
        f"{len(lost)} unaccounted for; {pending} deletes still unsettled",
        [
            seen("tokens_seen", "tokens seen created", seen_created),
            seen("deletes_form", "deletes through the form", confirmed["form"]),
            seen("deletes_api", "deletes through the API", confirmed["API"]),
        ],
    )

    # No deleted or expired token was ever accepted; nor junk.
    accepted_deleted, accepted_expired = 0, 0
    after_delete, racing_after_delete, after_expiry = 0, 0, 0
    for s in states:
        for token_id, kind, t_send, st in s.uses:
            gone_at = s.deleted.get(token_id)
            expires = s.tokens[token_id].expires_at if token_id in s.tokens else None
            if gone_at is not None and t_send > gone_at and st != 503:
                after_delete += 1
                racing_after_delete += kind == "use_racing"
                accepted_deleted += 200 <= st < 300
            if expires is not None and t_send > expires and st != 503:
                after_expiry += 1
                accepted_expired += 200 <= st < 300
    junk = [r for r in records if r.kind == "use_junk" and r.status not in (0, 503)]
    junk_accepted = sum(200 <= r.status < 300 for r in junk)
    refused = Check(
        "No deleted, expired or junk token was ever accepted",
        accepted_deleted == 0 and accepted_expired == 0 and junk_accepted == 0,
        f"accepted: {accepted_deleted} after delete, {accepted_expired} after expiry, "
        f"{junk_accepted} junk",
        [
            seen("uses_after_delete", "uses sent after the delete's answer", after_delete),
            seen(
                "racing_after_delete",
                "of them from a thread racing the delete",
                racing_after_delete,
            ),
            seen("uses_after_expiry", "uses sent after expiry", after_expiry),
            seen("junk", "junk tokens answered", len(junk)),
        ],
    )

    # Audit events match creates and deletes one to one.
    all_ids = set(created_events) | set(deleted_events) | existing_ids
    mismatched = []
    for token_id in all_ids:
        n_created, n_deleted = created_events[token_id], len(deleted_events[token_id])
        alive = token_id in existing_ids
        if n_created != 1 or n_deleted != (0 if alive else 1):
            mismatched.append(token_id)
    client_deletes = sum(len(s.deleted) + len(s.gone_on_retry) for s in states)
    audit = Check(
        "Audit events match creates and deletes one to one",
        not mismatched,
        f"{len(all_ids)} tokens, {len(all_ids) - len(existing_ids)} of them deleted "
        f"({client_deletes} deletes confirmed to clients); {len(mismatched)} mismatches",
        [
            seen("created_events", "created events", sum(created_events.values())),
            seen("delete_events", "delete events", sum(len(v) for v in deleted_events.values())),
        ],
    )
    return [accounted, refused, audit]


def clients_check(states: list[ClientState]) -> Check:
    """Double-submitted forms made one token; the clients saw nothing odd and all finished."""
    doubles: collections.Counter = collections.Counter()
    for s in states:
        doubles.update(s.double_submits)
    conclusive = sum(n for k, n in doubles.items() if not k.startswith("inconclusive"))
    problems = [p for s in states for p in s.problems]
    problems += [f"client {s.name} never finished" for s in states if not s.finished]
    return Check(
        "A form submitted twice at once made one token; clients saw nothing odd",
        not problems and bool(states),
        "double submits: "
        + (", ".join(f"{n}× {k}" for k, n in sorted(doubles.items())) or "none")
        + (f"; problems: {collections.Counter(problems).most_common(5)}" if problems else ""),
        [seen("double_submits", "double submits with a clear outcome", conclusive)],
    )


def no_raw_token_check(states: list[ClientState], dump: str, logs: str) -> Check:
    raws = {k.raw for s in states for k in s.tokens.values()}
    in_dump = sum(raw in dump for raw in raws) + len(TOKEN_RE.findall(dump))
    in_logs = sum(raw in logs for raw in raws) + len(TOKEN_RE.findall(logs))
    dump_rows = len(db_rows(dump, "access_tokens_accesstoken")) + len(
        db_rows(dump, "access_tokens_accesstokenevent")
    )
    return Check(
        "No raw token in the database dump or the server log",
        in_dump == 0 and in_logs == 0,
        f"searched every raw token and the token pattern: {in_dump} in the dump, "
        f"{in_logs} in the log",
        [
            seen("raw_tokens", "raw tokens searched for", len(raws)),
            seen("dump_rows", "token and event rows in the dump", dump_rows),
            seen("log_lines", "log lines", len(logs.splitlines())),
        ],
    )


def db_rows(dump: str, table: str) -> list[dict]:
    """Read a table's rows out of a `pg_dump --inserts --column-inserts` text dump."""
    rows = []
    pattern = re.compile(rf"^INSERT INTO public\.{table} \((.*?)\) VALUES \((.*)\);$", re.M)  # noqa: S608
    for m in pattern.finditer(dump):
        cols = [c.strip().strip('"') for c in m.group(1).split(",")]
        values = _split_sql_values(m.group(2))
        rows.append(dict(zip(cols, values, strict=True)))
    return rows


def _split_sql_values(text: str) -> list[str | None]:
    values, i, n = [], 0, len(text)
    while i < n:
        if text[i] == "'":
            j, buf = i + 1, []
            while j < n:
                if text[j] == "'" and j + 1 < n and text[j + 1] == "'":
                    buf.append("'")
                    j += 2
                elif text[j] == "'":
                    break
                else:
                    buf.append(text[j])
                    j += 1
            values.append("".join(buf))
            i = j + 1
        else:
            j = text.find(",", i)
            j = n if j == -1 else j
            token = text[i:j].strip()
            values.append(None if token == "NULL" else token)
            i = j
        while i < n and text[i] in ", ":
            i += 1
    return values


# --- The page ---------------------------------------------------------------------------------


@dataclass
class RunInfo:
    """How the run was set up, for the report's header."""

    command: str
    seconds: int
    clients: int
    workers: int
    started: dt.datetime
    t0: float
    pg_version: str
    pg_cluster: str
    pg_port: int


def render(info: RunInfo, checks: list[Check], records: list[Record], outage: Outage) -> str:
    by_kind: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for r in records:
        by_kind[r.kind][r.status] += 1
    ok = bool(checks) and all(c.ok for c in checks)
    if not outage.planned:
        fault = "none: the run was started with `--no-outage`, which must FAIL."
    elif outage.down_at is None:
        fault = "PostgreSQL was to be stopped but never was (see the first check)."
    else:
        back = (
            f"started again {outage.up_at - outage.down_at:.1f} s later"
            if outage.up_at is not None
            else "never seen back"
        )
        fault = (
            f"PostgreSQL stopped (`pg_ctlcluster {info.pg_version} {info.pg_cluster} stop -m "
            f"fast`) {outage.down_at - info.t0:.1f} s into the run and {back}."
        )
    lines = [
        "# Reliability: soak and fault run",
        "",
        "Written by the soak (`make soak`, package `soak/`). Do not edit by hand; run it again.",
        "",
        f"- Date: {info.started:%Y-%m-%d %H:%M} UTC",
        f"- Command: `{info.command}`",
        f"- Set-up: gunicorn with {info.workers} sync workers on a free loopback port, "
        f"PostgreSQL {info.pg_version} (its own cluster `{info.pg_cluster}` on port "
        f"{info.pg_port}), {info.clients} client threads for {info.seconds} s, each its own "
        "user. Clients sign in, create tokens through the form (CSRF, one-time nonce, some "
        "submitted twice at once) and the API (some expiring within seconds), list and delete "
        "them both ways, delete while another thread uses the token, and call the API with "
        "live, deleted, expired and junk tokens.",
        f"- Fault: {fault}",
        f"- Requests: {len(records):,} in all.",
        "",
        f"## Result: {'PASS' if ok else 'FAIL'}",
        "",
        "A check passes only if its rule held and it saw at least the number of observations "
        "it states; too few is a FAIL, never a pass on nothing.",
        "",
        "| Check | Result | Observed (minimum to judge) | Detail |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {c.name} | {c.verdict} | {'; '.join(map(str, c.seen))} | {c.detail} |" for c in checks
    ]
    lines += ["", "## Answers by kind of request", "", "| Request | Answers (status × count) |"]
    lines += ["|---|---|"]
    for kind in sorted(by_kind):
        counts = ", ".join(f"{st or 'none'} × {n}" for st, n in sorted(by_kind[kind].items()))
        lines.append(f"| {kind} | {counts} |")
    lines += [
        "",
        "## How to read this",
        "",
        "- The first check proves the fault: the fault thread stopped PostgreSQL without an "
        "error, looked at it while it should be down and found it down, started it again, and "
        "clients and /readyz saw 503s meanwhile. Without that evidence the recovery checks "
        "would prove nothing, so the run fails.",
        "- 503 answers are expected only while PostgreSQL is down and until the workers "
        f"reconnect; a check fails if any request sent {RECOVERY_LIMIT:.0f} s after the "
        "database returned still fails.",
        "- A delete whose answer was lost in the outage is retried after the run; a 404 "
        "then means the first attempt had committed, which the audit trail confirms.",
        "- A token counts as deleted from the moment the client received the delete's "
        "answer; every use sent after that moment must be refused. Uses answered 503 (the "
        "outage) judge nothing and are not counted.",
        "- The API's per-address throttles are lifted for the run (every client is "
        "127.0.0.1), so each junk token reaches the token check; the tests cover the "
        "throttles.",
        "- `tests/soak/test_report.py` feeds these checks runs with nothing observed, no fault, "
        "a failed fault thread and an accepted deleted token, and shows each one FAIL.",
        "",
        "## Also checked by the test suite (SQLite and PostgreSQL)",
        "",
        "- `tests/reliability/test_database_unavailable.py`: 503 pages and JSON while every "
        "query fails, including a session that cannot be saved; service again afterwards.",
        "- `tests/reliability/test_concurrency.py`: simultaneous creates at "
        "`ACCESS_TOKEN_MAX_PER_USER` never pass it; a form submitted twice at once makes one "
        "token; no use sent after a delete commits is accepted.",
        "- `tests/security/`: Hypothesis over the create form and the API payloads, bodies over "
        "the size limit, escaping in the admin and emails, security headers, sign-in lockout "
        "and session rotation.",
        "",
    ]
    return "\n".join(lines)


def write_report(
    path: Path, info: RunInfo, checks: list[Check], records: list[Record], outage: Outage
) -> None:
    path.write_text(render(info, checks, records, outage))
