"""The planned queries (access_tokens/lookup.py: the token lookup, the list's first page) use
Django internals, so they must give exactly what the plain ORM query gives, field by field, on
every database the suite runs on; and if a future Django breaks a plan, the plain query takes
over instead of failing."""

import datetime as dt
import logging

import pytest
from django.db import connections, router
from django.db.models import Count, F
from django.utils import timezone

from access_tokens import services
from access_tokens.conf import token_settings
from access_tokens.listing import (
    PAGE_SIZE,
    FirstPage,
    FirstPageByDigest,
    FirstPageFinder,
    _page_by_digest,
    first_page,
    first_page_by_digest,
    orm_first_page,
    orm_first_page_by_digest,
)
from access_tokens.lookup import (
    DigestLookup,
    Plan,
    _converter,
    _undeclared,
    orm_lookup,
    token_by_digest,
)
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
    # The same zone object too (on PostgreSQL psycopg's own loader reads them; lookup.py).
    assert planned.last_used_at.tzinfo is plain.last_used_at.tzinfo
    assert planned.user.date_joined.tzinfo is plain.user.date_joined.tzinfo
    assert planned.user.is_staff is True and planned.user.is_active is True
    # Built as from_db builds them: saved rows of this database (a save() updates, never
    # inserts).
    for mine, theirs in ((planned, plain), (planned.user, plain.user)):
        assert (mine._state.adding, mine._state.db) == (False, theirs._state.db)


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


def test_both_plans_are_built_on_this_database(busy_token, alice):
    # A plan that could not be built falls back quietly to the right answers: make sure the
    # fast path is the one the other tests here compare.
    db = router.db_for_read(AccessToken)
    _token, raw = busy_token
    token_by_digest(services.token_digest(raw))
    first_page(alice, timezone.now())
    first_page_by_digest(services.token_digest(raw), timezone.now())
    assert isinstance(token_by_digest.plan_for(db), Plan)
    assert isinstance(first_page.plan_for(db), Plan)
    assert isinstance(first_page_by_digest.plan_for(db), Plan)
    if connections[db].vendor == "sqlite":
        # SQLite's driver is not asked to convert: every column comes back undeclared, and the
        # comparisons above show the plan's own converters give what the ORM gives.
        for plan in (token_by_digest, first_page, first_page_by_digest):
            assert plan.plan_for(db).fast_sql.startswith('SELECT +"')


@pytest.mark.django_db(transaction=True)
def test_each_thread_runs_its_plan_on_its_own_connection(alice, make_token):
    # A plan keeps the connection it was built on: the thread's own, as connections[db]
    # gives it there, and another thread's plan keeps that thread's.
    import threading

    db = router.db_for_read(AccessToken)
    token, raw = make_token(alice, name="threads")
    digest = services.token_digest(raw)
    assert token_by_digest(digest).pk == token.pk
    here = token_by_digest.plan_for(db)
    assert here.connection is connections[db]
    seen = []

    def elsewhere():
        try:
            found = token_by_digest(digest)
            there = token_by_digest.plan_for(db)
            seen.append((found.pk, there is here, there.connection is connections[db]))
            seen.append(there.connection is here.connection)
        finally:
            connections.close_all()

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert seen == [(token.pk, False, True), False]


# What SQLite hands back for a datetime column on the fast path (text), including text Django
# never writes there: each must come out as Django's own converter makes it, or fail as it does.
_SQLITE_DATETIME_TEXTS = [
    "2026-12-07 22:06:41.365856",  # what Django writes
    "2026-12-07 22:06:41",
    "2026-12-07T22:06:41.5",
    "2026-12-07 22:06",
    "2026-12-07",  # a date alone: read with "+00:00" it would come back naive
    "20261207",
    "2026-12-07 22:06:41+02:00",  # an offset of its own
    "2026-12-07 22:06:41Z",
    "2026-12-07 22:06:41,5",
    "2026-02-29 10:00:00",  # no such day
    "2026-12-07 24:00:00",
    None,
]


