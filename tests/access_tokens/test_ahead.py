"""The token's lookup sent ahead (access_tokens/ahead.py): which requests send it, and that an
answer sent ahead is the lookup's own answer, whatever else the connection does first.

On PostgreSQL the answers below come over the wire ahead of the lookup; on SQLite nothing is
sent ahead and the same answers come the usual way. The end-to-end behaviour on a real server
(a request finds its lookup on the wire; a refused request leaves nothing there; psycopg's
rollback; the server leaving before it answers) is tests/reliability/test_postgresql_connection.py,
which runs on PostgreSQL on both of CI's legs.
"""

import base64

import pytest
from django.db import connections
from django.test import RequestFactory
from django.urls import path
from django.utils import timezone

from access_tokens import ahead
from access_tokens.api import MeView
from access_tokens.authentication import AccessTokenAuthentication, SessionAuthentication
from access_tokens.listing import (
    FirstPageFinder,
    first_page_by_digest,
    orm_first_page_by_digest,
)
from access_tokens.lookup import orm_lookup, token_by_digest
from access_tokens.models import AccessToken

pytestmark = pytest.mark.django_db

factory = RequestFactory()


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def test_it_reads_the_token_from_each_scheme_the_authentication_reads(alice, make_token):
    _token, raw = make_token(alice)
    for header in (f"Bearer {raw}", f"AccessToken {raw}", f"bearer {raw}", _basic("-", raw)):
        assert ahead._presented(header)[1] == raw, header


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer kspat_short",
        "Token {raw}",  # DRF's authtoken scheme: not this app's
        "Bearer {raw} extra",
        "Bearer {bad}",  # the checksum does not match
        "Basic !!!",
        "Basic " + base64.b64encode(b"no colon").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
        "{basic_username}",  # the token as the username: refused, so never looked up
    ],
)
def test_it_reads_nothing_that_the_authentication_would_refuse(alice, make_token, header):
    _token, raw = make_token(alice)
    bad = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    header = header.format(raw=raw, bad=bad, basic_username=_basic(raw, "x"))
    assert ahead._presented(header)[1] is None


@pytest.mark.parametrize(
    ("method", "path", "scheme", "reads"),
    [
        ("GET", "/api/v1/me/", "bearer", True),
        ("GET", "/api/v1/me/", "basic", True),
        ("POST", "/api/v1/access-tokens/", "bearer", True),
        ("GET", "/api/v1/access-tokens/", "bearer", True),
        ("GET", "/api/v1/access-tokens/0b5e7f8e-8f5a-4c57-9d6f-2f7c1f1e3a10/", "bearer", True),
        # No token authentication there: revoking by value, a page, health, no route at all.
        ("POST", "/api/v1/access-tokens/revoke/", "bearer", False),
        ("GET", "/settings/access-tokens/", "bearer", False),
        ("GET", "/healthz", "bearer", False),
        ("GET", "/api/v1/no-such-thing/", "bearer", False),
    ],
)
def test_it_sends_only_for_views_that_read_tokens(method, path, scheme, reads):
    request = factory.generic(method, path)
    assert (ahead._reading_view(request, scheme) is not None) is reads


# A urlconf of this module's own: the same view class, given its authentication by as_view().
urlpatterns = [
    path("tokens/", MeView.as_view(authentication_classes=[AccessTokenAuthentication])),
    path("sessions/", MeView.as_view(authentication_classes=[SessionAuthentication])),
]


@pytest.mark.parametrize(("path", "reads"), [("/tokens/", True), ("/sessions/", False)])
def test_it_reads_the_authentication_that_as_view_gives(path, reads):
    request = factory.get(path)
    request.urlconf = __name__
    assert (ahead._reading_view(request, "bearer") is MeView) is reads


@pytest.mark.parametrize(
    ("method", "path", "own_query"),
    [
        ("GET", "/api/v1/access-tokens/", True),
        ("HEAD", "/api/v1/access-tokens/", True),
        ("GET", "/api/v1/access-tokens/?page=2", False),
        ("POST", "/api/v1/access-tokens/", False),
    ],
)
def test_the_list_first_page_sends_its_own_query(method, path, own_query):
    # The list's first page finds the token in its own query (listing.FirstPageFinder): that
    # query is the one sent ahead, and the finder the view then asks.
    request = factory.generic(method, path)
    view = ahead._reading_view(request, "bearer")
    assert isinstance(view.token_finder(request), FirstPageFinder) is own_query


def _send(raw: str):
    request = factory.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    return ahead.send_for(request, request.META["HTTP_AUTHORIZATION"])


def _fields(token: AccessToken) -> dict:
    return {
        **{f.attname: getattr(token, f.attname) for f in token._meta.concrete_fields},
        "user": {f.attname: getattr(token.user, f.attname) for f in token.user._meta.fields},
    }


def test_an_answer_sent_ahead_is_the_lookups_own_after_other_queries(alice, bob, make_token):
    token, raw = make_token(alice)
    connection = connections["default"]
    token_by_digest(token.digest)  # the connection is open and the statement prepared
    sent = _send(raw)
    # Sent on PostgreSQL only; on SQLite, which answers in-process, never.
    assert (sent is connection) is (connection.vendor == "postgresql")
    # Other queries and a write come first: each reads the answer off the wire before it runs.
    assert AccessToken.objects.count() == 1
    make_token(bob)
    found = token_by_digest(token.digest)
    assert _fields(found) == _fields(orm_lookup(token.digest))
    assert connection.__dict__.get("_ahead") is None  # taken, and gone


def test_an_answer_sent_ahead_for_one_token_is_never_given_for_another(alice, bob, make_token):
    token, raw = make_token(alice)
    other, _ = make_token(bob)
    token_by_digest(token.digest)
    _send(raw)
    found = token_by_digest(other.digest)
    assert (found.pk, found.user.username) == (other.pk, "bob")
    assert connections["default"].__dict__.get("_ahead") is None  # dropped, not kept for later
    assert token_by_digest(token.digest).pk == token.pk  # and asked for again


def test_nothing_is_sent_ahead_while_the_queries_are_watched(
    alice, make_token, django_assert_num_queries
):
    # A query count (or DEBUG's log) always sees the lookup go the usual way.
    token, raw = make_token(alice)
    token_by_digest(token.digest)
    with django_assert_num_queries(1):
        assert _send(raw) is None
        assert token_by_digest(token.digest).pk == token.pk


def test_the_list_first_page_sent_ahead_is_its_own_at_the_moment_it_was_sent(
    alice, bob, make_token
):
    tokens = [make_token(alice, name=f"t{n}") for n in range(3)]
    token, raw = tokens[0]
    connection = connections["default"]
    first_page_by_digest(token.digest, timezone.now())  # its statement is prepared
    request = factory.get("/api/v1/access-tokens/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    sent = ahead.send_for(request, request.META["HTTP_AUTHORIZATION"])
    assert (sent is connection) is (connection.vendor == "postgresql")
    finder = request.token_finder  # the one the view then asks
    assert (finder.sent_at is not None) is (connection.vendor == "postgresql")
    make_token(bob)  # a write first
    found = finder(token.digest, timezone.now())
    moment = finder.sent_at or finder.now
    assert finder.now == moment
    assert found.pk == token.pk
    assert [_fields(t) for t in finder.rows] == [
        _fields(t) for t in orm_first_page_by_digest(token.digest, moment)
    ]
    assert connection.__dict__.get("_ahead") is None
