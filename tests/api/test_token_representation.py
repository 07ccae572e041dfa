"""The API's token representation is built by hand for speed (AccessTokenSerializer.
to_representation); it must be exactly what DRF's generic field-by-field walk over the declared
fields gives, for every kind of token, in UTC and in a zone with an offset."""

import contextvars
import datetime as dt
import threading

import pytest
from django.utils import timezone
from rest_framework import serializers

from access_tokens import services
from access_tokens.api import (
    _DATETIME,
    _ZONE,
    AccessTokenCreatedSerializer,
    AccessTokenSerializer,
    _current_zone,
    _instant_json,
)
from access_tokens.models import AccessToken, AccessTokenEvent

pytestmark = pytest.mark.django_db


def generic(serializer_class, token) -> dict:
    """DRF's own Serializer.to_representation: every declared field, one at a time."""
    return serializers.Serializer.to_representation(serializer_class(), token)


def tokens_of_every_kind(alice, make_token) -> list[AccessToken]:
    now = timezone.now()
    plain, _ = make_token(alice, name="plain", expires_at=now + dt.timedelta(days=7))
    reader, _ = make_token(
        alice, name="reader", description="CI job\nsecond line", scopes=["read_api", "read_user"]
    )
    forever, _ = make_token(alice, name="forever", expires_at=None, scopes=["self_rotate"])
    used, _ = make_token(alice, name="used")
    used.last_used_at = now - dt.timedelta(minutes=3, microseconds=17)
    used.last_used_ip = "2001:db8::1"
    used.save(update_fields=["last_used_at", "last_used_ip"])
    child, _ = services.create_access_token(
        user=alice, name="child", via=AccessTokenEvent.Via.API, actor=alice
    )
    child.created_by_token = plain
    child.save(update_fields=["created_by_token"])
    rotated, _ = services.rotate_access_token(
        token=AccessToken.objects.get(pk=reader.pk), actor=alice, via=AccessTokenEvent.Via.WEB
    )
    revoked, _ = make_token(alice, name="revoked")
    services.revoke_access_token(
        token=revoked,
        actor=alice,
        reason=AccessToken.RevokedReason.DELETED,
        via=AccessTokenEvent.Via.WEB,
    )
    expired, _ = make_token(alice, name="expired", expires_at=now + dt.timedelta(seconds=1))
    AccessToken.objects.filter(pk=expired.pk).update(expires_at=now - dt.timedelta(days=1))
    tokens = list(AccessToken.objects.filter(user=alice))
    assert len(tokens) == 8, sorted(t.name for t in tokens)  # the rotated-away reader stays
    kinds = {t.state() for t in tokens}
    assert kinds == {"active", "revoked", "expired"}
    assert any(t.rotated_from_id for t in tokens)
    assert any(t.created_by_token_id for t in tokens)
    return tokens


@pytest.mark.parametrize("zone", ["UTC", "America/Santiago"])
def test_hand_built_representation_equals_drfs_generic_one(alice, make_token, settings, zone):
    settings.TIME_ZONE = zone
    for token in tokens_of_every_kind(alice, make_token):
        fast = AccessTokenSerializer(token).data
        assert fast == generic(AccessTokenSerializer, token), token.name
        assert list(fast) == list(generic(AccessTokenSerializer, token))  # same key order
        assert list(fast) == AccessTokenSerializer.Meta.fields


@pytest.mark.parametrize("zone", ["Asia/Kathmandu", "UTC"])
def test_a_zone_activated_for_the_request_is_the_one_written(alice, make_token, zone):
    # timezone.activate (a host's middleware may call it) rather than TIME_ZONE.
    tokens = tokens_of_every_kind(alice, make_token)
    with timezone.override(zone):
        for token in tokens:
            assert AccessTokenSerializer(token).data == generic(AccessTokenSerializer, token)
        assert _current_zone() is timezone.get_current_timezone()
    assert AccessTokenSerializer(tokens[0]).data == generic(AccessTokenSerializer, tokens[0])


def test_the_current_zone_is_read_as_django_reads_it(settings):
    # Where no zone was ever activated, _current_zone reads asgiref's context variable
    # instead of asking Django (whose Local raises and catches an AttributeError then). On the
    # asgiref this project pins that variable is found; elsewhere Django is asked, slower.
    assert _ZONE is not None
    settings.TIME_ZONE = "America/Santiago"
    fresh = contextvars.Context()  # a context where nothing was ever activated
    assert fresh.run(_ZONE.get, None) is None
    default = timezone.get_default_timezone()
    assert fresh.run(_current_zone) is default is fresh.run(timezone.get_current_timezone)
    seen = []

    def in_a_new_thread():
        seen.append((_current_zone(), timezone.get_current_timezone()))

    with timezone.override("Asia/Kathmandu"):
        assert _current_zone() is timezone.get_current_timezone()
        assert _current_zone().key == "Asia/Kathmandu"
        thread = threading.Thread(target=in_a_new_thread)
        thread.start()
        thread.join()
        assert seen == [(default, default)]  # activation is the activating thread's
    assert _current_zone() is timezone.get_current_timezone() is default  # deactivated


