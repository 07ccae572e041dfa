"""
Fixtures for the real-browser tests: Debian's Chromium driven by Playwright against pytest-django's
live server.

One Chromium serves the whole package; every test gets a fresh context (its own cookies, storage
and permissions), so tests cannot leak state into each other.
"""

import json
import os
import urllib.error
import urllib.request

import pytest
from django.test import Client
from playwright.sync_api import expect, sync_playwright

from tests.browser.chromium import CHROMIUM, DESKTOP_CHROMIUM, launch_chromium
from tests.conftest import sign_in as tests_sign_in

# Generous: a loaded CI machine may be slow. Tests never assert timings.
TIMEOUT_MS = 15_000
expect.set_options(timeout=TIMEOUT_MS)


def _missing(path, package: str) -> None:
    """Skip when a browser binary is missing; fail instead under CI=true."""
    if not path.exists():
        reason = f"Chromium not found at {path} (apt-get install {package})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true requires the browser tests to run", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="package")
def playwright_driver():
    """Playwright's driver for the package; skip the browser tests without Chromium."""
    _missing(CHROMIUM, "chromium-headless-shell chromium")
    # Playwright's sync API keeps an asyncio loop running in this thread, which makes Django
    # refuse ORM calls from the test body. The guard is switched off only while the browser runs.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    try:
        with sync_playwright() as driver:
            yield driver
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(scope="package")
def browser(playwright_driver):
    """One Chromium (the headless shell when installed, tests/browser/chromium.py) for all tests."""
    chromium = launch_chromium(playwright_driver)
    yield chromium
    chromium.close()


@pytest.fixture
def desktop_browser(playwright_driver):
    """Debian's desktop Chromium in its headless mode, for the journey that checks it too."""
    _missing(DESKTOP_CHROMIUM, "chromium")
    chromium = launch_chromium(playwright_driver, DESKTOP_CHROMIUM)
    yield chromium
    chromium.close()


@pytest.fixture
def make_context(browser, live_server):
    """Return a function that opens a new browser context on the live server."""
    contexts = []

    def make(**kwargs):
        kwargs.setdefault("viewport", {"width": 1200, "height": 800})
        context = browser.new_context(base_url=live_server.url, **kwargs)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


class PageProblems:
    """What a page complained about: console errors (CSP violations among them) and dialogs."""

    def __init__(self) -> None:
        self.console_errors: list[str] = []
        self.dialogs: list[str] = []

    def watch(self, page) -> None:
        def on_console(msg):
            url = msg.location.get("url", "")
            # Chromium asks for /favicon.ico by itself on pages without an icon (Django's admin).
            if msg.type == "error" and not url.endswith("/favicon.ico"):
                self.console_errors.append(f"{msg.text} ({url})")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.console_errors.append(str(exc)))

        def on_dialog(dialog):
            self.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)


@pytest.fixture
def problems():
    return PageProblems()


@pytest.fixture
def new_page(make_context, problems):
    """Return a function that opens a page in a new context; the page is watched for errors."""

    def make(**context_kwargs):
        page = make_context(**context_kwargs).new_page()
        problems.watch(page)
        return page

    yield make
    # A script error or a Content-Security-Policy violation on any page fails the test.
    assert problems.console_errors == []


@pytest.fixture
def page(new_page):
    return new_page()


def sign_in(page, user, base_url: str) -> None:
    """Put a signed-in session for `user` into the page's context without typing in the page.

    Signing in through the form is tested on its own; the other journeys start signed in. The
    session comes from the real sign-in form (not force_login), so it knows when the password
    was entered, as creating a token requires.
    """
    client = Client()
    tests_sign_in(client, user)
    cookie = client.cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": cookie, "url": base_url}])


@pytest.fixture
def alice_page(page, alice, live_server):
    sign_in(page, alice, live_server.url)
    return page


def api_get(base_url: str, path: str, token: str) -> tuple[int, dict]:
    """GET an API path with a token from outside the browser, as a script would."""
    request = urllib.request.Request(
        base_url + path, headers={"Authorization": f"AccessToken {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
