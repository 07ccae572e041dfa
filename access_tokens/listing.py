"""
The token list's search, sort, filters and pages, for the API (and any list that wants them).

`search_sort_filter()` is plain ORM with no request in sight, so a browser list can apply the
same rules; `ListQuerySerializer` reads and checks the API's query parameters (an unknown
ordering or a page size of 1,000 is a 400, not silently something else); `TokenPagination`
answers `{"count", "next", "previous", "results"}`, with an RFC 8288 Link header when there is
more than one page.

The call nearly every client makes, the first page with no parameters, is a planned query
(lookup.py's Plan) rather than an ORM one built and compiled on every request. Called with a
token, it is the token's own lookup as well (`first_page_by_digest`, through
`FirstPageFinder`): the page of the tokens of whoever owns the token presented, each with its
owner joined, so the list costs the one round trip that authentication costs anyway. With a
session it is `first_page`. `orm_first_page` and `orm_first_page_by_digest` are their plain
twins, compared field by field in tests/access_tokens/test_lookup.py.
"""

from __future__ import annotations

import datetime as dt

from django.core.paginator import Page, Paginator
from django.db import connections, router
from django.db.models import F, QuerySet, Subquery
from django.db.models.functions import Lower
from django.utils import timezone
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.utils.urls import remove_query_param, replace_query_param

from .expiry import end_of_day_in
from .lookup import _DIGEST_PLACEHOLDER, Plan, PlannedQuery, token_by_digest
from .models import AccessToken, retention_cutoff

STATES = ("all", "active", "inactive")
PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
MAX_EXPIRING_WITHIN_DAYS = 3650

# Each column of the list, and how its empty values sort: a token that never expires sorts
# after every date (it expires "last"), one never used before every use (it was used "least
# recently"), a token still active after every one that stopped. The same on SQLite and
# PostgreSQL, whose own NULL orders differ.
_COLUMNS = {
    "name": ("name", None),
    "last_four": ("last_four", None),
    "scopes": ("scopes", None),
    "created_at": ("created_at", None),
    "expires_at": ("expires_at", "last"),
    "last_used_at": ("last_used_at", "first"),
    "revoked_at": ("revoked_at", "last"),
}
ORDERINGS = [name for column in _COLUMNS for name in (column, f"-{column}")]
DEFAULT_ORDERING = "-created_at"


def _order_by(ordering: str) -> list:
    column = ordering.lstrip("-")
    descending = ordering.startswith("-")
    field, nulls = _COLUMNS[column]
    expression = Lower(field) if column == "name" else F(field)
    if nulls is None:
        first = expression.desc() if descending else expression.asc()
    else:
        # Reversing the order reverses where the empty values go, too.
        nulls_last = (nulls == "last") != descending
        method = expression.desc if descending else expression.asc
        first = method(nulls_last=True) if nulls_last else method(nulls_first=True)
    # Ties (same name, never used) keep a fixed order, so that pages neither repeat nor skip.
    return [first, F("created_at").desc(), F("id").asc()]


def search_sort_filter(
    tokens: QuerySet,
    *,
    state: str = "all",
    search: str = "",
    ordering: str = DEFAULT_ORDERING,
    expiring_within_days: int | None = None,
    never_used: bool | None = None,
    now: dt.datetime | None = None,
) -> QuerySet:
    """Return `tokens` narrowed and ordered as the list's controls ask.

    state: "active", "inactive" or "all"; search: part of the name, in any case;
    expiring_within_days: active tokens that expire by the end of the day N days from today
    (0 = today); never_used: True for tokens never used, False for those used at least once.
    """
    now = now or timezone.now()
    if state == "active":
        tokens = tokens.active(now)
    elif state == "inactive":
        tokens = tokens.inactive(now)
    if search:
        tokens = tokens.filter(name__icontains=search)
    if expiring_within_days is not None:
        horizon = end_of_day_in(expiring_within_days, now=now)
        tokens = tokens.active(now).filter(expires_at__lte=horizon)
    if never_used is not None:
        tokens = tokens.filter(last_used_at__isnull=never_used)
    return tokens.order_by(*_order_by(ordering))


def default_list(user, now: dt.datetime) -> QuerySet:
    """Return every token the list shows `user` with no parameters, in its default order."""
    return search_sort_filter(user.access_tokens.retained(now), now=now)


