"""
Keystand's benchmark: what token authentication costs per request, as the token table grows,
in writes, and under load. Prints a table and writes docs/performance.md.

    .venv/bin/python bench/run.py            # the full run (`make bench`), 10-15 minutes
    .venv/bin/python bench/run.py --quick    # small counts, about a minute; writes
                                             # bench/results/performance-quick.md instead

Each database gets its own process (bench/micro.py) and its own, fresh database: a SQLite file
in a temporary directory and the PostgreSQL database `keystand_bench` (dropped and created).
The load run (bench/load.py) starts gunicorn on PostgreSQL and drives it with wrk.
Targets are read from the numbers and printed as met or missed; nothing here asserts a timing.
"""

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PG_DB, PYTHON, ROOT, bench_env, pg_url, recreate_pg_database  # noqa: E402

DOC = ROOT / "docs" / "performance.md"
RESULTS = ROOT / "bench" / "results"
KEEP_MARKER = "<!-- Everything below this line is written by hand; bench/run.py keeps it. -->"
LOAD_THROTTLE = "1000000/s"
HEADLINE_START = "<!-- bench/run.py writes the headline figures below on a full run. -->"
HEADLINE_END = "<!-- End of bench/run.py's headline figures. -->"

CASE_LABELS = {
    "none": "No authentication (floor)",
    "round_trip": "One empty round trip (`SELECT 1`), user from memory",
    "authtoken": "DRF authtoken (plaintext key)",
    "keystand": "Keystand, `AccessToken` header",
    "bearer": "Keystand, `Bearer` header",
    "basic": "Keystand, HTTP Basic",
    "keystand_waiting": "Keystand, `AccessToken` header, lookup not sent ahead",
    "keystand_user100": "Keystand, user holding 100 tokens",
    "keystand_read_api": "Keystand, `read_api` token (scope check)",
    "keystand_rotated": "Keystand, token made by rotation",
    "keystand_throttled_quietly": "Keystand + per-user throttle, no RateLimit headers",
    "keystand_throttled": "Keystand + per-user throttle with RateLimit-* headers",
    "argon2": "Naive Argon2-verified token",
}
# Authenticated request against the no-authentication floor, per database (#17).
FLOOR_TARGETS = {"SQLite": 1.5, "PostgreSQL": 2.5}
# Paths added by later features, each against what it adds to: (case, yardstick, label).
NEW_PATHS = [
    ("keystand_read_api", "keystand", "a `read_api` token's scope check"),
    ("keystand_rotated", "keystand", "a token made by rotation"),
    ("keystand_throttled", "keystand_throttled_quietly", "the RateLimit-* headers"),
]


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    versions = subprocess.run(
        [
            PYTHON,
            "-c",
            "import django, rest_framework, psycopg, gunicorn;"
            "print(django.get_version(), rest_framework.__version__, psycopg.__version__,"
            " gunicorn.__version__)",
        ],
        capture_output=True,
        text=True,
    ).stdout.split()
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": mem,
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": versions[0] if versions else "?",
        "drf": versions[1] if len(versions) > 1 else "?",
        "psycopg": versions[2] if len(versions) > 2 else "?",
        "gunicorn": versions[3] if len(versions) > 3 else "?",
        "wrk": (wrk.stdout or wrk.stderr).split("\n")[0].strip(),
        "commit": commit,
        "load_average": " ".join(Path("/proc/loadavg").read_text().split()[:3])
        if Path("/proc/loadavg").exists()
        else "",
    }


def run_json(module: str, args: list[str], env: dict) -> dict:
    proc = subprocess.run(
        [PYTHON, "-W", "ignore::UserWarning", "-m", module, *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{module} failed (exit {proc.returncode})")
    return json.loads(proc.stdout)


# --- Formatting -------------------------------------------------------------------------------


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    right = [i > 0 for i in range(len(header))]

    def line(cells):
        out = []
        for i, cell in enumerate(cells):
            cell = str(cell)
            out.append(cell.rjust(widths[i]) if right[i] else cell.ljust(widths[i]))
        return "| " + " | ".join(out) + " |"

    sep = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if right[i] else ("-" * (w + 2)) for i, w in enumerate(widths)
        )
        + "|"
    )
    return "\n".join([line(header), sep, *(line(r) for r in rows)])


def _and(items) -> str:
    items = list(items)
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)


def us(value: float) -> str:
    return f"{value:,.0f}" if value >= 1000 else f"{value:,.1f}"


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


