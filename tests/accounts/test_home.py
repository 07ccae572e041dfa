def test_it_sends_anonymous_visitors_to_sign_in(client, db):
    r = client.get("/")
    assert r.status_code == 302
    assert r["Location"] == "/accounts/login/?next=/"


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
