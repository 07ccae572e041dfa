"""The create page, /settings/access-tokens/new/: the form, its errors and what it creates."""

import datetime as dt
import re

import pytest

from access_tokens import services
from access_tokens.models import AccessToken, AccessTokenEvent
from tests.access_tokens.conftest import (
    LIST_URL,
    NEW_URL,
    end_of_local_day,
    form_data,
    shows,
    text,
    today,
)
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def _errors_of(response, field: str) -> list[str]:
    return response.context["form"].errors.get(field, [])


def _assert_refused(response):
    assert response.status_code == 200
    assert "New personal access token" in text(response)
    assert not AccessToken.objects.exists()
    assert not AccessTokenEvent.objects.exists()


# --- The page -------------------------------------------------------------------------------


def test_it_shows_the_form(alice_client):
    response = alice_client.get(NEW_URL)
    assert response.status_code == 200
    body = text(response)
    assert "<h1>New personal access token</h1>" in body
    assert 'placeholder="e.g. CI deploy"' in body
    assert 'maxlength="100"' in body
    assert re.search(r'<input type="date" name="expires_on"[^>]* min="' + str(today()), body)
    for days, label in [(7, "7 days"), (30, "30 days"), (60, "60 days"), (90, "90 days")]:
        on = today() + dt.timedelta(days=days)
        assert f'<option value="{days}"' in body
        assert f"{label} ({on:%b} {on.day}, {on.year})" in body
    assert '<option value="365">1 year (' in body
    assert '<option value="custom">Custom date…</option>' in body
    assert '<option value="never">No expiration</option>' in body
    assert '<option value="30" selected>' in body
    assert "Tokens without an expiration date stay valid until you delete them." in body
    assert "<legend>Scopes</legend>" in body
    for scope in ("api", "read_api", "read_user", "self_rotate"):
        # Each scope is a checkbox, none ticked for the user: access is a choice, as on GitLab.
        box = re.search(rf'<input type="checkbox" name="scopes" value="{scope}"[^>]*>', body)
        assert box and "checked" not in box.group(0)
    assert "Read only: GET, HEAD and OPTIONS anywhere in the API (includes read_user)." in body
    assert "(UTC)" in body
    assert 'aria-describedby="id_expiration_helptext"' in body
    assert '<p class="help expiry-help" id="id_expiration_helptext">' in body


def test_it_gives_every_form_a_fresh_nonce(alice_client):
    first = alice_client.get(NEW_URL).context["form"]["nonce"].value()
    second = alice_client.get(NEW_URL).context["form"]["nonce"].value()
    assert first and second and first != second


def test_it_sends_no_store(alice_client):
    response = alice_client.get(NEW_URL)
    assert "no-store" in response["Cache-Control"]
    response = alice_client.post(NEW_URL, form_data(name="x" * 101))
    assert "no-store" in response["Cache-Control"]


def test_it_asks_anonymous_visitors_to_sign_in(client):
    response = client.get(NEW_URL)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={NEW_URL}"
    response = client.post(NEW_URL, form_data())
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not AccessToken.objects.exists()


# --- Successful creates ---------------------------------------------------------------------


@pytest.mark.parametrize("days", [7, 30, 60, 90, 365])
def test_it_creates_a_token_for_each_preset(alice, alice_client, days):
    response = alice_client.post(NEW_URL, form_data(name=f"{days} days", expiration=str(days)))
    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    token = alice.access_tokens.get()
    assert token.name == f"{days} days"
    assert token.expires_at == end_of_local_day(today() + dt.timedelta(days=days))
    assert token.scope_list == ["api"]


def test_it_creates_a_token_that_never_expires(alice, alice_client):
    response = alice_client.post(NEW_URL, form_data(expiration="never"))
    assert response.status_code == 302
    assert alice.access_tokens.get().expires_at is None


def test_it_creates_a_token_with_the_scopes_ticked(alice, alice_client):
    response = alice_client.post(NEW_URL, form_data(scopes=["read_user", "read_api"]))
    assert response.status_code == 302
    assert alice.access_tokens.get().scope_list == ["read_api", "read_user"]


def test_it_asks_for_at_least_one_scope(alice, alice_client):
    response = alice_client.post(NEW_URL, form_data(scopes=[]))
    assert response.status_code == 200
    assert _errors_of(response, "scopes") == ["Select at least one scope."]
    assert not AccessToken.objects.exists()


def test_it_creates_a_token_for_a_custom_date(alice, alice_client):
    day = today() + dt.timedelta(days=45)
    response = alice_client.post(
        NEW_URL, form_data(expiration="custom", expires_on=day.isoformat())
    )
    assert response.status_code == 302
    assert alice.access_tokens.get().expires_at == end_of_local_day(day)


def test_it_ignores_a_stray_custom_date_when_a_preset_is_chosen(alice, alice_client):
    yesterday = today() - dt.timedelta(days=1)
    response = alice_client.post(
        NEW_URL, form_data(expiration="7", expires_on=yesterday.isoformat())
    )
    assert response.status_code == 302
    assert alice.access_tokens.get().expires_at == end_of_local_day(today() + dt.timedelta(days=7))


