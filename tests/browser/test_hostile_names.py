"""Journey 6: a token name made of markup is shown as text everywhere and runs nothing."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

NAME = "<img src=x onerror=alert(1)> \"quoted\" 'single' & </td>"


def _no_injected_markup(page) -> None:
    # The Content-Security-Policy would block an inline handler anyway, so "no alert" alone could
    # pass with broken escaping; no <img src=x> anywhere proves the markup stayed text.
    assert page.locator("img[src='x']").count() == 0


def test_it_shows_a_markup_name_as_text_in_the_list_dialog_and_message(alice_page, problems, alice):
    page = alice_page
    page.goto("/settings/access-tokens/new/")
    page.get_by_label("Name").fill(NAME)
    page.get_by_label("api", exact=True).check()
    page.get_by_role("button", name="Create token").click()

    box = page.locator(".new-token h2")
    expect(box).to_have_text(f"Your new token “{NAME}”")
    row = page.locator("#active-tokens tbody tr")
    expect(row.locator("td").first).to_have_text(NAME)
    expect(page.get_by_role("button", name="Copy")).to_be_visible()  # keystand.js has run
    _no_injected_markup(page)

    page.get_by_role("link", name=f"Delete token {NAME}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading")).to_have_text(f"Delete token “{NAME}”?")
    _no_injected_markup(page)

    dialog.get_by_role("button", name="Delete").click()
    expect(page.locator(".messages")).to_have_text(f"Token {NAME} deleted.")
    _no_injected_markup(page)
    assert not alice.access_tokens.active().exists()
    assert problems.dialogs == []


def test_it_shows_a_markup_name_as_text_on_the_confirmation_page(
    alice_page, problems, alice, make_token
):
    page = alice_page
    token, _ = make_token(alice, name=NAME)
    page.goto(f"/settings/access-tokens/{token.pk}/delete/")

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Delete token “{NAME}”?")
    _no_injected_markup(page)
    assert problems.dialogs == []


def test_it_shows_a_markup_name_as_text_on_the_tokens_page_and_when_regenerating(
    alice_page, problems, alice, make_token
):
    page = alice_page
    token, _ = make_token(alice, name="Plain", description=NAME)
    page.goto(f"/settings/access-tokens/{token.pk}/")
    page.get_by_label("Name (optional)").fill(NAME)
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(NAME)
    expect(page.locator(".messages")).to_have_text(f"Token {NAME} saved.")
    expect(page.locator(".facts .description")).to_have_text(NAME)
    # The audit trail quotes the names as Python does (repr), escaping the single quote.
    expect(page.get_by_role("region", name="History").locator("tbody tr").first).to_contain_text(
        '-> \'<img src=x onerror=alert(1)> "quoted"'
    )
    _no_injected_markup(page)

    page.get_by_role("link", name="Regenerate token").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Regenerate token “{NAME}”")
    _no_injected_markup(page)
    page.get_by_role("button", name="Regenerate token").click()
    expect(page.locator(".new-token h2")).to_have_text(f"Your new token “{NAME}”")
    page.goto("/settings/access-tokens/?search=" + "%3Cimg")
    expect(page.locator("#active-tokens tbody tr td").first).to_have_text(NAME)
    _no_injected_markup(page)
    assert problems.dialogs == []
