"""Regenerating a token from its page (GitHub's "Regenerate token"): a new secret with the same
name, description and scopes, a new expiry within policy, shown once like a new token, the old
one refused at once, and sudo mode on the way."""

import datetime as dt
import time

import pytest
from django.utils import timezone

from access_tokens import services
from access_tokens.models import AccessToken, AccessTokenEvent
from tests.access_tokens.conftest import (
    LIST_URL,
    detail_url,
    pending_token,
    rotate_url,
    shows,
    text,
    today,
)
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def later(monkeypatch):
    """Move the clock past the 15 minutes a password is good for."""
    now = time.time() + 901
    monkeypatch.setattr(time, "time", lambda *args: now)


@pytest.fixture
def deploy(alice, make_token):
    """A 30-day token made ten days ago: twenty days left, a 30-day lifetime."""
    made = timezone.now() - dt.timedelta(days=10)
    token, raw = make_token(
        alice,
        name="CI deploy",
        description="On the build box",
        scopes=["read_api", "self_rotate"],
        expires_at=services.end_of_day(timezone.localdate(made) + dt.timedelta(days=30)),
    )
    AccessToken.objects.filter(pk=token.pk).update(created_at=made)
    token.refresh_from_db()
    token.raw = raw
    return token


def _new(token: AccessToken) -> AccessToken:
    return AccessToken.objects.get(rotated_from=token)


def _api_status(api_client, raw: str) -> int:
    api_client.credentials(HTTP_AUTHORIZATION=f"AccessToken {raw}")
    return api_client.get("/api/v1/me/").status_code


def test_the_page_offers_the_same_lifetime_from_today(alice_client, deploy):
    response = alice_client.get(rotate_url(deploy))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    form = response.context["form"]
    assert form["expiration"].value() == "same"
    on = (today() + dt.timedelta(days=30)).strftime("%b %-d, %Y")
    assert form.fields["expiration"].choices[0] == ("same", f"Same lifetime: 30 days ({on})")
    assert shows(response, "Regenerate token “CI deploy”")
    assert deploy.masked in text(response)


def test_it_rotates_and_shows_the_new_token_once(alice, alice_client, api_client, deploy):
    r = alice_client.post(rotate_url(deploy), {"expiration": "same"})
    assert r.status_code == 302
    assert r["Location"] == LIST_URL
    new = _new(deploy)
    raw = pending_token(alice_client)
    assert raw is not None and raw != deploy.raw and raw.endswith(new.last_four)
    deploy.refresh_from_db()
    assert deploy.revoked_reason == "rotated"
    assert (new.name, new.description, new.scopes) == (
        "CI deploy",
        "On the build box",
        "read_api self_rotate",
    )
    assert new.expires_at == services.end_of_day(today() + dt.timedelta(days=30))
    assert new.created_via == "web"
    # Shown once, exactly like a new token: on the list, then never again.
    page = text(alice_client.get(LIST_URL))
    assert f'value="{raw}"' in page
    assert raw not in text(alice_client.get(LIST_URL))
    # The old secret is refused on the very next request; the new one works.
    assert _api_status(api_client, deploy.raw) == 401
    assert _api_status(api_client, raw) == 200
    # The audit trail links old and new, and says it was done in the browser.
    rotated = AccessTokenEvent.objects.get(token_id=deploy.pk, action="rotated")
    assert (rotated.via, rotated.actor) == ("web", alice)
    assert str(new.pk) in rotated.detail
    created = AccessTokenEvent.objects.get(token_id=new.pk, action="created")
    assert str(deploy.pk) in created.detail


def test_it_takes_a_preset_or_a_custom_date(alice_client, deploy, alice, make_token):
    alice_client.post(rotate_url(deploy), {"expiration": "7"})
    assert _new(deploy).expires_at == services.end_of_day(today() + dt.timedelta(days=7))

    other, _ = make_token(alice, name="other")
    day = today() + dt.timedelta(days=45)
    alice_client.post(rotate_url(other), {"expiration": "custom", "expires_on": day.isoformat()})
    assert _new(other).expires_at == services.end_of_day(day)


BAD_EXPIRIES = [
    ({"expiration": "custom", "expires_on": ""}, "expires_on", "Pick a date, or choose a preset."),
    ({"expiration": "custom", "expires_on": "2001-01-01"}, "expires_on", "Choose today or a later date."),  # noqa: E501
    ({"expiration": "custom", "expires_on": "tomorrow"}, "expires_on", "Enter a valid date."),
    ({"expiration": "forever"}, "expiration", "Select a valid choice. forever is not one of the available choices."),  # noqa: E501
    ({}, "expiration", "This field is required."),
]  # fmt: skip


