"""HTTP as the checks speak it: one connection per request, cookies, forms, timings."""

from __future__ import annotations

import http.client
import itertools
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

TOKEN_RE = re.compile(r"kspat_[0-9A-Za-z]{49}")
_ids = itertools.count(1)


@dataclass
class Answer:
    """One request and what came back (status 0: no HTTP answer at all)."""

    kind: str
    method: str
    path: str
    status: int
    started: float
    ended: float
    request_id: str
    served_by: str = ""
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    error: str = ""

    def json(self):
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Recorder:
    """Every answer of a run, from every thread, in order of arrival."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []
        self._lock = threading.Lock()

    def add(self, answer: Answer) -> None:
        with self._lock:
            self.answers.append(answer)


def request(
    base: str,
    kind: str,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    recorder: Recorder | None = None,
    timeout: float = 20.0,
) -> Answer:
    """Send one request on a new connection; never raise for network trouble."""
    host = urlsplit(base)
    request_id = f"{next(_ids)}-{uuid.uuid4().hex[:8]}"
    all_headers = {"X-Request-ID": request_id, "Connection": "close", **(headers or {})}
    started = time.time()
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        data = response.read()
        answer = Answer(
            kind,
            method,
            path,
            response.status,
            started,
            time.time(),
            request_id,
            response.getheader("X-Served-By", ""),
            data,
            {k.lower(): v for k, v in response.getheaders()},
        )
    except (OSError, http.client.HTTPException) as exc:
        answer = Answer(kind, method, path, 0, started, time.time(), request_id, error=repr(exc))
    finally:
        conn.close()
    if recorder is not None:
        recorder.add(answer)
    return answer


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    password_fields: list[str] = field(default_factory=list)
    text_fields: list[str] = field(default_factory=list)


class _FormParser(HTMLParser):
    """Collect every POST form's fields with their default values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._select_first: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self._form = Form(a.get("action", ""))
            self.forms.append(self._form)
        form = self._form
        if form is None:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind == "password":
                form.password_fields.append(a["name"])
            elif kind in ("text", "email"):
                form.text_fields.append(a["name"])
            form.fields[a["name"]] = a.get("value", "")
        elif tag == "select" and a.get("name"):
            self._select, self._select_first = a["name"], None
        elif tag == "option" and self._select:
            if self._select_first is None:
                self._select_first = a.get("value", "")
            if "selected" in a:
                form.fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select" and self._select and self._form is not None:
            self._form.fields.setdefault(self._select, self._select_first or "")
            self._select = None
        elif tag == "form":
            self._form = None


def form_fields(html: str, path: str) -> Form:
    """Return the POST form of the page that posts to `path` (or to the page itself), not
    the sign-out form every page carries in its menu."""
    parser = _FormParser()
    parser.feed(html)
    for form in parser.forms:
        if form.action in ("", path):
            return form
    raise RuntimeError(f"no form posting to {path} on the page")


class Browser:
    """A browser's session: cookies kept, CSRF taken from the page, any base per request (so
    one session can hop between replicas)."""

    def __init__(self, forwarded_for: str, recorder: Recorder | None = None) -> None:
        self.cookies: dict[str, str] = {}
        self.forwarded_for = forwarded_for
        self.recorder = recorder

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"X-Forwarded-For": self.forwarded_for, **(extra or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers

    def _keep_cookies(self, answer: Answer) -> None:
        for key, value in answer.headers.items():
            if key == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]

    def get(self, base: str, path: str, kind: str) -> Answer:
        answer = request(base, kind, "GET", path, headers=self._headers(), recorder=self.recorder)
        self._keep_cookies(answer)
        return answer

    def post_form(self, base: str, path: str, page: Answer, values: dict, kind: str) -> Answer:
        """Fill the page's form with `values` (over its defaults) and post it to `path`."""
        fields = {**form_fields(page.text, path).fields, **values}
        headers = self._headers(
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": base + path,
                "Origin": base,
            }
        )
        answer = request(
            base,
            kind,
            "POST",
            path,
            headers=headers,
            body=urlencode(fields).encode(),
            recorder=self.recorder,
        )
        self._keep_cookies(answer)
        return answer

    def sign_in(self, base: str, username: str, password: str, kind: str = "sign_in") -> Answer:
        """Fill whatever sign-in form the page has: its text field and its password field."""
        page = self.get(base, "/accounts/login/", kind + "_page")
        if page.status != 200:
            return page
        form = form_fields(page.text, "/accounts/login/")
        if not form.password_fields or not form.text_fields:
            raise RuntimeError("the sign-in page has no username and password fields")
        values = {form.text_fields[0]: username, form.password_fields[0]: password}
        return self.post_form(base, "/accounts/login/", page, values, kind)


def api(
    base: str,
    kind: str,
    method: str,
    path: str,
    *,
    token: str | None = None,
    data: dict | None = None,
    forwarded_for: str | None = None,
    recorder: Recorder | None = None,
) -> Answer:
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    body = None
    if data is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(data).encode()
    return request(base, kind, method, path, headers=headers, body=body, recorder=recorder)