@pytest.mark.parametrize("db_zone", [None, "Europe/Paris"])
def test_sqlite_datetimes_come_out_as_djangos_converter_makes_them(db_zone):
    from django.db.models import DateTimeField
    from django.db.utils import ConnectionHandler

    # A SQLite connection of its own (never opened), so this runs on either test database.
    sqlite = ConnectionHandler(
        {
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": ":memory:",
                "TIME_ZONE": db_zone,
            }
        }
    )["default"]
    expression = DateTimeField()
    django_converter = sqlite.ops.convert_datetimefield_value
    ours = _converter([django_converter], expression, sqlite)
    for text in _SQLITE_DATETIME_TEXTS:
        try:
            expected = django_converter(text, expression, sqlite)
        except (ValueError, AttributeError) as refused:
            with pytest.raises(type(refused)):
                ours(text)
            continue
        got = ours(text)
        assert got == expected, text
        assert type(got) is type(expected), text
        if expected is not None:
            assert got.tzinfo == expected.tzinfo, text
            if expected.tzinfo is dt.UTC:
                assert got.tzinfo is dt.UTC, text  # the same zone object, not an equal one
            assert (got.fold, got.utcoffset()) == (expected.fold, expected.utcoffset()), text


def test_a_plain_select_list_is_undeclared_and_any_other_left_as_it_is():
    def compiled(queryset):
        compiler = queryset.query.get_compiler("default")
        sql, _params = compiler.as_sql()
        return sql, compiler.select

    sql, select = compiled(AccessToken.objects.filter(name="x"))
    undeclared = _undeclared(sql, select)
    assert undeclared.startswith('SELECT +"access_tokens_accesstoken"."id" AS "0", +"')
    assert f'AS "{len(select) - 1}" FROM ' in undeclared
    assert undeclared.endswith(sql[sql.index(" FROM ") :])
    aliased = compiled(AccessToken.objects.annotate(label=F("name")))
    assert _undeclared(*aliased) == aliased[0]
    counted = compiled(AccessToken.objects.values("user").annotate(n=Count("id")))
    assert _undeclared(*counted) == counted[0]


@pytest.fixture
def many_tokens(alice, bob, make_token):
    """alice's tokens in every state the list shows or hides, more than a page of them, with
    ties on created_at; and bob's, which her list must never show."""
    now = timezone.now()
    made = [make_token(alice, name=f"t{i:02}", expires_at=None)[0] for i in range(PAGE_SIZE + 3)]
    long_ago = now - dt.timedelta(days=token_settings.INACTIVE_RETENTION_DAYS + 1)
    lately = now - dt.timedelta(days=1)
    AccessToken.objects.filter(pk=made[0].pk).update(revoked_at=long_ago, revoked_reason="deleted")
    AccessToken.objects.filter(pk=made[1].pk).update(expires_at=long_ago)
    AccessToken.objects.filter(pk=made[2].pk).update(revoked_at=lately, revoked_reason="revoked")
    AccessToken.objects.filter(pk=made[3].pk).update(expires_at=lately)
    AccessToken.objects.filter(pk__in=[t.pk for t in made[4:9]]).update(created_at=now)
    AccessToken.objects.filter(pk=made[9].pk).update(
        last_used_at=now, last_used_ip="192.0.2.9", scopes="read_api self_rotate"
    )
    make_token(bob, name="bob's")
    return now


