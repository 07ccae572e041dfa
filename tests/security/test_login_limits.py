"""Sign-in protection: repeated failures lock an account or an address for a while, on every path
that checks a password (the site's sign-in, the admin's, the change-password form)."""

import time

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.conftest import OLIVIA_TOTP_SECRET, PASSWORD
from tests.totp import totp_code

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
LOCKED = "Too many failed sign-in attempts"


def _login(client, login, password, ip="203.0.113.7", path=LOGIN):
    return client.post(path, {"login": login, "password": password}, REMOTE_ADDR=ip)


@pytest.fixture
def limits_of(settings):
    """3 failures per account, 5 per address, within 10 minutes."""
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "login_failed": "5/600s/ip,3/600s/key",
    }


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_it_signs_in_with_the_right_password(client, alice, limits_of):
    r = _login(client, "alice", PASSWORD)
    assert r.status_code == 302
    assert client.get("/settings/access-tokens/").status_code == 200


def test_it_locks_an_account_after_repeated_failures(client, alice, limits_of):
    for _ in range(3):
        r = _login(client, "alice", "wrong password")
        assert r.status_code == 200
        assert "The username and/or password you specified are not correct." in r.content.decode()

    # Even the right password is refused now, with a clear message and 429.
    r = _login(client, "alice", PASSWORD)
    assert r.status_code == 429
    assert LOCKED in r.content.decode()
    assert 'role="alert"' in r.content.decode()
    assert not _signed_in(client)


def test_it_locks_the_account_from_every_address(client, alice, limits_of):
    for n in range(3):
        _login(client, "alice", "wrong password", ip=f"198.51.100.{n}")
    r = _login(Client(), "alice", PASSWORD, ip="192.0.2.99")
    assert r.status_code == 429


def test_it_counts_every_spelling_of_an_account_together(client, alice, limits_of):
    # Username in any case and the email address are one account, so one budget.
    for n, name in enumerate(["ALICE", "Alice", "alice@example.org"]):
        _login(client, name, "wrong password", ip=f"198.51.100.{n}")
    assert _login(Client(), "alice", PASSWORD, ip="192.0.2.1").status_code == 429


def test_it_leaves_other_accounts_alone(client, alice, bob, limits_of):
    for _ in range(3):
        _login(client, "alice", "wrong password", ip="198.51.100.1")
    r = _login(Client(), "bob", PASSWORD, ip="198.51.100.2")
    assert r.status_code == 302


def test_it_locks_an_address_that_tries_many_accounts(client, alice, limits_of):
    for n in range(5):
        _login(client, f"nobody{n}", "guess", ip="203.0.113.50")
    r = _login(client, "alice", PASSWORD, ip="203.0.113.50")
    assert r.status_code == 429
    assert LOCKED in r.content.decode()
    # Someone else, elsewhere, still signs in to the same account.
    assert _login(Client(), "alice", PASSWORD, ip="203.0.113.51").status_code == 302


def test_it_lifts_the_lock_after_the_window(client, alice, limits_of, monkeypatch):
    for _ in range(3):
        _login(client, "alice", "wrong password")
    assert _login(client, "alice", PASSWORD).status_code == 429

    later = time.time() + 601
    monkeypatch.setattr(time, "time", lambda *args: later)
    assert _login(client, "alice", PASSWORD).status_code == 302


def test_a_success_does_not_reset_the_count(client, alice, limits_of):
    # The right password costs nothing, but it does not wipe earlier failures either:
    # otherwise a guesser who also knows one password could interleave it forever.
    for _ in range(2):
        _login(client, "alice", "wrong password", ip="198.51.100.1")
    assert _login(Client(), "alice", PASSWORD, ip="198.51.100.2").status_code == 302
    _login(Client(), "alice", "wrong password", ip="198.51.100.3")
    assert _login(Client(), "alice", PASSWORD, ip="198.51.100.4").status_code == 429


def test_it_does_not_count_an_empty_form(client, alice, limits_of):
    for _ in range(5):
        r = client.post(LOGIN, {"login": "alice", "password": ""})
        assert r.status_code == 200
    assert _login(client, "alice", PASSWORD).status_code == 302


def test_it_counts_wrong_current_passwords_on_the_password_page(alice_client, limits_of):
    for _ in range(3):
        r = alice_client.post(
            "/accounts/password/change/",
            {"oldpassword": "guess", "password1": "n3w-Pass-phrase!", "password2": "x"},
            REMOTE_ADDR="203.0.113.7",
        )
        assert r.status_code == 200
    r = alice_client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "n3w-Pass-phrase!", "password2": "n3w-Pass-phrase!"},
        REMOTE_ADDR="203.0.113.7",
    )
    assert r.status_code == 429
    assert LOCKED in r.content.decode()
    # The guessing also locked sign-in for the account, and the password is unchanged.
    assert _login(Client(), "alice", PASSWORD, ip="192.0.2.1").status_code == 429


# The admin: one sign-in path, one set of limits.


def _admin_login_form(client) -> str:
    """Return where /admin/login/ sends a visitor to type their password."""
    r = client.get("/admin/login/?next=/admin/")
    assert r.status_code == 302
    return r["Location"]


