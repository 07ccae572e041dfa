"""The user admin: each user's tokens inline (read-only) and "Revoke all tokens"."""

import pytest
from django.core import mail

from access_tokens.models import AccessToken, AccessTokenEvent

from .conftest import USERS_URL

pytestmark = pytest.mark.django_db


def test_it_lists_the_users_tokens_read_only(olivia_client, alice, bob, make_token):
    _t, raw = make_token(alice, name="alice CI")
    make_token(bob, name="bob laptop")
    r = olivia_client.get(f"{USERS_URL}{alice.pk}/change/")
    assert r.status_code == 200
    assert "Personal access tokens" in r.text
    assert "alice CI" in r.text
    assert f"kspat_…{raw[-4:]}" in r.text
    assert "bob laptop" not in r.text
    # No inputs for tokens: neither edit, add nor delete.
    assert 'name="access_tokens-0-name"' not in r.text
    assert "access_tokens-0-DELETE" not in r.text
    # MAX_NUM_FORMS 0 is what keeps the inline's script from offering "Add another".
    assert 'name="access_tokens-MAX_NUM_FORMS" value="0"' in r.text


def test_it_still_saves_the_user(olivia_client, alice, make_token):
    make_token(alice, name="alice CI")
    form = {
        "username": "alice",
        "first_name": "Alice",
        "last_name": "Liddell",
        "email": "alice@new.example.org",
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "access_tokens-TOTAL_FORMS": "1",
        "access_tokens-INITIAL_FORMS": "1",
    }
    r = olivia_client.post(f"{USERS_URL}{alice.pk}/change/", form)
    assert r.status_code == 302
    alice.refresh_from_db()
    assert alice.email == "alice@new.example.org"
    assert alice.access_tokens.count() == 1


def test_it_shows_the_token_count(olivia_client, alice, make_token):
    make_token(alice)
    make_token(alice)
    r = olivia_client.get(USERS_URL)
    assert '<td class="field-token_count">2</td>' in r.text


def _action(client, users, **extra):
    data = {"action": "revoke_all_tokens", "_selected_action": [str(u.pk) for u in users]}
    data.update(extra)
    return client.post(USERS_URL, data)


def test_it_asks_before_revoking_all(olivia_client, alice, bob, make_token):
    make_token(alice, name="one")
    make_token(alice, name="two")
    make_token(bob, name="bob's")
    r = _action(olivia_client, [alice])
    assert r.status_code == 200
    assert "Revoke all tokens of these users?" in r.text
    assert "one" in r.text and "two" in r.text
    assert "bob&#x27;s" not in r.text
    assert 'value="Yes, revoke 2 tokens"' in r.text
    assert AccessToken.objects.count() == 3


def test_it_revokes_all_tokens_of_the_selected_users(
    olivia_client, olivia, alice, bob, charlie, make_token, django_capture_on_commit_callbacks
):
    make_token(alice, name="one")
    make_token(alice, name="two")
    make_token(bob, name="bob's")
    make_token(charlie, name="charlie's")
    with django_capture_on_commit_callbacks(execute=True):
        r = _action(olivia_client, [alice, bob], post="yes")
    assert r.status_code == 302
    assert "Revoked 3 tokens of 2 users." in olivia_client.get(r["Location"]).text
    assert list(AccessToken.objects.active().values_list("name", flat=True)) == ["charlie's"]
    events = AccessTokenEvent.objects.filter(action="revoked_by_operator")
    assert sorted(e.token_name for e in events) == ["bob's", "one", "two"]
    assert {(e.actor_id, e.via) for e in events} == {(olivia.pk, "admin")}
    assert sorted(m.to[0] for m in mail.outbox) == [
        "alice@example.org",
        "alice@example.org",
        "bob@example.org",
    ]


def test_it_refuses_staff_without_permission(client, staff_without_perms, alice, make_token):
    make_token(alice)
    client.force_login(staff_without_perms)
    r = _action(client, [alice], post="yes")
    assert r.status_code == 403
    assert alice.access_tokens.count() == 1


def test_deleting_a_user_revokes_their_tokens_through_the_audit_trail(
    olivia_client, olivia, alice, make_token
):
    token, _raw = make_token(alice, name="one")
    page = olivia_client.get(f"{USERS_URL}{alice.pk}/delete/")
    assert page.status_code == 200
    assert "Yes, I’m sure" in page.text
    r = olivia_client.post(f"{USERS_URL}{alice.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302
    assert not AccessToken.objects.exists()
    event = AccessTokenEvent.objects.get(action="revoked_by_operator")
    assert event.token_id == token.pk
    assert event.owner_username == "alice"
    assert event.actor == olivia
