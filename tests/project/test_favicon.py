"""Browsers ask for /favicon.ico on their own; it leads to the icon instead of a 404."""


def test_it_sends_favicon_ico_to_the_icon(client, db):
    r = client.get("/favicon.ico")
    assert r.status_code == 301
    icon = client.get(r["Location"])
    assert icon.status_code == 200
    assert icon["Content-Type"].startswith("image/svg+xml")
    assert b"<svg" in b"".join(icon.streaming_content)


def test_every_page_links_the_icon(client, db):
    html = client.get("/accounts/login/").content.decode()
    assert '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">' in html