class Ratio(float):
    """A ratio of two cases, with the interquartile range (`q1`, `q3`) of its per-round
    values; both are the ratio itself where the run kept no rounds."""

    def __new__(cls, values: list[float]) -> "Ratio":
        ratio = super().__new__(cls, statistics.median(values))
        ratio.q1, _, ratio.q3 = statistics.quantiles(values, n=4) if len(values) > 1 else values * 3
        return ratio

    def spread(self) -> str:
        """Return "; middle half of rounds a–b×", or "" where there were no rounds."""
        return (
            ""
            if self.q1 == self.q3 == self
            else f"; middle half of rounds {self.q1:.3f}–{self.q3:.3f}×"
        )


def _paired(a: list[float] | None, b: list[float] | None, overall: float) -> Ratio:
    """Return a's figures over b's, round by round; `overall` where either kept no rounds."""
    if not a or not b or len(a) != len(b):
        return Ratio([overall])
    return Ratio([x / y for x, y in zip(a, b, strict=True)])


def per_round(case: dict, yardstick: dict) -> Ratio:
    """Return case's time over yardstick's, paired round by round: the median over rounds of
    the two medians' ratio within the same round. The cases of a round run back to back, so a
    round the machine made slow (another job, a noisy neighbour) slows both and leaves their
    ratio alone, where dividing the medians over all rounds would let it in. A run without
    per-round figures (an older bench/results JSON) gives the ratio of the medians."""
    return _paired(
        case.get("round_medians_us"),
        yardstick.get("round_medians_us"),
        case["median_us"] / yardstick["median_us"],
    )


def rate_per_round(case: dict, yardstick: dict) -> Ratio:
    """Return case's requests/s over yardstick's under load, paired round by round as
    per_round does (wrk's runs of a round follow one another); the ratio of the overall
    rates where the run kept no rounds."""

    def rates(c: dict) -> list[float]:
        return [run["requests"] / run["duration_us"] for run in c.get("rounds") or []]

    return _paired(rates(case), rates(yardstick), case["rps"] / yardstick["rps"])


def cpu_per_request(case: dict) -> dict[str, float | None] | None:
    """Return the case's CPU µs per request under load by process kind (app: gunicorn, its
    master and workers; database: the PostgreSQL server's processes; load generator: wrk),
    summed over its rounds, each column over the rounds in which none of its processes ended
    (None where that leaves none); None where a round was run without the meter (not Linux,
    or a run saved before it existed)."""
    runs = case.get("rounds") or []
    if not runs or any("cpu" not in run for run in runs):
        return None
    split = {}
    for kind, gone in (("app_s", "app_ended"), ("database_s", "database_ended")):
        # A round in which a metered process ended (a backend closed at CONN_MAX_AGE) is short
        # by what that process used in it: left out, for this column only.
        whole = [run for run in runs if not run["cpu"].get(gone)]
        values = [run["cpu"][kind] for run in whole]
        split[kind] = (
            None
            if not whole or None in values
            else sum(values) / sum(run["requests"] for run in whole) * 1e6
        )
    generator = sum(run["cpu"]["load_generator_s"] for run in runs)
    split["load_generator_s"] = generator / sum(run["requests"] for run in runs) * 1e6
    return split


LOAD_LABELS = [
    ("authtoken", "DRF authtoken, `Me` view"),
    ("keystand", "Keystand, `Me` view"),
    ("keystand_api_me", "Keystand, product `/api/v1/me/`"),
    ("keystand_api_list", "Keystand, product `/api/v1/access-tokens/`"),
]


