"""A 100-character token name wraps everywhere: no page grows wider than the screen, on a
390 px phone or a 1,280 px desktop, and the delete dialog keeps its buttons on screen."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from access_tokens.models import AccessToken
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

LONG = "svc_gitlab_runner_production_backup_" + "x" * 64  # 100 characters, no space
WIDTHS = [390, 1280]


def _page_width(page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth")


def _create(page, name: str) -> None:
    page.goto("/settings/access-tokens/new/")
    page.get_by_label("Name").fill(name)
    page.get_by_label("api", exact=True).check()
    page.get_by_role("button", name="Create token").click()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_new_token_box_list_and_dialog_fit_the_screen(
    new_page, alice, make_token, live_server, width
):
    assert len(LONG) == 100
    make_token(alice, name="svc_gitlab_runner_production_backup", scopes=["read_api", "read_user"])
    page = new_page(viewport={"width": width, "height": 800})
    sign_in(page, alice, live_server.url)
    _create(page, LONG)

    box = page.get_by_role("region", name=f"Your new token “{LONG}”")
    expect(box).to_be_visible()
    assert _page_width(page) <= width
    # The heading wraps inside the box; the field and the Copy button stay inside it too.
    inside = box.bounding_box()
    for part in [box.get_by_role("heading"), box.get_by_role("button", name="Copy")]:
        b = part.bounding_box()
        assert inside["x"] <= b["x"] and b["x"] + b["width"] <= inside["x"] + inside["width"]

    page.get_by_role("link", name=f"Delete token {LONG}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading")).to_have_text(f"Delete token “{LONG}”?")
    d = dialog.bounding_box()
    # A margin on each side, even on a phone, and both buttons wholly on screen.
    assert d["x"] >= 8 and d["x"] + d["width"] <= width - 8
    for name in ["Cancel", "Delete"]:
        expect(dialog.get_by_role("button", name=name, exact=True)).to_be_in_viewport(ratio=1)
    assert _page_width(page) <= width


@pytest.mark.parametrize("width", WIDTHS)
def test_the_delete_page_fits_the_screen(new_page, alice, make_token, live_server, width):
    token, _ = make_token(alice, name=LONG)
    page = new_page(viewport={"width": width, "height": 800}, java_script_enabled=False)
    sign_in(page, alice, live_server.url)
    page.goto(f"/settings/access-tokens/{token.pk}/delete/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Delete token “{LONG}”?")
    assert _page_width(page) <= width
    expect(page.get_by_role("button", name="Delete")).to_be_in_viewport(ratio=1)


def test_an_expiry_badge_keeps_the_phone_grid(new_page, alice, make_token, live_server):
    # Three days from its end, made long ago: it shows "Expires in 3 days".
    token, _ = make_token(alice, name="Ending", expires_at=timezone.now() + dt.timedelta(days=3))
    AccessToken.objects.filter(pk=token.pk).update(
        created_at=timezone.now() - dt.timedelta(days=90)
    )
    page = new_page(viewport={"width": 390, "height": 800})
    sign_in(page, alice, live_server.url)
    page.goto("/settings/access-tokens/")
    cell = page.locator("#active-tokens tbody tr td[data-label=Expires]")
    badge = cell.locator(".badge.warn")
    expect(badge).to_contain_text("Expires in")
    # The badge sits in the value column, right of the label, never under it.
    date = cell.locator("time")
    assert badge.bounding_box()["x"] >= date.bounding_box()["x"]
    assert _page_width(page) <= 390


@pytest.mark.parametrize("width", WIDTHS)
def test_the_token_page_fits_the_screen(new_page, alice, make_token, live_server, width):
    token, _ = make_token(alice, name=LONG)
    page = new_page(viewport={"width": width, "height": 800})
    sign_in(page, alice, live_server.url)
    page.goto(f"/settings/access-tokens/{token.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(LONG)
    assert _page_width(page) <= width
    page.goto(f"/settings/access-tokens/{token.pk}/rotate/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(LONG)
    assert _page_width(page) <= width
