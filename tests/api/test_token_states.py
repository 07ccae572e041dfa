"""Tokens that no longer work: expired, deleted, revoked by value, or whose owner is inactive."""

import datetime as dt

import pytest
from django.utils import timezone

from access_tokens import services
from access_tokens.models import AccessToken

from .headers import basic

pytestmark = pytest.mark.django_db


def _me(client, raw, form="Bearer"):
    header = basic(raw) if form == "Basic" else f"{form} {raw}"
    return client.get("/api/v1/me/", HTTP_AUTHORIZATION=header)


CODES = {
    "Token has expired.": "token_expired",
    "Token has been revoked.": "token_revoked",
    "Invalid token.": "unknown_token",
    "User inactive or deleted.": "owner_inactive",
}


def _assert_refused(r, detail):
    assert r.status_code == 401
    assert r.json() == {"detail": detail, "code": CODES[detail]}
    assert "WWW-Authenticate" in r


@pytest.mark.parametrize("form", ["AccessToken", "Bearer", "Basic"])
def test_it_refuses_an_expired_token(api_client, alice, make_token, form):
    token, raw = make_token(alice, expires_at=timezone.now() + dt.timedelta(days=1))
    # Expiry is a fact about the row: move it into the past as time would.
    AccessToken.objects.filter(pk=token.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    _assert_refused(_me(api_client, raw, form), "Token has expired.")


@pytest.mark.parametrize("form", ["AccessToken", "Bearer", "Basic"])
def test_it_accepts_a_token_up_to_its_expiry(api_client, alice, make_token, monkeypatch, form):
    expires_at = timezone.now() + dt.timedelta(days=1)
    _token, raw = make_token(alice, expires_at=expires_at)
    # The server's clock (services._now, the seam for it) at the token's last instant: it works.
    monkeypatch.setattr(services, "_now", lambda: expires_at)
    assert _me(api_client, raw, form).status_code == 200
    # One microsecond later it is refused.
    monkeypatch.setattr(services, "_now", lambda: expires_at + dt.timedelta(microseconds=1))
    _assert_refused(_me(api_client, raw, form), "Token has expired.")


def test_it_refuses_a_deleted_token_on_the_next_request(api_client, alice, alice_token):
    token, raw = alice_token
    assert _me(api_client, raw).status_code == 200
    services.delete_access_token(token=token, actor=alice)
    _assert_refused(_me(api_client, raw), "Token has been revoked.")
    # And still once its inactive record is purged: then it is simply unknown.
    services.purge_inactive_tokens(now=timezone.now() + dt.timedelta(days=31))
    _assert_refused(_me(api_client, raw), "Invalid token.")


def test_it_refuses_a_token_revoked_by_value(api_client, alice_token):
    _token, raw = alice_token
    assert services.revoke_access_token_by_value(raw).outcome == "revoked"
    _assert_refused(_me(api_client, raw, "AccessToken"), "Token has been revoked.")


def test_it_refuses_the_token_of_an_inactive_owner(api_client, alice, alice_token):
    _token, raw = alice_token
    alice.is_active = False
    alice.save()
    _assert_refused(_me(api_client, raw), "User inactive or deleted.")


def test_it_refuses_the_token_of_a_deleted_owner(api_client, alice, alice_token):
    _token, raw = alice_token
    alice.delete()
    _assert_refused(_me(api_client, raw), "Invalid token.")
