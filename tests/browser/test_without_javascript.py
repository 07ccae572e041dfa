"""Journey 5: create and delete a token with JavaScript switched off."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import api_get, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def no_js_page(new_page, alice, live_server):
    page = new_page(java_script_enabled=False)
    sign_in(page, alice, live_server.url)
    return page


def test_it_creates_a_token_without_javascript(no_js_page, alice):
    page = no_js_page
    page.goto("/settings/access-tokens/new/")
    # CSS alone reveals the warning and the date field.
    page.get_by_label("Expiration").select_option("No expiration")
    expect(page.get_by_role("note")).to_be_visible()
    expect(page.get_by_label("Custom date")).to_be_hidden()
    page.get_by_label("Expiration").select_option("custom")
    expect(page.get_by_role("note")).to_be_hidden()
    expect(page.get_by_label("Custom date")).to_be_visible()
    page.get_by_label("Expiration").select_option("7")
    page.get_by_label("Name").fill("No-JS token")
    page.get_by_label("api", exact=True).check()
    page.get_by_role("button", name="Create token").click()

    box = page.get_by_role("region", name="Your new token “No-JS token”")
    expect(box).to_be_visible()
    raw = box.get_by_label("New personal access token").input_value()
    assert re.fullmatch(r"kspat_[0-9A-Za-z]{49}", raw)
    # Copying needs JavaScript, so the button stays hidden; the field can still be selected.
    expect(box.get_by_role("button", name="Copy")).to_have_count(0)
    expect(page.locator("#active-tokens tbody tr")).to_have_count(1)
    assert alice.access_tokens.get().last_four == raw[-4:]

    page.reload()
    expect(page.locator(".new-token")).to_have_count(0)


def test_it_deletes_a_token_through_the_confirmation_page(
    no_js_page, alice, make_token, live_server
):
    page = no_js_page
    token, raw = make_token(alice, name="Old laptop")
    page.goto("/settings/access-tokens/")

    page.get_by_role("link", name="Delete token Old laptop").click()
    expect(page).to_have_url(re.compile(rf"/settings/access-tokens/{token.pk}/delete/$"))
    expect(page.get_by_role("heading", name="Delete token “Old laptop”?")).to_be_visible()
    expect(page.get_by_text(f"kspat_…{raw[-4:]}")).to_be_visible()

    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(re.compile(r"/settings/access-tokens/$"))
    expect(page.get_by_role("link", name="Delete token Old laptop")).to_be_visible()

    page.get_by_role("link", name="Delete token Old laptop").click()
    page.get_by_role("button", name="Delete").click()
    expect(page).to_have_url(re.compile(r"/settings/access-tokens/$"))
    expect(page.get_by_text("Token Old laptop deleted.")).to_be_visible()
    expect(page.get_by_role("heading", name="No active tokens")).to_be_visible()
    expect(page.get_by_role("region", name="Inactive tokens")).to_contain_text("Old laptop")
    assert not alice.access_tokens.active().exists()
    assert api_get(live_server.url, "/api/v1/me/", raw)[0] == 401
