"""The change list action "Revoke selected tokens": a confirmation page, then the service."""

import pytest
from django.core import mail

from access_tokens.models import AccessToken, AccessTokenEvent

from .conftest import TOKENS_URL

pytestmark = pytest.mark.django_db


def _action(client, tokens, **extra):
    data = {"action": "revoke_selected", "_selected_action": [str(t.pk) for t in tokens]}
    data.update(extra)
    return client.post(TOKENS_URL, data)


def test_it_asks_for_confirmation_first(olivia_client, alice, bob, make_token):
    a, raw_a = make_token(alice, name="alice CI")
    b, raw_b = make_token(bob, name="bob laptop")
    r = _action(olivia_client, [a, b])
    assert r.status_code == 200
    assert "Revoke these tokens?" in r.text
    assert "alice CI" in r.text
    assert f"kspat_…{raw_a[-4:]}" in r.text
    assert "bob laptop" in r.text
    assert 'value="Yes, revoke 2 tokens"' in r.text
    assert 'name="post" value="yes"' in r.text
    # Nothing happened yet.
    assert AccessToken.objects.count() == 2
    assert not AccessTokenEvent.objects.filter(action="revoked_by_operator").exists()


def test_its_take_me_back_link_leads_to_the_page_the_action_came_from(
    olivia_client, alice, make_token
):
    token, _raw = make_token(alice, name="alice CI")
    page = f"http://testserver{TOKENS_URL}{token.pk}/change/"
    data = {"action": "revoke_selected", "_selected_action": [str(token.pk)]}
    r = olivia_client.post(TOKENS_URL, data, HTTP_REFERER=page)
    assert f'<a href="{page}" class="button cancel-link">No, take me back</a>' in r.text
    # Another site's page, or none at all, is never a target: the list is.
    for referer in ("https://evil.example/admin/", None):
        extra = {"HTTP_REFERER": referer} if referer else {}
        r = olivia_client.post(TOKENS_URL, data, **extra)
        assert f'<a href="{TOKENS_URL}" class="button cancel-link">No, take me back</a>' in r.text
        assert "evil.example" not in r.text
    assert AccessToken.objects.active().count() == 1


def test_it_revokes_and_audits_after_confirmation(
    olivia_client, olivia, alice, bob, make_token, api_client, django_capture_on_commit_callbacks
):
    a, raw_a = make_token(alice, name="alice CI")
    b, _raw_b = make_token(bob, name="bob laptop")
    keep, _ = make_token(alice, name="keep")
    with django_capture_on_commit_callbacks(execute=True):
        r = _action(olivia_client, [a, b], post="yes")
    assert r.status_code == 302
    r = olivia_client.get(r["Location"])
    assert "Revoked 2 tokens." in r.text
    assert list(AccessToken.objects.active().values_list("name", flat=True)) == ["keep"]
    r = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw_a}")
    assert r.status_code == 401

    events = AccessTokenEvent.objects.filter(action="revoked_by_operator")
    events = events.order_by("owner_username")
    assert [(e.owner_username, e.token_name) for e in events] == [
        ("alice", "alice CI"),
        ("bob", "bob laptop"),
    ]
    for event in events:
        assert event.actor == olivia
        assert event.actor_username == "olivia"
        assert event.via == "admin"
        assert event.ip == "127.0.0.1"
    # Each owner hears about their own token, once.
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.org", "bob@example.org"]


def test_it_refuses_staff_without_permission(client, staff_without_perms, alice, make_token):
    token, _raw = make_token(alice)
    client.force_login(staff_without_perms)
    r = _action(client, [token], post="yes")
    assert r.status_code == 403
    assert AccessToken.objects.filter(pk=token.pk).exists()


def test_it_refuses_non_staff(alice_client, alice, make_token):
    token, _raw = make_token(alice)
    r = _action(alice_client, [token], post="yes")
    assert r.status_code == 302
    assert r["Location"].startswith("/admin/login/")
    assert AccessToken.objects.filter(pk=token.pk).exists()


def test_it_counts_only_what_it_revoked(olivia_client, alice, make_token):
    token, _raw = make_token(alice)
    confirm = _action(olivia_client, [token])
    assert confirm.status_code == 200
    # The owner deletes it between the confirmation page and the click.
    AccessToken.objects.filter(pk=token.pk).delete()
    r = _action(olivia_client, [token], post="yes")
    # Django answers "No action selected" style: the selection matches no rows any more.
    assert r.status_code == 302
    assert not AccessTokenEvent.objects.filter(action="revoked_by_operator").exists()
