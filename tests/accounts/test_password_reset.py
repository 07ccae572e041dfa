"""Password reset by email: the link works once, expires, and the form never tells whether an
address has an account."""

import re
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail
from django.test import Client

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-passphrase-77"
SENT = "We have sent you an email"


def _ask(client, email, ip="203.0.113.7"):
    return client.post("/accounts/password/reset/", {"email": email}, REMOTE_ADDR=ip, follow=True)


def _link() -> str:
    body = mail.outbox[-1].body
    return re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", body).group(1)


def _set_password(client, link, password=NEW_PASSWORD):
    # The link redirects once to a URL that keeps the key in the session, not in the address.
    r = client.get(link, follow=True)
    form_url = r.redirect_chain[-1][0] if r.redirect_chain else link
    return client.post(form_url, {"password1": password, "password2": password}), r


def _signs_in(password) -> bool:
    r = Client().post("/accounts/login/", {"login": "alice", "password": password})
    return r.status_code == 302


def test_it_mails_a_link_that_sets_a_new_password(client, alice):
    r = _ask(client, "alice@example.org")
    assert SENT in r.content.decode()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["alice@example.org"]
    assert mail.outbox[0].subject.startswith("[Keystand] ")

    r, _ = _set_password(client, _link())
    assert r.status_code == 302
    assert _signs_in(NEW_PASSWORD)
    assert not _signs_in(PASSWORD)


def test_the_link_works_once(client, alice):
    _ask(client, "alice@example.org")
    link = _link()
    _set_password(client, link)

    r, page = _set_password(Client(), link, password="yet-another-passphrase-88")
    assert "The password reset link was invalid" in page.content.decode()
    assert _signs_in(NEW_PASSWORD)


def test_the_link_expires(client, alice, settings, monkeypatch):
    settings.PASSWORD_RESET_TIMEOUT = 3600
    _ask(client, "alice@example.org")
    link = _link()
    later = datetime.now() + timedelta(seconds=3601)
    monkeypatch.setattr(PasswordResetTokenGenerator, "_now", lambda self: later)
    _, page = _set_password(client, link)
    assert "The password reset link was invalid" in page.content.decode()
    monkeypatch.undo()
    assert _signs_in(PASSWORD)


def test_it_does_not_reveal_whether_an_address_has_an_account(client, alice):
    known = _ask(client, "alice@example.org")
    unknown = _ask(Client(), "nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    assert SENT in unknown.content.decode()
    # And nobody is mailed about an address that has no account.
    assert [m.to for m in mail.outbox] == [["alice@example.org"]]


def test_it_is_rate_limited_per_email_address(client, alice, settings):
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "reset_password": "10/h/ip,3/h/key",
    }
    for n in range(5):
        _ask(Client(), "alice@example.org", ip=f"198.51.100.{n}")
    assert len(mail.outbox) == 3


def test_it_is_rate_limited_per_address(client, alice, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "reset_password": "2/h/ip"}
    for n in range(3):
        r = _ask(Client(), f"someone{n}@example.org")
    assert r.status_code == 429
