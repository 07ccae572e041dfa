"""Journey 8: an operator finds a token in /admin/ and revokes it."""

import re

import pytest
from playwright.sync_api import expect

from access_tokens.models import AccessTokenEvent
from tests.browser.conftest import api_get
from tests.conftest import OLIVIA_TOTP_SECRET, PASSWORD
from tests.totp import totp_code

pytestmark = pytest.mark.browser


def _rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgb({r}, {g}, {b})"


def _admin_sign_in(page, username: str) -> None:
    # The admin signs operators in through the site's sign-in page, then returns to the admin.
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # Operators have two-factor (staff must): the code from their authenticator app.
    page.get_by_label("Code").fill(totp_code(OLIVIA_TOTP_SECRET))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Tokens, accounts and audit trail")).to_be_visible()


def test_it_finds_a_token_by_search_and_revokes_it(
    page, olivia, alice, bob, make_token, live_server
):
    leaked, raw = make_token(alice, name="Deploy bot")
    other, _ = make_token(alice, name="Laptop")
    bystander, _ = make_token(bob, name="Deploy bot")
    _admin_sign_in(page, "olivia")

    page.locator("#access_tokens-accesstoken").get_by_role("link").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(3)
    page.locator("#searchbar").fill("alice")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="Deploy bot")).to_contain_text(f"kspat_…{raw[-4:]}")
    # The digest is never on the page.
    assert leaked.digest not in page.content()

    page.locator(f'input[name="_selected_action"][value="{leaked.pk}"]').check()
    page.locator('select[name="action"]').select_option(label="Revoke selected tokens")
    page.locator('button[name="index"]').click()

    expect(page.get_by_role("heading", name="Revoke these tokens?")).to_be_visible()
    expect(page.locator(".revoke-list li")).to_have_count(1)
    expect(page.locator(".revoke-list")).to_contain_text(f"Deploy bot kspat_…{raw[-4:]} — alice")
    page.get_by_role("button", name="Yes, revoke 1 token").click()

    expect(page.locator(".messagelist")).to_contain_text("Revoked 1 token.")
    # Back on the list, still searching for alice: her other token is the one still active.
    expect(page).to_have_url(re.compile(r"/admin/access_tokens/accesstoken/\?q=alice$"))
    rows = page.locator("#result_list tbody tr")
    expect(rows.filter(has_text="Deploy bot").locator(".field-status")).to_have_text("revoked")
    expect(rows.filter(has_text="Laptop").locator(".field-status")).to_have_text("active")

    assert api_get(live_server.url, "/api/v1/me/", raw)[0] == 401
    event = AccessTokenEvent.objects.get(token_id=leaked.pk, action="revoked_by_operator")
    assert (event.actor, event.owner, event.via) == (olivia, alice, "admin")
    assert {t.pk for t in alice.access_tokens.active()} == {other.pk}
    assert bob.access_tokens.get().pk == bystander.pk


def test_it_revokes_a_pasted_leaked_token(page, olivia, alice, make_token, live_server):
    leaked, raw = make_token(alice, name="CI deploy")
    _admin_sign_in(page, "olivia")

    page.get_by_role("link", name="Find a leaked token").first.click()
    page.get_by_label("Token").fill(f"ERROR auth failed for header 'Bearer {raw}' at 12:00")
    page.get_by_role("button", name="Check").click()

    verdict = page.locator("#verdict")
    expect(verdict).to_contain_text("A Keystand token of alice, status: active.")
    expect(verdict).to_contain_text(f"kspat_…{raw[-4:]}")
    revoke = page.get_by_role("button", name="Revoke this token…")
    # Styled as the dangerous button it is, in the admin's own delete colour.
    danger = page.evaluate(
        "() => getComputedStyle(document.body).getPropertyValue('--delete-button-bg').trim()"
    )
    assert revoke.evaluate("b => getComputedStyle(b).backgroundColor") == _rgb(danger)
    revoke.click()

    # It asks first, on the same page as the list's "Revoke selected tokens".
    expect(page.get_by_role("heading", name="Revoke these tokens?")).to_be_visible()
    expect(page.locator(".revoke-list")).to_contain_text(f"CI deploy kspat_…{raw[-4:]} — alice")
    assert alice.access_tokens.active().exists()
    page.get_by_role("button", name="Yes, revoke 1 token").click()

    expect(page.locator(".messagelist")).to_contain_text(
        f"Revoked 1 token. alice’s token “CI deploy” (kspat_…{raw[-4:]}) no longer works."
    )
    assert not alice.access_tokens.active().exists()
    assert api_get(live_server.url, "/api/v1/me/", raw)[0] == 401


def _history_urls(page) -> list[str]:
    """Return every URL in the tab's session history (what Back and Forward can reach)."""
    cdp = page.context.new_cdp_session(page)
    return [entry["url"] for entry in cdp.send("Page.getNavigationHistory")["entries"]]


def test_a_token_pasted_into_the_search_box_never_reaches_a_url(
    page, olivia, alice, make_token, live_server
):
    _leaked, raw = make_token(alice, name="CI deploy")
    _admin_sign_in(page, "olivia")
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.locator("#access_tokens-accesstoken").get_by_role("link").click()
    page.locator("#searchbar").fill(raw)
    page.locator("#searchbar").press("Enter")

    # The list's script sent it by POST to the finder, which answers at once.
    expect(page.get_by_role("heading", name="Find a leaked token")).to_be_visible()
    expect(page.locator("#verdict")).to_contain_text("A Keystand token of alice, status: active.")
    assert raw not in page.url
    assert not any(raw[6:30] in url for url in requested)
    assert not any(raw[6:30] in url for url in _history_urls(page))
    # Back on the list, the search box is empty.
    page.go_back()
    expect(page.locator("#searchbar")).to_have_value("")
    assert raw not in page.url