@pytest.mark.parametrize(("data", "field", "message"), BAD_EXPIRIES)
def test_it_refuses_a_bad_expiry_with_a_form_error(
    alice, alice_client, deploy, data, field, message
):
    r = alice_client.post(rotate_url(deploy), data)
    assert r.status_code == 200
    assert r.context["form"].errors[field] == [message]
    deploy.refresh_from_db()
    assert deploy.is_active()
    assert AccessToken.objects.filter(user=alice).count() == 1


def test_it_keeps_within_the_servers_cap(settings, alice, alice_client, make_token):
    settings.ACCESS_TOKEN_MAX_LIFETIME_DAYS = 30
    token, _ = make_token(alice, name="capped", expires_at=services.end_of_day_in(20))
    form = alice_client.get(rotate_url(token)).context["form"]
    assert "never" not in dict(form.fields["expiration"].choices)
    far = today() + dt.timedelta(days=31)
    r = alice_client.post(
        rotate_url(token), {"expiration": "custom", "expires_on": far.isoformat()}
    )
    assert r.context["form"].errors["expires_on"] == [
        "Tokens on this server must expire within 30 days."
    ]
    assert alice_client.post(rotate_url(token), {"expiration": "never"}).status_code == 200
    token.refresh_from_db()
    assert token.is_active()


def test_a_token_that_never_expires_keeps_doing_so_by_default(alice, alice_client, make_token):
    token, _ = make_token(alice, name="forever", expires_at=None)
    form = alice_client.get(rotate_url(token)).context["form"]
    assert form.fields["expiration"].choices[0] == ("same", "Same as now: no expiration")
    alice_client.post(rotate_url(token), {"expiration": "same"})
    assert _new(token).expires_at is None


def test_an_old_session_is_sent_to_confirm_the_password_first(alice, alice_client, deploy, later):
    url = rotate_url(deploy)
    day = today() + dt.timedelta(days=12)
    r = alice_client.post(url, {"expiration": "custom", "expires_on": day.isoformat()})
    assert r.status_code == 302
    reauth = f"/accounts/reauthenticate/?next={url.replace('/', '%2F')}"
    assert r["Location"] == reauth
    deploy.refresh_from_db()
    assert deploy.is_active()
    assert not AccessToken.objects.filter(rotated_from=deploy).exists()

    r = alice_client.post(reauth, {"password": PASSWORD})
    assert r["Location"] == url
    # The choice survived the detour, to submit again.
    form = alice_client.get(url).context["form"]
    assert form["expiration"].value() == "custom"
    assert form["expires_on"].value() == day.isoformat()
    assert not AccessToken.objects.filter(rotated_from=deploy).exists()

    alice_client.post(url, {"expiration": "custom", "expires_on": day.isoformat()})
    assert _new(deploy).expires_at == services.end_of_day(day)


def test_an_inactive_token_cannot_be_regenerated(alice, alice_client, make_token):
    deleted, _ = make_token(alice, name="Deleted")
    services.delete_access_token(token=deleted, actor=alice)
    expired, _ = make_token(alice, name="Expired")
    AccessToken.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    for token in (deleted, expired):
        for response in (
            alice_client.get(rotate_url(token)),
            alice_client.post(rotate_url(token), {"expiration": "same"}),
        ):
            assert response.status_code == 302
            assert response["Location"] == detail_url(token)
        page = alice_client.get(detail_url(token))
        assert shows(page, "This token no longer works, so it can't be regenerated.")
    assert not AccessToken.objects.filter(rotated_from__isnull=False).exists()


def test_a_double_submission_rotates_once(alice, alice_client, deploy):
    first = alice_client.post(rotate_url(deploy), {"expiration": "same"})
    second = alice_client.post(rotate_url(deploy), {"expiration": "same"})
    assert first["Location"] == second["Location"] == LIST_URL
    assert AccessToken.objects.filter(user=alice).count() == 2
    # The one-time display the first response led to is still there for the second.
    raw = pending_token(alice_client)
    assert raw is not None
    page = alice_client.get(LIST_URL)
    assert f'value="{raw}"' in text(page)
    assert not shows(page, "This token was regenerated already.")


def test_an_old_tab_is_told_it_was_regenerated_already(alice, alice_client, deploy):
    alice_client.post(rotate_url(deploy), {"expiration": "same"})
    alice_client.get(LIST_URL)  # the new token was shown
    r = alice_client.post(rotate_url(deploy), {"expiration": "same"})
    assert r["Location"] == LIST_URL
    assert shows(alice_client.get(LIST_URL), "This token was regenerated already.")
    assert AccessToken.objects.filter(user=alice).count() == 2


def test_the_new_token_is_never_in_an_address(alice_client, deploy):
    r = alice_client.post(rotate_url(deploy), {"expiration": "same"})
    raw = pending_token(alice_client)
    assert raw not in r["Location"]
    assert all(raw not in morsel.value for morsel in alice_client.cookies.values())
