"""One token's page, renaming and regenerating it, named scopes, inactive tokens, and the
list's search, sort and pages, in Chromium."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from django.utils.formats import date_format
from playwright.sync_api import expect

from access_tokens import services
from access_tokens.models import AccessToken
from tests.browser.conftest import api_get, sign_in

pytestmark = pytest.mark.browser

TOKEN_RE = re.compile(r"^kspat_[0-9A-Za-z]{49}$")
PHONE = {"width": 390, "height": 800}
LONG_NAME = "svc_gitlab_runner_production_backup_" + "x" * 64  # 100 characters


def _day(days_from_today: int) -> str:
    day = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=days_from_today)
    return date_format(day, "M j, Y")


def _fact(page, term: str):
    """The value next to `term` in the page's details list."""
    return page.locator(f".facts dt:text-is('{term}') + dd")


def _name_cells(page):
    return page.locator("#active-tokens tbody tr td:first-child")


def _names(page) -> list[str]:
    """The names in the active tokens' table, once the page is parsed to its end (the caller
    has first waited for something of the new page, so this is not the page before)."""
    page.wait_for_load_state("domcontentloaded")
    return _name_cells(page).all_inner_texts()


def test_the_detail_page_tells_everything_about_a_token(alice_page, alice, make_token, live_server):
    page = alice_page
    token, raw = make_token(
        alice,
        name="Grafana",
        description="Reads dashboards.",
        scopes=["read_api"],
        expires_at=services.end_of_day_in(20),
    )
    assert api_get(live_server.url, "/api/v1/me/", raw)[0] == 200

    page.goto("/settings/access-tokens/")
    page.get_by_role("link", name="Grafana", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/settings/access-tokens/{token.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Grafana")
    expect(page.locator(".lead")).to_contain_text(f"kspat_…{raw[-4:]}")
    expect(page.locator(".lead")).to_contain_text("Active")
    expect(_fact(page, "Description")).to_have_text("Reads dashboards.")
    expect(_fact(page, "Scopes")).to_contain_text(
        "read_api Read only: GET, HEAD and OPTIONS anywhere in the API (includes read_user)."
    )
    expect(_fact(page, "Created")).to_contain_text("in the browser")
    expect(_fact(page, "Expires")).to_contain_text(f"In 20 days ({_day(20)}")
    expect(_fact(page, "Last used")).to_have_text(re.compile(r"from 127\.0\.0\.1$"))
    expect(_fact(page, "Status")).to_have_text("Active")
    history = page.get_by_role("region", name="History")
    expect(history.locator("tbody tr")).to_have_count(1)
    expect(history.locator("tbody tr td").nth(1)).to_have_text("Created")

    # Delete from here too: the confirmation page, then the list.
    page.get_by_role("link", name="Delete token").click()
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Token Grafana deleted.")).to_be_visible()
    assert api_get(live_server.url, "/api/v1/me/", raw)[0] == 401


def test_it_renames_a_token_and_shows_a_bad_name_as_a_form_error(
    alice_page, alice, make_token, live_server
):
    page = alice_page
    token, raw = make_token(alice, name="Old name")
    page.goto(f"/settings/access-tokens/{token.pk}/")

    page.get_by_label("Name (optional)").fill("Deploy from CI")
    page.get_by_label("Description (optional)").fill("Runs on the build box.")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Token Deploy from CI saved.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Deploy from CI")
    expect(_fact(page, "Description")).to_have_text("Runs on the build box.")
    first = page.get_by_role("region", name="History").locator("tbody tr").first
    expect(first).to_contain_text("Changed: name 'Old name' -> 'Deploy from CI'")
    expect(first).to_contain_text("you")

    page.get_by_label("Name (optional)").fill(f"token {raw}")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("That looks like an access token.")).to_be_visible()
    expect(page.get_by_label("Name (optional)")).to_have_value("")
    assert raw not in page.content()
    token.refresh_from_db()
    assert token.name == "Deploy from CI"
    # The list shows the new name.
    page.goto("/settings/access-tokens/")
    expect(page.get_by_role("link", name="Deploy from CI", exact=True)).to_be_visible()


def test_it_regenerates_a_token_the_old_one_is_refused_the_new_one_works(
    alice_page, alice, make_token, live_server
):
    page = alice_page
    token, old_raw = make_token(
        alice, name="Nightly backup", scopes=["read_api"], expires_at=services.end_of_day_in(30)
    )
    page.goto(f"/settings/access-tokens/{token.pk}/")
    page.get_by_role("link", name="Regenerate token").click()
    expect(page.get_by_role("heading", name="Regenerate token “Nightly backup”")).to_be_visible()
    expiration = page.get_by_label("Expiration of the new token")
    expect(expiration.locator("option:checked")).to_have_text(
        f"Same lifetime: 30 days ({_day(30)})"
    )
    expiration.select_option(label=f"7 days ({_day(7)})")
    page.get_by_role("button", name="Regenerate token").click()

    box = page.get_by_role("region", name="Your new token “Nightly backup”")
    expect(box).to_contain_text("This is the only time it will be shown.")
    new_raw = box.get_by_label("New personal access token").input_value()
    assert TOKEN_RE.match(new_raw) and new_raw != old_raw
    row = page.locator("#active-tokens tbody tr.highlight")
    expect(row.locator("td").first).to_have_text("Nightly backup")
    expect(row.locator("td").nth(4)).to_contain_text(_day(7))

    assert api_get(live_server.url, "/api/v1/me/", old_raw) == (
        401,
        {"detail": "Token has been revoked.", "code": "token_revoked"},
    )
    status, body = api_get(live_server.url, "/api/v1/me/", new_raw)
    assert (status, body["username"]) == (200, "alice")
    # The same scopes: read_api may read but not write.
    assert api_get(live_server.url, "/api/v1/access-tokens/", new_raw)[0] == 200

    # The old token's page says what became of it and links the new one.
    page.goto(f"/settings/access-tokens/{token.pk}/")
    expect(page.locator(".lead")).to_contain_text("Regenerated")
    expect(page.get_by_role("link", name="Regenerate token")).to_have_count(0)
    page.get_by_role("link", name=re.compile(r"^Nightly backup \(kspat_…")).click()
    expect(_fact(page, "Created")).to_contain_text(f"by regenerating kspat_…{old_raw[-4:]}")


def test_a_read_user_token_may_read_its_owner_and_nothing_else(alice_page, alice, live_server):
    page = alice_page
    page.goto("/settings/access-tokens/new/")
    page.get_by_label("Name").fill("Profile only")
    page.get_by_label("read_user", exact=True).check()
    page.get_by_role("button", name="Create token").click()
    raw = page.get_by_label("New personal access token").input_value()

    status, body = api_get(live_server.url, "/api/v1/me/", raw)
    assert (status, body["username"]) == (200, "alice")
    status, body = api_get(live_server.url, "/api/v1/access-tokens/", raw)
    assert status == 403
    assert body["code"] == "insufficient_scope"

    page.get_by_role("link", name="Profile only", exact=True).click()
    expect(_fact(page, "Scopes")).to_have_text("read_user Only GET /api/v1/me/: who you are.")


def test_inactive_tokens_are_records_on_their_own_pages(alice_page, alice, olivia, make_token):
    page = alice_page
    gone, _ = make_token(alice, name="Old laptop")
    kept, _ = make_token(alice, name="Desktop")
    services.revoke_access_token(
        token=kept, actor=olivia, reason="revoked_by_operator", via="admin"
    )
    expired, _ = make_token(alice, name="Last year")
    AccessToken.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - dt.timedelta(days=3)
    )
    page.goto("/settings/access-tokens/")
    page.get_by_role("link", name="Delete token Old laptop").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Token Old laptop deleted.")).to_be_visible()

    inactive = page.get_by_role("region", name="Inactive tokens")
    expect(inactive.locator("tbody tr")).to_have_count(3)
    expect(page.get_by_role("heading", name="No active tokens")).to_be_visible()

    inactive.get_by_role("link", name="Desktop", exact=True).click()
    expect(page.locator(".lead")).to_contain_text("Revoked")
    expect(page.get_by_role("note")).to_contain_text("This token no longer works.")
    expect(_fact(page, "Status")).to_contain_text("Revoked by an operator (olivia)")
    for absent in ("Regenerate token", "Delete token"):
        expect(page.get_by_role("link", name=absent)).to_have_count(0)
    expect(page.get_by_role("button", name="Save changes")).to_have_count(0)
    expect(page.get_by_role("region", name="History").locator("tbody tr").first).to_contain_text(
        "Revoked by an operator"
    )

    page.goto(f"/settings/access-tokens/{expired.pk}/")
    expect(_fact(page, "Status")).to_have_text("Expired 3 days ago")
    page.goto(f"/settings/access-tokens/{gone.pk}/")
    expect(_fact(page, "Status")).to_contain_text("Deleted by its owner")


