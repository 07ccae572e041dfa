def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_it_serves_the_stylesheet_through_whitenoise(client, db):
    r = client.get("/static/css/keystand.css")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/css")
    assert b"--primary" in _body(r)


def test_it_serves_the_script(client, db):
    r = client.get("/static/js/keystand.js")
    assert r.status_code == 200
    assert "javascript" in r["Content-Type"]


def test_it_links_the_stylesheet_from_every_page(client, db):
    html = client.get("/accounts/login/").content.decode()
    assert '<link rel="stylesheet" href="/static/css/keystand.css">' in html


def test_it_answers_404_for_a_missing_file(client, db):
    assert client.get("/static/css/nope.css").status_code == 404
