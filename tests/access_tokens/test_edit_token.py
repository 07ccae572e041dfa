"""Renaming a token and changing its description from its page: the create form's rules, an
audit row, and nothing for anyone else or for a token that no longer works."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from access_tokens import services
from access_tokens.models import AccessToken, AccessTokenEvent
from tests.access_tokens.conftest import detail_url, edit_url, shows

pytestmark = pytest.mark.django_db


def test_it_renames_and_describes_a_token(alice, alice_client, make_token):
    token, _ = make_token(alice, name="Old name")
    r = alice_client.post(edit_url(token), {"name": "  New name ", "description": "On the CI box"})
    assert r.status_code == 302
    assert r["Location"] == detail_url(token)
    token.refresh_from_db()
    assert (token.name, token.description) == ("New name", "On the CI box")
    page = alice_client.get(r["Location"])
    assert shows(page, "Token New name saved.")
    event = AccessTokenEvent.objects.get(token_id=token.pk, action="updated")
    assert event.via == "web"
    assert event.actor == alice
    assert event.detail == "name 'Old name' -> 'New name'; description changed"


def test_saving_without_changes_records_nothing(alice, alice_client, make_token):
    token, _ = make_token(alice, name="Same", description="Same too")
    r = alice_client.post(edit_url(token), {"name": "Same", "description": "Same too"})
    assert r.status_code == 302
    assert not AccessTokenEvent.objects.filter(token_id=token.pk, action="updated").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "x" * 101, "Ensure this value has at most 100 characters (it has 101)."),
        ("name", "tab\there", "A name can't contain control characters."),
        ("description", "bell\x07", "A description can't contain control characters."),
        ("description", "y" * 1001, "Ensure this value has at most 1000 characters (it has 1001)."),
    ],
)
def test_it_refuses_what_the_create_form_refuses(
    alice, alice_client, make_token, field, value, message
):
    token, _ = make_token(alice, name="Keep me", description="Keep me too")
    data = {"name": "Keep me", "description": "Keep me too", field: value}
    r = alice_client.post(edit_url(token), data)
    assert r.status_code == 200
    assert r.context["form"].errors[field] == [message]
    assert shows(r, message)
    token.refresh_from_db()
    assert (token.name, token.description) == ("Keep me", "Keep me too")
    assert not AccessTokenEvent.objects.filter(token_id=token.pk, action="updated").exists()


def test_it_refuses_a_pasted_token_and_does_not_echo_it(alice, alice_client, make_token):
    token, raw = make_token(alice, name="Keep me")
    r = alice_client.post(edit_url(token), {"name": f"see {raw}", "description": ""})
    assert r.status_code == 200
    assert r.context["form"].errors["name"] == [
        "That looks like an access token. Never put a token in its name."
    ]
    assert raw not in r.content.decode()
    token.refresh_from_db()
    assert token.name == "Keep me"


def test_an_inactive_token_cannot_be_renamed(alice, alice_client, make_token):
    deleted, _ = make_token(alice, name="Deleted")
    services.delete_access_token(token=deleted, actor=alice)
    expired, _ = make_token(alice, name="Expired")
    AccessToken.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - dt.timedelta(hours=1)
    )
    for token in (deleted, expired):
        r = alice_client.post(edit_url(token), {"name": "Renamed", "description": ""})
        assert r.status_code == 302
        assert r["Location"] == detail_url(token)
        assert shows(
            alice_client.get(r["Location"]), "This token no longer works, so it can't be renamed."
        )
        token.refresh_from_db()
        assert token.name != "Renamed"


def test_the_rule_holds_in_the_service_too(alice, make_token):
    from django.core.exceptions import ValidationError

    token, _ = make_token(alice, name="Expired")
    AccessToken.objects.filter(pk=token.pk).update(
        expires_at=timezone.now() - dt.timedelta(hours=1)
    )
    token.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        services.update_access_token(token=token, actor=alice, name="Renamed", via="api")
    assert error.value.message_dict == {"__all__": ["An expired token can't be changed."]}
    # An operator who gives it a new life may rename it in the same change.
    services.update_access_token(
        token=token, actor=alice, name="Renamed", expires_at=services.end_of_day_in(3)
    )
    token.refresh_from_db()
    assert token.name == "Renamed"


def test_it_only_takes_post(alice, alice_client, make_token):
    token, _ = make_token(alice)
    assert alice_client.get(edit_url(token)).status_code == 405


def test_it_needs_the_csrf_token(alice, make_token):
    token, _ = make_token(alice, name="Keep me")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    r = strict.post(edit_url(token), {"name": "Renamed", "description": ""})
    assert r.status_code == 403
    token.refresh_from_db()
    assert token.name == "Keep me"
