"""The token list and change page in /admin/: columns, search, filters, edits."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from access_tokens.models import AccessToken, AccessTokenEvent

from .conftest import TOKENS_URL, ago, ahead, change_url, set_times

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    """The token names in the change list, in order."""
    return re.findall(r'<th class="field-display_name"><a href="[^"]+">([^<]*)</a>', response.text)


def test_it_lists_tokens_for_staff(olivia_client, alice, make_token):
    token, raw = make_token(alice, name="CI deploy", expires_at=ahead(days=10))
    r = olivia_client.get(TOKENS_URL)
    assert r.status_code == 200
    assert names(r) == ["CI deploy"]
    assert f"kspat_…{raw[-4:]}" in r.text
    assert ">alice</a>" in r.text
    assert '<td class="field-scopes">api</td>' in r.text
    assert '<td class="field-status">active</td>' in r.text
    assert "Find a leaked token" in r.text


def test_it_shows_expired_status(olivia_client, alice, make_token):
    token, _raw = make_token(alice, name="old")
    set_times(token, expires_at=ago(days=1))
    r = olivia_client.get(TOKENS_URL)
    assert '<td class="field-status">expired</td>' in r.text


def test_it_refuses_non_staff(alice_client, alice, make_token):
    make_token(alice, name="CI deploy")
    r = alice_client.get(TOKENS_URL)
    assert r.status_code == 302
    assert r["Location"].startswith("/admin/login/")


def test_it_refuses_anonymous(client):
    r = client.get(TOKENS_URL)
    assert r.status_code == 302
    assert r["Location"].startswith("/admin/login/")


def test_it_refuses_staff_without_permission(client, staff_without_perms, alice, make_token):
    make_token(alice, name="CI deploy")
    client.force_login(staff_without_perms)
    assert client.get(TOKENS_URL).status_code == 403
    assert "CI deploy" not in client.get("/admin/").text


def test_it_has_no_add_button(olivia_client):
    r = olivia_client.get(TOKENS_URL)
    assert "/admin/access_tokens/accesstoken/add/" not in r.text
    assert olivia_client.get(f"{TOKENS_URL}add/").status_code == 403


def test_it_offers_revoke_but_not_delete(olivia_client, alice, make_token):
    token, _raw = make_token(alice)
    r = olivia_client.get(TOKENS_URL)
    assert 'value="revoke_selected"' in r.text
    assert 'value="delete_selected"' not in r.text
    assert olivia_client.get(f"{TOKENS_URL}{token.pk}/delete/").status_code == 403
    r = olivia_client.post(f"{TOKENS_URL}{token.pk}/delete/", {"post": "yes"})
    assert r.status_code == 403
    assert AccessToken.objects.filter(pk=token.pk).exists()


@pytest.mark.parametrize(
    "query,expected",
    [
        ("alice", ["alice deploy"]),
        ("BOB@example.org", ["bob tool"]),
        ("deploy", ["alice deploy"]),
        ("nobody", []),
    ],
)
def test_it_searches_by_username_email_and_name(
    olivia_client, alice, bob, make_token, query, expected
):
    make_token(alice, name="alice deploy")
    make_token(bob, name="bob tool")
    r = olivia_client.get(TOKENS_URL, {"q": query})
    assert r.status_code == 200
    assert names(r) == expected


def test_it_searches_by_last_four(olivia_client, alice, bob, make_token):
    _t, raw = make_token(alice, name="wanted")
    make_token(bob, name="other")
    for term in (raw[-4:], f"kspat_…{raw[-4:]}", f"kspat_...{raw[-4:]}"):
        r = olivia_client.get(TOKENS_URL, {"q": term})
        assert names(r) == ["wanted"], term


@pytest.mark.parametrize("pasted", ["{raw}", " {raw} ", "Authorization: Bearer {raw}"])
def test_it_refuses_to_search_for_a_whole_token(olivia_client, alice, make_token, pasted):
    # Without JavaScript the search box sends a GET: the answer is the list without the
    # search, so neither the address bar, the search box nor a link repeats the token.
    _t, raw = make_token(alice, name="wanted")
    r = olivia_client.get(TOKENS_URL, {"q": pasted.format(raw=raw), "status": "active"})
    assert r.status_code == 302
    assert r["Location"] == f"{TOKENS_URL}?status=active"
    r = olivia_client.get(r["Location"])
    assert "That looks like a whole token" in r.text
    assert "Find a leaked token" in r.text
    assert raw not in r.text
    assert raw[6:30] not in r.text
    searchbar = re.search(r'<input[^>]*id="searchbar"[^>]*>', r.text).group(0)
    assert 'value=""' in searchbar
    # The value is not repeated in a message (the messages live in the session).
    assert all(raw not in str(m) for m in r.context["messages"])


def test_it_redirects_a_whole_token_search_to_the_bare_list(olivia_client, alice, make_token):
    _t, raw = make_token(alice)
    r = olivia_client.get(TOKENS_URL, {"q": raw[:45]})
    assert (r.status_code, r["Location"]) == (302, TOKENS_URL)


def test_the_list_sends_a_pasted_token_by_post(olivia_client, alice, make_token):
    # What static/js/admin_token_search.js needs: itself, and a POST form to the finder.
    make_token(alice)
    r = olivia_client.get(TOKENS_URL)
    assert '<script src="/static/js/admin_token_search.js"' in r.text
    form = re.search(r'<form hidden id="find-leaked-post" method="post" action="([^"]+)"', r.text)
    assert form and form.group(1) == f"{TOKENS_URL}find-leaked/"
    finder = re.search(r'id="find-leaked-post".*?</form>', r.text, re.S).group(0)
    assert 'name="csrfmiddlewaretoken"' in finder
    assert 'name="token" value=""' in finder


@pytest.mark.parametrize(
    "params,expected",
    [
        ({"status": "active"}, ["fresh", "soon", "month", "forever"]),
        ({"status": "expired"}, ["gone"]),
        ({"expires": "expired"}, ["gone"]),
        ({"expires": "7"}, ["soon"]),
        ({"expires": "30"}, ["soon", "month"]),
        ({"expires": "later"}, ["fresh"]),
        ({"expires": "never"}, ["forever"]),
        ({"scope": "read_api"}, ["month"]),
        ({"scope": "api"}, ["fresh", "gone", "soon", "forever"]),
        ({"status": "revoked"}, []),
        ({"use": "unused"}, ["gone", "soon"]),
        ({"use": "recent"}, ["month"]),
        ({"use": "never"}, ["fresh", "gone", "forever"]),
    ],
)
def test_it_filters(olivia_client, alice, make_token, params, expected):
    fresh, _ = make_token(alice, name="fresh", expires_at=ahead(days=60))
    gone, _ = make_token(alice, name="gone", expires_at=ahead(days=1))
    soon, _ = make_token(alice, name="soon", expires_at=ahead(days=3))
    month, _ = make_token(alice, name="month", expires_at=ahead(days=20), scopes=["read_api"])
    forever, _ = make_token(alice, name="forever")
    set_times(gone, expires_at=ago(days=1), created_at=ago(days=200))
    set_times(soon, last_used_at=ago(days=120), created_at=ago(days=300))
    set_times(month, last_used_at=ago(days=2))
    r = olivia_client.get(TOKENS_URL, params)
    assert r.status_code == 200
    assert sorted(names(r)) == sorted(expected)


def test_it_shows_the_change_page_with_only_name_and_expiry_editable(
    olivia_client, alice, make_token
):
    token, raw = make_token(alice, name="CI deploy", expires_at=ahead(days=10))
    r = olivia_client.get(change_url(token))
    assert r.status_code == 200
    assert 'name="name"' in r.text
    assert 'name="expires_on"' in r.text
    for field in ("scopes", "user", "last_four", "created_at", "last_used_at", "digest"):
        assert f'name="{field}"' not in r.text
    assert f"kspat_…{raw[-4:]}" in r.text
    assert "Events for this token" in r.text
    assert "Delete" not in re.sub(r"<script.*?</script>", "", r.text)


def _edit(client, token, **data):
    form = {"name": token.name, "expires_on": ""}
    if token.expires_at:
        form["expires_on"] = timezone.localdate(token.expires_at).isoformat()
    form.update(data)
    return client.post(change_url(token), form)


def test_it_renames_a_token_and_audits_it(olivia_client, olivia, alice, make_token):
    token, _raw = make_token(alice, name="old name")
    r = _edit(olivia_client, token, name="  new name ")
    assert r.status_code == 302
    token.refresh_from_db()
    assert token.name == "new name"
    event = AccessTokenEvent.objects.get(action="updated")
    assert event.actor == olivia
    assert event.actor_username == "olivia"
    assert event.owner == alice
    assert event.via == "admin"
    assert event.detail == "name 'old name' -> 'new name'"


def test_it_moves_the_expiry_to_the_end_of_the_chosen_day(olivia_client, alice, make_token):
    token, _raw = make_token(alice, name="t", expires_at=ahead(days=3))
    set_times(token, expiry_notified_at=ago(hours=1))
    day = timezone.localdate() + dt.timedelta(days=40)
    r = _edit(olivia_client, token, expires_on=day.isoformat())
    assert r.status_code == 302
    token.refresh_from_db()
    assert timezone.localtime(token.expires_at).date() == day
    assert timezone.localtime(token.expires_at).time() == dt.time.max
    # The owner will hear about the new expiry too.
    assert token.expiry_notified_at is None
    event = AccessTokenEvent.objects.get(action="updated")
    assert event.detail.startswith("expiry ")
    assert event.detail.endswith(f"-> {day.isoformat()} 23:59 UTC")


def test_it_can_remove_the_expiry(olivia_client, alice, make_token):
    token, _raw = make_token(alice, name="t", expires_at=ahead(days=3))
    assert _edit(olivia_client, token, expires_on="").status_code == 302
    token.refresh_from_db()
    assert token.expires_at is None
    assert AccessTokenEvent.objects.get(action="updated").detail.endswith("-> never")


def test_it_records_nothing_when_nothing_changed(olivia_client, alice, make_token):
    token, _raw = make_token(alice, name="t", expires_at=ahead(days=3))
    assert _edit(olivia_client, token).status_code == 302
    token.refresh_from_db()
    assert not AccessTokenEvent.objects.filter(action="updated").exists()


def test_it_refuses_a_past_day(olivia_client, alice, make_token):
    token, _raw = make_token(alice, name="t", expires_at=ahead(days=3))
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    r = _edit(olivia_client, token, expires_on=yesterday.isoformat())
    assert r.status_code == 200
    assert "The expiry must be in the future. To stop a token now, revoke it." in r.text
    assert not AccessTokenEvent.objects.filter(action="updated").exists()


def test_it_refuses_an_expiry_beyond_the_cap(olivia_client, alice, make_token, settings):
    token, _raw = make_token(alice, name="t", expires_at=ahead(days=3))
    settings.ACCESS_TOKEN_MAX_LIFETIME_DAYS = 30
    r = _edit(olivia_client, token, expires_on="")
    assert r.status_code == 200
    assert "Tokens on this server must expire within 30 days." in r.text
    token.refresh_from_db()
    assert token.expires_at is not None


def test_it_refuses_a_name_with_control_characters(olivia_client, alice, make_token):
    token, _raw = make_token(alice, name="t")
    r = _edit(olivia_client, token, name="bad\x07name")
    assert r.status_code == 200
    assert "control characters" in r.text
    token.refresh_from_db()
    assert token.name == "t"


def test_it_refuses_non_staff_on_the_change_page(alice, make_token):
    token, _raw = make_token(alice, name="t")
    client = Client()
    client.force_login(alice)
    r = client.post(change_url(token), {"name": "hacked", "expires_on": ""})
    assert r.status_code == 302
    assert r["Location"].startswith("/admin/login/")
    token.refresh_from_db()
    assert token.name == "t"


def test_the_token_page_lists_what_a_token_made_and_how_it_was_made(
    olivia_client, alice, make_token, api_client
):
    parent, raw = make_token(alice, name="bootstrap", expires_at=None)
    made = api_client.post(
        "/api/v1/access-tokens/",
        {"name": "made by bootstrap"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    ).json()
    r = olivia_client.get(change_url(parent))
    assert "Tokens made with this one" in r.text
    assert f"/admin/access_tokens/accesstoken/{made['id']}/change/" in r.text
    assert "made by bootstrap" in r.text
    child = AccessToken.objects.get(pk=made["id"])
    r = olivia_client.get(change_url(child))
    assert "API — made with token" in r.text
    assert f"bootstrap (kspat_…{raw[-4:]})" in r.text


def test_a_revoked_token_page_says_who_revoked_it_and_changes_nothing(
    olivia_client, olivia, alice, make_token
):
    from access_tokens import services

    token, _raw = make_token(alice, name="old")
    services.revoke_access_token(
        token=token, actor=olivia, reason="revoked_by_operator", via="admin"
    )
    r = olivia_client.get(change_url(token))
    assert "by olivia: Revoked by an operator" in r.text
    assert 'name="name"' not in r.text
    assert '<td class="field-status">revoked</td>' in olivia_client.get(TOKENS_URL).text
