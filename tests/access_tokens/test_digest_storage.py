"""Only the SHA-256 digest of a token is kept: the raw value is nowhere in the database."""

import datetime as dt
import hashlib

import pytest
from django.utils import timezone

from access_tokens import services
from access_tokens.models import AccessToken
from tests.access_tokens.conftest import (
    LIST_URL,
    NEW_URL,
    database_places_holding,
    form_data,
    pending_token,
)

pytestmark = pytest.mark.django_db


def test_it_keeps_the_digest_and_last_four_only(alice):
    token, raw = services.create_access_token(user=alice, name="CI deploy")
    token.refresh_from_db()
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert token.last_four == raw[-4:]
    assert database_places_holding(raw, raw[6:49]) == []


def test_it_finds_the_token_by_its_digest(alice):
    token, raw = services.create_access_token(user=alice)
    assert services.check_access_token(raw) == token
    assert AccessToken.objects.get(digest=hashlib.sha256(raw.encode()).hexdigest()) == token


def test_it_leaves_no_trace_after_the_create_page_and_the_one_time_display(alice_client):
    response = alice_client.post(NEW_URL, form_data(name="Deploy bot"))
    assert response.status_code == 302
    response = alice_client.get(LIST_URL)
    raw = response.context["new_token"].raw
    assert raw in response.content.decode()

    token = AccessToken.objects.get()
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert database_places_holding(raw, raw[6:49]) == []


def test_it_holds_the_token_only_in_the_server_side_session_until_it_is_shown(alice_client):
    alice_client.post(NEW_URL, form_data())
    token = AccessToken.objects.get()
    # Between the POST and the redirected GET the session row (never a cookie) holds it,
    # sealed: not even the decoded session shows it.
    raw = pending_token(alice_client)
    assert services.token_digest(raw) == token.digest
    assert database_places_holding(raw, raw[6:49]) == []

    alice_client.get(LIST_URL)
    assert database_places_holding(raw, raw[6:49]) == []


def test_it_keeps_no_raw_token_when_a_token_is_deleted(alice, alice_client):
    token, raw = services.create_access_token(user=alice, name="Old laptop")
    alice_client.post(f"/settings/access-tokens/{token.pk}/delete/")
    # The inactive record keeps the digest (so a pasted copy can be told "revoked, when and
    # by whom") until it is purged; never the token.
    assert database_places_holding(raw, raw[6:49]) == []
    assert database_places_holding(token.digest) == ["access_tokens_accesstoken"]
    services.purge_inactive_tokens(now=timezone.now() + dt.timedelta(days=31))
    assert not AccessToken.objects.exists()
    assert database_places_holding(raw, raw[6:49], token.digest) == []
