"""A token chosen to expire on day D works through the end of D in TIME_ZONE, and no longer."""

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from access_tokens import services
from access_tokens.models import AccessToken
from tests.access_tokens.conftest import NEW_URL, form_data

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
    raw = alice_client.session["access_tokens:new"]["token"]
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
    raw = alice_client.session["access_tokens:new"]["token"]
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


def test_it_refuses_the_token_on_every_path_once_expired(zone, alice, api_client):
    token, raw = services.create_access_token(
        user=alice, expires_at=services.end_of_day(timezone.localdate())
    )
    AccessToken.objects.filter(pk=token.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    response = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"AccessToken {raw}")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_it_never_expires_without_a_date(alice):
    token, raw = services.create_access_token(user=alice, expires_at=None)
    far = timezone.now() + dt.timedelta(days=365 * 50)
    assert services.check_access_token(raw, now=far) == token
