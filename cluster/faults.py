"""Load with a fault in the middle: one replica SIGKILLed, or Redis stopped for 10 s.

API clients create, use, list and delete their own tokens through HAProxy and remember what
they saw (the soak's accounting: every token a client saw created is listed afterwards or was
deleted by that client; the audit trail matches one to one). In the Redis run a browser signs
in and out beside them."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from .checks import Check
from .client import Browser, Recorder, api

EXPECTED = {
    "create": {201},
    "use_live": {200},
    "use_deleted": {401},
    "list": {200},
    "delete": {204},
}


@dataclass
class ApiClient:
    """One user with a parent token, sending from its own address."""

    username: str
    parent: str
    parent_id: str
    address: str
    seed: int
    created: dict[str, str] = field(default_factory=dict)  # id -> raw, seen 201
    deleted: dict[str, str] = field(default_factory=dict)  # id -> raw, seen 204
    unsure_creates: int = 0  # creates without an answer
    unsure_deletes: set[str] = field(default_factory=set)

    def live(self) -> list[str]:
        return [i for i in self.created if i not in self.deleted and i not in self.unsure_deletes]

    def step(self, base: str, recorder: Recorder, rng: random.Random) -> None:
        live = self.live()
        roll = rng.random()
        if roll < 0.25 and len(live) < 20 or not live:
            a = api(
                base,
                "create",
                "POST",
                "/api/v1/access-tokens/",
                token=self.parent,
                data={"name": f"load {len(self.created)}"},
                forwarded_for=self.address,
                recorder=recorder,
            )
            if a.status == 201:
                self.created[a.json()["id"]] = a.json()["token"]
            elif a.status == 0 or a.status >= 500:
                self.unsure_creates += 1
        elif roll < 0.40:
            token_id = rng.choice(live)
            a = api(
                base,
                "delete",
                "DELETE",
                f"/api/v1/access-tokens/{token_id}/",
                token=self.parent,
                forwarded_for=self.address,
                recorder=recorder,
            )
            if a.status == 204:
                self.deleted[token_id] = self.created[token_id]
            elif a.status == 0 or a.status >= 500:
                self.unsure_deletes.add(token_id)
        elif roll < 0.50 and self.deleted:
            raw = self.deleted[rng.choice(list(self.deleted))]
            api(base, "use_deleted", "GET", "/api/v1/me/", token=raw,
                forwarded_for=self.address, recorder=recorder)  # fmt: skip
        elif roll < 0.60:
            api(base, "list", "GET", "/api/v1/access-tokens/", token=self.parent,
                forwarded_for=self.address, recorder=recorder)  # fmt: skip
        else:
            raw = self.created[rng.choice(live)]
            api(base, "use_live", "GET", "/api/v1/me/", token=raw,
                forwarded_for=self.address, recorder=recorder)  # fmt: skip

    def listed(self, base: str) -> set[str] | None:
        """Return the ids of the active tokens the API lists for this user now (None if it
        would not say). Deleted tokens stay listed as inactive, so they are not asked for."""
        ids: set[str] = set()
        path = "/api/v1/access-tokens/?state=active"
        while path:
            a = api(base, "final_list", "GET", path, token=self.parent, forwarded_for=self.address)
            if a.status != 200:
                return None
            body = a.json()
            rows = body["results"] if isinstance(body, dict) else body
            ids |= {row["id"] for row in rows if row["id"] != self.parent_id}
            following = body.get("next") if isinstance(body, dict) else None
            path = following.split("://", 1)[-1].split("/", 1)[-1] if following else ""
            path = "/" + path if path else ""
        return ids


def _drive(clients, base, recorder, seconds, pace: float = 0.0) -> None:
    """Each client sends one request after another for `seconds`; with a `pace`, no sooner
    than `pace` seconds after its previous one started (the quick run's clients: a steady
    load, enough for every check's minimum, without spending the machine on it)."""
    deadline = time.monotonic() + seconds

    def loop(client: ApiClient) -> None:
        rng = random.Random(client.seed)
        while (started := time.monotonic()) < deadline:
            client.step(base, recorder, rng)
            time.sleep(max(0.0, started + pace - time.monotonic()))

    threads = [threading.Thread(target=loop, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _unexpected(answer) -> bool:
    return answer.status not in EXPECTED.get(answer.kind, {answer.status})


def _describe(answer, killed_at: float, log: dict) -> str:
    server, status, state = log.get(answer.request_id, ("?", "?", "?"))
    return (
        f"{answer.kind} {answer.status} sent {answer.started - killed_at:+.3f} s from the kill, "
        f"HAProxy: {server} {status} {state}"
    )


def _accounting(run, clients: list[ApiClient]) -> list[Check]:
    """Nothing lost: the API lists what each client saw created and not deleted; the audit
    trail has one created event per token and one delete event per delete."""
    from access_tokens.models import AccessToken, AccessTokenEvent

    lost, resurrected, unexplained, unlisted = 0, 0, 0, 0
    seen_created = sum(len(c.created) for c in clients)
    seen_deleted = sum(len(c.deleted) for c in clients)
    for client in clients:
        listed = client.listed(run.haproxy.base)
        if listed is None:
            unlisted += 1
            continue
        kept = set(client.created) - set(client.deleted) - client.unsure_deletes
        lost += len(kept - listed)
        resurrected += len(set(client.deleted) & listed)
        # A token the client never saw created: only a create whose answer was lost.
        unexplained += max(0, len(listed - set(client.created)) - client.unsure_creates)
    tokens = Check(
        "Every token a client saw created is listed or was deleted by that client",
        seen_created >= run.min_tokens and not (lost or resurrected or unexplained or unlisted),
        f"{seen_created} tokens seen created (at least {run.min_tokens} needed), "
        f"{seen_deleted} seen deleted; {lost} missing from the list, {resurrected} deleted but "
        f"listed, {unexplained} listed but never seen created, {unlisted} lists refused",
    )

    owners = [c.username for c in clients]
    events = list(
        AccessTokenEvent.objects.filter(owner__username__in=owners).values_list(
            "token_id", "action"
        )
    )
    created_events = Counter(str(t) for t, action in events if action == "created")
    deleted_events = Counter(str(t) for t, action in events if action == "deleted")
    rows = {
        str(pk)
        for pk in AccessToken.objects.filter(user__username__in=owners).values_list("pk", flat=True)
    }
    client_created = {i for c in clients for i in c.created}
    client_deleted = {i for c in clients for i in c.deleted}
    unsure_deletes = {i for c in clients for i in c.unsure_deletes}
    parents = {
        str(pk)
        for pk in AccessToken.objects.filter(user__username__in=owners, name="parent").values_list(
            "pk", flat=True
        )
    }
    problems = []
    if any(n != 1 for n in created_events.values()) or any(n != 1 for n in deleted_events.values()):
        problems.append("a token with two created or two delete events")
    if not client_created <= set(created_events):
        problems.append(f"{len(client_created - set(created_events))} creates without an event")
    if not client_deleted <= set(deleted_events):
        problems.append(f"{len(client_deleted - set(deleted_events))} deletes without an event")
    if not set(deleted_events) <= client_deleted | unsure_deletes:
        problems.append("delete events for deletes no client sent")
    if not set(created_events) - parents <= rows | set(deleted_events):
        problems.append("created events for tokens that neither exist nor were deleted")
    audit = Check(
        "Audit events match creates and deletes one to one",
        len(client_created) >= run.min_tokens and not problems,
        f"{sum(created_events.values())} created events ({len(parents)} for the clients' "
        f"parent tokens) and {sum(deleted_events.values())} delete events, against "
        f"{len(client_created)} creates and {len(client_deleted)} deletes the clients saw "
        f"confirmed ({len(unsure_deletes)} deletes unanswered)"
        + (f"; problems: {problems}" if problems else "; no mismatch"),
    )
    return [tokens, audit]


def kill_a_replica(run) -> tuple[list[Check], dict]:
    """Load through HAProxy; one replica SIGKILLed a third of the way in."""
    clients = [run.make_api_client(f"kill-{i}", f"203.0.113.{160 + i}") for i in range(run.clients)]
    recorder = Recorder()
    victim = run.replicas[1]
    killer = threading.Timer(run.seconds / 3, victim.kill)
    killer.start()
    _drive(clients, run.haproxy.base, recorder, run.seconds, run.pace)
    killer.join()
    time.sleep(1)  # let HAProxy write its last log lines
    states = run.haproxy.server_states()
    log = run.haproxy.log_entries()
    killed_at = victim.killed_at or 0.0

    answers = recorder.answers
    before = [a for a in answers if a.ended < killed_at]
    after = [a for a in answers if a.started > killed_at + 0.5]
    served_before = Counter(a.served_by for a in before)
    failures = [a for a in answers if _unexpected(a)]
    in_flight = [
        a
        for a in failures
        if a.started <= killed_at and log.get(a.request_id, ("",))[0] == victim.name
    ]
    other = [a for a in failures if a not in in_flight]
    served_after = Counter(a.served_by for a in after)
    fault = Check(
        f"The fault happened: {victim.name} killed with SIGKILL under load",
        victim.process is not None
        and victim.process.poll() is not None
        and states.get(victim.name, "").startswith("DOWN")
        and served_before[victim.name] >= run.min_per_replica
        and len(after) >= run.min_after
        and victim.name not in served_after,
        f"{victim.name} had answered {served_before[victim.name]} requests before the kill "
        f"(at least {run.min_per_replica} needed); HAProxy then marked it "
        f"{states.get(victim.name, '?')}; {len(after)} requests after the kill (at least "
        f"{run.min_after} needed), answered by {dict(served_after)}",
    )
    kinds = Counter(f"{a.kind} {a.status}" for a in failures)
    failed = Check(
        "No request failed but the killed replica's in-flight ones",
        not other and len(answers) >= run.min_after,
        f"{len(answers)} requests; {len(in_flight)} failed in flight on {victim.name} "
        f"({dict(kinds)}); {len(other)} other failures"
        + (f": {[_describe(a, killed_at, log) for a in other[:5]]}" if other else ""),
    )
    checks = [fault, failed, *_accounting(run, clients)]
    return checks, {
        "requests": len(answers),
        "answers": Counter((a.kind, a.status) for a in answers),
    }


def stop_redis(run) -> tuple[list[Check], dict]:
    """Load and sign-ins through HAProxy; Redis stopped for 10 s a third of the way in."""
    clients = [
        run.make_api_client(f"redis-{i}", f"203.0.113.{180 + i}") for i in range(run.clients)
    ]
    signer = run.make_user("redis-frank")
    recorder = Recorder()
    window: dict[str, float] = {}
    done = threading.Event()

    delay = run.seconds / 3
    # Long enough after Redis returns to see sign-in recover and keep working.
    total = delay + run.redis_outage + max(run.after_redis, run.seconds / 3)

    def outage() -> None:
        time.sleep(delay)
        window["stopped"] = time.time()
        run.redis.stop()
        window["confirmed_down"] = time.time() if not run.redis.is_up() else 0.0
        time.sleep(run.redis_outage)
        run.redis.start()
        window["started"] = time.time()

    def sign_ins() -> None:
        while not done.is_set():
            browser = Browser(forwarded_for="198.51.100.222", recorder=recorder)
            browser.sign_in(run.haproxy.base, signer, run.password)
            time.sleep(0.2)

    fault = threading.Thread(target=outage)
    browser_thread = threading.Thread(target=sign_ins)
    fault.start()
    browser_thread.start()
    _drive(clients, run.haproxy.base, recorder, total, run.pace)
    fault.join()
    done.set()
    browser_thread.join()

    stopped, started = window["stopped"], window["started"]
    answers = recorder.answers
    during = [a for a in answers if a.started > stopped + 0.2 and a.ended < started]
    api_during = [a for a in during if a.kind in EXPECTED]
    sign_in_posts = [a for a in answers if a.kind == "sign_in"]
    posts_during = [a for a in sign_in_posts if a.started > stopped + 0.2 and a.ended < started]
    posts_after = [a for a in sign_in_posts if a.started > started + 5]
    first_back = min((a.ended for a in sign_in_posts if a.started > started and a.status == 302),
                     default=None)  # fmt: skip
    server_errors = [
        a
        for a in answers
        if (a.status >= 500 or a.status == 0)
        and not (a.kind.startswith("sign_in") and a.status == 503)
    ]
    warnings = sum(
        r.log.read_text().count("API throttles let requests through") for r in run.replicas
    )
    checks = [
        Check(
            f"The fault happened: Redis stopped for {run.redis_outage:.0f} s under load",
            bool(window.get("confirmed_down"))
            and started - stopped >= run.redis_outage
            and len(api_during) >= run.min_during
            and len(posts_during) >= 1,
            f"Redis stopped {delay:.0f} s into a {total:.0f} s run, "
            + (
                "confirmed refusing connections"
                if window.get("confirmed_down")
                else "NOT seen down"
            )
            + f", started again {started - stopped:.1f} s later; {len(api_during)} API requests "
            f"(at least {run.min_during} needed) and {len(posts_during)} sign-ins were sent "
            "and answered in between",
        ),
        Check(
            "While Redis is down, token requests keep working (throttles let them through)",
            len(api_during) >= run.min_during and not any(_unexpected(a) for a in api_during),
            f"{len(api_during)} API requests during the outage: "
            f"{dict(Counter(f'{a.kind} {a.status}' for a in api_during))}",
        ),
        Check(
            "…and sign-in fails closed with the 503 page",
            bool(posts_during)
            and all(a.status == 503 and "Signing in is paused" in a.text for a in posts_during),
            f"{len(posts_during)} sign-ins during the outage answered "
            f"{dict(Counter(a.status for a in posts_during))}",
        ),
        Check(
            "No 500s, and the outage is logged once a minute per process, not per request",
            not server_errors and 1 <= warnings <= max(1, len(api_during) // 10),
            f"{len(answers)} requests, {len(server_errors)} answered ≥ 500 other than the "
            f"sign-in 503s; {warnings} fail-open warnings in the replicas' logs for "
            f"{len(api_during)} requests during the outage",
        ),
        Check(
            "Service resumes by itself when Redis is back",
            # No deadline on the first success (a loaded machine may take seconds to answer a
            # sign-in at all): what must hold is that sign-in works again with no restart and
            # every sign-in sent from 5 s after Redis's return succeeds.
            first_back is not None
            and bool(posts_after)
            and all(a.status == 302 for a in posts_after)
            and run.redis.dbsize() > 0,
            "first sign-in after Redis returned: "
            + (f"{first_back - started:.1f} s later" if first_back else "none")
            + f"; {len(posts_after)} sign-ins from 5 s on answered "
            f"{dict(Counter(a.status for a in posts_after))}; Redis holds "
            f"{run.redis.dbsize()} keys again",
        ),
    ]
    checks += _accounting(run, clients)
    return checks, {
        "requests": len(answers),
        "answers": Counter((a.kind, a.status) for a in answers),
    }
