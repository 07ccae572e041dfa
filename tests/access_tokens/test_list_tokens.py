"""The list page, /settings/access-tokens/: what a user sees of each token."""

import datetime as dt
import html
import re

import pytest
from django.utils import timezone

from access_tokens import services
from access_tokens.models import AccessToken
from tests.access_tokens.conftest import LIST_URL, delete_url, shows, text, today

pytestmark = pytest.mark.django_db


def _rows(response) -> list[str]:
    body = text(response)
    table = re.search(r'<table class="tokens" id="active-tokens">(.*?)</table>', body, re.S)
    tbody = re.search(r"<tbody>(.*)</tbody>", table.group(1), re.S).group(1)
    return re.findall(r"<tr[^>]*>(.*?)</tr>", tbody, re.S)


def _cells(row: str) -> list[str]:
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    return [html.unescape(" ".join(re.sub(r"<[^>]+>", " ", c).split())) for c in cells]


def _expiring_on(user, day: dt.date, name: str, *, made_days_ago: int = 90) -> AccessToken:
    token, _ = services.create_access_token(
        user=user, name=name, expires_at=services.end_of_day(day)
    )
    # Made long ago by default: the warning waits for the last quarter of a token's life.
    made = timezone.now() - dt.timedelta(days=made_days_ago)
    AccessToken.objects.filter(pk=token.pk).update(created_at=made)
    return token


def test_it_shows_the_heading_sentence_and_create_button(alice_client):
    response = alice_client.get(LIST_URL)
    assert response.status_code == 200
    body = text(response)
    assert "<h1>Personal Access Tokens</h1>" in body
    assert "Tokens let scripts, CI jobs and other tools call the Keystand API as you" in body
    # The button closes the page head, which lays it out at the top right.
    head = re.search(r'<div class="page-head">.*?</a>\s*</div>', body, re.S).group(0)
    assert head.endswith(
        '<a class="button primary" href="/settings/access-tokens/new/">Create token</a>\n</div>'
    )
    assert "no-store" in response["Cache-Control"]


def test_it_shows_a_friendly_empty_state(alice_client, bob, make_token):
    make_token(bob, name="Bob's token")
    response = alice_client.get(LIST_URL)
    assert shows(response, "No personal access tokens yet")
    assert "Create one to call the API from curl, a CI job or a script." in text(response)
    assert "Create your first token" in text(response)
    assert "<table" not in text(response)
    assert "Bob" not in text(response)


def test_it_lists_only_my_tokens_newest_first(alice, bob, alice_client, make_token):
    now = timezone.now()
    for age, name in [(3, "oldest"), (1, "newest"), (2, "middle")]:
        token, _ = make_token(alice, name=name)
        AccessToken.objects.filter(pk=token.pk).update(created_at=now - dt.timedelta(days=age))
    make_token(bob, name="Bob's token")
    rows = _rows(alice_client.get(LIST_URL))
    assert [_cells(r)[0] for r in rows] == ["newest", "middle", "oldest"]


def test_it_shows_name_masked_token_access_and_dates(alice, alice_client, make_token):
    token, raw = make_token(
        alice, name="CI deploy", expires_at=services.end_of_day(today() + dt.timedelta(days=30))
    )
    [row] = _rows(alice_client.get(LIST_URL))
    name, masked, access, created, expires, last_used, _ = _cells(row)
    assert name == "CI deploy"
    assert masked == f"kspat_…{raw[-4:]}"
    assert raw not in row and raw[6:49] not in row
    assert access == "api"
    assert created == timezone.localtime(token.created_at).strftime("%b %-d, %Y")
    on = today() + dt.timedelta(days=30)
    assert expires == f"{on:%b} {on.day}, {on.year}"
    assert last_used == "Never"


def test_it_shows_unnamed_tokens_and_every_scope(alice, alice_client, make_token):
    make_token(alice, name="", scopes=["read_user", "read_api"])
    [row] = _rows(alice_client.get(LIST_URL))
    cells = _cells(row)
    assert cells[0] == "Unnamed token"
    assert cells[2] == "read_api read_user"
    assert 'aria-label="Delete token Unnamed token"' in row


def test_it_warns_about_a_token_that_never_expires(alice, alice_client, make_token):
    make_token(alice, name="Forever", expires_at=None)
    [row] = _rows(alice_client.get(LIST_URL))
    assert _cells(row)[4] == "Never"
    assert re.search(r'<span class="badge warn"[^>]*>Never</span>', row)


def test_it_moves_an_expired_token_to_the_inactive_list(alice, alice_client, make_token):
    token, _ = make_token(alice, name="Old", expires_at=services.end_of_day(today()))
    past = timezone.now() - dt.timedelta(days=2)
    AccessToken.objects.filter(pk=token.pk).update(expires_at=past)
    response = alice_client.get(LIST_URL)
    assert response.context["rows"] == []
    assert shows(response, "No active tokens")
    body = text(response)
    inactive = re.search(r'<section class="inactive-tokens".*?</section>', body, re.S).group(0)
    [row] = re.findall(r"<tr>(.*?)</tr>", inactive.split("<tbody>")[1], re.S)
    assert '<span class="badge danger">Expired</span>' in row
    assert _cells(row)[0] == "Old"
    assert _cells(row)[4] == "Expired 2 days ago"
    # Not a link to delete it: it already stopped working.
    assert "delete" not in row


