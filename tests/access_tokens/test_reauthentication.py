"""Sudo mode: creating a token in the browser needs a password entered in the last
ACCESS_TOKEN_REAUTH_SECONDS; the form's input survives the detour."""

import time

import pytest
from allauth.mfa.totp.internal.auth import TOTP

from access_tokens.models import AccessToken
from tests.access_tokens.conftest import LIST_URL, NEW_URL, form_data
from tests.conftest import PASSWORD
from tests.totp import totp_code

pytestmark = pytest.mark.django_db

REAUTH = "/accounts/reauthenticate/?next=%2Fsettings%2Faccess-tokens%2Fnew%2F"


@pytest.fixture
def later(monkeypatch):
    """Move the clock past the 15 minutes a password is good for."""
    now = time.time() + 901
    monkeypatch.setattr(time, "time", lambda *args: now)


def test_a_fresh_sign_in_creates_without_asking(alice_client, alice):
    r = alice_client.post(NEW_URL, form_data(name="fresh"))
    assert r.status_code == 302
    assert r["Location"] == LIST_URL
    assert AccessToken.objects.filter(user=alice, name="fresh").exists()


def test_an_old_sign_in_is_asked_for_the_password_first(alice_client, alice, later):
    # The form itself still opens: only the change waits.
    assert alice_client.get(NEW_URL).status_code == 200
    r = alice_client.post(
        NEW_URL,
        form_data(name="Deploy from CI", expiration="90", scopes=["read_api", "read_user"]),
    )
    assert r.status_code == 302
    assert r["Location"] == REAUTH
    assert not AccessToken.objects.filter(user=alice).exists()

    r = alice_client.post(REAUTH, {"password": PASSWORD})
    assert r.status_code == 302
    assert r["Location"] == NEW_URL
    # The form comes back as it was submitted, to submit again.
    page = alice_client.get(NEW_URL)
    form = page.context["form"]
    assert form["name"].value() == "Deploy from CI"
    assert form["expiration"].value() == "90"
    assert form["scopes"].value() == ["read_api", "read_user"]
    assert not AccessToken.objects.filter(user=alice).exists()
    # Only once: a later visit starts from an empty form.
    assert alice_client.get(NEW_URL).context["form"]["name"].value() in (None, "")

    r = alice_client.post(NEW_URL, {k: v.value() or "" for k, v in _fields(form)})
    assert r.status_code == 302
    token = AccessToken.objects.get(user=alice)
    assert token.name == "Deploy from CI"
    assert token.scope_list == ["read_api", "read_user"]


def _fields(form):
    return [(name, form[name]) for name in form.fields]


def test_a_wrong_password_creates_nothing(alice_client, alice, later):
    alice_client.post(NEW_URL, form_data(name="x"))
    r = alice_client.post(REAUTH, {"password": "not-my-password"})
    assert r.status_code == 200
    assert alice_client.post(NEW_URL, form_data(name="x")).status_code == 302
    assert not AccessToken.objects.filter(user=alice).exists()


def test_wrong_passwords_there_count_as_failed_sign_ins(alice_client, alice, later, settings):
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "login_failed": "50/600s/ip,3/600s/key",
    }
    for _ in range(3):
        alice_client.post(REAUTH, {"password": "guess"})
    r = alice_client.post(REAUTH, {"password": PASSWORD})
    assert r.status_code == 200
    assert "Too many failed sign-in attempts" in r.content.decode()


def test_a_second_factor_also_proves_it_is_you(alice_client, alice, later):
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ"
    TOTP.activate(alice, secret)
    alice_client.post(NEW_URL, form_data(name="with a code"))
    r = alice_client.post(
        "/accounts/2fa/reauthenticate/?next=%2Fsettings%2Faccess-tokens%2Fnew%2F",
        {"code": totp_code(secret, at=time.time())},
    )
    assert r.status_code == 302
    assert alice_client.get(NEW_URL).context["form"]["name"].value() == "with a code"


def test_operators_can_turn_it_off(client, alice, settings, later):
    settings.ACCESS_TOKEN_REAUTH_SECONDS = 0
    client.force_login(alice)  # a session with no record of a password at all
    assert client.post(NEW_URL, form_data(name="no sudo")).status_code == 302
    assert AccessToken.objects.filter(user=alice, name="no sudo").exists()


def test_a_session_without_a_password_record_is_asked(client, alice):
    # Sessions from before this check (or made any other way) prove nothing.
    client.force_login(alice)
    assert client.post(NEW_URL, form_data())["Location"] == REAUTH


def test_a_host_may_answer_the_question_itself(client, alice, settings):
    settings.ACCESS_TOKEN_RECENT_AUTH_CHECK = "tests.access_tokens.test_reauthentication.always"
    client.force_login(alice)
    assert client.post(NEW_URL, form_data())["Location"] == LIST_URL


def always(request, max_age) -> bool:
    return True


def test_the_api_is_not_affected(api_client, alice, make_token, later):
    _, raw = make_token(alice)
    api_client.credentials(HTTP_AUTHORIZATION=f"AccessToken {raw}")
    r = api_client.post("/api/v1/access-tokens/", {"name": "from a script"}, format="json")
    assert r.status_code == 201


# Without allauth the default check is the session's own sign-in time, written on Django's
# user_logged_in signal; this project has allauth, so the test names that check explicitly.
SESSION_CHECK = {
    "ACCESS_TOKEN_RECENT_AUTH_CHECK": "access_tokens.reauth.session_recent_auth",
    "ACCESS_TOKEN_REAUTH_URL": "/accounts/login/",
}


def test_without_allauth_a_fresh_sign_in_creates_without_asking(client, alice, settings):
    for name, value in SESSION_CHECK.items():
        setattr(settings, name, value)
    client.force_login(alice)  # any django.contrib.auth.login() sends user_logged_in
    assert client.post(NEW_URL, form_data(name="fresh"))["Location"] == LIST_URL
    assert AccessToken.objects.filter(user=alice, name="fresh").exists()


def test_without_allauth_an_old_sign_in_is_sent_to_sign_in_again(client, alice, settings):
    for name, value in SESSION_CHECK.items():
        setattr(settings, name, value)
    client.force_login(alice)
    signed_in = time.time()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(time, "time", lambda *args: signed_in + 901)
        r = client.post(NEW_URL, form_data(name="stale"))
        assert r["Location"] == "/accounts/login/?next=%2Fsettings%2Faccess-tokens%2Fnew%2F"
        assert not AccessToken.objects.filter(user=alice).exists()
        # Signing in again (the same login()) counts as proving it is them.
        client.force_login(alice)
        assert client.post(NEW_URL, form_data(name="again"))["Location"] == LIST_URL
    assert AccessToken.objects.filter(user=alice, name="again").exists()


def test_without_allauth_a_session_that_never_signed_in_here_is_asked(client, alice, settings):
    for name, value in SESSION_CHECK.items():
        setattr(settings, name, value)
    client.force_login(alice)
    session = client.session
    del session["access_tokens:signed_in_at"]
    session.save()
    assert client.post(NEW_URL, form_data())["Location"].startswith("/accounts/login/?next=")
