"""GET /api/docs/: Swagger UI from our own static files, working under our CSP."""

import re

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static")]

SRC_OR_HREF = re.compile(r'\b(?:src|href)="([^"]*)"')


@pytest.fixture
def page(client):
    r = client.get("/api/docs/")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/html")
    return r


def test_it_loads_every_asset_from_this_site(client, page):
    html = page.content.decode()
    urls = SRC_OR_HREF.findall(html)
    assert any(u.endswith("swagger-ui-bundle.js") for u in urls)
    assert any(u.endswith("swagger-ui.css") for u in urls)
    for url in urls:
        assert not re.match(r"(?i)^(https?:)?//", url), url  # no CDN, no other host
        assert url.startswith(("/static/", "/api/docs/?")), url
        r = client.get(url)
        assert r.status_code == 200, url
    for cdn in ("cdn.", "jsdelivr", "unpkg", "cdnjs"):
        assert cdn not in html


def test_it_has_no_inline_script_or_style(page):
    html = page.content.decode()
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", html, flags=re.S)
    assert len(scripts) == 3
    assert all(body.strip() == "" for body in scripts)
    assert len(re.findall(r"<script\b[^>]*\bsrc=", html)) == 3
    assert "<style" not in html
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers
    assert " style=" not in html


def test_it_is_served_with_the_strict_csp(page):
    csp = page["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert "unsafe" not in csp


def test_it_serves_the_start_script_as_a_file(client, page):
    script_url = re.search(r'<script src="(/api/docs/\?[^"]*)"', page.content.decode())[1]
    r = client.get(script_url)
    assert r.status_code == 200
    assert r["Content-Type"] == "application/javascript"
    js = r.content.decode()
    assert '"/api/schema/"' in js
    assert "SwaggerUIBundle" in js
