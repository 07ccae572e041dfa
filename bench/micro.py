"""
Per-request cost through the whole Django stack, in one process, on one database engine.

Run by bench/run.py with the environment of bench.common.bench_env (one process per database
engine, because Django reads DATABASE_URL once). Each table size has its own database
(`default` holds the largest, BENCH_DATABASES names the others) and bench.routing sends a
case's queries to its own, so every case, whatever its table size, is interleaved.

Each request is a prepared WSGI environ handed to Django's WSGIHandler: middleware, URL
routing, DRF, authentication, the same trivial view, and the response closed (which fires
request_finished, as gunicorn does). Cases are interleaved
round by round in a shuffled order, so a slow moment on the shared machine hits every case.

Prints one JSON document on stdout.
"""

import argparse
import base64
import datetime as dt
import gc
import io
import json
import random
import statistics
import sys
import time
import uuid

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import Argon2PasswordHasher, make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connections, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from access_tokens import services  # noqa: E402
from access_tokens.models import AccessToken  # noqa: E402
from bench.models import ArgonToken  # noqa: E402
from bench.routing import CURRENT  # noqa: E402

User = get_user_model()
HANDLER = get_wsgi_application()
FILLER_USERS = 10_000


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


# --- Requests ---------------------------------------------------------------------------------


def environ(path: str, authorization: str | None = None) -> dict:
    env = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_ACCEPT": "application/json",
        "HTTP_USER_AGENT": "keystand-bench",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if authorization:
        env["HTTP_AUTHORIZATION"] = authorization
    return env


def call(env: dict) -> bytes:
    """Serve one request through Django's WSGI handler and return the body; refuse non-200."""
    statuses = []
    request_env = dict(env)
    request_env["wsgi.input"] = io.BytesIO(b"")
    result = HANDLER(request_env, lambda status, headers, exc_info=None: statuses.append(status))
    try:
        body = b"".join(result)
    finally:
        result.close()
    if statuses[0][:3] != "200":
        raise RuntimeError(f"{env['PATH_INFO']} answered {statuses[0]}: {body[:200]!r}")
    return body


class Case:
    def __init__(self, name: str, db: str, env: dict, expect_user: str, per_round: int):
        self.name, self.db, self.env, self.per_round = name, db, env, per_round
        self.expect = json.dumps({"user": expect_user}, separators=(",", ":")).encode()

    def run(self) -> bytes:
        """What measure() times: one request."""
        return call(self.env)

    def check(self) -> None:
        CURRENT.set(self.db)
        body = call(self.env)
        if body != self.expect:
            raise RuntimeError(f"{self.name}: expected {self.expect!r}, got {body!r}")


def measure(cases: list[Case], rounds: int, rng: random.Random) -> dict:
    """Return per case the median over rounds of each round's median µs per request, and
    those per-round medians (bench/run.py pairs cases round by round with them).

    A request's own median shrugs off the moments another process takes the CPU; the mean
    (kept for the record) does not.
    """
    for case in cases:
        case.check()
        for _ in range(min(case.per_round, 50)):
            case.run()
    medians: dict[str, list[float]] = {case.name: [] for case in cases}
    means: dict[str, list[float]] = {case.name: [] for case in cases}
    clock = time.perf_counter_ns
    for _ in range(rounds):
        order = cases[:]
        rng.shuffle(order)
        for case in order:
            CURRENT.set(case.db)
            gc.collect()
            run, times = case.run, []
            for _ in range(case.per_round):
                start = clock()
                run()
                times.append(clock() - start)
            medians[case.name].append(statistics.median(times) / 1000)
            means[case.name].append(statistics.fmean(times) / 1000)
    CURRENT.set("default")
    out = {}
    for name, values in medians.items():
        q1, _, q3 = statistics.quantiles(values, n=4) if len(values) > 1 else values * 3
        out[name] = {
            "median_us": statistics.median(values),
            "q1_us": q1,
            "q3_us": q3,
            "mean_us": statistics.fmean(means[name]),
            "rounds": len(values),
            "round_medians_us": values,
        }
    return out


# --- Data -------------------------------------------------------------------------------------


def make_user(db: str, username: str):
    return User.objects.db_manager(db).create_user(username, f"{username}@example.org", None)


