"""Journey 1: sign up, sign in, open the user menu by mouse and by keyboard, reach the tokens."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def _sign_in_with_form(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_it_signs_up_and_lands_on_the_token_page(page, django_user_model):
    page.goto("/accounts/signup/")
    page.get_by_label("Username", exact=True).fill("dora")
    page.get_by_label("Email").fill("dora@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()

    expect(page).to_have_url(re.compile(r"/settings/access-tokens/$"))
    expect(page.locator(".messages")).to_contain_text(
        "Welcome to Keystand! Create your first access token below."
    )
    expect(page.get_by_role("heading", name="No personal access tokens yet")).to_be_visible()
    assert django_user_model.objects.filter(username="dora").exists()


def test_it_shows_the_sign_in_error(page, alice):
    page.goto("/accounts/login/")
    page.get_by_label("Username or email").fill("alice")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_contain_text(
        "The username and/or password you specified are not correct."
    )
    expect(page.get_by_role("button", name="Open user menu for alice")).to_have_count(0)


def test_it_signs_in_and_follows_the_menu_with_the_mouse(page, alice):
    _sign_in_with_form(page, "alice")
    expect(page.get_by_role("heading", name="Welcome, Alice Liddell")).to_be_visible()

    menu = page.locator("details.user-menu")
    item = page.get_by_role("menuitem", name="Personal Access Tokens")
    expect(item).to_be_hidden()
    page.get_by_label("Open user menu for alice").click()
    expect(menu).to_have_attribute("open", "")
    expect(page.locator(".menu-who")).to_contain_text("Alice Liddell")
    expect(page.locator(".menu-who")).to_contain_text("alice@example.org")
    expect(page.get_by_role("menuitem", name="Change password")).to_be_visible()
    expect(page.get_by_role("menuitem", name="Two-factor authentication")).to_be_visible()
    expect(page.get_by_role("menuitem", name="Log out")).to_be_visible()

    # A click elsewhere closes it.
    page.get_by_role("heading", name="Welcome, Alice Liddell").click()
    expect(item).to_be_hidden()

    page.get_by_label("Open user menu for alice").click()
    item.click()
    expect(page).to_have_url(re.compile(r"/settings/access-tokens/$"))
    expect(page.get_by_role("heading", name="Personal Access Tokens", level=1)).to_be_visible()


def test_it_works_the_menu_with_the_keyboard(page, alice):
    _sign_in_with_form(page, "alice")
    expect(page.get_by_role("heading", name="Welcome, Alice Liddell")).to_be_visible()
    menu = page.locator("details.user-menu")
    avatar = page.get_by_label("Open user menu for alice")
    tokens = page.get_by_role("menuitem", name="Personal Access Tokens")

    # Skip link, brand, then the avatar.
    for _ in range(3):
        page.keyboard.press("Tab")
    expect(avatar).to_be_focused()

    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("open", "")
    expect(tokens).to_be_focused()
    for name in ["Email address", "Change password", "Two-factor authentication", "Log out"]:
        page.keyboard.press("Tab")
        expect(page.get_by_role("menuitem", name=name)).to_be_focused()

    # Arrow keys move through the items too, wrapping at either end.
    page.keyboard.press("ArrowDown")
    expect(tokens).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(page.get_by_role("menuitem", name="Log out")).to_be_focused()
    page.keyboard.press("Home")
    expect(tokens).to_be_focused()

    page.keyboard.press("Escape")
    expect(menu).not_to_have_attribute("open", "")
    expect(page.get_by_role("menuitem", name="Log out")).to_be_hidden()
    expect(avatar).to_be_focused()

    page.keyboard.press("Enter")
    expect(tokens).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/settings/access-tokens/$"))
    expect(page.get_by_role("heading", name="Personal Access Tokens", level=1)).to_be_visible()


def test_it_logs_out_from_the_menu(page, alice):
    _sign_in_with_form(page, "alice")
    page.get_by_label("Open user menu for alice").click()
    page.get_by_role("menuitem", name="Log out").click()

    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    page.goto("/settings/access-tokens/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
