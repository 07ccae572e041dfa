"""Flash messages can be dismissed with the mouse or the keyboard; without JavaScript they
stay. The one-time token box is not a message: nothing dismisses it."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import _assert_accessible

pytestmark = pytest.mark.browser


def _delete_through_the_page(page, token) -> None:
    page.goto(f"/settings/access-tokens/{token.pk}/delete/")
    page.get_by_role("button", name="Delete").click()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_it_dismisses_a_message_with_the_keyboard(new_page, alice, make_token, live_server, scheme):
    first, _ = make_token(alice, name="Old laptop")
    second, _ = make_token(alice, name="Old phone")
    page = new_page(color_scheme=scheme)
    sign_in(page, alice, live_server.url)
    _delete_through_the_page(page, first)
    message = page.locator(".message").filter(has_text="Token Old laptop deleted.")
    expect(message).to_be_visible()
    _assert_accessible(page)

    dismiss = message.get_by_role("button", name="Dismiss message")
    dismiss.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".messages")).to_have_count(0)
    # Focus is not lost with the button: it goes to the main content.
    expect(page.locator("main")).to_be_focused()

    _delete_through_the_page(page, second)
    message = page.locator(".message").filter(has_text="Token Old phone deleted.")
    message.get_by_role("button", name="Dismiss message").click()
    expect(message).to_have_count(0)


def test_without_javascript_messages_stay(new_page, alice, make_token, live_server):
    token, _ = make_token(alice, name="Old laptop")
    page = new_page(java_script_enabled=False)
    sign_in(page, alice, live_server.url)
    _delete_through_the_page(page, token)
    expect(page.get_by_text("Token Old laptop deleted.")).to_be_visible()
    # A button that would do nothing is not shown.
    expect(page.get_by_role("button", name="Dismiss message")).to_have_count(0)


def test_the_new_token_box_cannot_be_dismissed(alice_page):
    page = alice_page
    page.goto("/settings/access-tokens/new/")
    page.get_by_label("Name").fill("CI")
    page.get_by_label("api", exact=True).check()
    page.get_by_role("button", name="Create token").click()
    box = page.get_by_role("region", name="Your new token “CI”")
    expect(box).to_be_visible()
    # Its one button copies; none closes it.
    expect(box.get_by_role("button")).to_have_count(1)
    expect(box.get_by_role("button", name="Copy")).to_be_visible()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_signed_out_home_page_is_accessible(new_page, scheme):
    page = new_page(color_scheme=scheme)
    page.goto("/")
    expect(page.get_by_role("heading", name="Keystand", level=1)).to_be_visible()
    expect(page.get_by_role("main").get_by_role("link", name="Sign in")).to_be_visible()
    _assert_accessible(page)
    page.set_viewport_size({"width": 390, "height": 800})
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