def make_token(db: str, user, name: str, **fields) -> str:
    """Store a token as create_access_token does (digest and last four only); return it raw."""
    raw = services.generate_token()
    AccessToken.objects.using(db).create(
        user=user,
        name=name,
        digest=services.token_digest(raw),
        last_four=raw[-4:],
        expires_at=timezone.now() + dt.timedelta(days=30),
        **fields,
    )
    return raw


def make_rotated_token(db: str, user) -> str:
    """A token that replaced another by rotation, stored as rotate_access_token leaves it: the
    old row revoked as rotated, the new one pointing at it. Return the new one raw."""
    old = AccessToken.objects.using(db).get(digest=services.token_digest(make_token(db, user, "r")))
    old.revoked_at = timezone.now()
    old.revoked_reason = AccessToken.RevokedReason.ROTATED
    old.save(using=db, update_fields=["revoked_at", "revoked_reason"])
    return make_token(db, user, "r", rotated_from=old, created_via="web")


def make_filler_users(db: str, count: int) -> list[int]:
    User.objects.using(db).bulk_create(
        [User(username=f"filler{i:05d}", password="!") for i in range(count)], batch_size=2000
    )
    users = User.objects.using(db).filter(username__startswith="filler")
    return list(users.values_list("pk", flat=True))


def fill_tokens(db: str, target: int, filler_ids: list[int]) -> float:
    """Insert rows with random digests until the table holds `target` tokens; return seconds.

    Every column gets the value a new AccessToken would have, so a column added by a later
    migration with a default still fills in. COPY on PostgreSQL, executemany on SQLite.
    """
    start = time.perf_counter()
    connection = connections[db]
    have = AccessToken.objects.using(db).count()
    need = target - have
    if need <= 0:
        return 0.0
    fields = AccessToken._meta.concrete_fields
    template = AccessToken(user_id=filler_ids[0], name="filler", digest="", last_four="0000")
    columns = [f.column for f in fields]
    attnames = [f.attname for f in fields]
    pg = connection.vendor == "postgresql"
    base = [
        getattr(template, a) if pg else f.get_db_prep_save(getattr(template, a), connection)
        for f, a in zip(fields, attnames, strict=True)
    ]
    i_id, i_user, i_digest = (attnames.index(a) for a in ("id", "user_id", "digest"))
    randbytes = random.Random().randbytes
    n_users = len(filler_ids)

    def rows(count: int, offset: int):
        for k in range(count):
            row = base[:]
            row[i_id] = uuid.uuid4() if pg else uuid.uuid4().hex
            row[i_user] = filler_ids[(offset + k) % n_users]
            row[i_digest] = randbytes(32).hex()
            yield row

    table = AccessToken._meta.db_table
    cols = ", ".join(f'"{c}"' for c in columns)
    if not pg:
        # Random digests land all over three indexes; a big page cache keeps that in memory.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -524288")
    batch = 100_000
    done = 0
    while done < need:
        count = min(batch, need - done)
        with transaction.atomic(using=db), connection.cursor() as cursor:
            if pg:
                with cursor.cursor.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                    for row in rows(count, have + done):
                        copy.write_row(row)
            else:
                marks = ", ".join("?" * len(columns))
                cursor.cursor.executemany(
                    f'INSERT INTO "{table}" ({cols}) VALUES ({marks})',
                    list(rows(count, have + done)),
                )
        done += count
    with connection.cursor() as cursor:
        cursor.execute(f'ANALYZE "{table}"')
    assert AccessToken.objects.using(db).count() == target
    return time.perf_counter() - start


def keystand_headers(raw: str) -> dict[str, str]:
    basic = base64.b64encode(f"-:{raw}".encode()).decode()
    return {
        "AccessToken": f"AccessToken {raw}",
        "Bearer": f"Bearer {raw}",
        "Basic": f"Basic {basic}",
    }


# --- Round trips -----------------------------------------------------------------------------


