def test_it_answers_ok_without_touching_the_database(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        r = client.get("/healthz")
    assert r.status_code == 200
    assert r["Content-Type"] == "application/json"
    assert r.json() == {"status": "ok"}


def test_it_is_never_cached(client, db):
    r = client.get("/healthz")
    assert "no-store" in r["Cache-Control"]


def test_it_needs_no_sign_in(client, db):
    # A load balancer has no session: no redirect to the login page.
    r = client.get("/healthz", follow=False)
    assert r.status_code == 200


def test_it_answers_plain_http_even_when_https_is_enforced(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    # ...while the rest of the site is redirected.
    r = client.get("/accounts/login/")
    assert r.status_code == 301
    assert r["Location"] == "https://testserver/accounts/login/"


def test_it_refuses_post(client, db):
    r = client.post("/healthz")
    assert r.status_code == 405