def test_search_sort_filter_and_pages(alice_page, alice):
    page = alice_page
    now = timezone.now()
    for i in range(28):
        token, _ = services.create_access_token(
            user=alice, name=f"runner {i:02}", expires_at=services.end_of_day_in(100 - i)
        )
        AccessToken.objects.filter(pk=token.pk).update(created_at=now - dt.timedelta(hours=i))
    nightly, _ = services.create_access_token(
        user=alice, name="Nightly export", expires_at=services.end_of_day_in(3)
    )
    services.record_access_token_use(nightly, ip="192.0.2.8")

    page.goto("/settings/access-tokens/")
    expect(page.locator("#active-tokens tbody tr")).to_have_count(25)
    expect(page.locator(".pager")).to_contain_text("Page 1 of 2")
    page.get_by_role("link", name="Next →").click()
    expect(page).to_have_url(re.compile(r"\?page=2$"))
    expect(page.locator("#active-tokens tbody tr")).to_have_count(4)
    assert _names(page)[-1] == "runner 27"
    page.get_by_role("link", name="← Previous").click()
    expect(page.locator(".pager")).to_contain_text("Page 1 of 2")

    # Sort by a column heading; a second click turns it round.
    page.get_by_role("link", name="Name", exact=True).click()
    expect(page.locator("th[aria-sort=ascending]")).to_have_text("Name")
    arrow = "th => getComputedStyle(th.querySelector('a'), '::after').content"
    assert page.locator("th[aria-sort]").evaluate(arrow).startswith('" ↑"')
    assert _names(page)[:2] == ["Nightly export", "runner 00"]
    page.get_by_role("link", name="Name", exact=True).click()
    expect(page.locator("th[aria-sort=descending]")).to_have_text("Name")
    assert page.locator("th[aria-sort]").evaluate(arrow).startswith('" ↓"')
    assert _names(page)[0] == "runner 27"
    # The same from the controls (the headings are hidden on a phone).
    page.get_by_label("Sort", exact=True).select_option(label="Expiring soonest")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"ordering=expires_at"))
    assert _names(page)[:2] == ["Nightly export", "runner 27"]

    page.get_by_label("Search by name").fill("NIGHTLY")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"search=NIGHTLY"))
    assert _names(page) == ["Nightly export"]
    expect(page.locator(".pager")).to_have_count(0)

    page.get_by_label("Search by name").fill("")
    page.get_by_label("Show", exact=True).select_option(label="Expiring within 7 days")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"filter=expiring"))
    expect(_name_cells(page)).to_have_text(["Nightly export"])
    page.get_by_label("Show", exact=True).select_option(label="Never used")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#active-tokens tbody tr")).to_have_count(25)
    assert "Nightly export" not in _names(page)

    page.get_by_label("Search by name").fill("Nightly")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("heading", name="No tokens match")).to_be_visible()
    page.get_by_role("link", name="Clear search and filters").click()
    expect(page).to_have_url(re.compile(r"/settings/access-tokens/$"))
    expect(page.locator("#active-tokens tbody tr")).to_have_count(25)


