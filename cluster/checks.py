"""The checks that need no fault: limits across replicas, and what one replica writes being
seen by the others at once. Each needs enough observations, or it fails."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from .client import TOKEN_RE, Browser, api


@dataclass
class Check:
    name: str
    passed: bool
    detail: str
    numbers: dict = field(default_factory=dict)


def rate_count(rate: str) -> int:
    """Return the N of a DRF rate such as '30/min'."""
    return int(rate.split("/", 1)[0])


def _refused_sign_in(answer) -> bool:
    """A locked sign-in: 429, or the form's "too many failed attempts" error (the wording
    differs between Keystand's own form and allauth's)."""
    return answer.status == 429 or "Too many failed" in answer.text


def sign_in_limit(run) -> Check:
    """The per-account limit: exactly LIMIT wrong passwords are checked, wherever they land."""
    limit = run.login_failures_per_account
    username = run.make_user("limit-alice")
    attempts = []
    # A new browser and a new address each time: only the account's count can trip.
    for i in range(limit + 1):
        browser = Browser(forwarded_for=f"198.51.100.{i + 1}")
        attempts.append(browser.sign_in(run.haproxy.base, username, "wrong password"))
    right = Browser(forwarded_for="198.51.100.99").sign_in(run.haproxy.base, username, run.password)
    statuses = [a.status for a in attempts]
    refused = [_refused_sign_in(a) for a in attempts]
    replicas = {a.served_by for a in attempts[:limit]}
    first_refusal = refused.index(True) + 1 if True in refused else None
    passed = (
        first_refusal == limit + 1
        and all(s == 200 for s in statuses[:limit])
        and len(replicas) == len(run.replicas)
        and _refused_sign_in(right)
    )
    return Check(
        f"Sign-in limit ({limit} failures per account) holds exactly across replicas",
        passed,
        f"wrong passwords answered {statuses}; first refusal at attempt {first_refusal} "
        f"(expected {limit + 1}); the {limit} counted failures landed on "
        f"{len(replicas)} replicas ({', '.join(sorted(replicas))}); then the right password "
        f"was {'refused' if _refused_sign_in(right) else 'accepted'} ({right.status})",
        {"limit": limit, "first_refusal": first_refusal, "replicas": len(replicas)},
    )


def _burst(run, count: int, threads: int, send) -> list:
    """Send `count` requests from `threads` threads at once; return the answers."""
    answers, lock = [], threading.Lock()
    todo = iter(range(count))

    def work():
        while True:
            with lock:
                i = next(todo, None)
            if i is None:
                return
            answer = send(i)
            with lock:
                answers.append(answer)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return answers


def _throttle_check(name: str, allowed_status: int, rate: str, answers, elapsed, replicas):
    expected = rate_count(rate)
    statuses = Counter(a.status for a in answers)
    allowed = statuses[allowed_status]
    throttled = statuses[429]
    served = {a.served_by for a in answers if a.served_by}
    within = abs(allowed - expected) <= expected * 0.10
    passed = (
        within
        and throttled > 0
        and set(statuses) <= {allowed_status, 429}
        and len(served) == replicas
        and elapsed < 60
    )
    return Check(
        name,
        passed,
        f"{allowed} answered {allowed_status} before the rest got 429 (limit {expected}, "
        f"±10% = {expected * 0.9:.0f}–{expected * 1.1:.0f}); answers {dict(statuses)} from "
        f"{len(served)} replicas in {elapsed:.1f} s (must stay inside the minute)",
        {"limit": expected, "allowed": allowed, "throttled": throttled},
    )


def failed_token_throttle(run) -> Check:
    """Refused tokens from one address: API_THROTTLE_FAILED_AUTH per minute in all."""
    import time

    from access_tokens.token_format import generate_token

    rate = run.rates["failed_auth"]
    count = rate_count(rate) * 2
    started = time.monotonic()
    answers = _burst(
        run,
        count,
        run.threads,
        lambda i: api(
            run.haproxy.base,
            "junk_token",
            "GET",
            "/api/v1/me/",
            token=generate_token(),
            forwarded_for="203.0.113.10",
        ),
    )
    elapsed = time.monotonic() - started
    return _throttle_check(
        f"Failed-token throttle ({rate} per address) holds across replicas within 10%",
        401,
        rate,
        answers,
        elapsed,
        len(run.replicas),
    )


def user_throttle(run) -> Check:
    """One user's calls through several tokens and addresses: API_THROTTLE_USER per minute."""
    import time

    rate = run.rates["user"]
    count = rate_count(rate) + max(10, rate_count(rate) // 5)
    username = run.make_user("throttle-bob")
    tokens = [run.make_token(username, f"t{i}") for i in range(3)]
    started = time.monotonic()
    answers = _burst(
        run,
        count,
        run.threads,
        lambda i: api(
            run.haproxy.base,
            "user_call",
            "GET",
            "/api/v1/me/",
            token=tokens[i % 3],
            forwarded_for=f"203.0.113.{20 + i % 5}",
        ),
    )
    elapsed = time.monotonic() - started
    return _throttle_check(
        f"Per-user API throttle ({rate}) holds across replicas within 10%",
        200,
        rate,
        answers,
        elapsed,
        len(run.replicas),
    )


def create_and_delete_everywhere(run) -> Check:
    """Created through one replica: accepted by the others at once. Deleted through one:
    refused by every replica on the very next request."""
    username = run.make_user("visible-carol")
    parent = run.make_token(username, "parent")
    replicas = run.replicas
    accepted, refused, problems = 0, 0, []
    for r in range(run.rounds):
        a, b, c = (replicas[(r + k) % len(replicas)] for k in range(3))
        address = f"203.0.113.{100 + r}"  # its own, so refusals never reach the failed-auth limit
        made = api(
            a.base,
            "create",
            "POST",
            "/api/v1/access-tokens/",
            token=parent,
            data={"name": f"round {r}"},
            forwarded_for=address,
        )
        if made.status != 201:
            problems.append(f"round {r}: create on {a.name} answered {made.status}")
            continue
        raw, token_id = made.json()["token"], made.json()["id"]
        for other in (b, c):
            used = api(other.base, "use", "GET", "/api/v1/me/", token=raw, forwarded_for=address)
            if used.status == 200:
                accepted += 1
            else:
                problems.append(f"round {r}: new token on {other.name}: {used.status}")
        gone = api(
            b.base,
            "delete",
            "DELETE",
            f"/api/v1/access-tokens/{token_id}/",
            token=parent,
            forwarded_for=address,
        )
        if gone.status != 204:
            problems.append(f"round {r}: delete on {b.name} answered {gone.status}")
            continue
        for other in (a, b, c):
            used = api(other.base, "use", "GET", "/api/v1/me/", token=raw, forwarded_for=address)
            if used.status == 401:
                refused += 1
            else:
                problems.append(f"round {r}: deleted token on {other.name}: {used.status}")
    enough = accepted == 2 * run.rounds and refused == 3 * run.rounds
    return Check(
        "A token created on one replica works on the others at once; deleted on one, it is "
        "refused by every replica on the next request",
        enough and not problems,
        f"{run.rounds} rounds: {accepted} uses of a new token on other replicas accepted "
        f"(of {2 * run.rounds}); {refused} uses right after the delete refused "
        f"(of {3 * run.rounds})" + (f"; problems: {problems[:5]}" if problems else ""),
        {"rounds": run.rounds, "accepted": accepted, "refused": refused},
    )


def one_time_display(run) -> Check:
    """The form posted to one replica, the list read on another: the token is shown there,
    once, and a third replica shows it no more."""
    username = run.make_user("display-dave")
    replicas = run.replicas
    shown, hidden, problems = 0, 0, []
    rounds = len(replicas)
    for r in range(rounds):
        a, b, c = (replicas[(r + k) % len(replicas)] for k in range(3))
        browser = Browser(forwarded_for=f"198.51.100.{150 + r}")
        signed = browser.sign_in(a.base, username, run.password)
        if signed.status != 302:
            problems.append(f"round {r}: sign-in on {a.name} answered {signed.status}")
            continue
        page = browser.get(a.base, "/settings/access-tokens/new/", "create_page")
        posted = browser.post_form(
            a.base,
            "/settings/access-tokens/new/",
            page,
            {"name": f"display {r}", "scopes": "api"},
            "create",
        )
        if posted.status != 302:
            problems.append(f"round {r}: create on {a.name} answered {posted.status}")
            continue
        first = browser.get(b.base, posted.headers.get("location", ""), "list")
        found = TOKEN_RE.findall(first.text)
        again = browser.get(c.base, "/settings/access-tokens/", "list")
        if first.status == 200 and len(set(found)) == 1:
            shown += 1
            works = api(c.base, "use", "GET", "/api/v1/me/", token=found[0])
            if works.status != 200:
                problems.append(f"round {r}: the token shown does not work ({works.status})")
        else:
            problems.append(f"round {r}: {b.name} showed {len(set(found))} tokens")
        if again.status == 200 and not TOKEN_RE.search(again.text):
            hidden += 1
        else:
            problems.append(f"round {r}: {c.name} showed the token a second time")
    return Check(
        "The one-time display works when the POST and the GET land on different replicas",
        shown == rounds and hidden == rounds and not problems,
        f"{rounds} rounds: shown once on another replica {shown} times, gone on a third "
        f"{hidden} times" + (f"; problems: {problems}" if problems else ""),
        {"rounds": rounds, "shown": shown, "hidden": hidden},
    )


def trusted_proxy(run) -> Check:
    """HAProxy's X-Forwarded-For is believed (TRUSTED_PROXIES=127.0.0.1): the audit row names
    the client's address, not the proxy's."""
    from access_tokens.models import AccessTokenEvent

    username = run.make_user("proxy-erin")
    parent = run.make_token(username, "parent")
    made = api(
        run.haproxy.base,
        "create",
        "POST",
        "/api/v1/access-tokens/",
        token=parent,
        data={"name": "through the proxy"},
        forwarded_for="192.0.2.77",
    )
    ips = []
    if made.status == 201:
        ips = list(
            AccessTokenEvent.objects.filter(token_id=made.json()["id"]).values_list("ip", flat=True)
        )
    return Check(
        "The client address comes through HAProxy (TRUSTED_PROXIES=127.0.0.1)",
        made.status == 201 and ips == ["192.0.2.77"],
        f"create answered {made.status}; its audit row records {ips} (sent as 192.0.2.77, "
        "reached the replica from 127.0.0.1)",
    )
