def test_it_tells_a_visitor_what_keystand_is_and_where_to_sign_in(client, db):
    r = client.get("/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "Personal access tokens for scripts, CI jobs" in html
    assert 'href="/accounts/login/"' in html
    assert 'href="/accounts/signup/"' in html
    # Nothing that needs an account: no quick start with the user's API address.
    assert "Welcome" not in html
    assert "Call the API with your token" not in html


def test_it_offers_no_sign_up_when_sign_up_is_closed(client, db, settings):
    settings.SIGNUP_ENABLED = False
    html = client.get("/").content.decode()
    assert 'href="/accounts/login/"' in html
    assert 'href="/accounts/signup/"' not in html


def test_its_links_lead_to_pages_a_visitor_may_open(client, db):
    for url in ["/accounts/login/", "/accounts/signup/", "/api/docs/"]:
        assert client.get(url).status_code == 200, url


def test_it_greets_the_user_by_name(alice_client):
    r = alice_client.get("/")
    assert r.status_code == 200
    assert "Welcome, Alice Liddell" in r.content.decode()


def test_it_shows_the_quick_start(alice_client):
    html = alice_client.get("/").content.decode()
    assert "Call the API with your token" in html
    assert 'href="/settings/access-tokens/"' in html
    assert (
        'curl -H "Authorization: AccessToken $KEYSTAND_TOKEN" http://testserver/api/v1/me/'
        in html.replace("&quot;", '"')
    )
    assert "Authorization: Bearer" in html
    assert 'href="/api/docs/"' in html


def test_it_refuses_post(alice_client):
    assert alice_client.post("/").status_code == 405
