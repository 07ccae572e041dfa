"""The list's search, sort, filters and pages in the browser: the API's rules
(access_tokens/listing.py), in the query string, 25 rows a page."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from access_tokens import services
from access_tokens.models import AccessToken
from tests.access_tokens.conftest import LIST_URL, shows, text

pytestmark = pytest.mark.django_db


def _names(response) -> list[str]:
    return [row["token"].name for row in response.context["rows"]]


@pytest.fixture
def tokens(alice, make_token):
    """Four of alice's tokens, made a day apart (oldest first), and one of bob's."""
    now = timezone.now()
    made = {}
    for i, (name, days, used) in enumerate(
        [
            ("Laptop", 90, True),
            ("ci deploy", 5, False),
            ("Backup", None, True),
            ("CI nightly", 2, False),
        ]
    ):
        token, _ = make_token(
            alice, name=name, expires_at=services.end_of_day_in(days) if days else None
        )
        fields = {"created_at": now - dt.timedelta(days=10 - i)}
        if used:
            fields["last_used_at"] = now - dt.timedelta(hours=10 - i)
        AccessToken.objects.filter(pk=token.pk).update(**fields)
        made[name] = token
    return made


def test_it_lists_newest_first_by_default(alice_client, tokens):
    assert _names(alice_client.get(LIST_URL)) == ["CI nightly", "Backup", "ci deploy", "Laptop"]


def test_it_searches_names_in_any_case(alice_client, tokens, bob, make_token):
    make_token(bob, name="CI of bob")
    response = alice_client.get(LIST_URL, {"search": "  ci "})
    assert _names(response) == ["CI nightly", "ci deploy"]
    # The box keeps what was searched for.
    assert 'name="search" value="ci"' in text(response)


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("name", ["Backup", "ci deploy", "CI nightly", "Laptop"]),
        ("-name", ["Laptop", "CI nightly", "ci deploy", "Backup"]),
        ("created_at", ["Laptop", "ci deploy", "Backup", "CI nightly"]),
        ("expires_at", ["CI nightly", "ci deploy", "Laptop", "Backup"]),
        ("-expires_at", ["Backup", "Laptop", "ci deploy", "CI nightly"]),
        ("-last_used_at", ["Backup", "Laptop", "CI nightly", "ci deploy"]),
        ("last_used_at", ["CI nightly", "ci deploy", "Laptop", "Backup"]),
    ],
)
def test_it_sorts_by_each_column(alice_client, tokens, ordering, expected):
    assert _names(alice_client.get(LIST_URL, {"ordering": ordering})) == expected


def test_each_heading_links_its_sort_and_says_how_it_is_sorted(alice_client, tokens):
    body = text(alice_client.get(LIST_URL, {"ordering": "name"}))
    assert (
        '<th scope="col" aria-sort="ascending"><a class="sort" href="/settings/access-tokens/?ordering=-name">Name</a></th>'  # noqa: E501
        in body
    )
    assert '<a class="sort" href="/settings/access-tokens/">Created</a>' in body
    assert '<a class="sort" href="/settings/access-tokens/?ordering=expires_at">Expires</a>' in body
    assert (
        '<a class="sort" href="/settings/access-tokens/?ordering=-last_used_at">Last used</a>'
        in body
    )
    assert body.count("aria-sort=") == 1
    # The default (newest first) is sorted by "Created", descending.
    body = text(alice_client.get(LIST_URL))
    assert (
        '<th scope="col" aria-sort="descending"><a class="sort" href="/settings/access-tokens/?ordering=created_at">Created</a>'  # noqa: E501
        in body
    )


def test_it_filters_expiring_soon_and_never_used(alice_client, tokens):
    assert _names(alice_client.get(LIST_URL, {"filter": "expiring"})) == ["CI nightly", "ci deploy"]
    assert _names(alice_client.get(LIST_URL, {"filter": "unused"})) == ["CI nightly", "ci deploy"]
    services.record_access_token_use(tokens["ci deploy"], ip="192.0.2.1")
    assert _names(alice_client.get(LIST_URL, {"filter": "unused"})) == ["CI nightly"]
    response = alice_client.get(
        LIST_URL, {"filter": "expiring", "search": "deploy", "ordering": "name"}
    )
    assert _names(response) == ["ci deploy"]


def test_the_active_filter_keeps_the_inactive_section(alice, alice_client, tokens):
    services.delete_access_token(token=tokens["Laptop"], actor=alice)
    response = alice_client.get(LIST_URL)
    assert [t.name for t in response.context["inactive"]] == ["Laptop"]
    # The search narrows it too; the other filters are about active tokens only.
    assert alice_client.get(LIST_URL, {"search": "ci"}).context["inactive"] == []
    assert alice_client.get(LIST_URL, {"filter": "unused"}).context["inactive"] == []


def test_it_pages_at_25_rows(alice, alice_client):
    now = timezone.now()
    for i in range(30):
        token, _ = services.create_access_token(user=alice, name=f"token {i:02}")
        AccessToken.objects.filter(pk=token.pk).update(created_at=now - dt.timedelta(minutes=i))
    first = alice_client.get(LIST_URL, {"ordering": "name"})
    assert _names(first) == [f"token {i:02}" for i in range(25)]
    body = text(first)
    assert "Page 1 of 2" in body and "1–25 of 30" in body
    assert (
        '<a class="button" href="/settings/access-tokens/?ordering=name&amp;page=2" rel="next">Next →</a>'  # noqa: E501
        in body
    )
    assert '<span class="button disabled" aria-disabled="true">← Previous</span>' in body

    second = alice_client.get(LIST_URL, {"ordering": "name", "page": "2"})
    assert _names(second) == [f"token {i:02}" for i in range(25, 30)]
    body = text(second)
    assert "Page 2 of 2" in body and "26–30 of 30" in body
    assert (
        '<a class="button" href="/settings/access-tokens/?ordering=name" rel="prev">← Previous</a>'
        in body
    )
    # A page past the end or not a number shows the nearest page, not an error.
    assert _names(alice_client.get(LIST_URL, {"page": "9"}))[0] == "token 25"
    assert _names(alice_client.get(LIST_URL, {"page": "x"}))[0] == "token 00"


def test_a_short_list_has_no_pages(alice_client, tokens):
    assert 'class="pager"' not in text(alice_client.get(LIST_URL))


def test_it_says_when_nothing_matches(alice_client, tokens):
    response = alice_client.get(LIST_URL, {"search": "nothing like it"})
    assert response.status_code == 200
    assert shows(response, "No tokens match")
    assert shows(response, "No active token whose name contains “nothing like it”.")
    assert '<a class="button" href="/settings/access-tokens/">Clear search and filters</a>' in text(
        response
    )
    assert "No personal access tokens yet" not in text(response)
    response = alice_client.get(LIST_URL, {"filter": "expiring", "search": "Laptop"})
    assert shows(response, "No active token whose name contains “Laptop” expires within 7 days.")


def test_unknown_values_fall_back_to_the_defaults(alice_client, tokens):
    response = alice_client.get(
        LIST_URL, {"ordering": "digest", "filter": "revoked", "search": "x" * 500}
    )
    assert response.status_code == 200
    query = response.context["query"]
    assert (query.ordering, query.filter, len(query.search)) == ("-created_at", "active", 100)


def test_a_pasted_token_never_stays_in_the_address(alice, alice_client, tokens, make_token):
    _, raw = make_token(alice, name="secret")
    response = alice_client.get(LIST_URL, {"search": raw, "ordering": "name"})
    assert response.status_code == 302
    assert response["Location"] == f"{LIST_URL}?ordering=name"
    page = alice_client.get(response["Location"])
    assert shows(page, "That looks like an access token: search by name instead.")
    assert raw not in text(page)
    # The search box refuses one before it is sent, without JavaScript.
    assert re.search(r'<input id="token-search"[^>]*pattern="\(\?!', text(page))


def test_no_controls_before_the_first_token(alice_client):
    assert 'class="list-controls"' not in text(alice_client.get(LIST_URL))


def test_control_characters_in_the_search_are_ignored(alice_client, tokens):
    # PostgreSQL would refuse a NUL with an error; the page must not answer 500.
    response = alice_client.get(LIST_URL + "?search=ci%00%07")
    assert response.status_code == 200
    assert _names(response) == ["CI nightly", "ci deploy"]
