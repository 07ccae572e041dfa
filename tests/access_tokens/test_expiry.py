"""A token chosen to expire on day D works through the end of D in TIME_ZONE, and no longer."""

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from access_tokens import services
from access_tokens.models import AccessToken
from tests.access_tokens.conftest import NEW_URL, form_data, pending_token
from tests.api.headers import basic

pytestmark = pytest.mark.django_db

MICROSECOND = dt.timedelta(microseconds=1)


@pytest.fixture(params=["Pacific/Auckland", "America/Los_Angeles"])
def zone(request, settings):
    """A server far east and one far west of UTC, where a UTC day would be hours off."""
    settings.TIME_ZONE = request.param
    return zoneinfo.ZoneInfo(request.param)


def _last_instant(day: dt.date, zone) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 23, 59, 59, 999999, tzinfo=zone)


def test_it_works_until_the_last_instant_of_the_chosen_day(zone, alice_client):
    day = timezone.localdate() + dt.timedelta(days=3)
    response = alice_client.post(
        NEW_URL, form_data(expiration="custom", expires_on=day.isoformat())
    )
    assert response.status_code == 302
    raw = pending_token(alice_client)
    token = AccessToken.objects.get()
    assert token.expires_at == _last_instant(day, zone)

    last = _last_instant(day, zone)
    assert services.check_access_token(raw, now=last) == token
    with pytest.raises(services.ExpiredToken):
        services.check_access_token(raw, now=last + MICROSECOND)


def test_it_does_not_use_the_utc_day(zone, alice):
    day = timezone.localdate() + dt.timedelta(days=10)
    token, raw = services.create_access_token(user=alice, expires_at=services.end_of_day(day))
    utc_end = dt.datetime(day.year, day.month, day.day, 23, 59, 59, 999999, tzinfo=dt.UTC)
    offset = _last_instant(day, zone).utcoffset()
    if offset > dt.timedelta(0):
        # East of UTC the local day ends first: the UTC end of day is already too late.
        with pytest.raises(services.ExpiredToken):
            services.check_access_token(raw, now=utc_end)
    else:
        # West of UTC the local day ends later: at the UTC end of day it still works.
        assert services.check_access_token(raw, now=utc_end) == token
    local_midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    with pytest.raises(services.ExpiredToken):
        services.check_access_token(raw, now=local_midnight)


@pytest.mark.parametrize("days", [7, 30, 60, 90, 365])
def test_it_ends_a_preset_at_the_end_of_that_local_day(zone, alice_client, days):
    response = alice_client.post(NEW_URL, form_data(expiration=str(days)))
    assert response.status_code == 302
    raw = pending_token(alice_client)
    day = timezone.localdate() + dt.timedelta(days=days)
    token = AccessToken.objects.get()
    assert token.expires_at == _last_instant(day, zone)
    assert services.check_access_token(raw, now=_last_instant(day, zone)) == token
    with pytest.raises(services.ExpiredToken):
        services.check_access_token(raw, now=_last_instant(day, zone) + MICROSECOND)


def test_it_accepts_today_as_the_last_day(zone, alice_client):
    today = timezone.localdate()
    response = alice_client.post(
        NEW_URL, form_data(expiration="custom", expires_on=today.isoformat())
    )
    assert response.status_code == 302
    assert AccessToken.objects.get().expires_at == _last_instant(today, zone)