def orm_first_page(user, now: dt.datetime) -> list[AccessToken]:
    """The default first page with the plain ORM: what `first_page` must give."""
    return list(default_list(user, now)[:PAGE_SIZE])


_OWNER = AccessToken._meta.get_field("user")


def _cutoff_value(connection, now: dt.datetime):
    """The retention cutoff at `now` as the compiler emits it on `connection`: what
    DateTimeField.get_db_prep_value gives for an aware datetime, without its checks for the
    values a field may be handed (a string, a date, a naive datetime), which cost more than
    the adaptation itself on every list request."""
    return connection.ops.adapt_datetimefield_value(retention_cutoff(now))


def _first_page_values(db: str, owner_pk, now: dt.datetime) -> dict:
    """The query's variable parameters, as the compiler emits them on database `db`."""
    connection = connections[db]
    return {
        "owner": _OWNER.get_db_prep_value(owner_pk, connection),
        "cutoff": _cutoff_value(connection, now),
    }


def plan_first_page(db: str, owner_pk, now: dt.datetime) -> Plan:
    """Plan the default first page on database `db` (the owner and the moment are any)."""
    tokens = AccessToken.objects.using(db).filter(user_id=owner_pk).retained(now)
    queryset = search_sort_filter(tokens, now=now)[:PAGE_SIZE]
    return Plan(queryset, db, _first_page_values(db, owner_pk, now))


class FirstPage(PlannedQuery):
    """`first_page(user, now)`: the tokens on the list's first page with no parameters (what
    `orm_first_page` gives), in one planned query."""

    def __init__(self, planner=plan_first_page) -> None:
        super().__init__(planner, "the token list's first page")

    def __call__(self, user, now: dt.datetime) -> list[AccessToken]:
        db = router.db_for_read(AccessToken, instance=user)
        planned = self.plan_for(db, user.pk, now)
        if planned is None:
            return orm_first_page(user, now)
        tokens = planned.run(_first_page_values(db, user.pk, now))
        for token in tokens:
            _OWNER.set_cached_value(token, user)  # as the related manager does
        return tokens


first_page = FirstPage()


# --- The first page and the token that asks for it, in one query ----------------------------


def _page_by_digest(db: str, digest: str, now: dt.datetime) -> QuerySet:
    """The default first page of the tokens of whoever owns the token with `digest`, each
    with that owner joined: the owner's own `default_list(owner, now)[:PAGE_SIZE]`.

    The owner is a subquery (`user_id = (SELECT user_id ... WHERE digest = ...)`), not a join
    through the owner to the token: PostgreSQL then reads the page straight off the (user,
    newest first) index and stops at the page's end, where the join's plan fetched every one
    of the owner's tokens and sorted them."""
    owner = AccessToken.objects.using(db).filter(digest=digest).order_by().values("user_id")
    tokens = AccessToken.objects.using(db).filter(user_id=Subquery(owner))
    tokens = tokens.retained(now).select_related("user")
    return search_sort_filter(tokens, now=now)[:PAGE_SIZE]


def orm_first_page_by_digest(digest: str, now: dt.datetime, using: str | None = None) -> list:
    """What `first_page_by_digest` must give, with the plain ORM."""
    return list(_page_by_digest(using or router.db_for_read(AccessToken), digest, now))


def _page_by_digest_values(connection, digest: str, now: dt.datetime) -> dict:
    """The query's variable parameters, as the compiler emits them on `connection` (a
    digest is a str, which a CharField hands on as it is)."""
    return {"digest": digest, "cutoff": _cutoff_value(connection, now)}


def plan_first_page_by_digest(db: str, now: dt.datetime) -> Plan:
    """Plan `_page_by_digest` on database `db` (the moment is any)."""
    queryset = _page_by_digest(db, _DIGEST_PLACEHOLDER, now)
    return Plan(queryset, db, _page_by_digest_values(connections[db], _DIGEST_PLACEHOLDER, now))


