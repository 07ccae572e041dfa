"""Operators invite people from the admin: an account without a password, and a mailed link to
choose one (allauth's reset link: it works once and expires)."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

INVITE = "/admin/auth/user/invite/"


def _link() -> str:
    return re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", mail.outbox[-1].body)[
        1
    ]


def _choose_password(client, link, password=PASSWORD):
    page = client.get(link, follow=True)
    url = page.redirect_chain[-1][0] if page.redirect_chain else link
    return client.post(url, {"password1": password, "password2": password}), page


def test_the_user_list_offers_an_invitation(olivia_client):
    html = olivia_client.get("/admin/auth/user/").content.decode()
    assert f'href="{INVITE}"' in html


def test_an_operator_invites_someone_who_then_chooses_a_password(
    olivia_client, django_user_model, settings
):
    settings.SIGNUP_ENABLED = False  # invitations are how people join a closed Keystand
    r = olivia_client.post(INVITE, {"username": "dora", "email": "Dora@Example.org"})
    assert r.status_code == 302
    dora = django_user_model.objects.get(username="dora")
    assert not dora.has_usable_password()
    assert not EmailAddress.objects.get(user=dora).verified

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["Dora@example.org"]
    assert message.subject == "[Keystand] You are invited to Keystand"
    assert "Your username is: dora" in message.body

    link = _link()
    r, _ = _choose_password(Client(), link)
    assert r.status_code == 302
    dora.refresh_from_db()
    assert dora.check_password(PASSWORD)
    # Using the mailed link proved the address.
    assert EmailAddress.objects.get(user=dora).verified
    r = Client().post("/accounts/login/", {"login": "dora", "password": PASSWORD})
    assert r.status_code == 302

    # The link works once.
    _, page = _choose_password(Client(), link, password="another-passphrase-99")
    assert "The password reset link was invalid" in page.content.decode()


def test_it_refuses_a_taken_username_or_address(olivia_client, alice, django_user_model):
    r = olivia_client.post(INVITE, {"username": "ALICE", "email": "new@example.org"})
    assert r.status_code == 200
    assert "A user with that username already exists." in r.content.decode()
    r = olivia_client.post(INVITE, {"username": "newbie", "email": "alice@example.org"})
    assert "An account with this email address already exists." in r.content.decode()
    assert not django_user_model.objects.filter(username="newbie").exists()
    assert mail.outbox == []


def test_staff_without_the_add_permission_cannot_invite(client, staff_without_perms):
    client.force_login(staff_without_perms)
    assert client.post(INVITE, {"username": "x", "email": "x@example.org"}).status_code == 403


def test_an_operator_sends_a_new_invitation(olivia_client, django_user_model, alice):
    olivia_client.post(INVITE, {"username": "dora", "email": "dora@example.org"})
    dora = django_user_model.objects.get(username="dora")
    mail.outbox.clear()
    r = olivia_client.post(
        "/admin/auth/user/",
        {"action": "send_invitation_again", "_selected_action": [dora.pk, alice.pk]},
        follow=True,
    )
    assert "Sent 1 invitation(s). Skipped 1" in r.content.decode()
    assert [m.to for m in mail.outbox] == [["dora@example.org"]]