@pytest.mark.parametrize("form", ["AccessToken", "Bearer", "Basic"])
def test_it_refuses_the_token_on_every_path_once_expired(zone, alice, api_client, form):
    token, raw = services.create_access_token(
        user=alice, expires_at=services.end_of_day(timezone.localdate())
    )
    AccessToken.objects.filter(pk=token.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    header = basic(raw) if form == "Basic" else f"{form} {raw}"
    # Every way the token can be presented, on every endpoint that takes it: reads, writes,
    # its own record, and rotation (which would otherwise hand out a fresh secret).
    for method, path in [
        ("get", "/api/v1/me/"),
        ("get", "/api/v1/access-tokens/"),
        ("post", "/api/v1/access-tokens/"),
        ("get", f"/api/v1/access-tokens/{token.pk}/"),
        ("patch", f"/api/v1/access-tokens/{token.pk}/"),
        ("delete", f"/api/v1/access-tokens/{token.pk}/"),
        ("post", f"/api/v1/access-tokens/{token.pk}/rotate/"),
        ("post", "/api/v1/access-tokens/self/rotate/"),
    ]:
        response = getattr(api_client, method)(
            path, {"name": "x"}, format="json", HTTP_AUTHORIZATION=header
        )
        assert response.status_code == 401, (method, path, response.content)
        assert response.json() == {"detail": "Token has expired.", "code": "token_expired"}, (
            method,
            path,
        )
    assert AccessToken.objects.filter(user=alice).count() == 1
    token.refresh_from_db()
    assert token.revoked_at is None and token.name == ""


def test_it_never_expires_without_a_date(alice):
    token, raw = services.create_access_token(user=alice, expires_at=None)
    far = timezone.now() + dt.timedelta(days=365 * 50)
    assert services.check_access_token(raw, now=far) == token


# --- Daylight saving: the end of a day whose last hour happens twice ---------------------------

SANTIAGO = zoneinfo.ZoneInfo("America/Santiago")


def _days_ending_in_a_repeated_hour(zone, start: dt.date, within: int = 400) -> list[dt.date]:
    """Return the days whose 23:59:59.999999 happens twice (clocks go back at midnight)."""
    found = []
    for n in range(within):
        day = start + dt.timedelta(days=n)
        first = dt.datetime.combine(day, dt.time.max, tzinfo=zone)
        if first.utcoffset() != first.replace(fold=1).utcoffset():
            found.append(day)
    return found


def test_it_ends_the_day_at_its_real_end_when_the_last_hour_repeats(settings):
    settings.TIME_ZONE = "America/Santiago"
    # Chile turns its clocks back from 24:00 to 23:00 on this day: 23:00–23:59 happen twice,
    # and the day ends at 04:00 UTC, not at the first 23:59:59 (02:59:59 UTC).
    end = services.end_of_day(dt.date(2026, 4, 4))
    assert end == dt.datetime(2026, 4, 5, 3, 59, 59, 999999, tzinfo=dt.UTC)
    assert end + MICROSECOND == dt.datetime(2026, 4, 5, 0, 0, tzinfo=SANTIAGO).astimezone(dt.UTC)


def test_it_starts_a_day_whose_midnight_is_skipped_at_the_jump(settings):
    settings.TIME_ZONE = "America/Santiago"
    # Clocks jump from 24:00 on 6 September 2026 to 01:00: that day ends at 04:00 UTC.
    end = services.end_of_day(dt.date(2026, 9, 5))
    assert end == dt.datetime(2026, 9, 6, 3, 59, 59, 999999, tzinfo=dt.UTC)


@pytest.fixture
def santiago_repeated_day(settings):
    settings.TIME_ZONE = "America/Santiago"
    days = _days_ending_in_a_repeated_hour(SANTIAGO, timezone.localdate())
    assert days, "Chile turns its clocks back every year"
    day = days[0]
    real_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=SANTIAGO)
    # In UTC: subtracting from an aware local time is wall-clock arithmetic, the very trap.
    return day, real_end.astimezone(dt.UTC) - MICROSECOND


def test_every_way_in_ends_the_token_at_the_real_end_of_that_day(
    santiago_repeated_day, alice, alice_client, api_client
):
    day, last = santiago_repeated_day
    # The form's custom date.
    alice_client.post(NEW_URL, form_data(name="web", expiration="custom", expires_on=str(day)))
    # The API's bare date.
    _, raw = services.create_access_token(user=alice, name="caller", expires_at=None)
    r = api_client.post(
        "/api/v1/access-tokens/",
        {"name": "api", "expires_at": day.isoformat()},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert r.status_code == 201
    # The command's days from today.
    from django.core.management import call_command

    days = (day - timezone.localdate()).days
    call_command("create_access_token", "alice", "--name", "cli", "--expires-in-days", str(days))
    for name in ("web", "api", "cli"):
        token = AccessToken.objects.get(name=name)
        assert token.expires_at == last, name