class FirstPageByDigest(PlannedQuery):
    """`first_page_by_digest(digest, now)`: the first page (as `orm_first_page_by_digest`
    gives it) of the tokens of the owner of the token with this digest, in one planned query;
    empty when no token has it, or its owner has no token the list shows."""

    def __init__(self, planner=plan_first_page_by_digest) -> None:
        super().__init__(planner, "the token list's first page by digest")

    def __call__(self, digest: str, now: dt.datetime) -> list[AccessToken]:
        db = router.db_for_read(AccessToken)
        planned = self.plan_for(db, now)
        if planned is None:
            return orm_first_page_by_digest(digest, now, db)
        # The plan's own connection: connections[db] again would cost a twentieth of the query.
        return planned.run(_page_by_digest_values(planned.connection, digest, now))


first_page_by_digest = FirstPageByDigest()


class FirstPageFinder:
    """A token finder (services.check_access_token's `find`) for a request to the list's
    first page: it finds the token presented and the first page of its owner's tokens in the
    same query, so the list costs the one round trip authentication costs anyway.

    The token is one of the page's rows whenever it is on that page (an owner with up to 25
    tokens, or a token among the newest 25); otherwise, or when no row came back, the usual
    lookup finds it (one query more, as before). `rows` is then the page, or None where the
    list must ask for it itself (no row came back, or the finder was never asked: a session,
    or another owner's request). `now` is the check's moment, which the list then shows the
    page at (None until the finder is asked): one clock for the request; where the query was
    sent ahead (`send_ahead`), the moment it was sent."""

    def __init__(self) -> None:
        self.now: dt.datetime | None = None
        self.rows: list[AccessToken] | None = None
        self.sent_at: dt.datetime | None = None

    def send_ahead(self, digest: str):
        """Send this finder's query for `digest` now, without waiting for its answer
        (ahead.py); return the connection it went on, or None if it was not sent. The
        moment it is sent becomes the moment the page is shown at (its retention cutoff is
        in the query)."""
        from .ahead import send

        now = timezone.now()
        db = router.db_for_read(AccessToken)
        planned = first_page_by_digest.plan_for(db, now)
        if planned is None or not send(
            planned, _page_by_digest_values(planned.connection, digest, now)
        ):
            return None
        self.sent_at = now
        return planned.connection

    def __call__(self, digest: str, now: dt.datetime) -> AccessToken | None:
        now = self.now = self.sent_at or now  # the query sent ahead is the one at its moment
        rows = first_page_by_digest(digest, now)
        self.rows = rows or None
        for row in rows:
            if row.digest == digest:
                return row
        return token_by_digest(digest)

    def page_for(self, user) -> list[AccessToken] | None:
        """The rows found, as page 1 of `user`'s list (each row's owner is `user`, as the
        related manager would set it), or None if they are not `user`'s."""
        if self.rows is None or self.rows[0].user_id != user.pk:
            return None
        for token in self.rows:
            _OWNER.set_cached_value(token, user)
        return self.rows


class ListQuerySerializer(serializers.Serializer):
    """The list's query parameters; the schema documents them from here."""

    state = serializers.ChoiceField(
        choices=STATES,
        default="all",
        error_messages={"invalid_choice": "Choose active, inactive or all."},
        help_text="active: tokens that work now; inactive: revoked or expired in the last "
        "ACCESS_TOKEN_INACTIVE_RETENTION_DAYS days; all (default): both.",
    )
    search = serializers.CharField(
        max_length=100,
        default="",
        allow_blank=True,
        trim_whitespace=True,
        help_text="Only tokens whose name contains this, in any case.",
    )
    ordering = serializers.ChoiceField(
        choices=ORDERINGS,
        default=DEFAULT_ORDERING,
        error_messages={
            "invalid_choice": f"Sort by one of {', '.join(_COLUMNS)}, with - for descending."
        },
        help_text="The column to sort by; a leading - sorts descending. Default -created_at "
        "(newest first). A token that never expires sorts after every expiry date, one never "
        "used before every use.",
    )
    expiring_within_days = serializers.IntegerField(
        min_value=0,
        max_value=MAX_EXPIRING_WITHIN_DAYS,
        required=False,
        help_text="Only active tokens that expire by the end of the day this many days from "
        "today (0: today). Tokens that never expire are not among them.",
    )
    never_used = serializers.BooleanField(
        required=False,
        help_text="true: only tokens never used; false: only tokens used at least once.",
    )
    page = serializers.IntegerField(min_value=1, default=1, help_text="Which page, from 1.")
    page_size = serializers.IntegerField(
        min_value=1,
        max_value=MAX_PAGE_SIZE,
        default=PAGE_SIZE,
        help_text=f"Tokens per page, 1 to {MAX_PAGE_SIZE} (default {PAGE_SIZE}).",
    )

    @classmethod
    def of(cls, query_params) -> ListQuerySerializer:
        # A plain dict, not the QueryDict: DRF reads a missing boolean in a QueryDict as
        # false (an unticked checkbox), which would filter on never_used=false.
        return cls(data=query_params.dict())


