from django.test import Client

from tests.conftest import PASSWORD

NEW_PASSWORD = "a-brand-new-passphrase-77"


def _form(**overrides) -> dict:
    return {
        "old_password": PASSWORD,
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
        **overrides,
    }


def _signs_in(username: str, password: str) -> bool:
    r = Client().post("/accounts/login/", {"username": username, "password": password})
    return r.status_code == 302


def test_it_sends_anonymous_visitors_to_sign_in(client, db):
    r = client.get("/accounts/password/")
    assert r.status_code == 302
    assert r["Location"] == "/accounts/login/?next=/accounts/password/"


def test_it_shows_the_form(alice_client):
    r = alice_client.get("/accounts/password/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "<h1>Change password</h1>" in html
    for name in ("old_password", "new_password1", "new_password2"):
        assert f'name="{name}"' in html


def test_it_refuses_a_wrong_old_password(alice_client, alice):
    r = alice_client.post("/accounts/password/", _form(old_password="not-my-password"))
    assert r.status_code == 200
    assert "Your old password was entered incorrectly." in r.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_it_refuses_mismatched_new_passwords(alice_client, alice):
    r = alice_client.post("/accounts/password/", _form(new_password2=NEW_PASSWORD + "x"))
    assert r.status_code == 200
    assert "The two password fields didn’t match." in r.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_it_changes_the_password_and_keeps_this_session(alice_client, alice):
    r = alice_client.post("/accounts/password/", _form())
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
    assert elsewhere.get("/").status_code == 200

    alice_client.post("/accounts/password/", _form())

    r = elsewhere.get("/")
    assert r.status_code == 302
    assert r["Location"].startswith("/accounts/login/")


def test_it_rotates_this_session_key(alice_client):
    before = alice_client.cookies["sessionid"].value
    alice_client.post("/accounts/password/", _form())
    after = alice_client.cookies["sessionid"].value
    assert after != before

    old = Client()
    old.cookies["sessionid"] = before
    assert old.get("/").status_code == 302
