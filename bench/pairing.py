"""
Why make bench pairs its ratios round by round: the same measurement repeated, each time read
both ways, so the spread of each way over the repeats shows which one the machine's noise moves.

    .venv/bin/python bench/pairing.py               # 6 repeats of 15 rounds, SQLite, in-process
    .venv/bin/python bench/pairing.py --repeats 10

Cases: no authentication (the floor), Keystand on the bench's trivial view, and Keystand again
as a second case (its twin: the same request, so its true ratio is 1). For each repeat it prints
Keystand against the floor and the twin against Keystand, as the ratio of the medians over all
rounds and as the median of the per-round ratios (bench/run.py's `per_round`).
"""

import argparse
import os
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_env  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--per-round", type=int, default=200)
    args = parser.parse_args()
    url = "sqlite:///" + str(Path(tempfile.mkdtemp()) / "pairing.sqlite3")
    os.environ.update(bench_env(url))

    import django

    django.setup()
    from django.core.management import call_command

    from bench import micro
    from bench.run import per_round

    call_command("migrate", verbosity=0, interactive=False)
    raw = micro.make_token("default", micro.make_user("default", "alice"), "bench")
    envs = {
        "none": micro.environ("/bench/none/"),
        "keystand": micro.environ("/bench/keystand/", f"AccessToken {raw}"),
        "twin": micro.environ("/bench/keystand/", f"AccessToken {raw}"),
    }
    pairs = [("keystand", "none"), ("twin", "keystand")]
    seen: dict[tuple[str, str, str], list[float]] = {}
    print(f"{'repeat':<7}" + "".join(f"{a} / {b}: medians, paired   " for a, b in pairs))
    for repeat in range(args.repeats):
        cases = []
        for name, env in envs.items():
            case = micro.Case(name, "default", env, "", args.per_round)
            case.check = lambda env=env: micro.call(env)
            cases.append(case)
        result = micro.measure(cases, args.rounds, random.Random(repeat))
        line = f"{repeat + 1:<7}"
        for a, b in pairs:
            of_medians = result[a]["median_us"] / result[b]["median_us"]
            paired = per_round(result[a], result[b])
            seen.setdefault((a, b, "medians"), []).append(of_medians)
            seen.setdefault((a, b, "paired"), []).append(float(paired))
            line += f"{'':>{len(a) + len(b) + 4}}{of_medians:.3f}×  {paired:.3f}×        "
        print(line, flush=True)
    print("\nrange over the repeats (max - min), the narrower the steadier:")
    for (a, b, way), values in seen.items():
        print(f"  {a} / {b}, {way:<8} {max(values) - min(values):.3f}")


if __name__ == "__main__":
    main()
