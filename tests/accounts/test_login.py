from tests.conftest import PASSWORD

WRONG = b"The username and/or password you specified are not correct."


def test_it_shows_the_form(client, db):
    r = client.get("/accounts/login/")
    assert r.status_code == 200
    assert b"Sign in to Keystand" in r.content
    assert b'name="login"' in r.content
    assert b'name="password"' in r.content


def test_it_signs_in_and_redirects_home(client, alice):
    r = client.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
    assert r.status_code == 302
    assert r["Location"] == "/"

    r = client.get("/")
    assert r.status_code == 200
    assert b"Welcome, Alice Liddell" in r.content


def test_it_follows_next_within_the_site(client, alice):
    r = client.post(
        "/accounts/login/",
        {"login": "alice", "password": PASSWORD, "next": "/settings/access-tokens/"},
    )
    assert r.status_code == 302
    assert r["Location"] == "/settings/access-tokens/"


def test_it_ignores_next_to_another_site(client, alice):
    r = client.post(
        "/accounts/login/",
        {"login": "alice", "password": PASSWORD, "next": "https://evil.example.com/"},
    )
    assert r.status_code == 302
    assert r["Location"] == "/"


def test_it_shows_an_error_for_a_wrong_password(client, alice):
    r = client.post("/accounts/login/", {"login": "alice", "password": "not-the-password"})
    assert r.status_code == 200
    assert WRONG in r.content
    assert b'role="alert"' in r.content
    # Still anonymous.
    assert client.get("/settings/access-tokens/")["Location"].startswith("/accounts/login/")


def test_it_shows_an_error_for_an_unknown_user(client, db):
    r = client.post("/accounts/login/", {"login": "nobody", "password": PASSWORD})
    assert r.status_code == 200
    assert WRONG in r.content


def test_it_refuses_an_inactive_user(client, alice):
    alice.is_active = False
    alice.save()
    r = client.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
    # Only someone with the right password learns the account is switched off.
    assert r.status_code == 302
    assert r["Location"] == "/accounts/inactive/"
    assert client.get("/settings/access-tokens/")["Location"].startswith("/accounts/login/")
    r = client.post("/accounts/login/", {"login": "alice", "password": "not-the-password"})
    assert WRONG in r.content


def test_it_signs_in_with_the_email_address(client, alice):
    r = client.post("/accounts/login/", {"login": "Alice@Example.org", "password": PASSWORD})
    assert r.status_code == 302
    assert client.get("/settings/access-tokens/").status_code == 200


def test_it_sends_a_signed_in_user_home(alice_client):
    r = alice_client.get("/accounts/login/")
    assert r.status_code == 302
    assert r["Location"] == "/"


def test_it_links_to_signup(client, db):
    r = client.get("/accounts/login/")
    assert b'href="/accounts/signup/"' in r.content


def test_it_hides_the_signup_link_when_signup_is_off(client, db, settings):
    settings.SIGNUP_ENABLED = False
    r = client.get("/accounts/login/")
    assert r.status_code == 200
    assert b"/accounts/signup/" not in r.content
