"""A hostile token name (or person's name) is shown as text on every page that shows it:
the operators' admin, the user menu and the emails. (The owner's own pages are covered in
tests/access_tokens/test_hostile_names.py.)"""

import pytest
from django.core import mail
from django.test import Client

from access_tokens.models import AccessTokenEvent

pytestmark = pytest.mark.django_db

NAME = "<script>alert(1)</script><img src=x onerror=alert(2)>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"


def _assert_escaped(r, url):
    body = r.content.decode()
    assert r.status_code == 200, url
    assert "<script>alert(1)" not in body, url
    assert "<img src=x" not in body, url
    assert ESCAPED in body, url


@pytest.fixture
def operator(olivia):
    client = Client()
    client.force_login(olivia)
    return client


@pytest.fixture
def hostile(alice, make_token):
    return make_token(alice, name=NAME)


def test_it_escapes_the_name_in_the_admin(operator, hostile):
    token, _ = hostile
    event = AccessTokenEvent.objects.get(token_id=token.pk)
    for url in [
        "/admin/access_tokens/accesstoken/",
        f"/admin/access_tokens/accesstoken/{token.pk}/change/",
        "/admin/access_tokens/accesstokenevent/",
        f"/admin/access_tokens/accesstokenevent/{event.pk}/change/",
    ]:
        _assert_escaped(operator.get(url), url)


def test_it_escapes_the_name_when_finding_and_revoking_a_leaked_token(operator, hostile):
    _, raw = hostile
    r = operator.post("/admin/access_tokens/accesstoken/find-leaked/", {"token": raw})
    _assert_escaped(r, "find-leaked")

    r = operator.post(
        "/admin/access_tokens/accesstoken/find-leaked/revoke/", {"token": raw}, follow=True
    )
    _assert_escaped(r, "revoke-leaked message")
    assert "Revoked alice" in r.content.decode()


def test_it_escapes_a_hostile_full_name_in_the_user_menu(client, alice):
    alice.first_name = "<b>Al</b>"
    alice.last_name = '"><script>x()</script>'
    alice.save()
    client.force_login(alice)
    body = client.get("/settings/access-tokens/").content.decode()
    assert "<b>Al</b>" not in body
    assert "<script>x()" not in body
    assert "&lt;b&gt;Al&lt;/b&gt;" in body


def test_it_sends_the_name_as_plain_text_in_emails(
    alice, make_token, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        make_token(alice, name=NAME)
    assert mail.outbox, "creating a token emails its owner"
    for message in mail.outbox:
        assert getattr(message, "alternatives", []) == []  # no HTML part to inject into
        assert NAME in message.body  # shown as typed: plain text runs nothing
        assert "&lt;" not in message.body


def test_it_defuses_direction_marks_in_email_names(
    alice, make_token, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        make_token(alice, name="invoice\u202egpj.exe")
    body = mail.outbox[-1].body
    assert "\u202e" not in body
    assert "invoice\ufffdgpj.exe" in body