def count_round_trips(env: dict, requests: int) -> dict:
    """Count PostgreSQL round trips at the driver: the server's ReadyForQuery messages in
    libpq's protocol trace (one per round trip, the connection health check included, which
    Django's query log would not see). Nothing watches Django's queries meanwhile, so the
    product's own fast path runs."""
    import tempfile

    import psycopg

    connection = connections["default"]
    # A new connection: one opened earlier in the run can reach CONN_MAX_AGE in the middle of
    # the count, and the requests after that went over a new connection the trace never saw
    # (one run counted 413 round trips for 1,000 requests).
    connection.close()
    connection.ensure_connection()  # a request without a query opens none
    call(env)  # the lookup prepared and last_used_at fresh
    pgconn = connection.connection.pgconn
    with tempfile.TemporaryFile() as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        for _ in range(requests):
            call(env)
        pgconn.untrace()
        if connection.connection is None or connection.connection.pgconn is not pgconn:
            raise RuntimeError("The connection was replaced during the count: it saw only part.")
        trace.seek(0)
        lines = trace.read().decode(errors="replace").splitlines()
    ready = sum(1 for line in lines if line.startswith("B") and "ReadyForQuery" in line)
    prepared = sum(1 for line in lines if line.startswith("F") and "\tParse\t" in line)
    return {"requests": requests, "round_trips": ready, "parses": prepared}


# --- Writes -----------------------------------------------------------------------------------


def count_statements(env: dict, requests: int) -> dict:
    counts = {"statements": 0, "selects": 0, "updates": 0, "other": 0}

    def wrapper(execute, sql, params, many, context):
        counts["statements"] += 1
        verb = sql.lstrip().split(None, 1)[0].upper()
        key = {"SELECT": "selects", "UPDATE": "updates"}.get(verb, "other")
        counts[key] += 1
        return execute(sql, params, many, context)

    start = time.perf_counter()
    with connections["default"].execute_wrapper(wrapper):
        for _ in range(requests):
            call(env)
    counts["requests"] = requests
    counts["seconds"] = time.perf_counter() - start
    return counts


# --- Main -------------------------------------------------------------------------------------