def test_it_shows_a_deleted_token_as_inactive_until_it_is_purged(
    settings, alice, alice_client, make_token
):
    token, _ = make_token(alice, name="Gone")
    services.delete_access_token(token=token, actor=alice)
    response = alice_client.get(LIST_URL)
    assert [t.pk for t in response.context["inactive"]] == [token.pk]
    assert "Deleted by its owner" in text(response)
    assert shows(response, "revoked in the last 30 days")
    # Past the retention period it is no longer listed, even before the purge runs.
    AccessToken.objects.filter(pk=token.pk).update(
        revoked_at=timezone.now() - dt.timedelta(days=31)
    )
    response = alice_client.get(LIST_URL)
    assert response.context["inactive"] == []
    assert shows(response, "No personal access tokens yet")


def test_it_counts_down_the_last_seven_days(alice, alice_client):
    for days in (0, 1, 3, 7, 8):
        _expiring_on(alice, today() + dt.timedelta(days=days), f"in {days}")
    rows = {_cells(r)[0]: _cells(r)[4] for r in _rows(alice_client.get(LIST_URL))}
    on = {d: today() + dt.timedelta(days=d) for d in (0, 1, 3, 7, 8)}
    label = {d: f"{on[d]:%b} {on[d].day}, {on[d].year}" for d in on}
    assert rows["in 0"] == f"{label[0]} Expires today"
    assert rows["in 1"] == f"{label[1]} Expires in 1 day"
    assert rows["in 3"] == f"{label[3]} Expires in 3 days"
    assert rows["in 7"] == f"{label[7]} Expires in 7 days"
    assert rows["in 8"] == label[8]


def test_it_does_not_warn_of_a_short_lived_token_at_birth(alice, alice_client):
    # Made today for 7 days, or for 3: the whole lifetime is ahead, nothing to warn of yet.
    _expiring_on(alice, today() + dt.timedelta(days=7), "week", made_days_ago=0)
    _expiring_on(alice, today() + dt.timedelta(days=3), "three", made_days_ago=0)
    # Made 6 days ago for 7 days: under a quarter of its life is left.
    _expiring_on(alice, today() + dt.timedelta(days=1), "ending", made_days_ago=6)
    body = text(alice_client.get(LIST_URL))
    rows = {_cells(r)[0]: r for r in _rows(alice_client.get(LIST_URL))}
    assert "badge warn" not in rows["week"]
    assert "badge warn" not in rows["three"]
    assert '<span class="badge warn">Expires in 1 day</span>' in rows["ending"]
    assert body.count("badge warn") == 1


def test_it_counts_days_in_the_servers_time_zone(settings, alice, alice_client):
    settings.TIME_ZONE = "Pacific/Auckland"
    _expiring_on(alice, timezone.localdate() + dt.timedelta(days=2), "Soon")
    [row] = _rows(alice_client.get(LIST_URL))
    assert _cells(row)[4].endswith("Expires in 2 days")


def test_it_shows_when_a_token_was_last_used(alice, alice_client, make_token):
    used, _ = make_token(alice, name="Used")
    make_token(alice, name="Idle")
    two_hours_ago = timezone.now() - dt.timedelta(hours=2, minutes=1)
    AccessToken.objects.filter(pk=used.pk).update(
        last_used_at=two_hours_ago, last_used_ip="203.0.113.9"
    )
    rows = {_cells(r)[0]: r for r in _rows(alice_client.get(LIST_URL))}
    assert _cells(rows["Used"])[5] == "2 hours ago"
    assert "from 203.0.113.9" in rows["Used"]
    assert _cells(rows["Idle"])[5] == "Never"


@pytest.mark.parametrize(
    ("ago", "label"),
    [
        (dt.timedelta(seconds=20), "20 seconds ago"),
        (dt.timedelta(minutes=5, seconds=2), "5 minutes ago"),
        (dt.timedelta(days=3, minutes=1), "3 days ago"),
    ],
)
def test_it_shows_relative_times(alice, alice_client, make_token, ago, label):
    token, _ = make_token(alice)
    AccessToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - ago)
    [row] = _rows(alice_client.get(LIST_URL))
    assert _cells(row)[5] == label


def test_it_offers_a_trash_button_per_token(alice, alice_client, make_token):
    token, _ = make_token(alice, name="Old laptop")
    response = alice_client.get(LIST_URL)
    [row] = _rows(response)
    link = re.search(r"<a [^>]*data-delete-dialog[^>]*>", row, re.S).group(0)
    assert f'href="{delete_url(token)}"' in link
    assert 'aria-label="Delete token Old laptop"' in link
    assert 'data-token-name="Old laptop"' in link
    assert "<svg" in row


def test_it_has_the_delete_dialog(alice, alice_client, make_token):
    make_token(alice)
    body = text(alice_client.get(LIST_URL))
    dialog = re.search(r'<dialog id="delete-dialog".*?</dialog>', body, re.S).group(0)
    assert "Any application using it will no longer be able to authenticate." in dialog
    assert 'method="post"' in dialog
    assert 'name="csrfmiddlewaretoken"' in dialog
    assert ">Cancel</button>" in dialog
    assert ">Delete</button>" in dialog


def test_it_asks_anonymous_visitors_to_sign_in(client):
    response = client.get(LIST_URL)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={LIST_URL}"


def test_it_refuses_post(alice_client):
    assert alice_client.post(LIST_URL).status_code == 405


def test_it_reaches_the_page_from_the_user_menu(alice_client):
    body = text(alice_client.get("/"))
    assert '<a role="menuitem" href="/settings/access-tokens/">Personal Access Tokens</a>' in body
