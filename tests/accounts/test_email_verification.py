"""Verified email: sign-up sends a link; until the address is verified Keystand sends it nothing
else (token mails wait or are skipped, and the token page says why)."""

import datetime as dt
import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from access_tokens import services
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _sign_up(client, username="dora", email="dora@example.org"):
    r = client.post(
        "/accounts/signup/",
        {"username": username, "email": email, "password1": PASSWORD, "password2": PASSWORD},
    )
    assert r.status_code == 302
    return r


def _link(message) -> str:
    return re.search(r"http://testserver(/accounts/confirm-email/\S+/)", message.body).group(1)


def _make_token(user, django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        return services.create_access_token(user=user, **kwargs)


def test_sign_up_sends_a_verification_link_and_nothing_else(client, django_user_model):
    _sign_up(client)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["dora@example.org"]
    assert message.subject == "[Keystand] Please Confirm Your Email Address"
    assert "Hello from Keystand" in message.body
    dora = django_user_model.objects.get(username="dora")
    assert not EmailAddress.objects.get(user=dora).verified


def test_the_link_verifies_the_address(client, django_user_model):
    _sign_up(client)
    link = _link(mail.outbox[0])
    # Opening the link asks for a click: a mail scanner following links verifies nothing.
    r = client.get(link)
    assert r.status_code == 200
    assert not EmailAddress.objects.get(email="dora@example.org").verified
    r = client.post(link)
    assert r.status_code == 302
    assert EmailAddress.objects.get(email="dora@example.org").verified


def test_no_token_mail_goes_to_an_unverified_address(
    client, django_user_model, django_capture_on_commit_callbacks
):
    _sign_up(client)
    dora = django_user_model.objects.get(username="dora")
    mail.outbox.clear()

    token, _ = _make_token(dora, django_capture_on_commit_callbacks, name="laptop")
    assert mail.outbox == []

    # The page says why, and where to fix it.
    html = client.get("/settings/access-tokens/").content.decode()
    assert "until you verify that address" in html
    assert 'href="/accounts/email/"' in html

    # Once verified, the next token is mailed and the note is gone.
    EmailAddress.objects.filter(user=dora).update(verified=True)
    _make_token(dora, django_capture_on_commit_callbacks, name="ci")
    assert [m.to for m in mail.outbox] == [["dora@example.org"]]
    assert "until you verify" not in client.get("/settings/access-tokens/").content.decode()


def test_the_page_says_so_when_there_is_no_address(client, django_user_model):
    user = django_user_model.objects.create_user("noemail", "", PASSWORD)
    client.force_login(user)
    html = client.get("/settings/access-tokens/").content.decode()
    assert "Your account has no email address" in html


def test_expiry_notices_wait_for_verification(client, django_user_model):
    _sign_up(client)
    dora = django_user_model.objects.get(username="dora")
    mail.outbox.clear()
    soon = timezone.now() + dt.timedelta(days=2)
    services.create_access_token(user=dora, name="soon", expires_at=soon)
    mail.outbox.clear()

    call_command("notify_expiring_tokens", stdout=(out := _Out()))
    assert mail.outbox == []
    assert "held 1 token(s) until their owner verifies their email address" in out.text

    EmailAddress.objects.filter(user=dora).update(verified=True)
    call_command("notify_expiring_tokens", stdout=_Out())
    assert [m.to for m in mail.outbox] == [["dora@example.org"]]


def test_an_operators_revoke_is_not_mailed_to_an_unverified_address(
    client, django_user_model, django_capture_on_commit_callbacks
):
    from access_tokens.notifications import send_token_revoked_by_operator

    _sign_up(client)
    dora = django_user_model.objects.get(username="dora")
    token, _ = services.create_access_token(user=dora, name="x")
    mail.outbox.clear()
    assert send_token_revoked_by_operator(token) is False
    assert mail.outbox == []


def test_allauth_notices_skip_an_unverified_address(client, django_user_model):
    _sign_up(client)
    mail.outbox.clear()
    r = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "n3w-Pass-phrase!", "password2": "n3w-Pass-phrase!"},
    )
    assert r.status_code == 302
    assert mail.outbox == []


def test_allauth_notices_reach_a_verified_address(alice_client):
    r = alice_client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "n3w-Pass-phrase!", "password2": "n3w-Pass-phrase!"},
    )
    assert r.status_code == 302
    assert [m.to for m in mail.outbox] == [["alice@example.org"]]
    assert "password" in mail.outbox[0].subject.lower()


def test_a_stranger_cannot_sign_up_with_a_taken_address(client, alice):
    r = client.post(
        "/accounts/signup/",
        {
            "username": "mallory",
            "email": "alice@example.org",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert r.status_code == 200
    assert mail.outbox == []


def test_changing_the_address_verifies_the_new_one_first(alice_client, alice):
    r = alice_client.post("/accounts/email/", {"email": "alice@new.example.org", "action_add": ""})
    assert r.status_code == 302
    # A link goes to the new address; the old one stays in use until it is opened.
    assert [m.to for m in mail.outbox] == [["alice@new.example.org"]]
    alice.refresh_from_db()
    assert alice.email == "alice@example.org"
    html = alice_client.get("/accounts/email/").content.decode()
    assert "alice@new.example.org" in html and "Waiting for verification" in html

    link = _link(mail.outbox[0])
    assert alice_client.post(link).status_code == 302
    alice.refresh_from_db()
    assert alice.email == "alice@new.example.org"
    assert EmailAddress.objects.get(user=alice, primary=True).verified


def test_a_host_may_answer_the_mail_question_itself(
    alice, settings, django_capture_on_commit_callbacks
):
    settings.ACCESS_TOKEN_CAN_EMAIL_USER = "tests.accounts.test_email_verification.never"
    _make_token(alice, django_capture_on_commit_callbacks)
    assert mail.outbox == []


def never(user) -> bool:
    return False


class _Out:
    def __init__(self):
        self.text = ""

    def write(self, s):
        self.text += s

    def flush(self):
        pass
