"""
Per-request cost through the whole Django stack, in one process, on one database.

Run by bench/run.py with the environment of bench.common.bench_env (one process per database,
because Django reads DATABASE_URL once). Each request is a prepared WSGI environ handed to
Django's WSGIHandler: middleware, URL routing, DRF, authentication, the same trivial view, and
the response closed (which fires request_finished, as gunicorn does). Cases are interleaved
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
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from access_tokens import services  # noqa: E402
from access_tokens.models import AccessToken  # noqa: E402
from bench.models import ArgonToken  # noqa: E402

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
    def __init__(self, name: str, env: dict, expect_user: str, per_round: int):
        self.name, self.env, self.per_round = name, env, per_round
        self.expect = json.dumps({"user": expect_user}, separators=(",", ":")).encode()

    def check(self) -> None:
        body = call(self.env)
        if body != self.expect:
            raise RuntimeError(f"{self.name}: expected {self.expect!r}, got {body!r}")


def measure(cases: list[Case], rounds: int, rng: random.Random) -> dict:
    """Return per case the median over rounds of each round's median µs per request.

    A request's own median shrugs off the moments another process takes the CPU; the mean
    (kept for the record) does not.
    """
    for case in cases:
        case.check()
        for _ in range(min(case.per_round, 50)):
            call(case.env)
    medians: dict[str, list[float]] = {case.name: [] for case in cases}
    means: dict[str, list[float]] = {case.name: [] for case in cases}
    clock = time.perf_counter_ns
    for _ in range(rounds):
        order = cases[:]
        rng.shuffle(order)
        for case in order:
            gc.collect()
            env, times = case.env, []
            for _ in range(case.per_round):
                start = clock()
                call(env)
                times.append(clock() - start)
            medians[case.name].append(statistics.median(times) / 1000)
            means[case.name].append(statistics.fmean(times) / 1000)
    out = {}
    for name, values in medians.items():
        q1, _, q3 = statistics.quantiles(values, n=4) if len(values) > 1 else values * 3
        out[name] = {
            "median_us": statistics.median(values),
            "q1_us": q1,
            "q3_us": q3,
            "mean_us": statistics.fmean(means[name]),
            "rounds": len(values),
        }
    return out


# --- Data -------------------------------------------------------------------------------------


def make_filler_users() -> list[int]:
    User.objects.bulk_create(
        [User(username=f"filler{i:05d}", password="!") for i in range(FILLER_USERS)],
        batch_size=2000,
    )
    return list(User.objects.filter(username__startswith="filler").values_list("pk", flat=True))


def fill_tokens(target: int, filler_ids: list[int]) -> float:
    """Insert rows with random digests until the table holds `target` tokens; return seconds.

    Every column gets the value a new AccessToken would have, so a column added by a later
    migration with a default still fills in. COPY on PostgreSQL, executemany on SQLite.
    """
    start = time.perf_counter()
    have = AccessToken.objects.count()
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
    batch = 100_000
    done = 0
    while done < need:
        count = min(batch, need - done)
        with transaction.atomic(), connection.cursor() as cursor:
            if pg:
                cols = ", ".join(f'"{c}"' for c in columns)
                with cursor.cursor.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                    for row in rows(count, have + done):
                        copy.write_row(row)
            else:
                cols = ", ".join(f'"{c}"' for c in columns)
                marks = ", ".join("?" * len(columns))
                cursor.cursor.executemany(
                    f'INSERT INTO "{table}" ({cols}) VALUES ({marks})',
                    list(rows(count, have + done)),
                )
        done += count
    with connection.cursor() as cursor:
        cursor.execute(f'ANALYZE "{table}"')
    assert AccessToken.objects.count() == target
    return time.perf_counter() - start


def keystand_headers(raw: str) -> dict[str, str]:
    basic = base64.b64encode(f"-:{raw}".encode()).decode()
    return {
        "AccessToken": f"AccessToken {raw}",
        "Bearer": f"Bearer {raw}",
        "Basic": f"Basic {basic}",
    }


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
    with connection.execute_wrapper(wrapper):
        for _ in range(requests):
            call(env)
    counts["requests"] = requests
    counts["seconds"] = time.perf_counter() - start
    return counts


# --- Main -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--per-round", type=int, default=200)
    parser.add_argument("--argon-per-round", type=int, default=1)
    parser.add_argument("--sizes", default="10,10000,1000000")
    parser.add_argument("--writes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = random.Random(args.seed)
    n = args.per_round

    call_command("migrate", verbosity=0, interactive=False)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT version()"
            if connection.vendor == "postgresql"
            else "SELECT 'SQLite ' || sqlite_version()"
        )
        db_version = cursor.fetchone()[0]
    result: dict = {
        "vendor": connection.vendor,
        "db_version": db_version,
        "interval_s": django.conf.settings.ACCESS_TOKEN_LAST_USED_INTERVAL,
        "phases": {},
        "fill_seconds": {},
    }

    alice = User.objects.create_user("alice", "alice@example.org", None)
    hana = User.objects.create_user("hana", "hana@example.org", None)
    expires = timezone.now() + dt.timedelta(days=30)
    _, raw = services.create_access_token(user=alice, name="bench", expires_at=expires)
    authtoken = Token.objects.create(user=alice)
    argon_secret = "s3cr3t-" + uuid.uuid4().hex
    ArgonToken.objects.create(user=alice, key_id="a1", encoded=make_password(argon_secret))
    headers = keystand_headers(raw)
    filler_ids = make_filler_users()

    none = Case("none", environ("/bench/none/"), "", n)
    at = Case("authtoken", environ("/bench/authtoken/", f"Token {authtoken.key}"), "alice", n)
    ks = Case("keystand", environ("/bench/keystand/", headers["AccessToken"]), "alice", n)
    bearer = Case("bearer", environ("/bench/keystand/", headers["Bearer"]), "alice", n)
    basic = Case("basic", environ("/bench/keystand/", headers["Basic"]), "alice", n)
    argon = Case(
        "argon2",
        environ("/bench/argon2/", f"Argon a1.{argon_secret}"),
        "alice",
        args.argon_per_round,
    )

    hana_raw = None
    for size in sizes:
        if hana_raw is None and size >= 101:
            # hana holds 100 tokens (the default per-user limit); the last one is used.
            for i in range(100):
                _, hana_raw = services.create_access_token(
                    user=hana, name=f"hana {i}", expires_at=expires
                )
        result["fill_seconds"][str(size)] = fill_tokens(size, filler_ids)
        cases = [at, ks]
        if hana_raw is not None:
            cases.append(
                Case(
                    "keystand_user100",
                    environ("/bench/keystand/", f"AccessToken {hana_raw}"),
                    "hana",
                    n,
                )
            )
        if size == sizes[min(1, len(sizes) - 1)]:
            cases = [none, at, ks, bearer, basic, *cases[2:], argon]
        log(f"  {connection.vendor}: {size:,} tokens, {len(cases)} cases x {args.rounds} rounds")
        result["phases"][str(size)] = {
            "tokens": AccessToken.objects.count(),
            "results": measure(cases, args.rounds, rng),
        }

    # Writes: the token starts stale, so the first request writes last_used_at; the rest read.
    AccessToken.objects.filter(digest=services.token_digest(raw)).update(last_used_at=None)
    result["writes"] = {
        "keystand_first_stale": count_statements(ks.env, args.writes),
        "keystand_fresh": count_statements(ks.env, args.writes),
        "authtoken": count_statements(at.env, args.writes),
    }
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