def test_it_allows_a_blank_name_and_strips_space(alice, alice_client):
    alice_client.post(NEW_URL, form_data(name=""))
    alice_client.post(NEW_URL, form_data(name="  Grafana  "))
    assert sorted(alice.access_tokens.values_list("name", flat=True)) == ["", "Grafana"]


def test_it_accepts_a_name_of_exactly_100_characters(alice, alice_client):
    response = alice_client.post(NEW_URL, form_data(name="é" * 100))
    assert response.status_code == 302
    assert alice.access_tokens.get().name == "é" * 100


def test_it_creates_tokens_for_the_signed_in_user_only(alice, bob, alice_client):
    alice_client.post(NEW_URL, form_data())
    assert alice.access_tokens.count() == 1
    assert not bob.access_tokens.exists()


# --- Errors ---------------------------------------------------------------------------------


def test_it_refuses_a_date_before_today_next_to_the_date_field(alice_client):
    yesterday = today() - dt.timedelta(days=1)
    response = alice_client.post(
        NEW_URL, form_data(expiration="custom", expires_on=yesterday.isoformat())
    )
    _assert_refused(response)
    assert _errors_of(response, "expires_on") == ["Choose today or a later date."]
    body = text(response)
    # The error sits in the custom date's own field block, and what was typed is kept.
    block = re.search(r'<div class="custom-date">(.*?)</div>\s*</div>', body, re.S).group(1)
    assert "Choose today or a later date." in block
    assert f'value="{yesterday.isoformat()}"' in block
    assert 'aria-invalid="true"' in block
    assert '<option value="custom" selected>' in body
    assert 'value="CI deploy"' in body


def test_it_asks_for_a_date_when_custom_has_none(alice_client):
    response = alice_client.post(NEW_URL, form_data(expiration="custom", expires_on=""))
    _assert_refused(response)
    assert _errors_of(response, "expires_on") == ["Pick a date, or choose a preset."]
    assert "Pick a date, or choose a preset." in text(response)


def test_it_refuses_a_date_that_is_not_a_date(alice_client):
    response = alice_client.post(NEW_URL, form_data(expiration="custom", expires_on="31/12/2030"))
    _assert_refused(response)
    assert _errors_of(response, "expires_on") == ["Enter a valid date."]


def test_it_refuses_a_name_longer_than_100_characters(alice_client):
    response = alice_client.post(NEW_URL, form_data(name="x" * 101))
    _assert_refused(response)
    [error] = _errors_of(response, "name")
    assert "100 characters" in error
    assert shows(response, error)


@pytest.mark.parametrize("name", ["bad\x07bell", "line\nbreak", "tab\there", "nul\x00byte"])
def test_it_refuses_control_characters_in_a_name(alice_client, name):
    response = alice_client.post(NEW_URL, form_data(name=name))
    _assert_refused(response)
    [error] = _errors_of(response, "name")
    assert shows(response, error)


def test_it_refuses_a_token_as_a_name(alice, alice_client):
    _, raw = services.create_access_token(user=alice)
    response = alice_client.post(NEW_URL, form_data(name=f"my token {raw}"))
    assert response.status_code == 200
    [error] = _errors_of(response, "name")
    assert "looks like an access token" in error
    assert alice.access_tokens.count() == 1
    # The form must not echo the secret back either.
    assert raw not in response.content.decode()


def test_it_refuses_an_unknown_scope_or_expiration(alice_client):
    response = alice_client.post(NEW_URL, form_data(scopes=["admin"], expiration="1000"))
    _assert_refused(response)
    assert _errors_of(response, "scopes")
    assert _errors_of(response, "expiration")


def test_it_refuses_more_tokens_than_the_limit(settings, alice, alice_client, make_token):
    settings.ACCESS_TOKEN_MAX_PER_USER = 2
    make_token(alice)
    make_token(alice)
    response = alice_client.post(NEW_URL, form_data())
    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert errors == [
        "You have reached the limit of 2 active tokens. Delete one you no longer need."
    ]
    assert shows(response, errors[0])
    assert alice.access_tokens.count() == 2
    assert AccessTokenEvent.objects.filter(action="created").count() == 2


def test_it_counts_only_active_tokens_toward_the_limit(settings, alice, alice_client, make_token):
    settings.ACCESS_TOKEN_MAX_PER_USER = 2
    deleted, _ = make_token(alice)
    services.delete_access_token(token=deleted, actor=alice)
    expired, _ = make_token(alice)
    AccessToken.objects.filter(pk=expired.pk).update(expires_at=services._now())
    make_token(alice)
    assert alice_client.post(NEW_URL, form_data()).status_code == 302
    assert alice_client.post(NEW_URL, form_data()).status_code == 200
    assert alice.access_tokens.active().count() == 2


def test_it_keeps_a_description(alice, alice_client):
    response = alice_client.post(
        NEW_URL, form_data(description="  Deploys the docs site.\r\nAsk Bob.  ")
    )
    assert response.status_code == 302
    assert alice.access_tokens.get().description == "Deploys the docs site.\nAsk Bob."