class FirstPageCountsItself(Paginator):
    """Django's paginator, minus the COUNT query when the first page is not full: most people
    hold fewer tokens than a page, and then the page's own rows are the count. A full first
    page is counted as usual, and later pages are Django's own."""

    def page(self, number):
        if str(number) != "1" or self.orphans:
            return super().page(number)
        rows = list(self.object_list[: self.per_page])
        if len(rows) < self.per_page:
            self.__dict__["count"] = len(rows)  # Paginator.count is a cached_property
        return self._get_page(rows, 1, self)  # a full page: `count` runs COUNT when asked


class _Counted:
    """What a paginator counts when it holds only a page: `count()` asks `counter`. (A
    method, not the callable itself: Paginator calls only a `count` that takes no arguments
    but self, and takes len() of anything else.)"""

    def __init__(self, counter) -> None:
        self.counter = counter

    def count(self) -> int:
        return self.counter()


def one_page(results: list) -> dict:
    """The body TokenPagination gives for page 1 when `results`, fewer than PAGE_SIZE, are the
    whole list (most callers hold fewer tokens than a page): nothing to count, no other page
    to link. Written as it is, it costs no paging objects, Django's or DRF's, which cost a
    tenth of what the list adds to a request."""
    return {"count": len(results), "next": None, "previous": None, "results": results}


def one_page_text(results: list[str]) -> str:
    """one_page's body as JSON text, from each result's own JSON text (api.token_text)."""
    return f'{{"count":{len(results)},"next":null,"previous":null,"results":[{",".join(results)}]}}'


class TokenPagination(PageNumberPagination):
    """Pages of 25 (`?page=`, `?page_size=` up to 100): the body is `{"count", "next",
    "previous", "results"}` and, when there is more than one page, an RFC 8288 Link header
    has first, prev, next and last."""

    django_paginator_class = FirstPageCountsItself
    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def first(self, rows: list, counter, request) -> None:
        """Take `rows`, already fetched, as page 1 of PAGE_SIZE, as paginate_queryset would;
        `counter()` counts the whole list, asked only when the page is full."""
        paginator = self.django_paginator_class(_Counted(counter), PAGE_SIZE)
        if len(rows) < PAGE_SIZE:
            paginator.__dict__["count"] = len(rows)  # Paginator.count is a cached_property
        self.request = request
        self.page = Page(rows, 1, paginator)
        if paginator.num_pages > 1 and self.template is not None:
            self.display_page_controls = True  # as paginate_queryset does (browsable API)

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        if self.page.paginator.num_pages == 1:
            # Everything fits on this page: no Link header, as GitHub's API leaves it out then
            # (the body's null next and previous say the same). Most callers hold fewer tokens
            # than a page, and their list then builds no URL at all.
            return response
        links = {
            "first": self.get_first_link(),
            "prev": self.get_previous_link(),
            "next": self.get_next_link(),
            "last": self.get_last_link(),
        }
        response["Link"] = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items() if url)
        return response

    def _link(self, number: int) -> str:
        """Return this request's URL for page `number` (without ?page= for the first)."""
        url = self.__dict__.get("_url")
        if url is None:
            url = self._url = self.request.build_absolute_uri()  # once, not once per link
        if "?" not in url:
            # DRF's helpers would take the URL apart and put it back unchanged.
            return url if number == 1 else f"{url}?{self.page_query_param}={number}"
        if number == 1:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, number)

    def get_first_link(self) -> str:
        return self._link(1)

    def get_last_link(self) -> str:
        return self._link(self.page.paginator.num_pages)

    def get_next_link(self) -> str | None:
        return self._link(self.page.next_page_number()) if self.page.has_next() else None

    def get_previous_link(self) -> str | None:
        return self._link(self.page.previous_page_number()) if self.page.has_previous() else None

    def get_paginated_response_schema(self, schema):
        described = super().get_paginated_response_schema(schema)
        described["required"] = ["count", "next", "previous", "results"]
        return described
