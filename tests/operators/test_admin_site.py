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


def test_a_tokens_page_has_a_revoke_button_that_asks_first(olivia_client, alice, make_token):
    token, _ = make_token(alice, name="CI")
    html = olivia_client.get(change_url(token)).content.decode()
    assert (
        '<form method="post" action="/admin/access_tokens/accesstoken/" id="revoke-token-form">'
        in html
    )
    assert '<button type="submit" form="revoke-token-form" class="keystand-danger">' in html
    assert f'name="_selected_action" value="{token.pk}"' in html
    # What the button sends shows the list's confirmation page; nothing is revoked yet.
    r = olivia_client.post(
        TOKENS_URL, {"action": "revoke_selected", "_selected_action": [str(token.pk)]}
    )
    assert "<h1>Revoke these tokens?</h1>" in r.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_revoked_tokens_page_has_no_revoke_button(olivia_client, olivia, alice, make_token):
    from access_tokens import services

    token, _ = make_token(alice, name="CI")
    services.revoke_access_token(
        token=token, actor=olivia, reason="revoked_by_operator", via="admin"
    )
    html = olivia_client.get(change_url(token)).content.decode()
    assert "revoke-token-form" not in html


def test_an_operator_who_may_only_look_gets_no_revoke_button(
    client, staff_without_perms, alice, make_token
):
    from django.contrib.auth.models import Permission

    staff_without_perms.user_permissions.add(Permission.objects.get(codename="view_accesstoken"))
    client.force_login(staff_without_perms)
    token, _ = make_token(alice, name="CI")
    r = client.get(change_url(token))
    assert r.status_code == 200
    assert "revoke-token-form" not in r.content.decode()