@pytest.mark.parametrize("keep", [PAGE_SIZE + 10, 7, 0])
def test_the_first_page_gives_exactly_what_the_orm_gives(alice, many_tokens, keep):
    # keep: how many of alice's tokens stay (a full page with more behind it, a short page,
    # none at all).
    for token in AccessToken.objects.filter(user=alice).order_by("created_at")[keep:]:
        token.delete()
    planned, plain = first_page(alice, many_tokens), orm_first_page(alice, many_tokens)
    assert [_fields(t) for t in planned] == [_fields(t) for t in plain]
    assert len(planned) == min(PAGE_SIZE, len(plain)) and len(plain) <= PAGE_SIZE
    names = {t.name for t in planned}
    assert "bob's" not in names
    if keep > PAGE_SIZE:
        assert "t00" not in names and "t01" not in names  # past the retention
    if planned:
        assert isinstance(planned[0].pk, type(plain[0].pk))
        assert planned[0].created_at.tzinfo is not None


def test_the_first_page_costs_one_query_and_knows_its_owner(
    alice, many_tokens, django_assert_num_queries
):
    with django_assert_num_queries(1):
        tokens = first_page(alice, many_tokens)
        assert {t.user.get_username() for t in tokens} == {"alice"}


def test_a_plan_refuses_values_it_cannot_find_or_tell_apart():
    db = router.db_for_read(AccessToken)
    queryset = AccessToken.objects.filter(name="same", description="same")
    with pytest.raises(ValueError, match="Not all slots"):
        Plan(queryset, db, {"name": "other"})
    with pytest.raises(ValueError, match="same value"):
        Plan(queryset, db, {"name": "same", "description": "same"})
    plan = Plan(queryset, db, {"name": "same"})
    assert len(plan.slots["name"]) == 2  # both parameters take the one value


@pytest.fixture
def caller(alice, many_tokens, make_token):
    """The digest of a token of alice's made after many_tokens, so on her first page."""
    _token, raw = make_token(alice, name="caller", expires_at=None)
    return services.token_digest(raw)


@pytest.mark.parametrize("keep", [PAGE_SIZE + 10, 7, 1])
def test_the_first_page_by_digest_gives_exactly_what_the_orm_gives(
    alice, many_tokens, caller, keep
):
    for token in AccessToken.objects.filter(user=alice).order_by("-created_at")[keep:]:
        token.delete()
    planned = first_page_by_digest(caller, many_tokens)
    plain = orm_first_page_by_digest(caller, many_tokens)
    assert [_fields(t) for t in planned] == [_fields(t) for t in plain]
    assert [_fields(t.user) for t in planned] == [_fields(t.user) for t in plain]
    # The same page the owner's own list gives.
    owners = orm_first_page(alice, many_tokens)
    assert [_fields(t) for t in planned] == [_fields(t) for t in owners]
    assert len(planned) == min(PAGE_SIZE, keep)
    assert caller in {t.digest for t in planned}
    assert planned[0].created_at.tzinfo is not None
    assert isinstance(planned[0].pk, type(plain[0].pk))


def _plan_of(queryset) -> str:
    """The database's own plan for `queryset`; on PostgreSQL with sorting priced out, so a plan
    that still sorts has no other way to give the rows in order."""
    connection = connections[queryset.db]
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_sort = off")  # the test's transaction only
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(" ".join(map(str, row)) for row in cursor.fetchall())


def test_the_first_page_by_digest_is_read_in_index_order_not_sorted(alice, many_tokens, caller):
    # The owner comes from a subquery on the digest, so the page is read off the (owner,
    # newest first) index and stops at its end; a join back through the owner to the token
    # made PostgreSQL fetch every token of the owner and sort them.
    plan = _plan_of(_page_by_digest(router.db_for_read(AccessToken), caller, many_tokens))
    assert "token_user_created_id_idx" in plan
    assert "Sort" not in plan and "TEMP B-TREE" not in plan  # PostgreSQL's, SQLite's words


def test_the_first_page_by_digest_is_empty_for_an_unknown_digest(many_tokens):
    digest = services.token_digest(services.generate_token())
    assert first_page_by_digest(digest, many_tokens) == []
    assert orm_first_page_by_digest(digest, many_tokens) == []


