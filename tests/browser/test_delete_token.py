"""Journey 4: delete a token in the dialog; Cancel keeps it, Delete kills it for the API too."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import api_get

pytestmark = pytest.mark.browser


def test_it_keeps_the_token_on_cancel_and_deletes_it_on_delete(
    alice_page, alice, make_token, live_server
):
    page = alice_page
    token, raw = make_token(alice, name="Deploy bot")
    make_token(alice, name="Laptop")
    status, body = api_get(live_server.url, "/api/v1/me/", raw)
    assert (status, body["username"]) == (200, "alice")

    page.goto("/settings/access-tokens/")
    trash = page.get_by_role("link", name="Delete token Deploy bot")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_hidden()

    trash.click()
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text("Delete token “Deploy bot”?")
    expect(dialog).to_contain_text("Any application using it will no longer be able to")
    # As on the page without JavaScript: which token (last four) and since when.
    expect(dialog).to_contain_text(f"Token kspat_…{raw[-4:]}, created {token.created_at:%b} ")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(trash).to_be_focused()
    expect(page.locator("#active-tokens tbody tr")).to_have_count(2)

    # Escape closes it as well, and still deletes nothing.
    trash.click()
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert alice.access_tokens.count() == 2

    trash.click()
    dialog.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Token Deploy bot deleted.")).to_be_visible()
    expect(page.locator("#active-tokens tbody tr")).to_have_count(1)
    expect(page.get_by_role("link", name="Delete token Deploy bot")).to_have_count(0)
    expect(page.get_by_role("link", name="Delete token Laptop")).to_be_visible()
    assert list(alice.access_tokens.active().values_list("name", flat=True)) == ["Laptop"]
    # It moved to the inactive tokens, where it no longer offers a trash icon.
    inactive = page.get_by_role("region", name="Inactive tokens")
    expect(inactive).to_contain_text("Deploy bot")
    expect(inactive).to_contain_text("Deleted by its owner")

    status, body = api_get(live_server.url, "/api/v1/me/", raw)
    assert status == 401
    assert body["detail"]


def test_it_deletes_only_the_chosen_token_when_names_repeat(alice_page, alice, make_token):
    page = alice_page
    first, _ = make_token(alice, name="Twin")
    second, _ = make_token(alice, name="Twin")

    page.goto("/settings/access-tokens/")
    page.locator(f'a[href$="/{second.pk}/delete/"]').click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()

    expect(page.get_by_text("Token Twin deleted.")).to_be_visible()
    expect(page.locator(f'a[href$="/{first.pk}/delete/"]')).to_be_visible()
    assert list(alice.access_tokens.active().values_list("pk", flat=True)) == [first.pk]