def test_where_asgiref_keeps_the_zone_otherwise_django_is_asked(monkeypatch):
    # Another asgiref may build its Local without that variable, or without a __dict__: the
    # variable is then not found, and every read goes to Django.
    from access_tokens import api

    class Slotted:
        __slots__ = ("value",)

    monkeypatch.setattr(timezone, "_active", Slotted())
    assert api._zone_variable() is None
    monkeypatch.undo()
    monkeypatch.setattr(api, "_ZONE", None)
    with timezone.override("Asia/Kathmandu"):
        assert api._current_zone().key == "Asia/Kathmandu"
    assert api._current_zone() is timezone.get_default_timezone()


def test_an_instant_written_once_is_written_again_in_each_zone(settings):
    # instants.iso keeps the text of each (zone, instant): the zone is part of the key.
    instant = dt.datetime(2026, 3, 29, 1, 30, 5, 120, tzinfo=dt.UTC)
    assert _instant_json()(instant) == "2026-03-29T01:30:05.000120Z"
    with timezone.override("Asia/Kathmandu"):
        assert _instant_json()(instant) == "2026-03-29T07:15:05.000120+05:45"
    settings.TIME_ZONE = "America/Santiago"
    assert _instant_json()(instant) == "2026-03-28T22:30:05.000120-03:00"
    settings.TIME_ZONE = "UTC"
    assert _instant_json()(instant) == "2026-03-29T01:30:05.000120Z"


def test_the_two_readings_of_a_clock_turned_back_are_two_instants():
    # They compare equal (same zone, fold ignored), so only instants in UTC are kept by
    # instants.iso; these two are written from scratch, each as itself.
    import zoneinfo

    from access_tokens.instants import iso

    new_york = zoneinfo.ZoneInfo("America/New_York")
    first = dt.datetime(2026, 11, 1, 1, 30, tzinfo=new_york)
    second = first.replace(fold=1)
    assert first == second
    assert iso(first) == "2026-11-01T05:30:00Z"
    assert iso(second) == "2026-11-01T06:30:00Z"
    assert iso(first, new_york) == "2026-11-01T01:30:00-04:00"
    assert iso(second, new_york) == "2026-11-01T01:30:00-05:00"


def test_created_representation_adds_the_raw_token_once(alice, make_token):
    token, raw = make_token(alice, name="new")
    token.token = raw
    fast = AccessTokenCreatedSerializer(token).data
    assert fast == generic(AccessTokenCreatedSerializer, token)
    assert list(fast) == AccessTokenCreatedSerializer.Meta.fields
    assert fast["token"] == raw


def test_it_follows_a_projects_own_datetime_format(alice, make_token, settings):
    # The fast ISO 8601 path stands aside when DRF is told to write dates another way.
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DATETIME_FORMAT": "%d/%m/%Y %H:%M"}
    for token in tokens_of_every_kind(alice, make_token):
        fast = AccessTokenSerializer(token).data
        assert fast == generic(AccessTokenSerializer, token), token.name
        assert "T" not in fast["created_at"] and "/" in fast["created_at"]


@pytest.mark.parametrize("zone", ["UTC", "America/Santiago", "Asia/Kathmandu"])
def test_instants_are_written_as_drf_writes_them(settings, zone):
    # In UTC the fast path converts with the fixed-offset zone instead of zoneinfo's: the
    # same text for values in any zone, with and without microseconds.
    import zoneinfo

    settings.TIME_ZONE = zone
    instant = dt.datetime(2026, 3, 29, 1, 30, 5, 120, tzinfo=dt.UTC)
    values = [
        instant,
        instant.replace(microsecond=0),
        instant.astimezone(zoneinfo.ZoneInfo("UTC")),
        instant.astimezone(zoneinfo.ZoneInfo("Europe/Paris")),
        instant.astimezone(dt.timezone(dt.timedelta(hours=-3, minutes=-30))),
        None,
    ]
    when = _instant_json()
    assert [when(v) for v in values] == [_DATETIME.to_representation(v) for v in values]
    if zone == "UTC":
        assert when(instant) == "2026-03-29T01:30:05.000120Z"
