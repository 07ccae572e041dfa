"""axe-core over the main pages, light and dark: no serious or critical violations."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

AXE = Axe()


def _assert_accessible(page) -> None:
    # The stylesheets first: after a click that submits a form, the new page's text can be
    # visible (laid out) while its CSS is still on the way, and axe then judged the browser's
    # own link blue on the dark canvas (seen once, on a busy machine: color-contrast at the
    # skip link, the brand and a link, all unstyled).
    page.wait_for_load_state("load")
    # As Axe.run does, but axe-core is sent only if the document has none yet (this file's
    # pages have it from the start: new_page below).
    if page.evaluate("typeof axe === 'undefined'"):
        page.evaluate(AXE.axe_script)
    violations = page.evaluate("axe.run({resultTypes: ['violations']}).then(r => r.violations)")
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(" ".join(node["target"]) for node in v["nodes"])
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert problems == []


@pytest.fixture(params=["light", "dark"])
def scheme(request):
    return request.param


@pytest.fixture
def new_page(new_page):
    """Pages with axe-core in every document they load, added before the page's own scripts:
    its 570 kB go to Chromium once per test, not once per check (Axe.run sends them each time,
    a tenth of a second apiece on a 2-core machine)."""

    def make(**context_kwargs):
        page = new_page(**context_kwargs)
        page.context.add_init_script(AXE.axe_script)
        return page

    return make


def test_it_has_an_accessible_sign_in_page(new_page, scheme):
    page = new_page(color_scheme=scheme)
    page.goto("/accounts/login/")
    _assert_accessible(page)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("This field is required.").first).to_be_visible()
    _assert_accessible(page)


def test_it_has_an_accessible_sign_up_page(new_page, scheme):
    page = new_page(color_scheme=scheme)
    page.goto("/accounts/signup/")
    _assert_accessible(page)


def test_it_has_accessible_token_pages(new_page, scheme, alice, make_token, live_server):
    page = new_page(color_scheme=scheme)
    sign_in(page, alice, live_server.url)
    make_token(alice, name="Forever", expires_at=None)
    make_token(alice, name="Read only", scopes=["read_api"])

    page.goto("/settings/access-tokens/new/")
    _assert_accessible(page)
    page.get_by_label("Expiration").select_option("custom")
    page.get_by_label("api", exact=True).check()
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_text("Pick a date, or choose a preset.")).to_be_visible()
    _assert_accessible(page)

    page.get_by_label("Expiration").select_option("No expiration")
    page.get_by_label("api", exact=True).check()
    page.get_by_role("button", name="Create token").click()
    expect(page.locator(".new-token")).to_be_visible()
    # The Copy button shows once keystand.js has run: the menu's Escape and the delete
    # dialog below need it (a click that navigates does not wait for deferred scripts).
    expect(page.get_by_role("button", name="Copy")).to_be_visible()
    _assert_accessible(page)

    page.get_by_label("Open user menu for alice").click()
    expect(page.get_by_role("menuitem", name="Log out")).to_be_visible()
    _assert_accessible(page)
    page.keyboard.press("Escape")

    page.get_by_role("link", name="Delete token Forever").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    _assert_accessible(page)


def test_it_has_an_accessible_empty_list_and_confirmation_page(
    new_page, scheme, alice, make_token, live_server
):
    page = new_page(color_scheme=scheme)
    sign_in(page, alice, live_server.url)
    page.goto("/settings/access-tokens/")
    expect(page.get_by_role("heading", name="No personal access tokens yet")).to_be_visible()
    _assert_accessible(page)

    token, _ = make_token(alice, name="Laptop")
    page.goto(f"/settings/access-tokens/{token.pk}/delete/")
    _assert_accessible(page)


ANONYMOUS_ACCOUNT_PAGES = ["/accounts/password/reset/", "/accounts/password/reset/done/"]
SIGNED_IN_ACCOUNT_PAGES = [
    "/accounts/password/change/",
    "/accounts/email/",
    "/accounts/2fa/",
    "/accounts/reauthenticate/",
    # Asks for the password first, then shows the QR code and the secret.
    "/accounts/2fa/totp/activate/",
    "/accounts/logout/",
]


def test_it_has_accessible_account_pages(new_page, scheme, alice, live_server):
    page = new_page(color_scheme=scheme)
    for url in ANONYMOUS_ACCOUNT_PAGES:
        page.goto(url)
        _assert_accessible(page)
    sign_in(page, alice, live_server.url)
    for url in SIGNED_IN_ACCOUNT_PAGES:
        page.goto(url)
        expect(page.locator("h1")).to_be_visible()
        _assert_accessible(page)
    # A form with errors, too.
    page.goto("/accounts/password/change/")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("This field is required.").first).to_be_visible()
    _assert_accessible(page)


def test_it_has_accessible_two_factor_pages(new_page, scheme, olivia, live_server):
    from tests.conftest import OLIVIA_TOTP_SECRET, PASSWORD
    from tests.totp import totp_code

    page = new_page(color_scheme=scheme)
    page.goto("/accounts/login/")
    page.get_by_label("Username or email").fill("olivia")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Code")).to_be_visible()
    _assert_accessible(page)
    page.get_by_label("Code").fill(totp_code(OLIVIA_TOTP_SECRET))
    page.get_by_role("button", name="Sign in").click()
    page.goto("/accounts/2fa/recovery-codes/generate/")
    _assert_accessible(page)


def test_it_has_accessible_detail_rotate_and_searched_pages(
    new_page, scheme, alice, make_token, live_server
):
    from access_tokens import services

    page = new_page(color_scheme=scheme)
    sign_in(page, alice, live_server.url)
    token, _ = make_token(alice, name="Deploy", description="On the build box.")
    for i in range(26):
        make_token(alice, name=f"runner {i:02}", expires_at=services.end_of_day_in(3))
    services.delete_access_token(token=make_token(alice, name="Gone")[0], actor=alice)

    page.goto(f"/settings/access-tokens/{token.pk}/")
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    _assert_accessible(page)
    page.get_by_label("Name (optional)").fill("x" * 30 + "\x07")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("A name can't contain control characters.")).to_be_visible()
    _assert_accessible(page)

    page.goto(f"/settings/access-tokens/{token.pk}/rotate/")
    _assert_accessible(page)
    page.get_by_label("Expiration of the new token").select_option("custom")
    page.get_by_role("button", name="Regenerate token").click()
    expect(page.get_by_text("Pick a date, or choose a preset.")).to_be_visible()
    _assert_accessible(page)

    page.goto("/settings/access-tokens/?ordering=name&filter=expiring")
    expect(page.locator(".pager")).to_be_visible()
    _assert_accessible(page)
    page.goto("/settings/access-tokens/?search=nothing")
    expect(page.get_by_role("heading", name="No tokens match")).to_be_visible()
    _assert_accessible(page)

    page.goto(f"/settings/access-tokens/{token.pk}/")
    page.get_by_role("link", name="Delete token").click()
    page.get_by_role("button", name="Delete").click()
    page.goto(f"/settings/access-tokens/{token.pk}/")
    expect(page.get_by_role("note")).to_be_visible()
    _assert_accessible(page)
