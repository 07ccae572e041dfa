"""The emails: token created, revoked by an operator, expiring soon. Plain text, no secret."""

import socket

import pytest
from django.core import mail

from access_tokens import services
from access_tokens.forms import new_form_nonce
from access_tokens.models import AccessToken

from .commands import run
from .conftest import ahead, logged_text

pytestmark = pytest.mark.django_db


def _create_in_browser(client, **data):
    form = {"name": "CI deploy", "expiration": "30", "expires_on": "", "scopes": ["api"]}
    form.update(data, nonce=new_form_nonce())
    return client.post("/settings/access-tokens/new/", form, REMOTE_ADDR="198.51.100.7")


def _raw_from_list_page(client) -> str:
    import re

    page = client.get("/settings/access-tokens/").text
    return re.search(r"kspat_[0-9A-Za-z]{49}", page).group(0)


def test_it_emails_the_owner_when_a_token_is_created_in_the_browser(
    alice_client, all_logs, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        r = _create_in_browser(alice_client)
    assert r.status_code == 302
    raw = _raw_from_list_page(alice_client)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.org"]
    assert message.subject == "[Keystand] A personal access token was created"
    assert message.content_subtype == "plain"
    assert message.alternatives == []
    assert "Hello alice," in message.body
    assert "Name:     CI deploy" in message.body
    assert f"Token:    kspat_…{raw[-4:]}" in message.body
    assert "(Web, from 198.51.100.7)" in message.body
    assert "http://testserver/settings/access-tokens/" in message.body
    assert raw not in message.body
    assert raw not in message.subject
    assert raw not in logged_text(all_logs)


def test_it_emails_once_for_a_token_created_through_the_api(
    api_client, alice, make_token, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _t, key = make_token(alice, name="bootstrap")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        r = api_client.post(
            "/api/v1/access-tokens/",
            {"name": "from the API"},
            format="json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )
    assert r.status_code == 201
    assert len(mail.outbox) == 1
    assert "Name:     from the API" in mail.outbox[0].body
    assert "(API" in mail.outbox[0].body
    assert r.json()["token"] not in mail.outbox[0].body


def test_it_can_be_switched_off(alice_client, settings, django_capture_on_commit_callbacks):
    settings.ACCESS_TOKEN_CREATION_EMAIL = False
    with django_capture_on_commit_callbacks(execute=True):
        _create_in_browser(alice_client)
    assert AccessToken.objects.count() == 1
    assert mail.outbox == []


def test_it_quotes_a_hostile_name_as_plain_text(
    alice, make_token, django_capture_on_commit_callbacks
):
    name = '<b>Deploy</b> & "prod" \u202eevil'
    with django_capture_on_commit_callbacks(execute=True):
        make_token(alice, name=name)
    body = mail.outbox[0].body
    # Plain text: no HTML entities, but nothing that can reorder or break the line either.
    assert 'Name:     <b>Deploy</b> & "prod" \ufffdevil\n' in body
    assert "&lt;" not in body
    assert "\u202e" not in body


def test_nobody_is_emailed_when_the_owner_has_no_address(
    alice, make_token, django_capture_on_commit_callbacks
):
    alice.email = ""
    alice.save()
    with django_capture_on_commit_callbacks(execute=True):
        make_token(alice)
    assert AccessToken.objects.count() == 1
    assert mail.outbox == []


def test_a_mail_server_that_is_down_does_not_lose_the_new_token(
    alice_client, settings, all_logs, django_capture_on_commit_callbacks
):
    # Nothing listens on a port the system just handed out and took back: sending fails for
    # real, and parallel runs never share the port.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    with django_capture_on_commit_callbacks(execute=True):
        r = _create_in_browser(alice_client)
    assert r.status_code == 302
    raw = _raw_from_list_page(alice_client)
    assert AccessToken.objects.get().last_four == raw[-4:]
    # Tasks run at once in the suite: the send failed inside the task, which says so.
    assert "could not be sent (ConnectionRefusedError" in logged_text(all_logs)
    assert raw not in logged_text(all_logs)


def test_it_emails_the_owner_once_when_an_operator_revokes(
    olivia, alice, make_token, django_capture_on_commit_callbacks
):
    token, raw = make_token(alice, name="CI deploy")
    with django_capture_on_commit_callbacks(execute=True):
        services.revoke_access_token(
            token=token, actor=olivia, reason="revoked_by_operator", via="admin"
        )
        # A second attempt finds nothing to revoke and sends nothing.
        services.revoke_access_token(
            token=token, actor=olivia, reason="revoked_by_operator", via="admin"
        )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.org"]
    assert message.subject == "[Keystand] An operator revoked one of your access tokens"
    assert "Name:     CI deploy" in message.body
    assert f"kspat_…{raw[-4:]}" in message.body
    assert raw not in message.body


def test_an_owner_deleting_their_own_token_gets_no_email(
    alice, make_token, django_capture_on_commit_callbacks
):
    token, _raw = make_token(alice)
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_access_token(token=token, actor=alice)
    assert mail.outbox == []


def test_the_expiry_email_links_to_the_site(alice, make_token, settings):
    settings.SITE_URL = "https://keystand.example.com/"
    _t, raw = make_token(alice, name="soon", expires_at=ahead(days=2))
    run("notify_expiring_tokens", "--within", "7")
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "https://keystand.example.com/settings/access-tokens/" in body
    assert "One of your personal access tokens stops working soon:" in body
    assert "Name:     soon" in body
    assert raw not in body


LONG = "svc_gitlab_runner_production_backup_" + "x" * 64  # 100 characters, no space


def test_a_long_name_is_wrapped_under_its_label(
    olivia, alice, make_token, django_capture_on_commit_callbacks
):
    parent, raw = make_token(alice, name=LONG, expires_at=ahead(days=2))
    child, _ = make_token(alice, name=LONG, expires_at=ahead(days=1))
    AccessToken.objects.filter(pk=child.pk).update(created_by_token=parent)
    with django_capture_on_commit_callbacks(execute=True):
        services.revoke_access_token(
            token=parent, actor=olivia, reason="revoked_by_operator", via="admin"
        )
    make_token(alice, name=LONG, expires_at=ahead(days=2))
    run("notify_expiring_tokens", "--within", "7")
    assert [m.subject for m in mail.outbox] == [
        "[Keystand] An operator revoked one of your access tokens",
        "[Keystand] Your access token expires soon",
    ]
    for message in mail.outbox:
        lines = message.body.splitlines()
        # No line a mail client would break on its own, and the name whole once rejoined.
        assert [line for line in lines if len(line) > 78] == []
        at = next(i for i, line in enumerate(lines) if line.startswith("  Name:     "))
        first, rest = lines[at][12:], lines[at + 1]
        assert rest.startswith(" " * 12) and not rest[12:].startswith(" ")
        assert first + rest[12:] == LONG
        assert lines[at + 2].startswith("  Token:    kspat_…")
    revoked = mail.outbox[0].body
    assert f"  {LONG[:74]}\n  {LONG[74:]} (kspat_…{child.last_four})" in revoked
