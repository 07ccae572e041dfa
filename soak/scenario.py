"""
The soak's traffic: client threads, each its own user with a cookie jar, signing in, creating
tokens through the form (CSRF, one-time nonce, some submitted twice at once) and the API (some
expiring within seconds), listing and deleting them both ways, deleting while another thread
uses the token, and calling the API with live, deleted, expired and junk tokens.

Every request is kept as a Record, and each client notes what it saw (ClientState), so the
report can judge the run afterwards from the clients' side alone.
"""

from __future__ import annotations

import base64
import collections
import datetime as dt
import http.cookies
import json
import random
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from access_tokens.token_format import generate_token
from soak.service import PASSWORD, Server

TOKEN_RE = re.compile(r"kspat_[0-9A-Za-z]{49}")
HOSTILE_NAMES = [
    "CI deploy",
    "<script>alert(1)</script>",
    "\u202eevil\u202c name",
    "Ünïcödé ✓ 🚀",
    "a" * 100,
    "",
    "'; DROP TABLE x; --",
]


@dataclass
class Record:
    client: str
    kind: str
    method: str
    path: str
    t_send: float
    t_recv: float
    status: int  # 0: no HTTP answer
    body: str = ""
    content_type: str = ""


class Browser:
    """One client: a cookie jar, and a log of every request it sent."""

    def __init__(
        self, name: str, server: Server, records: list[Record], lock: threading.Lock
    ) -> None:
        self.name = name
        self.server = server
        self.cookies: dict[str, str] = {}
        self.records = records
        self.lock = lock

    def request(self, kind, method, path, *, form=None, data=None, token=None, auth=None):
        headers = {"Host": self.server.host_header, "User-Agent": f"keystand-soak/{self.name}"}
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif data is not None:
            body = data if isinstance(data, bytes) else json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        elif auth is not None:
            headers["Authorization"] = auth
        elif self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            if method not in ("GET", "HEAD") and "csrftoken" in self.cookies:
                headers["X-CSRFToken"] = self.cookies["csrftoken"]
        t_send = time.time()
        try:
            status, resp_headers, raw = self.server.request(method, path, headers, body)
        except OSError as e:
            status, resp_headers, raw = 0, [], str(e).encode()
        t_recv = time.time()
        if token is None and auth is None:
            for name, value in resp_headers:
                if name.lower() == "set-cookie":
                    self._store_cookie(value)
        text = raw.decode("utf-8", "replace")
        ctype = next((v for k, v in resp_headers if k.lower() == "content-type"), "")
        location = next((v for k, v in resp_headers if k.lower() == "location"), "")
        rec = Record(self.name, kind, method, path, t_send, t_recv, status, text, ctype)
        with self.lock:
            self.records.append(rec)
        return status, text, location, t_send, t_recv

    def _store_cookie(self, header: str) -> None:
        c = http.cookies.SimpleCookie()
        c.load(header)
        for name, morsel in c.items():
            if morsel["max-age"] == "0" or not morsel.value or morsel.value == '""':
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value


def _csrf(html: str) -> str | None:
    m = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return m.group(1) if m else None


def _field(html: str, name: str) -> str | None:
    m = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html)
    return m.group(1) if m else None


def _iso_to_epoch(value: str | None) -> float | None:
    if value is None:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


# --- The clients ------------------------------------------------------------------------------


@dataclass
class Known:
    raw: str
    via: str
    created_seen_at: float
    expires_at: float | None


@dataclass
class ClientState:
    name: str
    username: str
    tokens: dict[str, Known] = field(default_factory=dict)  # id -> what the client saw
    deleted: dict[str, float] = field(default_factory=dict)  # id -> delete answer received
    pending_delete: set[str] = field(default_factory=set)  # answer lost (outage)
    gone_on_retry: set[str] = field(default_factory=set)  # a retry found it already gone
    unresolved_raw: list[str] = field(default_factory=list)  # seen, id not yet learnt
    master: str | None = None
    signed_in: bool = False
    uses: list[tuple[str, str, float, int]] = field(default_factory=list)  # (id, kind, t, st)
    problems: list[str] = field(default_factory=list)
    double_submits: collections.Counter = field(default_factory=collections.Counter)
    deletes_confirmed: collections.Counter = field(default_factory=collections.Counter)
    finished: bool = False  # the thread ran to its end (set even when it crashed)

    def live_ids(self, now: float) -> list[str]:
        return [
            i
            for i, k in self.tokens.items()
            if i not in self.deleted
            and i not in self.pending_delete
            and (k.expires_at is None or k.expires_at > now + 1)
        ]


