"""The planned token lookup (access_tokens/lookup.py) uses Django internals, so it must give
exactly what the plain ORM query gives, field by field, on every database the suite runs on;
and if a future Django breaks the plan, the plain query takes over instead of failing."""

import datetime as dt
import logging

import pytest
from django.utils import timezone

from access_tokens import services
from access_tokens.lookup import DigestLookup, orm_lookup, token_by_digest
from access_tokens.models import AccessToken

pytestmark = pytest.mark.django_db


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


@pytest.fixture
def busy_token(alice, bob, make_token):
    """A token with every kind of column filled: UUIDs (its own, its parent's, the rotated-
    from), datetimes, an address, booleans on the joined user."""
    parent, _ = make_token(alice, name="parent", expires_at=None)
    token, raw = make_token(
        alice,
        name="ü name",
        description="line one\nline two",
        scopes=["read_api", "self_rotate"],
        expires_at=timezone.now() + dt.timedelta(days=3),
    )
    AccessToken.objects.filter(pk=token.pk).update(
        created_by_token=parent,
        last_used_at=timezone.now(),
        last_used_ip="2001:db8::7",
        revoked_at=timezone.now(),
        revoked_by=bob,
        revoked_reason="deleted",
    )
    alice.is_staff = True
    alice.last_login = timezone.now()
    alice.save()
    return token, raw


def test_it_gives_exactly_what_the_orm_gives(busy_token):
    token, raw = busy_token
    digest = services.token_digest(raw)
    planned, plain = token_by_digest(digest), orm_lookup(digest)
    assert planned is not None and plain is not None
    assert _fields(planned) == _fields(plain)
    assert _fields(planned.user) == _fields(plain.user)
    # The converters ran: Python types, not what the driver hands back.
    assert isinstance(planned.pk, type(plain.pk))
    assert isinstance(planned.created_by_token_id, type(plain.created_by_token_id))
    assert planned.last_used_at.tzinfo is not None
    assert planned.user.is_staff is True and planned.user.is_active is True


def test_it_joins_the_owner_in_the_same_query(busy_token, django_assert_num_queries):
    _token, raw = busy_token
    with django_assert_num_queries(1):
        token = token_by_digest(services.token_digest(raw))
        assert token.user.get_username() == "alice"


def test_it_gives_none_for_an_unknown_digest_like_the_orm():
    digest = services.token_digest(services.generate_token())
    assert token_by_digest(digest) is None
    assert orm_lookup(digest) is None


def test_it_falls_back_to_the_orm_when_the_plan_cannot_be_built(busy_token, caplog):
    def broken_planner(db):
        raise AttributeError("'SQLCompiler' object has no attribute 'klass_info'")

    lookup = DigestLookup(planner=broken_planner)
    token, raw = busy_token
    digest = services.token_digest(raw)
    with caplog.at_level(logging.WARNING, logger="access_tokens.lookup"):
        first = lookup(digest)
        second = lookup(digest)
    assert _fields(first) == _fields(orm_lookup(digest))
    assert _fields(second.user) == _fields(orm_lookup(digest).user)
    warnings = [r for r in caplog.records if "Could not plan the token lookup" in r.message]
    assert len(warnings) == 1  # once, not on every request
