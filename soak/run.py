"""
Soak and fault run: gunicorn on its own PostgreSQL cluster, several clients for a minute, and
PostgreSQL stopped and started again midway. Then check that nothing was lost or let through.

    make soak            (or: .venv/bin/python soak/run.py [--seconds 60] [--clients 8])

It needs PostgreSQL 15's cluster tools (pg_createcluster, pg_ctlcluster) and the right to run
them (root or the postgres user). It creates, or reuses, a throwaway cluster "soak" on port
5433, so a PostgreSQL already serving 5432 is never touched. Results go to
docs/reliability.md; logs and a database dump stay in $TMPDIR/keystand-soak/.
"""

from __future__ import annotations

import argparse
import base64
import collections
import datetime as dt
import http.client
import http.cookies
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from access_tokens.token_format import generate_token  # noqa: E402  (after sys.path)

PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
PG_VERSION, PG_CLUSTER = "15", "soak"
PG_PORT = int(os.environ.get("SOAK_PG_PORT", "5433"))
HTTP_PORT = int(os.environ.get("SOAK_HTTP_PORT", "8310"))
HOST = "127.0.0.1"
DB_NAME = "keystand_soak"
WORK = Path(os.environ.get("SOAK_WORK_DIR", Path(tempfile.gettempdir()) / "keystand-soak"))
PASSWORD = "soak-Password-for-every-client-7"
RECOVERY_LIMIT = 5.0  # seconds after the database is back
TOKEN_RE = re.compile(r"kspat_[0-9A-Za-z]{49}")
UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
HOSTILE_NAMES = [
    "CI deploy",
    "<script>alert(1)</script>",
    "\u202eevil\u202c name",
    "Ünïcödé ✓ 🚀",
    "a" * 100,
    "",
    "'; DROP TABLE x; --",
]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run(*cmd: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)  # noqa: S603


# --- The soak's own PostgreSQL ----------------------------------------------------------------


def _cluster_exists() -> bool:
    out = run("pg_lsclusters", "--no-header").stdout
    return any(line.split()[:2] == [PG_VERSION, PG_CLUSTER] for line in out.splitlines())


def _pg_ready() -> bool:
    return run("pg_isready", "-h", HOST, "-p", str(PG_PORT), check=False).returncode == 0


