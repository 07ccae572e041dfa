"""One token's page, /settings/access-tokens/<id>/: what its owner sees, and nobody else."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from access_tokens import services
from access_tokens.models import AccessToken
from tests.access_tokens.conftest import LIST_URL, delete_url, detail_url, rotate_url, shows, text

pytestmark = pytest.mark.django_db


def test_it_shows_everything_about_the_token(alice, alice_client, make_token):
    token, _ = make_token(
        alice,
        name="CI deploy",
        description="Runs on the build box.\nAsk Alice.",
        scopes=["read_api", "self_rotate"],
        expires_at=services.end_of_day_in(30),
    )
    services.record_access_token_use(token, ip="203.0.113.7")
    response = alice_client.get(detail_url(token))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = text(response)
    assert "<h1>CI deploy</h1>" in body
    assert token.masked in body
    assert "Runs on the build box.<br>Ask Alice." in body
    # Each scope with what it allows.
    assert shows(response, "Read only: GET, HEAD and OPTIONS anywhere in the API (includes")
    assert shows(response, "Only rotate itself (POST /api/v1/access-tokens/self/rotate/)")
    assert "Full access to the API" not in body
    assert "in the browser" in body
    assert "In 30 days" in body
    assert timezone.localdate(token.expires_at).strftime("%b %-d, %Y") in body
    assert '">now</time> from <span class="mono">203.0.113.7</span>' in body
    assert '<span class="badge ok">Active</span>' in body
    # Its own history, from the audit trail, newest first.
    services.update_access_token(token=token, actor=alice, name="CI deploy 2", via="web")
    history = alice_client.get(detail_url(token)).context["history"]
    assert [row["event"].action for row in history] == ["updated", "created"]
    assert [row["who"] for row in history] == ["you", "you"]
    # What the owner can do from here.
    assert f'href="{rotate_url(token)}"' in body
    assert f'href="{delete_url(token)}"' in body
    assert 'action="/settings/access-tokens/' in body


def test_the_list_links_each_name_to_its_page(alice, alice_client, make_token):
    token, _ = make_token(alice, name="Laptop")
    assert f'href="{detail_url(token)}"' in text(alice_client.get(LIST_URL))


def test_it_says_how_a_token_was_made(alice, olivia, alice_client, make_token):
    from_api, _ = make_token(alice, name="api", via="api")
    by_operator, _ = make_token(alice, name="admin", via="admin", actor=olivia)
    from_command, _ = make_token(alice, name="cli", via="command_line")
    assert "through the API" in text(alice_client.get(detail_url(from_api)))
    assert "in the admin by olivia" in text(alice_client.get(detail_url(by_operator)))
    assert "from the command line" in text(alice_client.get(detail_url(from_command)))


def test_it_links_a_rotated_token_and_its_replacement(alice, alice_client, make_token):
    old, _ = make_token(alice, name="Deploy")
    new, _ = services.rotate_access_token(token=old, actor=alice, via="web")
    body = text(alice_client.get(detail_url(new)))
    assert f'by regenerating <a href="{detail_url(old)}"><span class="mono">{old.masked}' in body
    old_page = alice_client.get(detail_url(old))
    body = text(old_page)
    assert '<span class="badge danger">Regenerated</span>' in body
    assert f'Its replacement is <a href="{detail_url(new)}">' in body
    assert "Rotated: replaced by " + new.masked in body
    # An inactive token is a record: nothing to rename, regenerate or delete.
    assert old_page.context["form"] is None
    assert f'href="{rotate_url(old)}"' not in body
    assert f'href="{delete_url(old)}"' not in body


def test_it_still_names_a_purged_predecessor(alice, alice_client, make_token):
    old, _ = make_token(alice, name="Deploy")
    new, _ = services.rotate_access_token(token=old, actor=alice, via="web")
    later = timezone.now() + dt.timedelta(days=31)
    services.purge_inactive_tokens(now=later)
    assert not AccessToken.objects.filter(pk=old.pk).exists()
    body = text(alice_client.get(detail_url(new)))
    assert f'by regenerating <span class="mono">{old.masked}</span>' in body


def test_it_shows_inactive_tokens_with_why_they_stopped(alice, olivia, alice_client, make_token):
    deleted, _ = make_token(alice, name="Deleted one")
    services.delete_access_token(token=deleted, actor=alice)
    revoked, _ = make_token(alice, name="Revoked one")
    services.revoke_access_token(
        token=revoked, actor=olivia, reason="revoked_by_operator", via="admin"
    )
    expired, _ = make_token(
        alice, name="Expired one", expires_at=timezone.now() + dt.timedelta(seconds=1)
    )
    AccessToken.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - dt.timedelta(days=2)
    )

    body = text(alice_client.get(detail_url(deleted)))
    assert "Deleted by its owner" in body and "This token no longer works" in body
    body = text(alice_client.get(detail_url(revoked)))
    assert "Revoked by an operator (olivia)" in body
    body = text(alice_client.get(detail_url(expired)))
    assert '<span class="badge danger">Expired</span>' in body
    assert "Expired 2 days ago" in body


def test_it_is_404_for_anyone_else_and_for_unknown_ids(alice, bob, bob_client, make_token):
    token, _ = make_token(alice, name="Alice's")
    for url in (detail_url(token), rotate_url(token), delete_url(token)):
        assert bob_client.get(url).status_code == 404
    assert bob_client.post(detail_url(token) + "edit/", {"name": "mine"}).status_code == 404
    assert bob_client.post(rotate_url(token), {"expiration": "same"}).status_code == 404
    assert bob_client.get(detail_url(uuid.uuid4())).status_code == 404
    token.refresh_from_db()
    assert token.name == "Alice's" and token.is_active()


def test_it_is_404_once_the_token_is_purged(alice, alice_client, make_token):
    token, _ = make_token(alice, name="Old")
    services.delete_access_token(token=token, actor=alice)
    assert alice_client.get(detail_url(token)).status_code == 200
    AccessToken.objects.filter(pk=token.pk).update(
        revoked_at=timezone.now() - dt.timedelta(days=31)
    )
    # Past the retention period it is no longer listed, even before the purge runs.
    assert alice_client.get(detail_url(token)).status_code == 404
    services.purge_inactive_tokens()
    assert alice_client.get(detail_url(token)).status_code == 404


def test_it_asks_anonymous_visitors_to_sign_in(client, alice, make_token):
    token, _ = make_token(alice)
    response = client.get(detail_url(token))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_refuses_post(alice, alice_client, make_token):
    token, _ = make_token(alice)
    assert alice_client.post(detail_url(token)).status_code == 405


def test_it_escapes_a_hostile_name(alice, alice_client, make_token):
    token, _ = make_token(alice, name="<script>alert(1)</script>", description="<b>x</b>")
    body = text(alice_client.get(detail_url(token)))
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<b>x</b>" not in body


def test_it_links_the_token_another_was_made_with(alice, alice_client, api_client, make_token):
    parent, raw = make_token(alice, name="Parent", expires_at=services.end_of_day_in(10))
    api_client.credentials(HTTP_AUTHORIZATION=f"AccessToken {raw}")
    r = api_client.post("/api/v1/access-tokens/", {"name": "Child"}, format="json")
    assert r.status_code == 201
    child = AccessToken.objects.get(name="Child")
    body = text(alice_client.get(detail_url(child)))
    assert (
        f'through the API with token <a href="{detail_url(parent)}"><span class="mono">'
        f"{parent.masked}</span></a>"
    ) in body
    history = alice_client.get(detail_url(child)).context["history"]
    assert history[0]["event"].actor_token_last_four == parent.last_four