def cpu_section(load: dict) -> list[str]:
    """The load rounds' CPU per request by process, beside the bare view's (empty without)."""
    splits = {name: cpu_per_request(c) for name, c in load["cases"].items()}
    bare = splits.get("keystand")
    if bare is None or any(split is None for split in splits.values()):
        return []

    runs = [run for case in load["cases"].values() for run in case["rounds"]]
    left_out = ", ".join(
        f"{sum(bool(run['cpu'].get(gone)) for run in runs)} of {len(runs)} for {column}"
        for gone, column in (("app_ended", "gunicorn"), ("database_ended", "PostgreSQL"))
    )

    def us(value: float | None) -> str:
        return "–" if value is None else f"{value:,.0f}"

    def total(split: dict) -> float:
        return sum(v for v in split.values() if v is not None)

    def above(split: dict, kind: str) -> str:
        return "–" if split[kind] is None else f"{split[kind] - bare[kind]:+,.0f}"

    rows = [
        [
            label,
            us(split["app_s"]),
            us(split["database_s"]),
            us(split["load_generator_s"]),
            us(total(split)),
            f"{above(split, 'app_s')} / {above(split, 'database_s')}",
            f"{total(bare) / total(split):.3f}×",
        ]
        for name, label in LOAD_LABELS
        if (split := splits.get(name)) is not None
    ]
    return [
        "CPU per request in the same rounds, by process, read from Linux's `/proc` around each "
        "wrk run (`bench/cpu.py`): gunicorn's master and workers, the PostgreSQL server's "
        "processes (the workers' backends among them) and wrk. Requests/s say how much more a "
        "path costs; this says where. The last column is the bare view's CPU per request over "
        "the case's: what the case's rate would be, as a share of the bare view's, if the "
        "machine did nothing but these three. A round in which one of the processes metered "
        "ended (each worker's database connection closes after `CONN_MAX_AGE`, its backend "
        "with it) is short by what that process used, so that round is left out of the "
        "column: here " + left_out + ".",
        "",
        table(
            [
                "Case",
                "gunicorn µs",
                "PostgreSQL µs",
                "wrk µs",
                "Together µs",
                "Above the bare view, gunicorn / PostgreSQL µs",
                "Bare view's CPU / this",
            ],
            rows,
        ),
        "",
    ]


# --- Report -----------------------------------------------------------------------------------


