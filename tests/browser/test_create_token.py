"""Journeys 2 and 3: create a token, copy it once, and choose (or mis-choose) its expiry."""

import datetime as dt
import re

import pytest
from django.utils.formats import date_format
from playwright.sync_api import expect

from access_tokens.models import AccessToken
from tests.browser.conftest import TIMEOUT_MS, sign_in

pytestmark = pytest.mark.browser

TOKEN_RE = re.compile(r"^kspat_[0-9A-Za-z]{49}$")


def _day(days_from_today: int) -> str:
    """Return a date as the pages print it ("Dec 29, 2026"); the test settings use UTC."""
    day = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=days_from_today)
    return date_format(day, "M j, Y")


def _open_form(page) -> None:
    page.goto("/settings/access-tokens/")
    page.get_by_role("link", name="Create token").click()
    expect(page.get_by_role("heading", name="New personal access token")).to_be_visible()


def _row(page, name: str):
    return page.locator("#active-tokens tbody tr").filter(has_text=name)


def test_it_creates_a_token_with_the_default_expiry_and_copies_it(alice_page, live_server, alice):
    _create_and_copy(alice_page, live_server, alice)


def test_the_desktop_chromium_creates_and_copies_a_token_too(
    desktop_browser, problems, live_server, alice
):
    """The suite drives chromium-headless-shell; the main journey also runs in the desktop build."""
    context = desktop_browser.new_context(
        base_url=live_server.url, viewport={"width": 1200, "height": 800}
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        problems.watch(page)
        sign_in(page, alice, live_server.url)
        _create_and_copy(page, live_server, alice)
    finally:
        context.close()
    assert problems.console_errors == []


def _create_and_copy(page, live_server, alice) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    _open_form(page)
    expiration = page.get_by_label("Expiration")
    expect(expiration.locator("option:checked")).to_have_text(f"30 days ({_day(30)})")
    page.get_by_label("Name").fill("CI deploy")
    page.get_by_label("api", exact=True).check()
    page.get_by_role("button", name="Create token").click()

    box = page.get_by_role("region", name="Your new token “CI deploy”")
    expect(box).to_be_visible()
    expect(box).to_contain_text("This is the only time it will be shown.")
    field = box.get_by_label("New personal access token")
    raw = field.input_value()
    assert TOKEN_RE.match(raw)

    copy = box.get_by_role("button", name="Copy")
    width_before = field.bounding_box()["width"]
    copy.click()
    copied = box.get_by_role("button", name="Copied")
    expect(copied).to_be_visible()
    assert page.evaluate("() => navigator.clipboard.readText()") == raw
    # The longer label does not squeeze the token field, and the button is ready again later.
    assert field.bounding_box()["width"] == width_before
    expect(copied).to_have_count(0)
    expect(box.get_by_role("button", name="Copy")).to_be_visible()
    assert field.bounding_box()["width"] == width_before

    row = _row(page, "CI deploy")
    expect(row.locator("td").nth(1)).to_have_text(f"kspat_…{raw[-4:]}")
    expect(row.locator("td").nth(2)).to_have_text("api")
    expect(row.locator("td").nth(3)).to_have_text(_day(0))
    expect(row.locator("td").nth(4)).to_have_text(_day(30))
    expect(row.locator("td").nth(5)).to_have_text("Never")

    page.reload()
    expect(page.get_by_role("heading", name="Personal Access Tokens", level=1)).to_be_visible()
    expect(page.locator(".new-token")).to_have_count(0)
    expect(_row(page, "CI deploy")).to_have_count(1)
    assert raw not in page.content()
    assert alice.access_tokens.get().last_four == raw[-4:]


def test_it_warns_about_a_token_without_expiration(alice_page, alice):
    page = alice_page
    _open_form(page)
    warning = page.get_by_role("note")
    end_of_day = page.get_by_text("The token works through the end of the chosen day")
    expect(warning).to_be_hidden()
    expect(end_of_day).to_be_visible()
    page.get_by_label("Expiration").select_option("No expiration")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Tokens without an expiration date stay valid")
    # "The end of the chosen day" means nothing without a day.
    expect(end_of_day).to_be_hidden()
    page.get_by_label("Name").fill("Forever")
    page.get_by_label("api", exact=True).check()
    page.get_by_role("button", name="Create token").click()

    expect(page.get_by_role("region", name="Your new token “Forever”")).to_be_visible()
    expect(_row(page, "Forever").locator("td").nth(4)).to_have_text("Never")
    assert alice.access_tokens.get().expires_at is None


def test_it_creates_a_token_with_a_custom_date_and_read_only_scopes(alice_page, alice):
    page = alice_page
    _open_form(page)
    custom = page.get_by_label("Custom date")
    expect(custom).to_be_hidden()
    page.get_by_label("Expiration").select_option("custom")
    expect(custom).to_be_visible()
    day = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=45)
    custom.fill(day.isoformat())
    page.get_by_label("Name").fill("Grafana")
    page.get_by_label("read_api", exact=True).check()
    page.get_by_label("read_user", exact=True).check()
    page.get_by_role("button", name="Create token").click()

    row = _row(page, "Grafana")
    expect(row.locator("td").nth(2)).to_have_text("read_api read_user")
    expect(row.locator("td").nth(4)).to_have_text(_day(45))
    token = alice.access_tokens.get()
    assert token.scope_list == ["read_api", "read_user"]
    assert token.expires_at.date() == day


def test_it_refuses_a_date_in_the_past(alice_page, alice):
    page = alice_page
    _open_form(page)
    page.get_by_label("Expiration").select_option("custom")
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    page.get_by_label("Custom date").fill(yesterday.isoformat())
    page.get_by_label("Name").fill("Too late")
    page.get_by_label("api", exact=True).check()
    page.get_by_role("button", name="Create token").click()

    expect(page.get_by_role("heading", name="New personal access token")).to_be_visible()
    field = page.locator(".field").filter(has=page.get_by_label("Custom date"))
    expect(field.locator(".field-errors")).to_have_text("Choose today or a later date.")
    expect(page.get_by_label("Custom date")).to_be_visible()
    expect(page.get_by_label("Custom date")).to_have_value(yesterday.isoformat())
    expect(page.get_by_label("Name")).to_have_value("Too late")
    assert not AccessToken.objects.exists()