def test_the_admin_sends_people_to_the_site_sign_in(client, olivia):
    form = _admin_login_form(client)
    assert form == "/accounts/login/?next=%2Fadmin%2F"
    r = _login(client, "olivia", PASSWORD, path=form)
    # Operators have two-factor: the code is the second step, then back to the admin.
    assert r["Location"] == "/accounts/2fa/authenticate/"
    r = client.post(r["Location"], {"code": totp_code(OLIVIA_TOTP_SECRET)})
    assert r.status_code == 302
    assert r["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize("first_path", ["site", "admin"])
def test_the_admin_login_is_refused_at_the_same_count_as_the_site_login(
    olivia, limits_of, first_path
):
    """Failures on either path count against one budget, for the account and the address."""
    site, admin = Client(), Client()
    paths = {"site": (site, LOGIN), "admin": (admin, _admin_login_form(admin))}
    other = "admin" if first_path == "site" else "site"
    # Two failures on one path, one on the other: three for the account from one address.
    for name in (first_path, first_path, other):
        client, path = paths[name]
        assert _login(client, "olivia", "wrong password", path=path).status_code == 200

    for client, path in paths.values():
        r = _login(client, "olivia", PASSWORD, path=path)
        assert r.status_code == 429
        assert not _signed_in(client)
    assert admin.get("/admin/").status_code == 302


def test_the_admin_login_is_refused_for_an_address_locked_on_the_site(olivia, limits_of):
    for n in range(5):
        _login(Client(), f"nobody{n}", "guess", ip="203.0.113.60")
    admin = Client()
    r = _login(admin, "olivia", PASSWORD, ip="203.0.113.60", path=_admin_login_form(admin))
    assert r.status_code == 429


def test_posting_a_password_to_the_admin_login_checks_nothing(client, olivia, limits_of):
    # Django's own admin form is gone: a POST is sent to the sign-in page, unread.
    for _ in range(10):
        r = client.post(
            "/admin/login/", {"username": "olivia", "password": PASSWORD}, REMOTE_ADDR="203.0.113.7"
        )
        assert r.status_code == 302
        assert r["Location"].startswith("/accounts/login/")
    assert not _signed_in(client)


def test_the_admin_password_change_goes_through_the_limited_form(client, olivia):
    client.force_login(olivia)
    r = client.get("/admin/password_change/")
    assert r.status_code == 302
    assert r["Location"] == "/accounts/password/change/"
    r = client.post(
        "/admin/password_change/",
        {"old_password": "guess", "new_password1": "x", "new_password2": "x"},
    )
    assert r.status_code == 302
    olivia.refresh_from_db()
    assert olivia.check_password(PASSWORD)


def test_a_signed_in_non_operator_is_refused_by_the_admin(alice_client):
    assert alice_client.get("/admin/login/").status_code == 403


# The API: tokens are not passwords.


def test_token_requests_neither_count_nor_obey_the_sign_in_limits(
    alice, bob, make_token, api_client, limits_of
):
    from access_tokens.models import AccessToken

    _, raw = make_token(alice)
    # Lock the account and the address through the sign-in form ...
    for n in range(5):
        _login(Client(), "alice" if n < 3 else f"nobody{n}", "wrong password", ip="203.0.113.9")
    assert _login(Client(), "alice", PASSWORD, ip="203.0.113.9").status_code == 429

    # ... the token still works from that address, and makes no session.
    api_client.credentials(HTTP_AUTHORIZATION=f"AccessToken {raw}")
    r = api_client.get("/api/v1/me/", REMOTE_ADDR="203.0.113.9")
    assert r.status_code == 200
    assert "sessionid" not in r.cookies

    # Wrong tokens are the API's own business (its throttle), never sign-in failures.
    for _ in range(10):
        bad = APIClient()
        bad.credentials(HTTP_AUTHORIZATION="AccessToken kspat_" + "A" * 49)
        assert bad.get("/api/v1/me/", REMOTE_ADDR="198.51.100.77").status_code == 401
    # Ten would have locked the address (five allowed); bob still signs in from it.
    assert _login(Client(), "bob", PASSWORD, ip="198.51.100.77").status_code == 302
    assert AccessToken.objects.count() == 1


def test_token_requests_never_touch_the_session(alice, make_token, api_client):
    from django.contrib.sessions.models import Session

    _, raw = make_token(alice)
    api_client.credentials(HTTP_AUTHORIZATION=f"AccessToken {raw}")
    before = Session.objects.count()
    for path in ["/api/v1/me/", "/api/v1/access-tokens/"]:
        r = api_client.get(path)
        assert r.status_code == 200
        assert "sessionid" not in r.cookies
    r = api_client.post("/api/v1/access-tokens/", {"name": "from a script"}, format="json")
    assert r.status_code == 201
    assert "sessionid" not in r.cookies
    assert Session.objects.count() == before


def test_it_counts_the_client_behind_a_trusted_proxy(client, alice, bob, limits_of, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    for n in range(5):
        client.post(
            LOGIN,
            {"login": f"nobody{n}", "password": "guess"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR="203.0.113.70",
        )
    locked = Client().post(
        LOGIN,
        {"login": "bob", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.70",
    )
    assert locked.status_code == 429
    # Another client behind the same proxy is not locked, and a forged header from a
    # direct client does not borrow someone else's budget.
    other = Client().post(
        LOGIN,
        {"login": "bob", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.71",
    )
    assert other.status_code == 302
    forged = Client().post(
        LOGIN,
        {"login": "alice", "password": PASSWORD},
        REMOTE_ADDR="198.51.100.9",
        HTTP_X_FORWARDED_FOR="203.0.113.70",
    )
    assert forged.status_code == 302
