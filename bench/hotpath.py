"""
The hot path on its own, for working on it: a few requests through the whole Django stack, in
one process, interleaved round by round, with their ratios; or one case under cProfile, or a
fixed number of one case's requests for valgrind's callgrind (instructions, not seconds: the same
count whatever else the machine is doing).

    .venv/bin/python bench/hotpath.py                       # every case, SQLite
    .venv/bin/python bench/hotpath.py --postgresql          # the same on PostgreSQL
    .venv/bin/python bench/hotpath.py me list --rounds 40   # some cases
    .venv/bin/python bench/hotpath.py keystand --cprofile   # profile to /tmp/hotpath.prof
    .venv/bin/python bench/hotpath.py --redis               # the cache on Redis, as deployed
    .venv/bin/python bench/hotpath.py --redis --django-redis-client  # Django's own client
    .venv/bin/python bench/hotpath.py --parts               # what the list adds, part by part
    .venv/bin/python bench/hotpath.py me list --tokens 1    # the owner of make bench's load run
    PYTHONHASHSEED=0 valgrind --tool=callgrind .venv/bin/python bench/hotpath.py keystand --only 50
    PYTHONHASHSEED=0 valgrind --tool=callgrind .venv/bin/python bench/hotpath.py keystand --only 350
        # (the difference of the two totals / 300 = instructions per request; without the
        # fixed hash seed two runs of the same commit counted 4 % apart, with it within 0.1 %)

Cases (bench/urls.py): none (no authentication), authtoken (DRF's), keystand (a token on the
bench's trivial view), waiting (the same with its lookup not sent ahead, access_tokens/ahead.py),
me (the product's /api/v1/me/), bare-me (the bench's Me view, same authentication, no token
serializer), list (the product's first page, which comes in the
token's own query: the owner holds 3 tokens, or --tokens; the load run's owner holds 1).
`make bench` (bench/run.py) is the record; this is the workbench.
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_env, pg_url, recreate_pg_database  # noqa: E402

CASES = ["none", "authtoken", "keystand", "waiting", "me", "bare-me", "list"]


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", metavar="case", help=", ".join(CASES))
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument(
        "--tokens",
        type=int,
        default=3,
        help="how many tokens the caller holds, 1 to 25, all on the list's first page (make "
        "bench's load run: 1; at 25 the page is full and the list counts them in a second query)",
    )
    parser.add_argument("--per-round", type=int, default=200)
    parser.add_argument("--cprofile", action="store_true", help="profile the first case")
    parser.add_argument("--only", type=int, help="run the first case this many times, no timing")
    parser.add_argument(
        "--parts",
        action="store_true",
        help="time the token list's parts against the bare Me view's, interleaved (no cases)",
    )
    parser.add_argument(
        "--redis",
        action="store_true",
        help="keep the cache (the throttles' counts) in the Redis at 127.0.0.1:6379, as a "
        "deployment does, instead of in this process",
    )
    parser.add_argument(
        "--django-redis-client",
        action="store_true",
        help="with --redis: Django's own backend, a new redis-py client per cache call "
        "(config/cache.py)",
    )

    args = parser.parse_args()
    if args.parts and args.cases:
        parser.error("--parts times its own parts; give no cases")
    if not 1 <= args.tokens <= 25:
        parser.error("--tokens: from 1 to 25 (one page)")
    if args.django_redis_client and not args.redis:
        parser.error("--django-redis-client needs --redis")
    unknown = set(args.cases) - set(CASES)
    if unknown:
        parser.error(f"unknown case(s): {', '.join(sorted(unknown))}; choose from {CASES}")
    return args


def main() -> None:
    args = _args()
    cases = args.cases or CASES
    if args.postgresql:
        recreate_pg_database("keystand_hotpath")
        url = pg_url("keystand_hotpath")
    else:
        url = "sqlite:///" + str(Path(tempfile.mkdtemp()) / "hotpath.sqlite3")
    # The throttles stay on (as in production and bench/run.py's load run), raised so that
    # they never refuse.
    os.environ.update(bench_env(url, API_THROTTLE_USER="1000000/s"))
    if args.redis:
        os.environ["CACHE_URL"] = "redis://127.0.0.1:6379/0"
        os.environ["CACHE_KEY_PREFIX"] = f"keystand-hotpath-{os.getpid()}"

    import random

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    if args.django_redis_client:
        # Before the first cache call, which makes the cache object.
        settings.CACHES["default"]["BACKEND"] = "django.core.cache.backends.redis.RedisCache"
    from rest_framework.authtoken.models import Token

    from access_tokens.models import AccessToken
    from bench import micro
    from bench.run import per_round

    call_command("migrate", verbosity=0, interactive=False)
    alice = micro.make_user("default", "alice")
    raw = micro.make_token("default", alice, "bench")
    for number in range(2, args.tokens + 1):
        micro.make_token("default", alice, f"token {number}")
    key = Token.objects.create(user=alice).key
    keystand = f"AccessToken {raw}"
    envs = {
        "none": micro.environ("/bench/none/"),
        "authtoken": micro.environ("/bench/authtoken/", f"Token {key}"),
        "keystand": micro.environ("/bench/keystand/", keystand),
        "waiting": micro.environ("/bench/keystand/waiting/", keystand),
        "me": micro.environ("/api/v1/me/", keystand),
        "bare-me": micro.environ("/api/v1/bench/me/keystand/", keystand),
        "list": micro.environ("/api/v1/access-tokens/", keystand),
    }
    for name in cases:
        micro.call(envs[name])  # every case answers 200 before anything is timed
    if args.parts:
        _parts(envs, AccessToken.objects.get(name="bench").digest, args.rounds, args.per_round)
        return
    first = envs[cases[0]]

    if args.only is not None:
        for _ in range(args.only):
            micro.call(first)
        return
    if args.cprofile:
        import cProfile
        import pstats

        for _ in range(200):
            micro.call(first)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(2000):
            micro.call(first)
        profiler.disable()
        profiler.dump_stats("/tmp/hotpath.prof")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        return

    # micro.Case checks a trivial view's body; these cases answer other bodies, so only the
    # status is checked (micro.call refuses anything but 200).
    timed = []
    for name in cases:
        case = micro.Case(name, "default", envs[name], "", args.per_round)
        case.check = lambda env=envs[name]: micro.call(env)
        timed.append(case)
    result = micro.measure(timed, args.rounds, random.Random(7))
    base = "none" if "none" in result else cases[0]
    print(f"{'case':<10} {'median µs':>10} {'IQR µs':>17}  vs {base}  vs bare-me")
    for name in cases:
        r = result[name]
        ratio = per_round(r, result[base])  # paired round by round, as make bench does
        vs_me = (
            f"{per_round(result['bare-me'], r):.3f}×"
            if "bare-me" in result and name in ("me", "list")
            else ""
        )
        print(
            f"{name:<10} {r['median_us']:>10.1f} [{r['q1_us']:>6.1f}–{r['q3_us']:>6.1f}]"
            f"  {ratio:.3f}×  {vs_me}"
        )
    print("(vs bare-me: the bare view's time / this case's = its share of the bare view's rate)")


def _parts(envs: dict, digest: str, rounds: int, per_round: int) -> None:
    """Print what the token list's first page spends beyond the bare `Me` view,
    part by part: each part as the list runs it beside what the bare view runs in its place
    (nothing, for the tokens' JSON text), and the two whole requests, all interleaved round
    by round in this process. The list writes its first page's JSON text itself
    (access_tokens/written_json.py), where the bare view has DRF's JSONRenderer write its body.

    A part timed alone in a loop finds its code and data in the CPU's caches; inside a
    request, which runs some two million instructions, it does not. So the parts add up to
    less than what the whole list request adds: the difference is that, and the parts of the
    list's path not timed here (its view class, the finder, the owner set on each row)."""
    import io
    import random

    from django.core.handlers.wsgi import WSGIRequest
    from django.utils import timezone
    from rest_framework.renderers import JSONRenderer
    from rest_framework.request import Request
    from rest_framework.response import Response

    from access_tokens import api, listing
    from access_tokens.lookup import token_by_digest
    from bench import micro

    now = timezone.now()
    rows = listing.first_page_by_digest(digest, now)
    owner = token_by_digest(digest).user
    me = {"id": owner.pk, "username": owner.get_username(), "email": owner.email}
    when = api._instant_json()
    text = listing.one_page_text([api.token_text(row, now, when) for row in rows])
    render = JSONRenderer().render

    def request():
        return Request(WSGIRequest(dict(envs["list"], **{"wsgi.input": io.BytesIO(b"")})))

    def paged():
        request()
        return Response(text)  # the list's own, for fewer than a page (written_json.py)

    def unpaged():
        request()
        return Response(me)

    def token_text():
        when = api._instant_json()
        return listing.one_page_text([api.token_text(row, now, when) for row in rows])

    parts = [
        ("whole request", lambda: micro.call(envs["bare-me"]), lambda: micro.call(envs["list"])),
        (
            "token query (the page by digest)",
            lambda: token_by_digest(digest),
            lambda: listing.first_page_by_digest(digest, now),
        ),
        ("the page's JSON text (token_text)", None, token_text),
        ("the body's bytes", lambda: render(me), text.encode),
        ("the response object", unpaged, paged),
    ]

    class Part(micro.Case):
        """A micro.Case that times `fn()` instead of a request."""

        def __init__(self, name: str, fn) -> None:
            self.name, self.db, self.per_round, self.run = name, "default", per_round, fn

        def check(self) -> None:
            self.run()

    timed = [
        Part(f"{name}/{side}", fn) for name, *fns in parts for side, fn in enumerate(fns) if fn
    ]
    result = micro.measure(timed, rounds, random.Random(7))

    def us(name: str, side: int) -> float:
        timing = result.get(f"{name}/{side}")
        return timing["median_us"] if timing else 0.0

    print(f"{'part':<36} {'bare-me µs':>10} {'list µs':>9} {'added µs':>9}")
    summed = 0.0
    for name, *_ in parts:
        added = us(name, 1) - us(name, 0)
        summed += added if name != "whole request" else 0.0
        print(f"{name:<36} {us(name, 0):>10.1f} {us(name, 1):>9.1f} {added:>9.1f}")
    print(f"{'the parts together (each timed alone)':<36} {'':>10} {'':>9} {summed:>9.1f}")
    print(f"(medians of {rounds} rounds of {per_round}, interleaved; the list's first page holds")
    print(f" {len(rows)} tokens; added = list - bare-me; a part alone runs with warm caches)")


if __name__ == "__main__":
    main()
