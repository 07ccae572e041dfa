"""Two-factor: an authenticator app (TOTP) with recovery codes; sign-in asks for a code under the
same limits as the password; staff must have it to use the admin, and the admin shows who does."""

import re

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client

from tests.conftest import OLIVIA_TOTP_SECRET, PASSWORD
from tests.totp import totp_code

pytestmark = pytest.mark.django_db


def _activate(client) -> str:
    """Set up TOTP for the signed-in client; return the secret the page showed."""
    r = client.get("/accounts/2fa/totp/activate/")
    if r.status_code == 302 and "reauthenticate" in r["Location"]:
        client.post(r["Location"], {"password": PASSWORD})
        r = client.get("/accounts/2fa/totp/activate/")
    assert r.status_code == 200
    html = r.content.decode()
    secret = re.search(r'id="authenticator_secret"[^>]*value="([A-Z2-7]+)"', html)
    secret = secret or re.search(r'value="([A-Z2-7]{32})"[^>]*id="authenticator_secret"', html)
    secret = secret.group(1)
    assert 'class="qr"' in html  # the QR code for the app
    r = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    assert r.status_code == 302
    return secret


def _password_step(client, login="alice", ip="203.0.113.7"):
    r = client.post("/accounts/login/", {"login": login, "password": PASSWORD}, REMOTE_ADDR=ip)
    assert r.status_code == 302
    assert r["Location"] == "/accounts/2fa/authenticate/"
    return r


def test_it_sets_up_totp_and_asks_for_a_code_at_sign_in(alice_client, alice):
    secret = _activate(alice_client)
    assert Authenticator.objects.filter(user=alice, type="totp").exists()
    # Recovery codes come with it.
    assert Authenticator.objects.filter(user=alice, type="recovery_codes").exists()

    client = Client()
    _password_step(client)
    assert "_auth_user_id" not in client.session  # the password alone is not enough
    r = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert r.status_code == 200
    assert "_auth_user_id" not in client.session
    r = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert r.status_code == 302
    assert client.get("/settings/access-tokens/").status_code == 200


def test_a_recovery_code_works_once(alice_client, alice):
    _activate(alice_client)
    r = alice_client.get("/accounts/2fa/recovery-codes/")
    codes = re.findall(r"\b[0-9a-f]{8}\b", r.content.decode())
    assert len(codes) >= 10
    code = codes[0]

    client = Client()
    _password_step(client)
    assert client.post("/accounts/2fa/authenticate/", {"code": code}).status_code == 302

    again = Client()
    _password_step(again, ip="203.0.113.8")
    assert again.post("/accounts/2fa/authenticate/", {"code": code}).status_code == 200
    assert "_auth_user_id" not in again.session


def test_wrong_codes_are_limited_like_passwords(alice_client, settings):
    secret = _activate(alice_client)
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "login_failed": "50/600s/ip,3/600s/key",
    }
    client = Client()
    _password_step(client)
    for _ in range(3):
        r = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
        assert r.status_code == 200
    r = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert r.status_code == 429
    assert "Too many failed sign-in attempts" in r.content.decode()
    assert "_auth_user_id" not in client.session


def test_staff_without_two_factor_are_sent_to_set_it_up(client, django_user_model):
    sam = django_user_model.objects.create_user("sam", "sam@example.org", PASSWORD, is_staff=True)
    client.force_login(sam)
    for url in ["/admin/", "/admin/auth/user/"]:
        r = client.get(url)
        assert r.status_code == 302
        assert r["Location"] == "/accounts/2fa/"
    page = client.get("/accounts/2fa/").content.decode()
    assert "Operators must use two-factor authentication" in page

    _activate(client)
    assert client.get("/admin/").status_code == 200


def test_staff_may_use_the_admin_without_two_factor_when_not_required(
    client, django_user_model, settings
):
    settings.REQUIRE_2FA_FOR_STAFF = False
    sam = django_user_model.objects.create_user("sam", "sam@example.org", PASSWORD, is_staff=True)
    client.force_login(sam)
    assert client.get("/admin/").status_code == 200


def test_an_operator_signs_in_to_the_admin_with_password_and_code(client, olivia):
    r = client.get("/admin/", follow=True)
    assert r.redirect_chain[-1][0] == "/accounts/login/?next=%2Fadmin%2F"
    r = client.post(r.redirect_chain[-1][0], {"login": "olivia", "password": PASSWORD})
    assert r["Location"] == "/accounts/2fa/authenticate/"
    r = client.post("/accounts/2fa/authenticate/", {"code": totp_code(OLIVIA_TOTP_SECRET)})
    assert r.status_code == 302
    assert r["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_the_user_admin_shows_who_has_two_factor(client, olivia, alice):
    client.force_login(olivia)
    r = client.get("/admin/auth/user/")
    html = r.content.decode()
    assert "two-factor" in html.lower()
    assert client.get("/admin/auth/user/?two_factor=yes").context["cl"].result_count == 1
    no = client.get("/admin/auth/user/?two_factor=no").context["cl"]
    assert [u.username for u in no.result_list] == ["alice"]
