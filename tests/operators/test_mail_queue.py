"""Mail never blocks a request (issue #11, item 5): it is queued in the database and sent by
the task worker (`manage.py db_worker`), which retries a failed send later.

The end-to-end test serves the image's gunicorn and runs the real worker command, against an
SMTP server that accepts connections and never answers, then against a working one (aiosmtpd).
"""

import http.client
import json
import logging
import socket
import subprocess
import threading
from collections.abc import Iterator
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from django.core import mail as django_mail
from django.core.mail import EmailMessage
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from access_tokens import mail
from tests.forked_manage import run_manage
from tests.project.conftest import fresh_database
from tests.project.test_gunicorn import Server, _free_port, _prepared_env

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


class SilentSMTPServer:
    """Accept connections and never answer, as a hung mail server does."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(0.2)
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            self.connections.append(conn)  # held open; nothing is ever sent

    def close(self) -> None:
        self.stopped.set()
        self.thread.join()
        for conn in self.connections:
            conn.close()
        self.listener.close()


class Inbox:
    """aiosmtpd's handler: keep every message the server receives."""

    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def silent_smtp() -> Iterator[SilentSMTPServer]:
    server = SilentSMTPServer()
    yield server
    server.close()


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    done = run_manage(*args, env=env, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


# Run in the server's process environment: what the task table holds, as JSON.
_QUEUE = """
import json
from django_tasks_db.models import DBTaskResult
from django.utils import timezone
now = timezone.now()
print(json.dumps([
    {"status": t.status, "args": t.args_kwargs["args"], "raw": json.dumps(t.args_kwargs),
     "due_in": (t.run_after - now).total_seconds() if t.run_after else None}
    for t in DBTaskResult.objects.order_by("enqueued_at")
]))
"""


def _queue(env: dict[str, str]) -> list[dict]:
    return json.loads(_manage(env, "shell", "-v", "0", "-c", _QUEUE).stdout)


def _make_retries_due(env: dict[str, str]) -> None:
    """Let the minute pass that the first retry waits for."""
    _manage(
        env,
        "shell",
        "-c",
        "from django_tasks_db.models import DBTaskResult; from django.utils import timezone; "
        "DBTaskResult.objects.filter(status='READY').update(run_after=timezone.now())",
    )


def _worker(env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run the worker as compose and Kubernetes do, until nothing is due."""
    return _manage(env, "db_worker", "--batch", "--no-startup-delay", "--interval", "0")


def test_a_hung_mail_server_delays_mail_not_requests(tmp_path, static_root, silent_smtp, inbox):
    with fresh_database(tmp_path) as database_url:
        env = {
            **_prepared_env(database_url, static_root),
            "EMAIL_URL": f"smtp://127.0.0.1:{silent_smtp.port}",
            "EMAIL_TIMEOUT": "1",  # the least the settings allow: each timed-out attempt waits it
            "PYTHONUNBUFFERED": "1",
        }
        _manage(
            env,
            "shell",
            "-c",
            "from django.contrib.auth import get_user_model; "
            "from allauth.account.models import EmailAddress; "
            "u = get_user_model().objects.create_user('alice', 'alice@example.org'); "
            "EmailAddress.objects.create(user=u, email=u.email, verified=True, primary=True)",
        )
        parent = _manage(env, "create_access_token", "alice", "--no-expiry").stdout.strip()
        server = Server(env, tmp_path / "gunicorn.log")
        try:
            server.wait_until_up()
            # A client that gives up after a few seconds: a request that waited for the mail
            # server (which never answers) would never complete.
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            conn.request(
                "POST",
                "/api/v1/access-tokens/",
                json.dumps({"name": "deploy"}),
                {
                    "Host": "127.0.0.1",
                    "Authorization": f"AccessToken {parent}",
                    "Content-Type": "application/json",
                },
            )
            response = conn.getresponse()
            created = json.loads(response.read())
            conn.close()
        finally:
            server.stop()
        assert response.status == 201, created
        child = created["token"]
        # Nothing in the request went near the mail server.
        assert silent_smtp.connections == []

        # Both "token created" mails wait in the queue, sealed: no token, no subject in clear.
        queued = _queue(env)
        assert [t["status"] for t in queued] == ["READY", "READY"]
        for task in queued:
            assert parent not in task["raw"] and child not in task["raw"]
            assert "access token" not in task["raw"]

        # The worker tries, the server never answers, the attempt times out (EMAIL_TIMEOUT),
        # and each mail is queued again for a minute later.
        attempt = _worker(env)
        assert len(silent_smtp.connections) >= 1
        assert "retrying in 60 s (retry 1 of 5)" in attempt.stdout + attempt.stderr
        queued = _queue(env)
        assert sorted(t["status"] for t in queued) == ["FAILED", "FAILED", "READY", "READY"]
        retries = [t for t in queued if t["status"] == "READY"]
        assert all(t["args"][1] == 1 and 0 < t["due_in"] <= 60 for t in retries)
        assert inbox[0].messages == []

        # The mail server is fixed; once the retry is due, the worker delivers.
        handler, port = inbox
        fixed = {**env, "EMAIL_URL": f"smtp://127.0.0.1:{port}"}
        _make_retries_due(fixed)
        _worker(fixed)
        assert sorted(t["status"] for t in _queue(fixed)) == [
            "FAILED",
            "FAILED",
            "SUCCESSFUL",
            "SUCCESSFUL",
        ]
        assert [m["To"] for m in handler.messages] == ["alice@example.org"] * 2
        bodies = [m.get_payload(decode=True).decode() for m in handler.messages]
        assert all(
            m["Subject"] == "[Keystand] A personal access token was created"
            for m in handler.messages
        )
        assert any(f"kspat_…{child[-4:]}" in body for body in bodies)
        assert not any(parent in body or child in body for body in bodies)


@pytest.mark.django_db(transaction=True)
def test_it_backs_off_then_gives_up(settings, caplog):
    # Nothing listens on a port the system just handed out and took back.
    settings.TASKS = DATABASE_QUEUE
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _free_port()
    caplog.set_level(logging.INFO, logger="access_tokens.mail")

    mail.send(EmailMessage("Hello", "Body", None, ["alice@example.org"]))
    waits = []
    for _ in range(len(mail.RETRY_DELAYS) + 1):
        call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")
        # The retry the failure queued, and how long after queueing it is due.
        for due in DBTaskResult.objects.filter(status="READY"):
            waits.append(round((due.run_after - due.enqueued_at).total_seconds()))
        # Time passes.
        DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())

    assert waits == [60, 300, 1800, 7200, 21600]
    assert DBTaskResult.objects.filter(status="FAILED").count() == 6
    assert not DBTaskResult.objects.filter(status="READY").exists()
    assert "giving up after 6 attempts" in caplog.text
    assert django_mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_queued_mail_survives_the_database_as_sent(settings):
    # Through the database and the real worker: the message that arrives is the one queued,
    # HTML alternative included (allauth's mails have one when a template exists).
    settings.TASKS = DATABASE_QUEUE
    message = django_mail.EmailMultiAlternatives(
        "Über", "Plain ✓", "Keystand <k@example.org>", ["a@example.org"], reply_to=["r@x.org"]
    )
    message.attach_alternative("<p>HTML ✓</p>", "text/html")
    mail.send(message)
    assert django_mail.outbox == []
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")
    (sent,) = django_mail.outbox
    assert (sent.subject, sent.body, sent.from_email, sent.to, sent.reply_to) == (
        "Über",
        "Plain ✓",
        "Keystand <k@example.org>",
        ["a@example.org"],
        ["r@x.org"],
    )
    assert sent.alternatives == [("<p>HTML ✓</p>", "text/html")]


def test_it_reads_the_mail_timeout_from_the_environment(settings):
    # 10 s unless EMAIL_TIMEOUT says otherwise (tests/project/test_settings.py starts fresh
    # processes for the rest of the settings).
    from django.core.mail import get_connection

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    assert get_connection().timeout == settings.EMAIL_TIMEOUT == 10
