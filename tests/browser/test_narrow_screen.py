"""The token list on a phone-sized screen: one card per token, every value labelled, nothing
cut off."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import AXE

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 800}


def test_it_labels_every_value_and_fits_the_screen(new_page, alice, make_token, live_server):
    make_token(alice, name="Grafana dashboard", scopes=["read_api"])
    page = new_page(viewport=PHONE)
    sign_in(page, alice, live_server.url)
    page.goto("/settings/access-tokens/")

    row = page.locator("#active-tokens tbody tr")
    expect(row.locator("td").first).to_have_text("Grafana dashboard")
    labels = row.locator("td").evaluate_all(
        "cells => cells.map(c => getComputedStyle(c, '::before').content)"
    )
    assert labels[1:6] == ['"Token"', '"Scopes"', '"Created"', '"Expires"', '"Last used"']
    # No sideways scrolling, and the delete button is on screen.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    expect(page.get_by_role("link", name="Delete token Grafana dashboard")).to_be_in_viewport()

    serious = [
        v["id"]
        for v in AXE.run(page).response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []


def test_the_account_pages_fit_a_phone(new_page, alice, live_server):
    page = new_page(viewport=PHONE)
    for url in ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]:
        page.goto(url)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"], url
    sign_in(page, alice, live_server.url)
    for url in ["/accounts/email/", "/accounts/2fa/", "/accounts/password/change/"]:
        page.goto(url)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"], url
        expect(page.locator("h1")).to_be_in_viewport()