def report(data: dict, command: str, quick: bool) -> tuple[str, list[tuple[str, bool]]]:
    m = data["machine"]
    targets: list[tuple[str, bool]] = []
    parts = [
        "# Performance",
        "",
        "What token authentication costs Keystand per request, as the token table grows, in "
        "database writes, and under load; measured by `bench/run.py` (`make bench`).",
        "",
        f"- Command: `{command}`"
        + (" (quick run: small counts, not the reference)" if quick else ""),
        f"- Date: {data['date']}",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['memory']} RAM; {m['os']}; "
        f"load average at start {m['load_average']} (shared with other jobs)",
        f"- Software: Python {m['python']}, Django {m['django']}, DRF {m['drf']}, psycopg "
        f"{m['psycopg']}, gunicorn {m['gunicorn']}, {m['wrk']}; commit {m['commit']}",
        "",
        "## 1. Per request, through the whole Django stack",
        "",
        "Each request is a prepared WSGI environ handed to Django's `WSGIHandler`: every "
        "middleware of the product, URL routing, DRF, the authentication under test, and the "
        "*same* trivial DRF view (`bench/views.py: Hello`, throttles off, the product's default "
        "permissions `IsAuthenticated` + `TokenScopePermission`), response closed; the two "
        "throttled cases add the product's per-user throttle (`API_THROTTLE_USER` raised so it "
        "never refuses; a local-memory cache, so no Redis round trip), one of them without its "
        "RateLimit-* headers, so the pair prices the headers alone. The `SELECT 1` row is not an "
        "authentication: one empty query through Django's cursor and a user kept in memory, the "
        "least that any authentication pays that asks the database when DRF authenticates. "
        "Keystand asks before that on PostgreSQL: its first middleware sends the token's lookup "
        "as the request arrives, and the authentication reads the answer "
        "(`access_tokens/ahead.py`); the row 'lookup not sent ahead' is the same request with "
        "the lookup sent when the authentication asks, as before (on SQLite, which answers "
        "in-process, nothing is sent ahead, so the two rows are the same request). "
        f"{data['params']['rounds']} rounds; in each round every case runs "
        f"{data['params']['per_round']} requests "
        f"({data['params']['argon_per_round']} for Argon2) in a freshly shuffled order, so a busy "
        "moment on the machine hits every case. The figure is the median over rounds of each "
        "round's median time per request (interquartile range over rounds in brackets). Every "
        "ratio, here and below, is paired round by round: the median over rounds of the two "
        "cases' ratio within the same round, so a round the machine made slow for both leaves "
        "it alone; the targets give the middle half of the rounds' ratios too. Each heading "
        "says how many tokens the table held (section 2 varies it).",
        "",
    ]
    for db in data["databases"]:
        res = data["micro"][db]
        main = res["main_size"]
        results = res["results"]
        held = res["tokens"][str(main)]
        base = results[f"authtoken@{main}"]
        floor = results[f"none@{main}"]
        rows = []
        for name in [
            "none",
            "round_trip",
            "authtoken",
            "keystand",
            "bearer",
            "basic",
            "keystand_waiting",
            "keystand_user100",
            "keystand_read_api",
            "keystand_rotated",
            "keystand_throttled_quietly",
            "keystand_throttled",
            "argon2",
        ]:
            r = results.get(f"{name}@{main}")
            if r is None:
                continue
            rows.append(
                [
                    CASE_LABELS[name],
                    us(r["median_us"]),
                    f"[{us(r['q1_us'])}–{us(r['q3_us'])}]",
                    f"{per_round(r, base):.2f}×",
                    f"{per_round(r, floor):.2f}×",
                ]
            )
        parts += [
            f"### {res['label']} ({res['db_version'].split(' on ')[0]}), "
            f"{held:,} tokens in the table",
            "",
            table(["Case", "Median µs/request", "IQR µs", "vs authtoken", "vs floor"], rows),
            "",
        ]
        for name in ("keystand", "bearer", "basic"):
            ratio = per_round(results[f"{name}@{main}"], base)
            targets.append(
                (
                    f"{res['label']}: {CASE_LABELS[name]} ≤ 1.05× authtoken "
                    f"(is {ratio:.3f}×{ratio.spread()})",
                    ratio <= 1.05,
                )
            )
        limit = FLOOR_TARGETS[res["label"]]
        ratio = per_round(results[f"keystand@{main}"], floor)
        targets.append(
            (
                f"{res['label']}: Keystand ≤ {limit}× the no-authentication floor "
                f"(is {ratio:.3f}×{ratio.spread()})",
                ratio <= limit,
            )
        )
        for name, yardstick, label in NEW_PATHS:
            if f"{name}@{main}" not in results:
                continue
            ratio = per_round(results[f"{name}@{main}"], results[f"{yardstick}@{main}"])
            targets.append(
                (
                    f"{res['label']}: {label} cost nothing measurable, ≤ 1.05× "
                    f"{CASE_LABELS[yardstick]} (is {ratio:.3f}×{ratio.spread()})",
                    ratio <= 1.05,
                )
            )
        argon = results.get(f"argon2@{main}")
        if argon:
            params = res["argon2"]
            parts += [
                f"Argon2 costs {per_round(argon, base):,.0f}× `authtoken` per request here: "
                f"{argon['median_us'] / 1000:,.0f} ms (Django's Argon2 parameters: "
                f"{params['memory_kib'] / 1024:,.0f} MiB of memory, {params['time_cost']} "
                f"passes, {params['parallelism']} lanes) on every call, where the token's 256 "
                "random bits need no stretching at all (DESIGN.md §2).",
                "",
            ]

    first = data["micro"][data["databases"][0]]
    counts = [first["tokens"][str(size)] for size in first["sizes"]]
    most = max(first["most_per_owner"].values(), default=0)
    parts += [
        "## 2. Scaling with the number of tokens",
        "",
        f"The same measurement with {_and(f'{n:,}' for n in counts)} tokens in the table "
        "(random digests, bulk-inserted: COPY on PostgreSQL, executemany on SQLite; no filler "
        f"owner holds more than {most:,}), and for a caller who holds 100 tokens (the per-user "
        "limit). Each size has its own database and every case of every size runs in the same "
        "shuffled rounds, so the ratios compare like with like.",
        "",
    ]
    for db in data["databases"]:
        res = data["micro"][db]
        sizes = res["sizes"]
        results = res["results"]
        first = results[f"keystand@{sizes[0]}"]
        rows = []
        worst = per_round(first, first)
        for size in sizes:
            ks = results[f"keystand@{size}"]
            at = results[f"authtoken@{size}"]["median_us"]
            user100 = results.get(f"keystand_user100@{size}")
            growth = per_round(ks, first)
            worst = max(worst, growth)
            rows.append(
                [
                    f"{res['tokens'][str(size)]:,}",
                    us(ks["median_us"]),
                    f"{growth:.2f}",
                    us(user100["median_us"]) if user100 else "–",
                    f"{per_round(user100, ks):.2f}" if user100 else "–",
                    us(at),
                    f"{res['fill_seconds'][str(size)]:.1f} s",
                ]
            )
            if user100:
                ratio = per_round(user100, ks)
                targets.append(
                    (
                        f"{res['label']}: 1 → 100 tokens per user at {size:,} tokens ≤ 1.10× "
                        f"(is {ratio:.3f}×{ratio.spread()})",
                        ratio <= 1.10,
                    )
                )
        parts += [
            f"### {res['label']}",
            "",
            table(
                [
                    "Tokens in table",
                    "Keystand µs",
                    "vs 10 tokens",
                    "User with 100 tokens µs",
                    "vs 1 token",
                    "authtoken µs",
                    "Insert time",
                ],
                rows,
            ),
            "",
        ]
        targets.append(
            (
                f"{res['label']}: {sizes[0]:,} → {sizes[-1]:,} tokens ≤ 1.10× "
                f"(worst {worst:.3f}×{worst.spread()})",
                worst <= 1.10,
            )
        )

    parts += [
        "## 3. Writes",
        "",
        "SQL statements counted with `connection.execute_wrapper` over a run of authenticated "
        "requests with one token, all within one `ACCESS_TOKEN_LAST_USED_INTERVAL`. The first run "
        "starts with a stale `last_used_at` (so exactly one request should write); the second "
        "follows straight after (all fresh). PostgreSQL's connection health check "
        "(`CONN_HEALTH_CHECKS`) sends no query here (`config/db/postgresql` asks the socket "
        "instead); the round trips at the driver, below, would show one if it did.",
        "",
    ]
    rows = []
    for db in data["databases"]:
        res = data["micro"][db]
        w = res["writes"]
        for key, label in [
            ("keystand_first_stale", "Keystand, starting stale"),
            ("keystand_fresh", "Keystand, fresh"),
            ("authtoken", "DRF authtoken"),
        ]:
            c = w[key]
            rows.append(
                [
                    res["label"],
                    label,
                    f"{c['requests']:,}",
                    f"{c['statements']:,}",
                    f"{c['selects']:,}",
                    f"{c['updates']:,}",
                    f"{c['seconds']:.2f} s",
                ]
            )
        n = w["keystand_fresh"]["requests"]
        stale, fresh = w["keystand_first_stale"], w["keystand_fresh"]
        ok = (
            stale["selects"] == n
            and stale["updates"] == 1
            and stale["statements"] == n + 1
            and fresh["statements"] == n
            and fresh["updates"] == 0
            and stale["seconds"] < res["interval_s"]
        )
        targets.append(
            (
                f"{res['label']}: one query per request while fresh "
                f"({stale['selects']:,} reads + {stale['updates']} write for {n:,} requests)",
                ok,
            )
        )
    parts += [
        table(["Database", "Case", "Requests", "Statements", "SELECT", "UPDATE", "Took"], rows),
        "",
    ]
    for db in data["databases"]:
        res = data["micro"][db]
        rt = res.get("round_trips")
        if not rt:
            continue
        ks, none = rt["keystand"], rt["none"]
        per = ks["round_trips"] / ks["requests"]
        parts += [
            f"Round trips on {res['label']}, counted at the driver: the server's ReadyForQuery "
            "messages in libpq's protocol trace over a run of requests with a fresh "
            "`last_used_at`, with nothing watching Django's queries (so the product's own path "
            "runs, and the connection health check would be counted if it cost one). "
            f"Keystand: {ks['round_trips']:,} round trips for {ks['requests']:,} requests "
            f"({per:.2f} per request), {ks['parses']:,} statements parsed (the lookup is "
            f"prepared once per connection); no authentication: {none['round_trips']:,}.",
            "",
        ]
        targets.append(
            (
                f"{res['label']}: one round trip per authenticated request at the driver "
                f"({ks['round_trips']:,} for {ks['requests']:,})",
                ks["round_trips"] == ks["requests"],
            )
        )

    load = data.get("load")
    parts += ["## 4. Under load", ""]
    if load:
        at = load["cases"]["authtoken"]
        parts += [
            f"gunicorn, {load['workers']} sync workers, on PostgreSQL (the largest database of "
            f"sections 1–3, holding {load['tokens_in_table']:,} tokens); wrk with "
            f"{load['threads']} threads and {load['connections']} connections on the same "
            f"{m['cores']}-core machine, {load['seconds_per_case']} s per case in "
            f"{load['rounds']} alternating rounds; ratios are paired round by round as in "
            "section 1. The first two cases hit the same "
            "`/api/v1/me/`-like view (`bench/views.py: Me`: id, username, email) with the "
            "product's throttles on, so they compare authentication alone; it is routed inside "
            "the product's `/api/v1/` (`/api/v1/bench/me/…`), so it meets the same URL levels "
            "and middleware as the product's own views. The product's own "
            "`/api/v1/me/` (which also serialises the token) and token list (one page, with "
            "its paging; one page needs no Link header) are judged against that bare view, "
            "because that is what a client calls. "
            f"`API_THROTTLE_USER` is raised to `{LOAD_THROTTLE}` for this run so that 429s do "
            "not pollute it. p50/p99 are the median over rounds of wrk's `--latency` "
            "percentiles; non-2xx is wrk's count of answers ≥ 400 (every URL is first checked to "
            "answer 200 with the right body, so no redirect passes unseen); socket errors are "
            "wrk's connect/read/write/timeout errors.",
            "",
        ]
        rows = []
        for name, label in LOAD_LABELS:
            c = load["cases"].get(name)
            if c is None:
                continue
            rows.append(
                [
                    label,
                    f"{c['rps']:,.0f}",
                    f"{rate_per_round(c, at):.2f}×",
                    f"{c['p50_ms']:.1f}",
                    f"{c['p99_ms']:.1f}",
                    f"{c['requests']:,}",
                    f"{c['non_2xx']:,}",
                    f"{c['socket_errors']:,}",
                ]
            )
        parts += [
            table(
                [
                    "Case",
                    "Requests/s",
                    "vs authtoken",
                    "p50 ms",
                    "p99 ms",
                    "Requests",
                    "Non-2xx",
                    "Socket errors",
                ],
                rows,
            ),
            "",
        ]
        parts += cpu_section(load)
        mixed = load.get("interleaved")
        # Each path's share of the bare view's rate, counted in the worker alone.
        shares = {}
        if mixed:
            paths = mixed["paths"]
            shares = {n: paths["keystand"]["mean_us"] / p["mean_us"] for n, p in paths.items()}
            parts += [
                f"Interleaved: one wrk run of {mixed['seconds']} s (same threads and "
                "connections) that sends the bare `Me` view, `/api/v1/me/` and the list in "
                "turn on every connection (`bench/wrk_mixed.lua`), to a gunicorn that logs "
                "how long each request spent in its worker (the access log's `%(D)s`). Every "
                "path meets the same moments of the machine, which the rounds above cannot "
                "promise. The bare view's mean over a case's is the case's share of the bare "
                "view's rate counted in the worker alone. It leaves out what a request costs "
                "outside the worker (wrk, gunicorn's parsing, the kernel), which differs "
                "between the paths only with the size of their answers, so a path's extra "
                "work shows at full size instead of diluted as in requests/s.",
                "",
                table(
                    [
                        "Path",
                        "Requests",
                        "Mean µs in the worker",
                        "Median µs",
                        "Share of the bare view's rate",
                        "Non-200",
                    ],
                    [
                        [
                            f"`{p['path']}`",
                            f"{p['requests']:,}",
                            f"{p['mean_us']:,.0f}",
                            f"{p['median_us']:,}",
                            f"{shares[n]:.3f}×",
                            f"{p['non_200']:,}",
                        ]
                        for n, p in paths.items()
                    ],
                ),
                "",
            ]
        bare = load["cases"]["keystand"]
        for name, label, yardstick, against in [
            ("keystand", "Keystand, `Me` view", at, "authtoken"),
            ("keystand_api_me", "product `/api/v1/me/`", bare, "the bare Keystand `Me` view"),
            (
                "keystand_api_list",
                "product `/api/v1/access-tokens/`",
                bare,
                "the bare Keystand `Me` view",
            ),
        ]:
            c = load["cases"].get(name)
            if c is None:
                continue
            ratio = rate_per_round(c, yardstick)
            errors = c["non_2xx"] + c["socket_errors"]
            also = ""
            if name in shares and yardstick is bare:
                also = f"; interleaved, time in the worker: {shares[name]:.3f}×"
            targets.append(
                (
                    f"Under load: {label} ≥ 0.95× {against}'s requests/s "
                    f"(is {ratio:.3f}×{ratio.spread()}{also}) with zero errors ({errors})",
                    ratio >= 0.95 and errors == 0,
                )
            )
        if load.get("gunicorn_errors"):
            parts += ["gunicorn's error log:", "", "```", load["gunicorn_errors"], "```", ""]
    else:
        parts += ["Not run (`--skip-load`).", ""]

    parts += ["## Targets", ""]
    parts += [f"- {verdict(ok)}: {text}" for text, ok in targets]
    parts += [""]
    return "\n".join(parts), targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts, for development")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--skip-load", action="store_true", help="no gunicorn/wrk run")
    parser.add_argument(
        "--render", metavar="JSON", help="measure nothing; rewrite the report from a saved run"
    )
    args = parser.parse_args()
    command = ".venv/bin/python bench/run.py" + "".join(f" {a}" for a in sys.argv[1:])
    if args.render:
        data = json.loads(Path(args.render).read_text())
        write(data, data.get("command", ".venv/bin/python bench/run.py"), data.get("quick", False))
        return

    if args.quick:
        micro_args = [
            "--rounds",
            "5",
            "--per-round",
            "30",
            "--sizes",
            "10,10000,50000",
            "--writes",
            "200",
        ]
        load_args = ["--seconds", "4", "--rounds", "2", "--mixed-seconds", "4"]
    else:
        micro_args = [
            "--rounds",
            "30",
            "--per-round",
            "200",
            "--sizes",
            "10,10000,1000000",
            "--writes",
            "1000",
        ]
        load_args = ["--seconds", "30", "--rounds", "6"]
    params = dict(zip(micro_args[::2], micro_args[1::2], strict=True))

    data: dict = {
        "command": command,
        "quick": args.quick,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "params": {
            "rounds": int(params["--rounds"]),
            "per_round": int(params["--per-round"]),
            "argon_per_round": 1,
        },
        "databases": [],
        "micro": {},
    }
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    sizes = sorted(int(x) for x in params["--sizes"].split(","))
    tmp = Path(tempfile.mkdtemp(prefix="keystand-bench-"))
    try:
        for db in dbs:
            print(f"==> Per request on {db}", file=sys.stderr, flush=True)
            # The largest table is the default database (the load run uses it too).
            if db == "sqlite":
                urls = [f"sqlite:///{tmp / f'bench-{size}.sqlite3'}" for size in sizes]
                label = "SQLite"
            else:
                names = [f"{PG_DB}_{i}" for i in range(len(sizes) - 1)] + [PG_DB]
                for name in names:
                    recreate_pg_database(name)
                urls = [pg_url(name) for name in names]
                label = "PostgreSQL"
            extra = {f"size{i}": url for i, url in enumerate(urls[:-1])}
            env = bench_env(
                urls[-1], BENCH_DATABASES=json.dumps(extra), API_THROTTLE_USER=LOAD_THROTTLE
            )
            res = run_json("bench.micro", micro_args, env)
            res["label"] = label
            data["micro"][db] = res
            data["databases"].append(db)
        if not args.skip_load and "postgres" in dbs:
            print("==> Under load: gunicorn + wrk on PostgreSQL", file=sys.stderr, flush=True)
            env = bench_env(pg_url(PG_DB), API_THROTTLE_USER=LOAD_THROTTLE)
            data["load"] = run_json("bench.load", load_args, env)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / ("quick.json" if args.quick else "latest.json")).write_text(
        json.dumps(data, indent=1)
    )
    write(data, command, args.quick)