def test_without_javascript_a_pasted_token_search_lands_on_the_bare_list(
    new_page, olivia, alice, make_token, live_server
):
    make_token(alice, name="CI deploy")
    _leaked, raw = make_token(alice, name="Leaked")
    page = new_page(java_script_enabled=False)
    _admin_sign_in(page, "olivia")
    page.goto("/admin/access_tokens/accesstoken/")
    page.locator("#searchbar").fill(raw)
    page.locator("#searchbar").press("Enter")

    expect(page.locator(".messagelist")).to_contain_text("That looks like a whole token")
    expect(page).to_have_url(re.compile(r"/admin/access_tokens/accesstoken/$"))
    expect(page.locator("#searchbar")).to_have_value("")
    assert raw[6:30] not in page.content()
    assert not any(raw[6:30] in url for url in _history_urls(page))


def test_a_tokens_page_revokes_it_after_the_same_confirmation(
    page, olivia, alice, make_token, live_server
):
    token, raw = make_token(alice, name="Deploy bot")
    _admin_sign_in(page, "olivia")
    page.goto(f"/admin/access_tokens/accesstoken/{token.pk}/change/")
    page.get_by_role("button", name="Revoke this token…").click()

    expect(page.get_by_role("heading", name="Revoke these tokens?")).to_be_visible()
    expect(page.locator(".revoke-list li")).to_have_count(1)
    # "No, take me back" returns to the token's page with nothing revoked.
    page.get_by_role("link", name="No, take me back").click()
    expect(page).to_have_url(re.compile(rf"/{token.pk}/change/$"))
    token.refresh_from_db()
    assert token.revoked_at is None

    page.get_by_role("button", name="Revoke this token…").click()
    page.get_by_role("button", name="Yes, revoke 1 token").click()
    expect(page.locator(".messagelist")).to_contain_text(
        f"Revoked 1 token. alice’s token “Deploy bot” (kspat_…{raw[-4:]}) no longer works."
    )
    assert api_get(live_server.url, "/api/v1/me/", raw)[0] == 401
    event = AccessTokenEvent.objects.get(token_id=token.pk, action="revoked_by_operator")
    assert (event.actor, event.via) == (olivia, "admin")


def test_without_javascript_take_me_back_still_returns_to_the_tokens_page(
    new_page, olivia, alice, make_token, live_server
):
    token, _raw = make_token(alice, name="Deploy bot")
    page = new_page(java_script_enabled=False)
    _admin_sign_in(page, "olivia")
    page.goto(f"/admin/access_tokens/accesstoken/{token.pk}/change/")
    page.get_by_role("button", name="Revoke this token…").click()
    expect(page.get_by_role("heading", name="Revoke these tokens?")).to_be_visible()

    page.get_by_role("link", name="No, take me back").click()
    expect(page).to_have_url(re.compile(rf"/{token.pk}/change/$"))
    expect(page.get_by_role("button", name="Revoke this token…")).to_be_visible()
    token.refresh_from_db()
    assert token.revoked_at is None


LONG = "svc_gitlab_runner_production_backup_" + "x" * 64  # 100 characters


def test_the_admin_fits_a_phone_and_a_laptop_with_a_long_name(
    page, olivia, alice, make_token, live_server
):
    token, _ = make_token(alice, name=LONG, scopes=["read_api", "read_user", "self_rotate"])
    make_token(alice, name="svc_gitlab_runner_production_backup")
    _admin_sign_in(page, "olivia")
    pages = [
        "/admin/access_tokens/accesstoken/",
        f"/admin/access_tokens/accesstoken/{token.pk}/change/",
        f"/admin/auth/user/{alice.pk}/change/",
        "/admin/access_tokens/accesstokenevent/",
    ]
    for width in [390, 1280, 1440]:
        page.set_viewport_size({"width": width, "height": 900})
        for url in pages:
            page.goto(url)
            width_now = page.evaluate("() => document.documentElement.scrollWidth")
            assert width_now <= width, (url, width, width_now)
        if width >= 1280:
            # Every column of the token list is on screen, Status included.
            page.goto(pages[0])
            status = page.locator("#result_list thead th.column-status")
            expect(status).to_be_in_viewport(ratio=1)
            # Three scopes take two lines at most, not one each.
            cell = (
                page.locator("#result_list tbody tr").filter(has_text=LONG).locator(".field-scopes")
            )
            line = float(cell.evaluate("c => parseFloat(getComputedStyle(c).lineHeight)"))
            height = cell.evaluate(
                "c => { const r = document.createRange(); r.selectNodeContents(c);"
                " return r.getBoundingClientRect().height; }"
            )
            assert height < 2.5 * line


def test_the_users_page_shows_each_token_once(page, olivia, alice, make_token):
    make_token(alice, name="Deploy bot")
    _admin_sign_in(page, "olivia")
    page.goto(f"/admin/auth/user/{alice.pk}/change/")
    tokens = page.locator("#access_tokens-group")
    # Django's inline shows str(token) above each row; with the name column that said it twice.
    expect(tokens.get_by_text("Deploy bot").locator("visible=true")).to_have_count(1)
    expect(tokens.get_by_role("link", name="Deploy bot")).to_be_visible()