def _wait_for(pred, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise SystemExit(f"Timed out waiting for {what}.")
        time.sleep(0.1)


def ensure_cluster() -> None:
    """Create (once) and start the throwaway cluster, trusting local TCP connections."""
    if not _cluster_exists():
        log(f"Creating PostgreSQL cluster {PG_VERSION}/{PG_CLUSTER} on port {PG_PORT}")
        run("pg_createcluster", PG_VERSION, PG_CLUSTER, "--port", str(PG_PORT))
        hba = Path(f"/etc/postgresql/{PG_VERSION}/{PG_CLUSTER}/pg_hba.conf")
        hba.write_text(
            "# Written by soak/run.py: a throwaway cluster for the soak run only.\n"
            "local all all trust\n"
            "host all all 127.0.0.1/32 trust\n"
            "host all all ::1/128 trust\n"
        )
    if not _pg_ready():
        run("pg_ctlcluster", PG_VERSION, PG_CLUSTER, "start")
    _wait_for(_pg_ready, 30, "the soak PostgreSQL")


def psql(sql: str, db: str = "postgres") -> str:
    return run(
        "psql", "-X", "-A", "-t", "-h", HOST, "-p", str(PG_PORT), "-U", "postgres", "-d", db,
        "-v", "ON_ERROR_STOP=1", "-c", sql,
    ).stdout  # fmt: skip


def fresh_database() -> None:
    psql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    psql(f"CREATE DATABASE {DB_NAME}")


# --- The service ------------------------------------------------------------------------------


def service_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "KEYSTAND_ENV_FILE": "",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "false",
            "SECRET_KEY": "soak-" + secrets.token_urlsafe(40),
            "DATABASE_URL": f"postgres://postgres@{HOST}:{PG_PORT}/{DB_NAME}",
            "ALLOWED_HOSTS": HOST,
            # Plain HTTP on loopback: the cookies cannot be Secure here.
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_COOKIES": "false",
            "SECURE_HSTS_SECONDS": "0",
            "STATIC_ROOT": str(WORK / "static"),
            # Redis, as in production (a local cache is a startup error with DEBUG off); the
            # run's own prefix, since the server may be shared.
            "CACHE_URL": os.environ.get("SOAK_CACHE_URL", "redis://127.0.0.1:6379/0"),
            "CACHE_KEY_PREFIX": "keystand-soak-" + secrets.token_hex(6),
            # Emails go to the log, so the log search below covers them too.
            "EMAIL_URL": "consolemail://",
            # Every client shares 127.0.0.1: lift the per-address API limits so the soak
            # exercises token checks rather than the throttles (tests cover those).
            "API_THROTTLE_USER": "100000/min",
            "API_THROTTLE_ANON": "100000/min",
            "API_THROTTLE_FAILED_AUTH": "100000/min",
            "LOG_LEVEL": "INFO",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
    return run(PYTHON, "manage.py", *args, env=env, cwd=ROOT).stdout


def start_gunicorn(env: dict[str, str], workers: int, logfile: Path) -> subprocess.Popen:
    out = logfile.open("w")
    proc = subprocess.Popen(  # noqa: S603
        [
            GUNICORN, "config.wsgi", "--bind", f"{HOST}:{HTTP_PORT}", "--workers", str(workers),
            "--timeout", "30", "--graceful-timeout", "5", "--access-logfile", "-",
            "--access-logformat", '%(h)s "%(r)s" %(s)s %(b)s %(L)ss',
        ],
        env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    _wait_for(lambda: _healthy(), 30, "gunicorn")
    return proc


def _healthy() -> bool:
    try:
        return raw_request("GET", "/healthz", {}, None)[0] == 200
    except OSError:
        return False


# --- A small HTTP client with a cookie jar ----------------------------------------------------


def raw_request(method, path, headers, body, timeout=15.0):
    conn = http.client.HTTPConnection(HOST, HTTP_PORT, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.getheaders(), resp.read()
    finally:
        conn.close()


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

    def __init__(self, name: str, records: list[Record], lock: threading.Lock) -> None:
        self.name = name
        self.cookies: dict[str, str] = {}
        self.records = records
        self.lock = lock

    def request(self, kind, method, path, *, form=None, data=None, token=None, auth=None):
        headers = {"Host": f"{HOST}:{HTTP_PORT}", "User-Agent": f"keystand-soak/{self.name}"}
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
            status, resp_headers, raw = raw_request(method, path, headers, body)
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

    def live_ids(self, now: float) -> list[str]:
        return [
            i
            for i, k in self.tokens.items()
            if i not in self.deleted
            and i not in self.pending_delete
            and (k.expires_at is None or k.expires_at > now + 1)
        ]


class Client(threading.Thread):
    def __init__(self, state: ClientState, records, lock, stop: threading.Event, seed: int):
        super().__init__(name=state.name, daemon=True)
        self.s = state
        self.b = Browser(state.name, records, lock)
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
        form = {"csrfmiddlewaretoken": token, "username": self.s.username, "password": PASSWORD}
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
            "scope": "read_write",
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
        st, body, *_ = self.b.request(
            "api_list", "GET", "/api/v1/access-tokens/", token=self.s.master
        )
        if st != 200:
            return None
        return {t["id"] for t in json.loads(body)}

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


# --- The fault --------------------------------------------------------------------------------


@dataclass
class Outage:
    down_at: float = 0.0
    up_at: float = 0.0
    readyz: list[tuple[float, int]] = field(default_factory=list)


def cause_outage(outage: Outage, after: float, length: float, start: float) -> None:
    time.sleep(max(0.0, start + after - time.time()))
    log(f"Stopping PostgreSQL ({PG_VERSION}/{PG_CLUSTER}) for {length:.0f} s")
    outage.down_at = time.time()
    run("pg_ctlcluster", PG_VERSION, PG_CLUSTER, "stop", "-m", "fast")
    time.sleep(length)
    run("pg_ctlcluster", PG_VERSION, PG_CLUSTER, "start")
    _wait_for(_pg_ready, 30, "PostgreSQL to come back")
    outage.up_at = time.time()
    log("PostgreSQL is back")


def probe_readyz(outage: Outage, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            status = raw_request("GET", "/readyz", {"Host": f"{HOST}:{HTTP_PORT}"}, None, 5)[0]
        except OSError:
            status = 0
        outage.readyz.append((time.time(), status))
        time.sleep(0.1)


# --- Checks -----------------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def check_everything(states, records, outage, dump: str, logs: str) -> list[Check]:
    checks: list[Check] = []
    grace_end = outage.up_at + RECOVERY_LIMIT

    # 1. No 500s, no tracebacks; 503s short and only around the outage.
    five_hundreds = [r for r in records if r.status >= 500 and r.status != 503]
    traces = [r for r in records if "Traceback" in r.body or 'File "' in r.body]
    checks.append(
        Check(
            "No 500 answers and no tracebacks in any body",
            not five_hundreds and not traces,
            f"{len(five_hundreds)} answers ≥ 500 other than 503; {len(traces)} bodies with a trace",
        )
    )
    outage_503 = [r for r in records if r.status == 503]
    bad_503 = []
    for r in outage_503:
        if len(r.body) > 2000:
            bad_503.append("a long body")
        elif r.path.startswith("/api/"):
            try:
                if "detail" not in json.loads(r.body):
                    bad_503.append("JSON without detail")
            except ValueError:
                bad_503.append("non-JSON body under /api/")
        elif "text/html" not in r.content_type:
            bad_503.append("a page that is not HTML")
    # Answered after the database went down, and sent before the recovery deadline.
    stray_503 = [
        r for r in outage_503 if not (r.t_recv >= outage.down_at and r.t_send <= grace_end)
    ]
    no_answer = [r for r in records if r.status == 0]
    checks.append(
        Check(
            "During the outage: 503 with a short JSON (API) or HTML body",
            not bad_503 and not stray_503 and not no_answer,
            f"{len(outage_503)} answers 503, {len(bad_503)} malformed, {len(stray_503)} outside "
            f"the outage; {len(no_answer)} requests without any HTTP answer",
        )
    )

    # 2. Recovery within RECOVERY_LIMIT of the database's return.
    failed_after = [
        r.t_send - outage.up_at
        for r in records
        if r.t_send >= outage.up_at and (r.status >= 500 or r.status == 0)
    ]
    probe_failed_after = [
        t - outage.up_at for t, s in outage.readyz if t >= outage.up_at and s != 200
    ]
    last_failure = max(failed_after + probe_failed_after, default=0.0)
    first_ok = next(
        (t - outage.up_at for t, s in outage.readyz if t >= outage.up_at and s == 200), None
    )
    first_ok_text = "never" if first_ok is None else f"{first_ok:.2f} s"
    checks.append(
        Check(
            f"Recovered by itself within {RECOVERY_LIMIT:.0f} s of the database's return",
            last_failure < RECOVERY_LIMIT and first_ok is not None,
            f"first /readyz 200 {first_ok_text} after the database returned; "
            + (
                f"the last failed request was sent {last_failure:.2f} s after it"
                if failed_after or probe_failed_after
                else "no request sent after it failed"
            ),
        )
    )

    # 3. Every token a client saw created is listed, or was deleted by that client.
    existing = _db_rows(dump, "access_tokens_accesstoken")
    events = _db_rows(dump, "access_tokens_accesstokenevent")
    existing_ids = {row["id"] for row in existing}
    deleted_events = collections.defaultdict(list)
    created_events = collections.Counter()
    for e in events:
        if e["action"] == "created":
            created_events[e["token_id"]] += 1
        elif e["action"] in ("deleted", "revoked_by_operator", "revoked_by_value"):
            deleted_events[e["token_id"]].append(e)
    lost, seen = [], 0
    for s in states:
        for token_id in s.tokens:
            seen += 1
            listed = token_id in existing_ids
            by_client = (token_id in s.deleted or token_id in s.gone_on_retry) and any(
                e["actor_username"] == s.username for e in deleted_events[token_id]
            )
            if listed == by_client:  # neither, or deleted yet still there
                lost.append(token_id)
    pending = sum(len(s.pending_delete) for s in states)
    checks.append(
        Check(
            "Every token a client saw created is listed or was deleted by that client",
            not lost and not pending,
            f"{seen} tokens seen created; {len(lost)} unaccounted for; "
            f"{pending} deletes still unsettled",
        )
    )

    # 4. No deleted or expired token was ever accepted.
    accepted_deleted, accepted_expired, refused = 0, 0, collections.Counter()
    for s in states:
        for token_id, _kind, t_send, st in s.uses:
            gone_at = s.deleted.get(token_id)
            expires = s.tokens[token_id].expires_at if token_id in s.tokens else None
            if gone_at is not None and t_send > gone_at:
                refused["deleted"] += st == 401
                accepted_deleted += 200 <= st < 300
            if expires is not None and t_send > expires:
                refused["expired"] += st == 401
                accepted_expired += 200 <= st < 300
    junk = [r for r in records if r.kind == "use_junk"]
    junk_accepted = sum(200 <= r.status < 300 for r in junk)
    checks.append(
        Check(
            "No deleted, expired or junk token was ever accepted",
            accepted_deleted == 0 and accepted_expired == 0 and junk_accepted == 0,
            f"after delete: {refused['deleted']} refused, {accepted_deleted} accepted; after "
            f"expiry: {refused['expired']} refused, {accepted_expired} accepted; junk: "
            f"{len(junk)} sent, {junk_accepted} accepted",
        )
    )

    # 5. Audit events match creates and deletes one to one.
    all_ids = set(created_events) | set(deleted_events) | existing_ids
    mismatched = []
    for token_id in all_ids:
        n_created, n_deleted = created_events[token_id], len(deleted_events[token_id])
        alive = token_id in existing_ids
        if n_created != 1 or n_deleted != (0 if alive else 1):
            mismatched.append(token_id)
    client_deletes = sum(len(s.deleted) + len(s.gone_on_retry) for s in states)
    checks.append(
        Check(
            "Audit events match creates and deletes one to one",
            not mismatched,
            f"{sum(created_events.values())} created events for {len(all_ids)} tokens, "
            f"{sum(len(v) for v in deleted_events.values())} delete events for "
            f"{len(all_ids) - len(existing_ids)} deleted tokens ({client_deletes} deletes "
            f"confirmed to clients); {len(mismatched)} mismatches",
        )
    )

    # 6. Double-submitted forms and the clients' own observations.
    doubles = collections.Counter()
    for s in states:
        doubles.update(s.double_submits)
    problems = [p for s in states for p in s.problems]
    checks.append(
        Check(
            "A form submitted twice at once made one token; clients saw nothing odd",
            not problems,
            "double submits: "
            + (", ".join(f"{n}× {k}" for k, n in sorted(doubles.items())) or "none")
            + (f"; problems: {collections.Counter(problems).most_common(5)}" if problems else ""),
        )
    )

    # 7. No raw token in the database dump or the logs.
    raws = {k.raw for s in states for k in s.tokens.values()}
    in_dump = sum(raw in dump for raw in raws) + len(TOKEN_RE.findall(dump))
    in_logs = sum(raw in logs for raw in raws) + len(TOKEN_RE.findall(logs))
    checks.append(
        Check(
            "No raw token in the database dump or the server log",
            in_dump == 0 and in_logs == 0,
            f"searched {len(raws)} raw tokens and the token pattern: {in_dump} in the dump, "
            f"{in_logs} in {len(logs.splitlines())} log lines",
        )
    )
    return checks


def _db_rows(dump: str, table: str) -> list[dict]:
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


# --- Report -----------------------------------------------------------------------------------


def write_report(path: Path, args, checks, records, outage, started: dt.datetime) -> None:
    by_kind: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for r in records:
        by_kind[r.kind][r.status] += 1
    ok = all(c.ok for c in checks)
    lines = [
        "# Reliability: soak and fault run",
        "",
        "Written by `soak/run.py` (`make soak`). Do not edit by hand; run it again.",
        "",
        f"- Date: {started:%Y-%m-%d %H:%M} UTC",
        f"- Command: `make soak` (`.venv/bin/python soak/run.py --seconds {args.seconds} "
        f"--clients {args.clients} --workers {args.workers}`)",
        f"- Set-up: gunicorn with {args.workers} sync workers on 127.0.0.1:{HTTP_PORT}, "
        f"PostgreSQL {PG_VERSION} (its own cluster `{PG_CLUSTER}` on port {PG_PORT}), "
        f"{args.clients} client threads for {args.seconds} s, each its own user. Clients sign "
        "in, create tokens through the form (CSRF, one-time nonce, some submitted twice at "
        "once) and the API (some expiring within seconds), list and delete them both ways, "
        "delete while another thread uses the token, and call the API with live, deleted, "
        "expired and junk tokens.",
        f"- Fault: PostgreSQL stopped (`pg_ctlcluster {PG_VERSION} {PG_CLUSTER} stop -m fast`) "
        f"{outage.down_at - args.t0:.1f} s into the run and started again "
        f"{outage.up_at - outage.down_at:.1f} s later.",
        f"- Requests: {len(records)} in all.",
        "",
        f"## Result: {'PASS' if ok else 'FAIL'}",
        "",
        "| Check | Result | Detail |",
        "|---|---|---|",
    ]
    lines += [f"| {c.name} | {'pass' if c.ok else 'FAIL'} | {c.detail} |" for c in checks]
    lines += ["", "## Answers by kind of request", "", "| Request | Answers (status × count) |"]
    lines += ["|---|---|"]
    for kind in sorted(by_kind):
        counts = ", ".join(f"{st or 'none'} × {n}" for st, n in sorted(by_kind[kind].items()))
        lines.append(f"| {kind} | {counts} |")
    lines += [
        "",
        "## How to read this",
        "",
        "- 503 answers are expected only while PostgreSQL is down and until the workers "
        f"reconnect; a check fails if any request sent {RECOVERY_LIMIT:.0f} s after the "
        "database returned still fails.",
        "- A delete whose answer was lost in the outage is retried after the run; a 404 "
        "then means the first attempt had committed, which the audit trail confirms.",
        "- A token counts as deleted from the moment the client received the delete's "
        "answer; every use sent after that moment must be refused.",
        "- The API's per-address throttles are lifted for the run (every client is "
        "127.0.0.1), so each junk token reaches the token check; the tests cover the "
        "throttles.",
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
    path.write_text("\n".join(lines))


# --- Main -------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--outage-at", type=float, default=None, help="default: a third in")
    parser.add_argument("--outage-seconds", type=float, default=5.0)
    parser.add_argument("--report", default=str(ROOT / "docs" / "reliability.md"))
    args = parser.parse_args()
    started = dt.datetime.now(dt.UTC)

    for tool in ("pg_createcluster", "pg_ctlcluster", "pg_isready", "psql", "pg_dump"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found: the soak needs PostgreSQL {PG_VERSION}'s tools.")
    WORK.mkdir(parents=True, exist_ok=True)
    ensure_cluster()
    fresh_database()
    env = service_env()
    log("Migrating and collecting static files")
    manage(env, "migrate", "--no-input")
    manage(env, "collectstatic", "--no-input", "--clear")
    names = [f"soak{n}" for n in range(args.clients)]
    manage(
        env,
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model as m\n"
        f"for n in {names!r}: m().objects.create_user(n, n + '@example.org', {PASSWORD!r})",
    )
    logfile = WORK / "gunicorn.log"
    log(f"Starting gunicorn ({args.workers} workers) on {HOST}:{HTTP_PORT}")
    server = start_gunicorn(env, args.workers, logfile)
    records: list[Record] = []
    lock = threading.Lock()
    stop = threading.Event()
    outage = Outage()
    try:
        states = [ClientState(f"c{n}", name) for n, name in enumerate(names)]
        clients = [Client(s, records, lock, stop, seed=n) for n, s in enumerate(states)]
        args.t0 = time.time()
        log(f"{args.clients} clients for {args.seconds} s")
        prober = threading.Thread(target=probe_readyz, args=(outage, stop), daemon=True)
        prober.start()
        fault = threading.Thread(
            target=cause_outage,
            args=(outage, args.outage_at or args.seconds / 3, args.outage_seconds, args.t0),
        )
        fault.start()
        for c in clients:
            c.start()
        time.sleep(max(0.0, args.t0 + args.seconds - time.time()))
        fault.join()
        stop.set()
        for c in clients:
            c.join(timeout=120)
        log(f"Clients done: {len(records)} requests")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    dump = run(
        "pg_dump", "-h", HOST, "-p", str(PG_PORT), "-U", "postgres", "--inserts",
        "--column-inserts", DB_NAME,
    ).stdout  # fmt: skip
    (WORK / "dump.sql").write_text(dump)
    logs = logfile.read_text(errors="replace")
    checks = check_everything(states, records, outage, dump, logs)
    print()
    for c in checks:
        print(f"{'PASS' if c.ok else 'FAIL'}  {c.name}\n      {c.detail}")
    write_report(Path(args.report), args, checks, records, outage, started)
    run("pg_ctlcluster", PG_VERSION, PG_CLUSTER, "stop", check=False)
    ok = all(c.ok for c in checks)
    print(f"\n{'PASS' if ok else 'FAIL'}: report written to {args.report}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
