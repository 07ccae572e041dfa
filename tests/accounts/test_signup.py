import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.conftest import PASSWORD

User = get_user_model()


def _form(**overrides) -> dict:
    return {
        "username": "dora",
        "email": "dora@example.org",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **overrides,
    }


def test_it_shows_the_form(client, db):
    r = client.get("/accounts/signup/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "Create your Keystand account" in html
    for name in ("username", "email", "password1", "password2"):
        assert f'name="{name}"' in html


@pytest.mark.real_password_hashers
def test_it_creates_the_user_and_signs_them_in(client, db):
    r = client.post("/accounts/signup/", _form())
    assert r.status_code == 302
    assert r["Location"] == "/settings/access-tokens/"

    user = User.objects.get(username="dora")
    assert user.email == "dora@example.org"
    assert user.check_password(PASSWORD)
    assert user.password.startswith("argon2$")

    r = client.get("/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "Welcome, dora" in html
    assert "Welcome to Keystand! Create your first access token below." in html


def test_it_refuses_a_duplicate_username(client, alice):
    r = client.post("/accounts/signup/", _form(username="alice"))
    assert r.status_code == 200
    assert "A user with that username already exists." in r.content.decode()
    assert not User.objects.filter(email="dora@example.org").exists()


def test_it_refuses_a_duplicate_username_in_other_case(client, alice):
    r = client.post("/accounts/signup/", _form(username="ALICE"))
    assert r.status_code == 200
    assert "A user with that username already exists." in r.content.decode()


def test_it_refuses_a_duplicate_email(client, alice):
    r = client.post("/accounts/signup/", _form(email="Alice@Example.org"))
    assert r.status_code == 200
    assert "A user is already registered with this email address." in r.content.decode()
    assert not User.objects.filter(username="dora").exists()


def test_it_refuses_mismatched_passwords(client, db):
    r = client.post("/accounts/signup/", _form(password2=PASSWORD + "x"))
    assert r.status_code == 200
    assert "You must type the same password each time." in r.content.decode()
    assert not User.objects.filter(username="dora").exists()


def test_it_refuses_a_weak_password(client, db):
    r = client.post("/accounts/signup/", _form(password1="password", password2="password"))
    assert r.status_code == 200
    assert "This password is too common." in r.content.decode()
    assert not User.objects.filter(username="dora").exists()


def test_it_requires_an_email(client, db):
    r = client.post("/accounts/signup/", _form(email=""))
    assert r.status_code == 200
    assert "This field is required." in r.content.decode()
    assert not User.objects.filter(username="dora").exists()


def test_it_does_not_echo_the_password(client, alice):
    r = client.post("/accounts/signup/", _form(username="alice"))
    assert PASSWORD not in r.content.decode()


def test_it_sends_a_signed_in_user_home(alice_client):
    r = alice_client.get("/accounts/signup/")
    assert r.status_code == 302
    assert r["Location"] == "/"


def test_it_is_closed_when_signup_is_off(client, db, settings):
    settings.SIGNUP_ENABLED = False
    r = client.get("/accounts/signup/")
    assert "Sign-up is closed" in r.content.decode()
    assert 'name="password1"' not in r.content.decode()
    r = client.post("/accounts/signup/", _form())
    assert "Sign-up is closed" in r.content.decode()
    assert not User.objects.filter(username="dora").exists()


def test_it_is_rate_limited_per_address(client, db, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "3/h/ip"}
    for n in range(3):
        r = Client().post(
            "/accounts/signup/",
            _form(username=f"user{n}", email=f"user{n}@example.org"),
            REMOTE_ADDR="203.0.113.5",
        )
        assert r.status_code == 302
    r = Client().post(
        "/accounts/signup/",
        _form(username="user9", email="user9@example.org"),
        REMOTE_ADDR="203.0.113.5",
    )
    assert r.status_code == 429
    assert not User.objects.filter(username="user9").exists()
    # Another address may still sign up.
    r = Client().post("/accounts/signup/", _form(), REMOTE_ADDR="203.0.113.6")
    assert r.status_code == 302


def test_the_default_limit_counts_sign_ups_per_address(settings):
    assert settings.ACCOUNT_RATE_LIMITS["signup"] == "10/h/ip"
