"""The admin says it is Keystand's, shows Keystand's icon and names each page once."""

import pytest

from .conftest import TOKENS_URL, change_url

pytestmark = pytest.mark.django_db


def test_it_is_branded(olivia_client):
    html = olivia_client.get("/admin/").content.decode()
    assert '<div id="site-name"><a href="/admin/">Keystand administration</a></div>' in html
    assert "<title>Tokens, accounts and audit trail | Keystand administration</title>" in html
    assert "Django administration" not in html


def test_it_links_the_icon_and_its_styles(olivia_client):
    html = olivia_client.get(TOKENS_URL).content.decode()
    assert '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">' in html
    assert '<link rel="stylesheet" href="/static/css/admin.css">' in html


def test_the_breadcrumb_names_the_token_list_once(olivia_client, alice, make_token):
    token, _ = make_token(alice, name="CI")
    for url in [TOKENS_URL, change_url(token)]:
        html = olivia_client.get(url).content.decode()
        crumbs = html.split('<div class="breadcrumbs">', 1)[1].split("</div>", 1)[0]
        assert crumbs.count("ersonal access tokens") == 1, url
        assert "Access tokens" in crumbs