class Client(threading.Thread):
    def __init__(
        self, state: ClientState, server: Server, records, lock, stop: threading.Event, seed: int
    ):
        super().__init__(name=state.name, daemon=True)
        self.s = state
        self.b = Browser(state.name, server, records, lock)
        self.stop = stop
        self.rng = random.Random(seed)

    # Web --------------------------------------------------------------------------------------

    def sign_in(self) -> bool:
        if self.s.signed_in and self.b.cookies.get("sessionid"):
            st, html, *_ = self.b.request("sign_out", "GET", "/")
            token = _csrf(html) if st == 200 else None
            if token:
                self.b.request(
                    "sign_out", "POST", "/accounts/logout/", form={"csrfmiddlewaretoken": token}
                )
        self.s.signed_in = False
        st, html, *_ = self.b.request("sign_in", "GET", "/accounts/login/")
        token = _csrf(html) if st == 200 else None
        if not token:
            return False
        form = {"csrfmiddlewaretoken": token, "login": self.s.username, "password": PASSWORD}
        st, _html, location, *_ = self.b.request("sign_in", "POST", "/accounts/login/", form=form)
        self.s.signed_in = st == 302 and "/accounts/login/" not in location
        if st == 200:
            self.s.problems.append("sign-in with the right password was refused")
        return self.s.signed_in

    def web_create(self, double: bool = False) -> None:
        if not self.s.signed_in and not self.sign_in():
            return
        st, html, *_ = self.b.request("web_create", "GET", "/settings/access-tokens/new/")
        csrf, nonce = _csrf(html), _field(html, "nonce")
        if st == 302:  # signed out (the session is gone): sign in next time
            self.s.signed_in = False
        if st != 200 or not csrf or not nonce:
            return
        form = {
            "csrfmiddlewaretoken": csrf,
            "name": self.rng.choice(HOSTILE_NAMES),
            "expiration": self.rng.choice(["7", "30", "90", "never"]),
            "scopes": "api",
            "nonce": nonce,
        }
        if not double:
            self.b.request("web_create", "POST", "/settings/access-tokens/new/", form=form)
            self._read_one_time_display()
            return
        before = self._api_ids()
        results: list[int] = []

        def submit():
            results.append(
                self.b.request("web_double", "POST", "/settings/access-tokens/new/", form=form)[0]
            )

        twins = [threading.Thread(target=submit) for _ in range(2)]
        for t in twins:
            t.start()
        for t in twins:
            t.join()
        self._read_one_time_display()
        after = self._api_ids()
        if before is None or after is None or any(r != 302 for r in results):
            self.s.double_submits["inconclusive (outage)"] += 1
            return
        made = len(after - before)
        self.s.double_submits[f"{made} token(s) made"] += 1
        if made != 1:
            self.s.problems.append(f"a double-submitted form made {made} tokens")

    def _read_one_time_display(self) -> None:
        st, html, *_ = self.b.request("web_list", "GET", "/settings/access-tokens/")
        if st != 200:
            return
        for raw in TOKEN_RE.findall(html):
            self.s.unresolved_raw.append(raw)
        self._resolve_raw()

    def _resolve_raw(self) -> None:
        """Learn the id of each token seen on the page by asking the API who it is."""
        left = []
        for raw in self.s.unresolved_raw:
            st, body, _, t_send, t_recv = self.b.request("use_new", "GET", "/api/v1/me/", token=raw)
            if st == 200:
                tok = json.loads(body)["token"]
                if tok["id"] not in self.s.tokens:
                    self.s.tokens[tok["id"]] = Known(
                        raw, "web", t_recv, _iso_to_epoch(tok["expires_at"])
                    )
                self.s.uses.append((tok["id"], "use_new", t_send, st))
                if self.s.master is None:
                    self.s.master = raw
            elif st in (0, 503):
                left.append(raw)
            else:
                self.s.problems.append(f"a token shown once was refused with {st}")
        self.s.unresolved_raw = left

    def web_delete(self, token_id: str) -> None:
        if not self.s.signed_in and not self.sign_in():
            return
        path = f"/settings/access-tokens/{token_id}/delete/"
        st, html, *_ = self.b.request("web_delete", "GET", path)
        csrf = _csrf(html) if st == 200 else None
        if not csrf:
            if st == 404:
                self._gone(token_id)
            return
        st, _, _, _, t_recv = self.b.request(
            "web_delete", "POST", path, form={"csrfmiddlewaretoken": csrf}
        )
        self._after_delete(token_id, st, t_recv, ok=302)

    # API --------------------------------------------------------------------------------------

    def _api_ids(self) -> set[str] | None:
        if self.s.master is None:
            return None
        ids: set[str] = set()
        path = "/api/v1/access-tokens/?page_size=100"
        while path:
            st, body, *_ = self.b.request("api_list", "GET", path, token=self.s.master)
            if st != 200:
                return None
            page = json.loads(body)  # {"count", "next", "previous", "results"}
            ids |= {t["id"] for t in page["results"]}
            path = (
                urlsplit(page["next"])._replace(scheme="", netloc="").geturl()
                if page["next"]
                else ""
            )
        return ids

    def api_create(self, expiring: bool = False) -> None:
        if self.s.master is None:
            return
        payload: dict = {"name": self.rng.choice(HOSTILE_NAMES)}
        if expiring:
            soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.rng.uniform(1.5, 4))
            payload["expires_at"] = soon.isoformat()
        st, body, _, _, t_recv = self.b.request(
            "api_create", "POST", "/api/v1/access-tokens/", data=payload, token=self.s.master
        )
        if st == 201:
            tok = json.loads(body)
            self.s.tokens[tok["id"]] = Known(
                tok["token"], "api", t_recv, _iso_to_epoch(tok["expires_at"])
            )

    def api_list_check(self) -> None:
        ids = self._api_ids()
        if ids is None:
            return
        now = time.time()
        for token_id in self.s.live_ids(now):
            if token_id not in ids:
                self.s.problems.append(f"token {token_id} is missing from the API list")

    def api_delete(self, token_id: str) -> None:
        st, _, _, _, t_recv = self.b.request(
            "api_delete", "DELETE", f"/api/v1/access-tokens/{token_id}/", token=self.s.master
        )
        self._after_delete(token_id, st, t_recv, ok=204)

    def _after_delete(self, token_id: str, st: int, t_recv: float, ok: int) -> None:
        if st == ok:
            self.s.deleted[token_id] = t_recv
            self.s.deletes_confirmed["form" if ok == 302 else "API"] += 1
            self.s.pending_delete.discard(token_id)
        elif st == 404:
            self._gone(token_id)
        else:
            self.s.pending_delete.add(token_id)

    def _gone(self, token_id: str) -> None:
        """A delete whose answer was lost, found done on retry: its moment is unknown."""
        if token_id in self.s.pending_delete:
            self.s.pending_delete.discard(token_id)
            self.s.gone_on_retry.add(token_id)
        elif token_id not in self.s.deleted:
            self.s.problems.append(f"token {token_id} vanished without a delete")

    def use(self, kind: str, token_id: str | None, raw: str) -> int:
        header = self.rng.choice(["Bearer", "AccessToken", "Basic"])
        if header == "Basic":
            auth = "Basic " + base64.b64encode(f"-:{raw}".encode()).decode()
        else:
            auth = f"{header} {raw}"
        st, *_, t_send, _t_recv = self.b.request(kind, "GET", "/api/v1/me/", auth=auth)
        if token_id is not None:
            self.s.uses.append((token_id, kind, t_send, st))
        return st

    def race_delete_with_use(self, token_id: str) -> None:
        """Use a token from another thread while deleting it."""
        raw = self.s.tokens[token_id].raw
        done = threading.Event()

        def hammer():
            while not done.is_set():
                self.use("use_racing", token_id, raw)

        t = threading.Thread(target=hammer)
        t.start()
        time.sleep(0.05)
        self.api_delete(token_id)
        for _ in range(3):
            self.use("use_racing", token_id, raw)
        done.set()
        t.join()

    # The loop ---------------------------------------------------------------------------------

    def run(self) -> None:
        try:
            self._run()
        except Exception as e:  # noqa: BLE001  (a crashed client must fail the run, not vanish)
            self.s.problems.append(f"client crashed: {e!r}")
        finally:
            self.s.finished = True

    def _run(self) -> None:
        self.sign_in()
        while self.s.master is None and not self.stop.is_set():
            self.web_create()
            time.sleep(0.1)
        while not self.stop.is_set():
            try:
                self.step()
            except Exception as e:  # noqa: BLE001  (a client bug must not hide the report)
                self.s.problems.append(f"client error: {e!r}")
            time.sleep(self.rng.uniform(0, 0.02))
        # Settle every delete whose answer was lost, now that the database is back.
        for token_id in list(self.s.pending_delete):
            for _ in range(20):
                if token_id not in self.s.pending_delete:
                    break
                self.api_delete(token_id)
                time.sleep(0.2)
        self._resolve_raw()

    def step(self) -> None:
        now = time.time()
        rng = self.rng
        live = [i for i in self.s.live_ids(now) if self.s.tokens[i].raw != self.s.master]
        expired = [
            i
            for i, k in self.s.tokens.items()
            if k.expires_at is not None and k.expires_at < now and i not in self.s.deleted
        ]
        deleted = list(self.s.deleted)
        if self.s.unresolved_raw:
            self._resolve_raw()
        op = rng.choices(
            [
                "sign_in", "web_create", "web_double", "web_list", "web_delete", "api_create",
                "api_expiring", "api_list", "api_delete", "race", "use_live", "use_deleted",
                "use_expired", "use_junk",
            ],
            weights=[4, 8, 2, 6, 5, 8, 4, 6, 5, 2, 18, 10, 8, 10],
        )[0]  # fmt: skip
        if len(live) > 25 and op in ("web_create", "web_double", "api_create", "api_expiring"):
            op = "api_delete"
        if op == "sign_in":
            self.sign_in()
        elif op == "web_create":
            self.web_create()
        elif op == "web_double":
            self.web_create(double=True)
        elif op == "web_list":
            self._read_one_time_display()
        elif op == "web_delete" and live:
            self.web_delete(rng.choice(live))
        elif op == "api_create":
            self.api_create()
        elif op == "api_expiring":
            self.api_create(expiring=True)
        elif op == "api_list":
            self.api_list_check()
        elif op == "api_delete" and live:
            self.api_delete(rng.choice(live))
        elif op == "race" and live:
            self.race_delete_with_use(rng.choice(live))
        elif op == "use_live" and live:
            token_id = rng.choice(live)
            self.use("use_live", token_id, self.s.tokens[token_id].raw)
        elif op == "use_deleted" and deleted:
            token_id = rng.choice(deleted)
            self.use("use_deleted", token_id, self.s.tokens[token_id].raw)
        elif op == "use_expired" and expired:
            token_id = rng.choice(expired)
            self.use("use_expired", token_id, self.s.tokens[token_id].raw)
        elif op == "use_junk":
            junk = rng.choice(
                [
                    generate_token(),  # well formed, unknown
                    "kspat_" + secrets.token_hex(25)[:49],  # bad checksum
                    "not-a-token",
                    "kspat_" + "A" * 200,
                    "\u202e" + "x" * 10,
                ]
            )
            self.use("use_junk", None, junk.encode("utf-8").decode("latin-1"))
        elif self.s.master is not None:
            self.use("use_live", None, self.s.master)