def test_a_pasted_token_is_never_sent_as_a_search(alice_page, alice, make_token, live_server):
    page = alice_page
    _, raw = make_token(alice, name="Laptop")
    page.goto("/settings/access-tokens/")
    page.get_by_label("Search by name").fill(raw)
    page.get_by_role("button", name="Apply").click()
    # The browser refuses the field (its pattern) and sends nothing.
    assert page.locator("#token-search").evaluate("field => field.validity.patternMismatch")
    assert raw not in page.url


def test_the_pages_fit_a_phone_with_a_long_name(new_page, alice, make_token, live_server):
    token, _ = make_token(alice, name=LONG_NAME, description="y" * 300)
    services.update_access_token(token=token, actor=alice, name=LONG_NAME[::-1], via="web")
    page = new_page(viewport=PHONE)
    sign_in(page, alice, live_server.url)
    for url in (
        "/settings/access-tokens/",
        f"/settings/access-tokens/{token.pk}/",
        f"/settings/access-tokens/{token.pk}/rotate/",
    ):
        page.goto(url)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"], url
        expect(page.locator("h1")).to_be_in_viewport()


def test_regenerating_after_an_old_sign_in_asks_for_the_password_and_keeps_the_choice(
    alice_page, alice, make_token, live_server, settings
):
    import time

    from tests.conftest import PASSWORD

    page = alice_page
    token, old_raw = make_token(alice, name="Deploy", expires_at=services.end_of_day_in(30))
    settings.ACCESS_TOKEN_REAUTH_SECONDS = 1
    time.sleep(1.5)
    page.goto(f"/settings/access-tokens/{token.pk}/rotate/")
    day = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=12)).isoformat()
    page.get_by_label("Expiration of the new token").select_option("custom")
    page.get_by_label("Custom date").fill(day)
    page.get_by_role("button", name="Regenerate token").click()
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/\?next="))
    settings.ACCESS_TOKEN_REAUTH_SECONDS = 900
    assert api_get(live_server.url, "/api/v1/me/", old_raw)[0] == 200

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(rf"/settings/access-tokens/{token.pk}/rotate/$"))
    expect(page.get_by_label("Expiration of the new token")).to_have_value("custom")
    expect(page.get_by_label("Custom date")).to_have_value(day)
    page.get_by_role("button", name="Regenerate token").click()

    new_raw = page.get_by_label("New personal access token").input_value()
    assert api_get(live_server.url, "/api/v1/me/", old_raw)[0] == 401
    assert api_get(live_server.url, "/api/v1/me/", new_raw)[0] == 200
    assert AccessToken.objects.get(rotated_from=token).expires_at == services.end_of_day(
        dt.date.fromisoformat(day)
    )