def size_databases(sizes: list[int]) -> dict[int, str]:
    """Map each table size to its database alias: the largest is `default`."""
    extra = sorted(k for k in django.conf.settings.DATABASES if k != "default")
    if len(extra) != len(sizes) - 1:
        raise SystemExit(f"need {len(sizes) - 1} databases in BENCH_DATABASES, got {extra}")
    return dict(zip(sorted(sizes), [*extra, "default"], strict=True))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--per-round", type=int, default=200)
    parser.add_argument("--argon-per-round", type=int, default=1)
    parser.add_argument("--sizes", default="10,10000,1000000")
    parser.add_argument("--writes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    main_size = sizes[min(1, len(sizes) - 1)]
    dbs = size_databases(sizes)
    rng = random.Random(args.seed)
    n = args.per_round
    vendor = connections["default"].vendor

    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT version()" if vendor == "postgresql" else "SELECT 'SQLite ' || sqlite_version()"
        )
        db_version = cursor.fetchone()[0]
    result: dict = {
        "vendor": vendor,
        "db_version": db_version,
        "interval_s": django.conf.settings.ACCESS_TOKEN_LAST_USED_INTERVAL,
        "sizes": sizes,
        "main_size": main_size,
        "fill_seconds": {},
        "tokens": {},
        "most_per_owner": {},  # the most tokens one filler user holds, per size
        # What the naive design pays per call: Django's Argon2 parameters, as configured.
        "argon2": {
            "memory_kib": Argon2PasswordHasher.memory_cost,
            "time_cost": Argon2PasswordHasher.time_cost,
            "parallelism": Argon2PasswordHasher.parallelism,
        },
    }

    cases: list[Case] = []
    default_raw = authtoken_default = None
    for size in sizes:
        db = dbs[size]
        # Route unqualified queries to the database being migrated too: a third-party data
        # migration (django-tasks-db's 0016) uses the default manager without `using`.
        CURRENT.set(db)
        call_command("migrate", database=db, verbosity=0, interactive=False)
        CURRENT.set("default")
        alice = make_user(db, "alice")
        raw = make_token(db, alice, "bench")
        key = Token.objects.using(db).create(user=alice).key
        headers = keystand_headers(raw)
        cases += [
            Case(f"authtoken@{size}", db, environ("/bench/authtoken/", f"Token {key}"), "alice", n),
            Case(
                f"keystand@{size}",
                db,
                environ("/bench/keystand/", headers["AccessToken"]),
                "alice",
                n,
            ),
        ]
        if size >= 101:
            # hana holds 100 tokens (the default per-user limit); the last one is used.
            hana = make_user(db, "hana")
            hana_raw = [make_token(db, hana, f"hana {i}") for i in range(100)][-1]
            cases.append(
                Case(
                    f"keystand_user100@{size}",
                    db,
                    environ("/bench/keystand/", f"AccessToken {hana_raw}"),
                    "hana",
                    n,
                )
            )
        if size == main_size:
            secret = "s3cr3t-" + uuid.uuid4().hex
            ArgonToken.objects.using(db).create(
                user=alice, key_id="a1", encoded=make_password(secret)
            )
            cases += [
                Case(f"none@{size}", db, environ("/bench/none/"), "", n),
                Case(f"round_trip@{size}", db, environ("/bench/round-trip/"), "alice", n),
                Case(
                    f"bearer@{size}", db, environ("/bench/keystand/", headers["Bearer"]), "alice", n
                ),
                Case(
                    f"basic@{size}", db, environ("/bench/keystand/", headers["Basic"]), "alice", n
                ),
                # The same request with its lookup not sent ahead (access_tokens/ahead.py).
                Case(
                    f"keystand_waiting@{size}",
                    db,
                    environ("/bench/keystand/waiting/", headers["AccessToken"]),
                    "alice",
                    n,
                ),
                # The paths that later features put on every request: a narrower scope, a
                # token that came from rotation, the per-user throttle with and without its
                # RateLimit-* headers.
                Case(
                    f"keystand_read_api@{size}",
                    db,
                    environ(
                        "/bench/keystand/",
                        f"AccessToken {make_token(db, alice, 'reader', scopes='read_api')}",
                    ),
                    "alice",
                    n,
                ),
                Case(
                    f"keystand_rotated@{size}",
                    db,
                    environ("/bench/keystand/", f"AccessToken {make_rotated_token(db, alice)}"),
                    "alice",
                    n,
                ),
                Case(
                    f"keystand_throttled@{size}",
                    db,
                    environ("/bench/keystand/throttled/", headers["AccessToken"]),
                    "alice",
                    n,
                ),
                Case(
                    f"keystand_throttled_quietly@{size}",
                    db,
                    environ("/bench/keystand/throttled-quietly/", headers["AccessToken"]),
                    "alice",
                    n,
                ),
                Case(
                    f"argon2@{size}",
                    db,
                    environ("/bench/argon2/", f"Argon a1.{secret}"),
                    "alice",
                    args.argon_per_round,
                ),
            ]
        log(f"  {vendor}: filling the {size:,}-token database")
        filler = make_filler_users(db, min(10_000, max(1, size // 100)))
        result["fill_seconds"][str(size)] = fill_tokens(db, size, filler)
        result["tokens"][str(size)] = AccessToken.objects.using(db).count()
        per_owner = (
            AccessToken.objects.using(db)
            .filter(user_id__in=filler)
            .values("user_id")
            .annotate(n=Count("id"))
            .order_by("-n")
            .values_list("n", flat=True)
            .first()
        )
        result["most_per_owner"][str(size)] = per_owner or 0
        if db == "default":
            default_raw, authtoken_default = raw, key

    log(f"  {vendor}: {len(cases)} cases x {args.rounds} rounds, interleaved")
    result["results"] = measure(cases, args.rounds, rng)

    # Writes: the token starts stale, so the first request writes last_used_at; the rest read.
    CURRENT.set("default")
    digest = services.token_digest(default_raw)
    AccessToken.objects.filter(digest=digest).update(last_used_at=None)
    ks_env = environ("/bench/keystand/", f"AccessToken {default_raw}")
    at_env = environ("/bench/authtoken/", f"Token {authtoken_default}")
    result["writes"] = {
        "keystand_first_stale": count_statements(ks_env, args.writes),
        "keystand_fresh": count_statements(ks_env, args.writes),
        "authtoken": count_statements(at_env, args.writes),
    }
    if vendor == "postgresql":
        result["round_trips"] = {
            "keystand": count_round_trips(ks_env, args.writes),
            "none": count_round_trips(environ("/bench/none/"), args.writes),
        }
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
