"""Every create and delete writes an AccessTokenEvent, in the same transaction as the change."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from access_tokens import services
from access_tokens.models import AccessToken, AccessTokenEvent
from tests.access_tokens.conftest import NEW_URL, delete_url, form_data
from tests.conftest import sign_in


@pytest.mark.django_db
def test_it_records_a_create_from_the_web(alice, alice_client):
    alice_client.post(NEW_URL, form_data(name="CI deploy"), HTTP_USER_AGENT="Firefox/140")
    token = AccessToken.objects.get()
    event = AccessTokenEvent.objects.get()
    assert event.action == "created"
    assert event.via == "web"
    assert event.token_id == token.pk
    assert event.token_name == "CI deploy"
    assert event.token_last_four == token.last_four
    assert (event.owner, event.owner_username) == (alice, "alice")
    assert (event.actor, event.actor_username) == (alice, "alice")
    assert event.ip == "127.0.0.1"
    assert event.user_agent == "Firefox/140"


@pytest.mark.django_db
def test_it_records_a_delete_from_the_web(alice, alice_client, make_token):
    token, _ = make_token(alice, name="Old laptop")
    alice_client.post(delete_url(token))
    event = AccessTokenEvent.objects.get(action="deleted")
    assert event.token_id == token.pk
    assert event.token_name == "Old laptop"
    assert event.token_last_four == token.last_four
    assert event.actor == alice and event.owner == alice
    assert event.via == "web"
    assert event.ip == "127.0.0.1"
    # The trail outlives the token, after its inactive record is purged too.
    services.purge_inactive_tokens(now=timezone.now() + dt.timedelta(days=31))
    assert not AccessToken.objects.exists()
    assert AccessTokenEvent.objects.filter(token_id=token.pk).count() == 2


@pytest.mark.django_db
def test_it_records_nothing_for_a_refused_create_or_a_confirmation_page(
    alice, alice_client, make_token
):
    alice_client.post(NEW_URL, form_data(name="x" * 101))
    assert not AccessTokenEvent.objects.exists()
    token, _ = make_token(alice)
    alice_client.get(delete_url(token))
    assert list(AccessTokenEvent.objects.values_list("action", flat=True)) == ["created"]


@pytest.mark.django_db
def test_it_records_nothing_when_an_outsider_tries_to_delete(bob, client, alice, make_token):
    token, _ = make_token(alice)
    sign_in(client, bob)
    client.post(delete_url(token))
    assert list(AccessTokenEvent.objects.values_list("action", flat=True)) == ["created"]


def _ghost():
    """A user that is not in the database: writing an event for it breaks a foreign key."""
    return get_user_model()(pk=987654, username="ghost")


@pytest.mark.django_db(transaction=True)
def test_it_creates_no_token_when_its_event_cannot_be_written(alice):
    # The foreign key is checked when the transaction commits; if the token were saved
    # in a transaction of its own, it would be left behind without its audit row.
    with pytest.raises(Exception, match="(?i)foreign key"):
        services.create_access_token(user=alice, name="Unaudited", actor=_ghost())
    assert not AccessToken.objects.exists()
    assert not AccessTokenEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_it_deletes_no_token_when_its_event_cannot_be_written(alice):
    token, _ = services.create_access_token(user=alice, name="Keep")
    with pytest.raises(Exception, match="(?i)foreign key"):
        services.delete_access_token(token=token, actor=_ghost())
    assert AccessToken.objects.filter(pk=token.pk).exists()
    assert list(AccessTokenEvent.objects.values_list("action", flat=True)) == ["created"]


@pytest.mark.django_db
@pytest.mark.parametrize("remote_addr", ["unix:/run/gunicorn.sock", ""])
def test_it_records_no_address_when_remote_addr_is_not_one(alice, alice_client, remote_addr):
    # Behind a Unix socket REMOTE_ADDR may be a path; PostgreSQL's inet column refuses it.
    response = alice_client.post(NEW_URL, form_data(), REMOTE_ADDR=remote_addr)
    assert response.status_code == 302
    assert AccessTokenEvent.objects.get().ip is None
    token = AccessToken.objects.get()
    response = alice_client.post(delete_url(token), REMOTE_ADDR=remote_addr)
    assert response.status_code == 302
    assert AccessTokenEvent.objects.get(action="deleted").ip is None