def headline(data: dict, targets: list[tuple[str, bool]]) -> str | None:
    """Return the README's headline figures, from a full run on both databases with load."""
    if data.get("quick") or data["databases"] != ["sqlite", "postgres"] or not data.get("load"):
        return None
    m = data["machine"]
    micro = [data["micro"][db] for db in data["databases"]]

    def case(res, name, size=None):
        return res["results"][f"{name}@{size or res['main_size']}"]

    def at(res, name, size=None):
        return case(res, name, size)["median_us"]

    def rel(res, name, yardstick, size=None):
        return per_round(case(res, name, size), case(res, yardstick, size))

    def ratio_range(values):
        lo, hi = min(values), max(values)
        return f"{lo:.2f}×" if f"{lo:.2f}" == f"{hi:.2f}" else f"{lo:.2f}–{hi:.2f}×"

    def cells(fn):
        return " | ".join(fn(res) for res in micro)

    def keystand(res):
        values = [at(res, n) for n in ("keystand", "bearer", "basic")]
        ratios = [rel(res, n, "authtoken") for n in ("keystand", "bearer", "basic")]
        return " / ".join(us(v) for v in values) + f" ({ratio_range(ratios)})"

    def argon(res):
        return f"{at(res, 'argon2') / 1000:,.0f} ms ({rel(res, 'argon2', 'authtoken'):,.0f}×)"

    def scaling(res):
        first = case(res, "keystand", res["sizes"][0])
        worst = max(per_round(case(res, "keystand", s), first) for s in res["sizes"])
        return f"≤ {worst:.2f}×"

    def per_user(res):
        sizes = [s for s in res["sizes"] if f"keystand_user100@{s}" in res["results"]]
        return ratio_range([rel(res, "keystand_user100", "keystand", s) for s in sizes])

    def writes(res):
        w = res["writes"]["keystand_first_stale"]
        return f"{w['selects']:,} SELECT + {w['updates']:,} UPDATE"

    largest = micro[0]["tokens"][str(micro[0]["sizes"][-1])]
    requests = micro[0]["writes"]["keystand_first_stale"]["requests"]
    rows = [
        ("No authentication (floor), µs per request", lambda r: us(at(r, "none"))),
        ("DRF `authtoken`, µs per request", lambda r: us(at(r, "authtoken"))),
        ("Keystand `AccessToken` / `Bearer` / Basic, µs per request", keystand),
        (
            "Keystand against the floor (target ≤ 1.5× SQLite, ≤ 2.5× PostgreSQL)",
            lambda r: f"{rel(r, 'keystand', 'none'):.2f}×",
        ),
        ("Naive Argon2-verified token, per request", argon),
        (f"Keystand, {micro[0]['sizes'][0]:,} → {largest:,} tokens in the table", scaling),
        ("Keystand, user holding 1 → 100 tokens", per_user),
        (f"{requests:,} requests, one token, within one interval", writes),
    ]
    load = data["load"]
    c = load["cases"]
    base = c["authtoken"]
    met = sum(ok for _, ok in targets)
    lines = [
        f"Headline numbers (full `make bench` run, {data['date']}, {m['cpu']}, {m['cores']} "
        f"cores, load average {m['load_average']} at the start; all of them in "
        f"[docs/performance.md](docs/performance.md), {met} of {len(targets)} targets met):",
        "",
        "| | SQLite | PostgreSQL |",
        "|---|---:|---:|",
        *(f"| {label} | {cells(fn)} |" for label, fn in rows),
        "",
        f"Under load (gunicorn, {load['workers']} sync workers, PostgreSQL with "
        f"{load['tokens_in_table']:,} tokens, wrk {load['threads']} threads / "
        f"{load['connections']} connections, {load['seconds_per_case']} s per case in "
        f"{load['rounds']} alternating rounds): on the same `/api/v1/me/`-like view, Keystand "
        f"{c['keystand']['rps']:,.0f} requests/s (p50 {c['keystand']['p50_ms']:.1f} ms, p99 "
        f"{c['keystand']['p99_ms']:.1f} ms) against `authtoken`'s {base['rps']:,.0f} (p50 "
        f"{base['p50_ms']:.1f} ms, p99 {base['p99_ms']:.1f} ms), "
        f"{rate_per_round(c['keystand'], base):.2f}×; the product's own `/api/v1/me/`, which "
        f"also serialises the token, {c['keystand_api_me']['rps']:,.0f} requests/s "
        f"({rate_per_round(c['keystand_api_me'], c['keystand']):.2f}× the bare view)"
        + (
            f", and its token list {c['keystand_api_list']['rps']:,.0f} requests/s "
            f"({rate_per_round(c['keystand_api_list'], c['keystand']):.2f}×)"
            if "keystand_api_list" in c
            else ""
        )
        + ". Non-2xx answers and "
        "socket errors: "
        + ", ".join(f"{c[n]['non_2xx'] + c[n]['socket_errors']:,}" for n in c)
        + f" (in the order above). `API_THROTTLE_USER` is raised to `{LOAD_THROTTLE}` for "
        "this run so that throttling does not answer 429.",
    ]
    return "\n".join(lines)


def replace_between(text: str, start: str, end: str, new: str) -> str:
    """Return `text` with what lies between the two marker lines replaced by `new`."""
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{new}\n{end}{tail}"


def write(data: dict, command: str, quick: bool) -> None:
    """Print the report and write it, keeping the hand-written part of the page; on a full
    run, also rewrite the README's headline figures."""
    text, targets = report(data, command, quick)
    print(text)
    out = RESULTS / "performance-quick.md" if quick else DOC
    kept = ""
    if out.exists() and KEEP_MARKER in out.read_text():
        kept = out.read_text().split(KEEP_MARKER, 1)[1]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n" + KEEP_MARKER + (kept if kept else "\n"))
    print(
        f"==> Wrote {out.relative_to(ROOT)}; "
        f"{sum(ok for _, ok in targets)}/{len(targets)} targets met",
        file=sys.stderr,
    )
    figures = headline(data, targets)
    readme = ROOT / "README.md"
    if figures is not None and HEADLINE_START in readme.read_text():
        readme.write_text(
            replace_between(readme.read_text(), HEADLINE_START, HEADLINE_END, figures)
        )
        print("==> Wrote the headline figures in README.md", file=sys.stderr)


if __name__ == "__main__":
    main()
