from django.test import Client


def test_it_signs_out_on_post(alice_client):
    r = alice_client.post("/accounts/logout/")
    assert r.status_code == 302
    assert r["Location"] == "/accounts/login/"

    r = alice_client.get("/settings/access-tokens/")
    assert r.status_code == 302
    assert r["Location"] == "/accounts/login/?next=/settings/access-tokens/"


def test_it_ends_the_session_on_the_server(alice_client):
    old_cookie = alice_client.cookies["sessionid"].value
    alice_client.post("/accounts/logout/")

    # Whoever kept a copy of the old cookie is not signed in either.
    thief = Client()
    thief.cookies["sessionid"] = old_cookie
    r = thief.get("/settings/access-tokens/")
    assert r.status_code == 302
    assert r["Location"].startswith("/accounts/login/")


def test_it_only_asks_on_get(alice_client):
    # A link or an <img src> must not be able to sign anyone out: GET shows a confirmation.
    r = alice_client.get("/accounts/logout/")
    assert r.status_code == 200
    assert 'method="post"' in r.content.decode()
    assert alice_client.get("/settings/access-tokens/").status_code == 200


def test_it_needs_a_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    r = client.post("/accounts/logout/")
    assert r.status_code == 403
    assert client.get("/settings/access-tokens/").status_code == 200


def test_it_works_with_the_menu_form(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    page = client.get("/")
    token = page.context["csrf_token"]
    r = client.post("/accounts/logout/", {"csrfmiddlewaretoken": str(token)})
    assert r.status_code == 302
    assert client.get("/settings/access-tokens/").status_code == 302
