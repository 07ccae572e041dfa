"""The Copy button over plain HTTP on a real host name, where browsers give no Clipboard API."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.browser.conftest import TIMEOUT_MS, PageProblems, sign_in

pytestmark = pytest.mark.browser

HOST = "keystand.test"


@pytest.fixture
def plain_http_page(browser, live_server, settings, alice):
    """A page on http://keystand.test:PORT: not localhost, not HTTPS, so not a secure context."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, HOST]
    port = urlsplit(live_server.url).port
    other = browser.browser_type.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {HOST} 127.0.0.1"],
    )
    base_url = f"http://{HOST}:{port}"
    context = other.new_context(base_url=base_url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    problems = PageProblems()
    problems.watch(page)
    sign_in(page, alice, base_url)
    yield page
    context.close()
    other.close()
    # Chromium reports that it ignores Cross-Origin-Opener-Policy on an untrustworthy origin;
    # that is the point of this test, not a problem of the page.
    errors = [e for e in problems.console_errors if "Cross-Origin-Opener-Policy" not in e]
    assert errors == []


def test_it_copies_the_new_token_without_the_clipboard_api(plain_http_page):
    page = plain_http_page
    page.goto("/settings/access-tokens/new/")
    assert page.evaluate("() => window.isSecureContext") is False
    assert page.evaluate("() => navigator.clipboard === undefined") is True
    page.get_by_label("Name").fill("Over HTTP")
    page.get_by_label("api", exact=True).check()
    page.get_by_role("button", name="Create token").click()

    box = page.get_by_role("region", name="Your new token “Over HTTP”")
    raw = box.get_by_label("New personal access token").input_value()
    assert re.fullmatch(r"kspat_[0-9A-Za-z]{49}", raw)
    box.get_by_role("button", name="Copy").click()
    expect(box.get_by_role("button", name="Copied")).to_be_visible()
    # The field is left selected, so what was copied is plain to see.
    selected = page.evaluate(
        "() => { const f = document.activeElement;"
        " return f.value.substring(f.selectionStart, f.selectionEnd); }"
    )
    assert selected == raw
