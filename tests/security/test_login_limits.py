"""Sign-in protection: repeated failures lock an account or an address for a while."""

import pytest
from django.test import Client

from accounts import limits
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def _login(client, username, password, ip="203.0.113.7"):
    return client.post(
        LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip, follow=False
    )


@pytest.fixture
def limits_of(settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    settings.LOGIN_FAILURES_PER_ADDRESS = 5
    settings.LOGIN_LOCKOUT_SECONDS = 600


def test_it_signs_in_with_the_right_password(client, alice, limits_of):
    r = _login(client, "alice", PASSWORD)
    assert r.status_code == 302
    assert client.get("/").status_code == 200


def test_it_locks_an_account_after_repeated_failures(client, alice, limits_of):
    for _ in range(3):
        r = _login(client, "alice", "wrong password")
        assert r.status_code == 200
        assert "Please enter a correct username and password" in r.content.decode()

    # Even the right password is refused now, with a clear message and 429.
    r = _login(client, "alice", PASSWORD)
    assert r.status_code == 429
    body = r.content.decode()
    assert "Too many failed sign-in attempts" in body
    assert "try again in 10 minutes" in body
    assert "_auth_user_id" not in client.session


def test_it_locks_the_account_from_every_address(client, alice, limits_of):
    for n in range(3):
        _login(client, "alice", "wrong password", ip=f"198.51.100.{n}")
    r = _login(Client(), "alice", PASSWORD, ip="192.0.2.99")
    assert r.status_code == 429


def test_it_counts_case_variants_of_a_username_together(client, alice, limits_of):
    for name in ("alice", "ALICE", "Alice"):
        _login(client, name, "wrong password")
    assert _login(client, "alice", PASSWORD).status_code == 429


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
    assert "Too many failed sign-in attempts" in r.content.decode()
    # Someone else, elsewhere, still signs in to the same account.
    assert _login(Client(), "alice", PASSWORD, ip="203.0.113.51").status_code == 302


def test_it_lifts_the_lock_after_the_lockout(client, alice, limits_of, monkeypatch):
    for _ in range(3):
        _login(client, "alice", "wrong password")
    assert _login(client, "alice", PASSWORD).status_code == 429

    later = limits._now() + 601
    monkeypatch.setattr(limits, "_now", lambda: later)
    assert _login(client, "alice", PASSWORD).status_code == 302


def test_it_forgets_account_failures_after_a_success(client, alice, limits_of):
    for _ in range(2):
        _login(client, "alice", "wrong password", ip="198.51.100.1")
    assert _login(Client(), "alice", PASSWORD, ip="198.51.100.2").status_code == 302
    for _ in range(2):
        _login(Client(), "alice", "wrong password", ip="198.51.100.3")
    assert _login(Client(), "alice", PASSWORD, ip="198.51.100.4").status_code == 302


def test_it_does_not_count_an_empty_form(client, alice, limits_of):
    for _ in range(5):
        r = client.post(LOGIN, {"username": "alice", "password": ""})
        assert r.status_code == 200
    assert _login(client, "alice", PASSWORD).status_code == 302


def test_it_counts_wrong_current_passwords_on_the_password_page(alice_client, limits_of):
    for _ in range(3):
        r = alice_client.post(
            "/accounts/password/",
            {"old_password": "guess", "new_password1": "n3w-Pass-phrase!", "new_password2": "x"},
        )
        assert r.status_code == 200
    r = alice_client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "n3w-Pass-phrase!",
            "new_password2": "n3w-Pass-phrase!",
        },
    )
    assert r.status_code == 429
    assert "Too many failed sign-in attempts" in r.content.decode()
    alice_client.logout()
    # The guessing also locked sign-in for the account, and the password is unchanged.
    assert _login(Client(), "alice", PASSWORD, ip="192.0.2.1").status_code == 429
