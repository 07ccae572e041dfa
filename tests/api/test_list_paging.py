"""GET /api/v1/access-tokens/ pages (25 to a page, RFC 8288 Link header), searches by name,
sorts by each column and filters (state, expiring soon, never used)."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from access_tokens import services
from access_tokens.models import AccessToken
from tests.api.headers import basic

pytestmark = pytest.mark.django_db

URL = "/api/v1/access-tokens/"
BASE = "http://testserver/api/v1/access-tokens/"


@pytest.fixture
def get(api_client, alice_token):
    _token, raw = alice_token

    def get(query: str = ""):
        return api_client.get(URL + query, HTTP_AUTHORIZATION=f"Bearer {raw}")

    return get


def _links(r) -> dict[str, str]:
    """Return the Link header as {rel: url}."""
    return {rel: url for url, rel in re.findall(r'<([^>]*)>; rel="([a-z]+)"', r.get("Link", ""))}


def _names(r) -> list[str]:
    assert r.status_code == 200, r.json()
    return [t["name"] for t in r.json()["results"]]


def test_it_pages_at_25_with_next_previous_and_link(alice, make_token, get):
    for i in range(59):
        make_token(alice, name=f"t{i:02}")  # with alice's own "laptop": 60 tokens
    first = get()
    body = first.json()
    assert body["count"] == 60
    assert len(body["results"]) == 25
    assert body["next"] == f"{BASE}?page=2"
    assert body["previous"] is None
    assert _links(first) == {"first": BASE, "next": f"{BASE}?page=2", "last": f"{BASE}?page=3"}
    second = get("?page=2")
    assert second.json()["previous"] == BASE
    assert _links(second) == {
        "first": BASE,
        "prev": BASE,
        "next": f"{BASE}?page=3",
        "last": f"{BASE}?page=3",
    }
    last = get("?page=3")
    assert len(last.json()["results"]) == 10
    assert last.json()["next"] is None
    assert _links(last) == {"first": BASE, "prev": f"{BASE}?page=2", "last": f"{BASE}?page=3"}


def test_following_next_visits_every_token_once_even_among_ties(alice, make_token, get):
    # Fifty tokens with one name and none used (alice's laptop, used, is filtered out): the
    # sort has ties everywhere, yet pages neither repeat nor skip a token.
    made = {str(make_token(alice, name="same")[0].id) for _ in range(50)}
    seen = []
    query = "?ordering=name&page_size=7&never_used=true"
    while query is not None:
        r = get(query)
        seen += [t["id"] for t in r.json()["results"]]
        following = r.json()["next"]
        assert following is None or following.startswith(BASE)
        query = following.removeprefix(BASE) if following else None
    assert len(seen) == len(set(seen)) == 50
    assert made == set(seen)


def test_it_keeps_the_other_parameters_in_its_links(alice, make_token, get):
    for i in range(4):
        make_token(alice, name=f"deploy {i}")
    r = get("?search=deploy&ordering=-name&page_size=3&state=active")
    assert _names(r) == ["deploy 3", "deploy 2", "deploy 1"]
    # DRF writes the parameters of its links in alphabetical order.
    assert _links(r)["next"] == (
        f"{BASE}?ordering=-name&page=2&page_size=3&search=deploy&state=active"
    )
    assert r.json()["count"] == 4


def test_an_empty_list_is_one_empty_page(api_client, alice, make_token):
    _token, raw = make_token(alice, name="only")
    r = api_client.get(f"{URL}?search=nothing", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.json() == {"count": 0, "next": None, "previous": None, "results": []}
    assert "Link" not in r


@pytest.mark.parametrize("query", ["", "?state=all", "?page=1&page_size=2"])
def test_a_list_that_fits_on_one_page_has_no_link_header(alice, make_token, get, query):
    # As GitHub's API: the Link header only when there is another page to go to. The first
    # page without parameters (planned) and with them (DRF's paginator) alike.
    make_token(alice, name="second")  # with alice's own "laptop": two, one page of 25 or 2
    r = get(query)
    assert r.json()["count"] == 2 and r.json()["next"] is None
    assert "Link" not in r
    make_token(alice, name="third")
    r = get(query)
    if "page_size=2" in query:  # now two pages of two
        assert _links(r) == {
            "first": f"{BASE}?page_size=2",
            "next": f"{BASE}?page=2&page_size=2",
            "last": f"{BASE}?page=2&page_size=2",
        }
    else:
        assert "Link" not in r


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("?page=0", "page", "Ensure this value is greater than or equal to 1."),
        ("?page=two", "page", "A valid integer is required."),
        ("?page_size=0", "page_size", "Ensure this value is greater than or equal to 1."),
        ("?page_size=101", "page_size", "Ensure this value is less than or equal to 100."),
        ("?state=deleted", "state", "Choose active, inactive or all."),
        (
            "?ordering=owner",
            "ordering",
            "Sort by one of name, last_four, scopes, created_at, expires_at, last_used_at, "
            "revoked_at, with - for descending.",
        ),
        ("?expiring_within_days=-1", "expiring_within_days", None),
        ("?expiring_within_days=soon", "expiring_within_days", "A valid integer is required."),
        ("?never_used=perhaps", "never_used", "Must be a valid boolean."),
        ("?search=" + "x" * 101, "search", "Ensure this field has no more than 100 characters."),
    ],
)
def test_it_refuses_bad_parameters_rather_than_guess(get, query, field, message):
    r = get(query)
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "invalid"
    assert list(body) == ["detail", "code", field]
    if message:
        assert body[field] == [message]
        assert body["detail"] == f"{field}: {message}"


def test_a_page_past_the_last_is_not_found(get):
    r = get("?page=2")
    assert r.status_code == 404
    assert r.json() == {"detail": "Invalid page.", "code": "not_found"}


def test_it_searches_names_in_any_case_and_takes_wildcards_literally(alice, make_token, get):
    for name in ("deploy-prod", "Deploy staging", "redeploy", "ci", "100% done", "a_b"):
        make_token(alice, name=name)
    assert sorted(_names(get("?search=DEPLOY"))) == ["Deploy staging", "deploy-prod", "redeploy"]
    assert _names(get("?search=%25")) == ["100% done"]
    assert _names(get("?search=_")) == ["a_b"]
    assert _names(get("?search=%20%20ci%20")) == ["ci"]  # trimmed


def _set(token, **fields):
    AccessToken.objects.filter(pk=token.pk).update(**fields)


@pytest.fixture
def columns(alice, alice_token, make_token):
    """Four more tokens whose every column differs, some empty (never expires, never used)."""
    now = timezone.now()
    laptop, _raw = alice_token
    _set(laptop, created_at=now - dt.timedelta(days=9), last_used_at=now, last_four="z999")
    made = {}
    for i, (name, scopes, expires, used) in enumerate(
        [
            ("bravo", ["read_api"], 3, 2),
            ("Alpha", ["api"], None, None),
            ("charlie", ["read_user"], 1, 5),
            ("delta", ["self_rotate"], 10, None),
        ]
    ):
        token, _ = make_token(
            alice,
            name=name,
            scopes=scopes,
            expires_at=None if expires is None else now + dt.timedelta(days=expires),
        )
        _set(
            token,
            created_at=now - dt.timedelta(days=8 - i),
            last_used_at=None if used is None else now - dt.timedelta(days=used),
            last_four=f"{'wxyz'[i]}000",
        )
        made[name] = token
    return made


@pytest.mark.parametrize(
    ("ordering", "names"),
    [
        ("name", ["Alpha", "bravo", "charlie", "delta", "laptop"]),
        ("-name", ["laptop", "delta", "charlie", "bravo", "Alpha"]),
        ("created_at", ["laptop", "bravo", "Alpha", "charlie", "delta"]),
        ("-created_at", ["delta", "charlie", "Alpha", "bravo", "laptop"]),
        # Never expiring sorts after every date; a tie goes to the newer token.
        ("expires_at", ["charlie", "bravo", "delta", "Alpha", "laptop"]),
        ("-expires_at", ["Alpha", "laptop", "delta", "bravo", "charlie"]),
        # Never used sorts before every use.
        ("last_used_at", ["delta", "Alpha", "charlie", "bravo", "laptop"]),
        ("-last_used_at", ["laptop", "bravo", "charlie", "delta", "Alpha"]),
        ("scopes", ["Alpha", "laptop", "bravo", "charlie", "delta"]),
        ("-scopes", ["delta", "charlie", "bravo", "Alpha", "laptop"]),
    ],
)
def test_it_sorts_by_each_column_the_same_on_every_database(get, columns, ordering, names):
    assert _names(get(f"?ordering={ordering}")) == names


def test_it_sorts_by_last_four_and_when_it_stopped(alice, get, columns):
    services.delete_access_token(token=columns["bravo"], actor=alice)
    services.delete_access_token(token=columns["charlie"], actor=alice)
    _set(columns["charlie"], revoked_at=timezone.now() - dt.timedelta(hours=1))
    assert _names(get("?ordering=revoked_at"))[:2] == ["charlie", "bravo"]
    assert _names(get("?ordering=-revoked_at"))[3:] == ["bravo", "charlie"]
    assert _names(get("?ordering=last_four")) == ["bravo", "Alpha", "charlie", "delta", "laptop"]


def test_it_filters_tokens_expiring_within_some_days(alice, get, columns):
    services.delete_access_token(token=columns["charlie"], actor=alice)  # no longer expiring
    expired, _ = services.create_access_token(user=alice, name="expired")
    _set(expired, expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert _names(get("?expiring_within_days=7&ordering=expires_at")) == ["bravo"]
    assert _names(get("?expiring_within_days=30&ordering=expires_at")) == ["bravo", "delta"]
    assert _names(get("?expiring_within_days=0")) == []


def test_it_filters_tokens_never_used(get, columns):
    assert sorted(_names(get("?never_used=true"))) == ["Alpha", "delta"]
    assert sorted(_names(get("?never_used=false"))) == ["bravo", "charlie", "laptop"]
    assert len(_names(get())) == 5


def test_filters_combine(alice, get, columns):
    services.delete_access_token(token=columns["delta"], actor=alice)
    assert _names(get("?state=inactive&never_used=true")) == ["delta"]
    assert _names(get("?state=active&never_used=true")) == ["Alpha"]
    assert _names(get("?state=active&search=a&ordering=name")) == [
        "Alpha",
        "bravo",
        "charlie",
        "laptop",
    ]


def test_a_page_costs_the_same_few_queries_however_many_tokens(
    alice, make_token, get, django_assert_num_queries
):
    get()  # last_used_at written: from now on authentication is one read
    # The token and the first page come in one query (listing.FirstPageFinder), and a page
    # that is not full is its own count. A full one (25 rows) may have more behind it, so it
    # is counted: two queries. At 40 the calling token (alice's oldest) is not on the first
    # page, so it is looked up on its own: three.
    for count, queries in ((1, 1), (24, 1), (25, 2), (40, 3)):
        while alice.access_tokens.count() < count:
            make_token(alice, name="t")
        with django_assert_num_queries(queries):
            response = get()
        assert response.status_code == 200
        assert response.json()["count"] == count
        assert len(response.json()["results"]) == min(count, 25)
        assert (response.json()["next"] is None) == (count <= 25)
        assert ("Link" in response) == (count > 25)
    with django_assert_num_queries(3):
        second = get("?page=2")
    assert second.json()["count"] == 40 and len(second.json()["results"]) == 15


def test_a_first_page_that_counts_itself_agrees_with_djangos_count(alice, make_token, get):
    for count in (1, 7, 24, 25, 26):  # alice's own token is the first
        while alice.access_tokens.count() < count:
            make_token(alice, name="t")
        for query in ("", "?page_size=5", "?page=1&page_size=100", "?search=t"):
            body = get(query).json()
            assert body["count"] == count, (count, query)
            size = 5 if "page_size=5" in query else 100 if "100" in query else 25
            assert len(body["results"]) == min(count, size)
            assert (body["next"] is None) == (count <= size)


def test_a_list_without_parameters_means_every_parameters_default():
    # The list skips reading parameters when none are sent and calls search_sort_filter with
    # its own defaults: they must be the parameters' documented defaults.
    import inspect

    from access_tokens.listing import ListQuerySerializer, search_sort_filter

    query = ListQuerySerializer(data={})
    assert query.is_valid(), query.errors
    sent = {k: v for k, v in query.validated_data.items() if k not in ("page", "page_size")}
    defaults = {
        name: p.default
        for name, p in inspect.signature(search_sort_filter).parameters.items()
        if p.kind is p.KEYWORD_ONLY and name != "now"
    }
    assert sent == {k: v for k, v in defaults.items() if v is not None}
    assert set(defaults) == set(ListQuerySerializer().fields) - {"page", "page_size"}


@pytest.mark.parametrize("query", ["", "?page=1"])
def test_the_browsable_api_gets_page_controls_only_when_there_are_pages(
    alice, make_token, get, query
):
    # The list without parameters takes a planned first page (listing.py): it tells DRF's
    # browsable API about further pages just as the paginated queryset does.
    r = get(query)
    assert r.renderer_context["view"].paginator.display_page_controls is False
    for i in range(30):
        make_token(alice, name=f"t{i}")
    r = get(query)
    assert r.renderer_context["view"].paginator.display_page_controls is True


@pytest.mark.parametrize("count", [1, 24, 25, 26, 40])
def test_the_page_fetched_with_the_token_is_the_page_the_queryset_gives(
    alice, make_token, get, count
):
    # Without parameters the token's own query brings the first page (listing.
    # FirstPageFinder); with ?page=1 the paginated queryset does. From 26 on, the calling
    # token (alice's oldest) is not on the first page.
    get()  # its last use written, so both calls below see the same row
    while alice.access_tokens.count() < count:
        make_token(alice, name=f"t{alice.access_tokens.count()}")
    folded, plain = get(), get("?page=1")
    assert folded.status_code == plain.status_code == 200
    assert folded.json() == plain.json()
    assert folded.get("Link") == plain.get("Link")  # none up to 25
    assert len(folded.json()["results"]) == min(count, 25)


def test_the_calling_tokens_row_shows_the_use_it_just_made(alice_token, get):
    token, _ = alice_token
    assert token.last_used_at is None
    first = get().json()["results"]  # this request writes its last use
    (row,) = first
    assert row["last_used_at"] is not None and row["last_used_ip"] == "127.0.0.1"
    assert get("?page=1").json()["results"] == first  # what the database now holds


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"revoked_at": timezone.now() - dt.timedelta(hours=1)}, "token_revoked"),
        ({"expires_at": timezone.now() - dt.timedelta(hours=1)}, "token_expired"),
    ],
)
def test_a_token_on_its_own_page_is_still_checked(alice_token, get, change, code):
    # Stopped an hour ago, the token is still on its owner's list, so the page query finds
    # it; the check refuses it all the same.
    token, _ = alice_token
    AccessToken.objects.filter(pk=token.pk).update(**change)
    r = get()
    assert r.status_code == 401
    assert r.json()["code"] == code
    assert "results" not in r.json()


def test_a_token_of_an_inactive_owner_gets_no_page(alice, get):
    alice.is_active = False
    alice.save()
    r = get()
    assert r.status_code == 401 and r.json()["code"] == "owner_inactive"


@pytest.mark.parametrize("scheme", ["AccessToken", "Bearer", "Basic"])
def test_every_way_to_present_the_token_gets_the_page_in_one_query(
    alice, alice_token, make_token, api_client, django_assert_num_queries, scheme
):
    _token, raw = alice_token
    make_token(alice, name="second")
    header = basic(raw) if scheme == "Basic" else f"{scheme} {raw}"
    api_client.get(URL, HTTP_AUTHORIZATION=header)  # its last use written
    with django_assert_num_queries(1):
        r = api_client.get(URL, HTTP_AUTHORIZATION=header)
    assert [row["name"] for row in r.json()["results"]] == ["second", "laptop"]
    with django_assert_num_queries(1):
        head = api_client.head(URL, HTTP_AUTHORIZATION=header)
    assert head.status_code == 200 and "Link" not in head and "Link" not in r  # one page


def test_a_session_gets_the_same_page_as_a_token(alice, alice_token, get):
    from rest_framework.test import APIClient

    get()  # the token's last use written, so both answers below show the same row
    browser = APIClient()
    browser.force_login(alice)
    by_session = browser.get(URL)
    assert by_session.status_code == 200
    assert by_session.json() == get().json()