@pytest.mark.parametrize(
    ("planned", "plain", "what"),
    [
        (FirstPage, orm_first_page, "the token list's first page "),
        (FirstPageByDigest, orm_first_page_by_digest, "the token list's first page by digest"),
    ],
)
def test_a_first_page_falls_back_to_the_orm_when_it_cannot_be_planned(
    alice, many_tokens, caller, caplog, planned, plain, what
):
    def broken_planner(db, *args):
        raise ValueError("Not all slots are among the query's parameters: ['cutoff'].")

    page = planned(planner=broken_planner)
    key = alice if planned is FirstPage else caller  # whose page: an owner, or a digest's
    with caplog.at_level(logging.WARNING, logger="access_tokens.lookup"):
        first, second = page(key, many_tokens), page(key, many_tokens)
    expected = [_fields(t) for t in plain(key, many_tokens)]
    assert [_fields(t) for t in first] == [_fields(t) for t in second] == expected
    warnings = [r for r in caplog.records if f"Could not plan {what}" in r.message]
    assert len(warnings) == 1  # once, not on every request


def test_the_finder_finds_the_token_on_its_page_in_one_query(
    alice, bob, many_tokens, caller, django_assert_num_queries
):
    finder = FirstPageFinder()
    with django_assert_num_queries(1):
        token = finder(caller, many_tokens)
        assert token.user.get_username() == "alice"
    assert finder.now is many_tokens
    assert _fields(token) == _fields(orm_lookup(caller))
    page = finder.page_for(alice)
    assert any(t is token for t in page)
    assert [_fields(t) for t in page] == [_fields(t) for t in orm_first_page(alice, many_tokens)]
    assert all(t.user is alice for t in page)
    assert finder.page_for(bob) is None  # rows of another owner are never her list


def test_the_finder_looks_up_a_token_that_is_not_on_its_page(
    alice, many_tokens, make_token, django_assert_num_queries
):
    old, raw = make_token(alice, name="old", expires_at=None)
    AccessToken.objects.filter(pk=old.pk).update(created_at=many_tokens - dt.timedelta(days=9))
    finder = FirstPageFinder()
    digest = services.token_digest(raw)
    with django_assert_num_queries(2):
        token = finder(digest, many_tokens)
    assert token.pk == old.pk and _fields(token) == _fields(orm_lookup(digest))
    page = finder.page_for(alice)
    assert len(page) == PAGE_SIZE and old.pk not in {t.pk for t in page}
    assert [_fields(t) for t in page] == [_fields(t) for t in orm_first_page(alice, many_tokens)]


@pytest.mark.parametrize("stopped", ["long ago", "unknown"])
def test_the_finder_with_no_rows_leaves_the_page_to_the_list(alice, make_token, stopped):
    # A token revoked past the retention is on no list (its owner here has no other), and
    # an unknown digest finds nothing: the usual lookup answers, and there is no page.
    now = timezone.now()
    token, raw = make_token(alice, name="gone")
    if stopped == "long ago":
        long_ago = now - dt.timedelta(days=token_settings.INACTIVE_RETENTION_DAYS + 1)
        AccessToken.objects.filter(pk=token.pk).update(revoked_at=long_ago)
    else:
        raw = services.generate_token()
    finder = FirstPageFinder()
    found = finder(services.token_digest(raw), now)
    assert (found is None) == (stopped == "unknown")
    if found is not None:
        assert found.pk == token.pk and found.revoked_at is not None
    assert finder.page_for(alice) is None


def test_the_cutoff_is_sent_as_the_field_would_send_it():
    from django.db import connections

    from access_tokens.listing import _cutoff_value
    from access_tokens.models import retention_cutoff

    connection = connections[router.db_for_read(AccessToken)]
    field = AccessToken._meta.get_field("revoked_at")
    now = timezone.now()
    expected = field.get_db_prep_value(retention_cutoff(now), connection)
    assert _cutoff_value(connection, now) == expected
    assert type(_cutoff_value(connection, now)) is type(expected)
