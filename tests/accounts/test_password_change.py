from django.test import Client

from tests.conftest import PASSWORD

NEW_PASSWORD = "a-brand-new-passphrase-77"


def _form(**overrides) -> dict:
    return {
        "oldpassword": PASSWORD,
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        **overrides,
    }


def _signs_in(username: str, password: str) -> bool:
    r = Client().post("/accounts/login/", {"login": username, "password": password})
    return r.status_code == 302


def test_it_sends_anonymous_visitors_to_sign_in(client, db):
    r = client.get("/accounts/password/change/")
    assert r.status_code == 302
    assert r["Location"] == "/accounts/login/?next=/accounts/password/change/"


def test_it_keeps_the_old_address_working(alice_client):
    r = alice_client.get("/accounts/password/")
    assert r.status_code == 302
    assert r["Location"] == "/accounts/password/change/"


def test_it_shows_the_form(alice_client):
    r = alice_client.get("/accounts/password/change/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "<h1>Change password</h1>" in html
    for name in ("oldpassword", "password1", "password2"):
        assert f'name="{name}"' in html


def test_it_refuses_a_wrong_old_password(alice_client, alice):
    r = alice_client.post("/accounts/password/change/", _form(oldpassword="not-my-password"))
    assert r.status_code == 200
    assert "Please type your current password." in r.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_it_refuses_mismatched_new_passwords(alice_client, alice):
    r = alice_client.post("/accounts/password/change/", _form(password2=NEW_PASSWORD + "x"))
    assert r.status_code == 200
    assert "You must type the same password each time." in r.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_it_changes_the_password_and_keeps_this_session(alice_client, alice):
    r = alice_client.post("/accounts/password/change/", _form())
    assert r.status_code == 302
    assert r["Location"] == "/"

    r = alice_client.get("/")
    assert r.status_code == 200
    assert "Your password was changed." in r.content.decode()

    assert not _signs_in("alice", PASSWORD)
    assert _signs_in("alice", NEW_PASSWORD)


def test_it_signs_out_other_sessions(alice_client, alice):
    elsewhere = Client()
    elsewhere.force_login(alice)
    assert elsewhere.get("/settings/access-tokens/").status_code == 200

    alice_client.post("/accounts/password/change/", _form())

    r = elsewhere.get("/settings/access-tokens/")
    assert r.status_code == 302
    assert r["Location"].startswith("/accounts/login/")


def test_it_rotates_this_session_key(alice_client):
    before = alice_client.cookies["sessionid"].value
    alice_client.post("/accounts/password/change/", _form())
    after = alice_client.cookies["sessionid"].value
    assert after != before

    old = Client()
    old.cookies["sessionid"] = before
    assert old.get("/settings/access-tokens/").status_code == 302