def test_it_counts_the_limit_per_user(settings, alice, bob, alice_client, make_token):
    settings.ACCESS_TOKEN_MAX_PER_USER = 1
    make_token(bob)
    response = alice_client.post(NEW_URL, form_data())
    assert response.status_code == 302
    assert alice.access_tokens.count() == 1


def test_it_offers_only_presets_within_the_lifetime_cap(settings, alice_client):
    settings.ACCESS_TOKEN_MAX_LIFETIME_DAYS = 60
    body = text(alice_client.get(NEW_URL))
    for days in (7, 30, 60):
        assert f'<option value="{days}"' in body
    assert '<option value="90"' not in body
    assert '<option value="365"' not in body
    assert '<option value="never"' not in body
    assert "Tokens without an expiration date" not in body
    latest = today() + dt.timedelta(days=60)
    assert f'max="{latest.isoformat()}"' in body


@pytest.mark.parametrize("choice", ["90", "365", "never"])
def test_it_refuses_a_preset_beyond_the_lifetime_cap(settings, alice_client, choice):
    settings.ACCESS_TOKEN_MAX_LIFETIME_DAYS = 60
    response = alice_client.post(NEW_URL, form_data(expiration=choice))
    _assert_refused(response)
    assert _errors_of(response, "expiration")


def test_it_refuses_a_custom_date_beyond_the_lifetime_cap(settings, alice, alice_client):
    settings.ACCESS_TOKEN_MAX_LIFETIME_DAYS = 60
    too_late = today() + dt.timedelta(days=61)
    response = alice_client.post(
        NEW_URL, form_data(expiration="custom", expires_on=too_late.isoformat())
    )
    _assert_refused(response)
    assert _errors_of(response, "expires_on") == [
        "Tokens on this server must expire within 60 days."
    ]
    assert "Tokens on this server must expire within 60 days." in text(response)

    last = today() + dt.timedelta(days=60)
    response = alice_client.post(
        NEW_URL, form_data(expiration="custom", expires_on=last.isoformat())
    )
    assert response.status_code == 302
    assert alice.access_tokens.get().expires_at == end_of_local_day(last)


def test_it_offers_a_custom_date_first_when_the_cap_is_below_a_week(settings, alice, alice_client):
    settings.ACCESS_TOKEN_MAX_LIFETIME_DAYS = 3
    body = text(alice_client.get(NEW_URL))
    assert '<option value="7"' not in body
    assert '<option value="custom" selected>' in body


def test_it_keeps_what_was_typed_after_an_error(alice_client):
    response = alice_client.post(
        NEW_URL, form_data(name="x" * 101, expiration="60", scopes=["read_api"])
    )
    body = text(response)
    assert '<option value="60" selected>' in body
    assert re.search(r'value="read_api"[^>]*checked', body)
    assert not re.search(r'value="api"[^>]*checked', body)


def test_it_refuses_a_missing_nonce_visibly_and_lets_the_user_try_again(alice, alice_client):
    data = form_data()
    del data["nonce"]
    response = alice_client.post(NEW_URL, data)
    _assert_refused(response)
    assert shows(response, "This form is out of date. Please try again.")
    # The page carries a new, valid nonce, so submitting it again works.
    fresh = response.context["form"]["nonce"].value()
    assert re.fullmatch(r"[A-Za-z0-9_-]{16,32}", fresh)
    response = alice_client.post(NEW_URL, form_data(nonce=fresh))
    assert response.status_code == 302
    assert alice.access_tokens.count() == 1


# --- Double submit --------------------------------------------------------------------------


def test_it_creates_one_token_when_the_same_form_is_posted_twice(alice, alice_client):
    data = form_data(name="Clicked twice")
    first = alice_client.post(NEW_URL, data)
    second = alice_client.post(NEW_URL, data)
    assert first.status_code == second.status_code == 302
    assert second["Location"] == LIST_URL
    assert alice.access_tokens.count() == 1
    assert AccessTokenEvent.objects.filter(action="created").count() == 1
    # The one-time display survives the second submission.
    response = alice_client.get(LIST_URL)
    assert response.context["new_token"].name == "Clicked twice"


def test_it_does_not_mistake_another_users_nonce_for_a_double_submit(alice, bob, client):
    data = form_data(name="Alice's")
    sign_in(client, alice)
    client.post(NEW_URL, data)
    client.post("/accounts/logout/")
    sign_in(client, bob)
    response = client.post(NEW_URL, {**data, "name": "Bob's"})
    # Bob is not sent to a list showing Alice's token; he is asked to submit again.
    assert response.status_code == 200
    assert shows(response, "This form is out of date. Please try again.")
    assert not bob.access_tokens.exists()
    fresh = response.context["form"]["nonce"].value()
    assert fresh != data["nonce"]
    assert client.post(NEW_URL, {**data, "name": "Bob's", "nonce": fresh}).status_code == 302
    assert bob.access_tokens.get().name == "Bob's"
    assert alice.access_tokens.get().name == "Alice's"
