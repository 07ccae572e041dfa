"""Journey 7: every page is readable in dark mode (and in light mode): no text near the colour of
the background behind it."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

# For every visible element that holds text, find its colour and the first opaque background
# behind it, and return those whose WCAG contrast ratio is below 4.5 (3 for large text).
LOW_CONTRAST_JS = """
() => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const lum = ({ r, g, b }) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a),
    a: 1,
  });
  const background = (el) => {
    const layers = [];
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const bg = parse(getComputedStyle(node).backgroundColor);
      if (bg && bg.a > 0) { layers.push(bg); if (bg.a === 1) break; }
    }
    let colour = { r: 255, g: 255, b: 255, a: 1 };
    if (getComputedStyle(document.documentElement).colorScheme === "dark") {
      colour = { r: 0, g: 0, b: 0, a: 1 };
    }
    for (const layer of layers.reverse()) colour = over(layer, colour);
    return colour;
  };
  const failures = [];
  for (const el of document.querySelectorAll("body *")) {
    const ownText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const isField = el.matches("input:not([type=hidden]), select, textarea") && el.value;
    if (!ownText && !isField) continue;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (style.visibility === "hidden" || box.width < 2 || box.height < 2) continue;
    if (el.closest(".visually-hidden, [hidden]") || !el.checkVisibility()) continue;
    const bg = background(el);
    const fg = over(parse(style.color), bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) {
      const text = (ownText ? el.textContent : el.value).trim().slice(0, 40);
      failures.push(`${el.tagName.toLowerCase()}.${el.className} "${text}": ${ratio.toFixed(2)}`);
    }
  }
  return failures;
}
"""


def _assert_readable(page, scheme: str) -> None:
    # After a click that submits a form, the new page's text can be visible before its
    # stylesheet has loaded (test_accessibility.py's _assert_accessible says more).
    page.wait_for_load_state("load")
    assert page.evaluate(LOW_CONTRAST_JS) == []
    body_bg = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    # The scheme really applied: a dark page has a dark body, a light page a light one.
    channels = [int(v) for v in body_bg[body_bg.index("(") + 1 : -1].split(",")[:3]]
    assert (sum(channels) < 3 * 80) == (scheme == "dark"), body_bg


@pytest.fixture(params=["dark", "light"])
def scheme(request):
    return request.param


def test_it_renders_the_sign_in_page_readably(new_page, scheme):
    page = new_page(color_scheme=scheme)
    page.goto("/accounts/login/")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("This field is required.").first).to_be_visible()
    _assert_readable(page, scheme)
    page.get_by_label("Username or email").fill("nobody")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    _assert_readable(page, scheme)


def test_it_renders_the_token_pages_readably(new_page, scheme, alice, make_token, live_server):
    page = new_page(color_scheme=scheme)
    sign_in(page, alice, live_server.url)
    make_token(alice, name="Forever", expires_at=None)
    make_token(alice, name="Read only", scopes=["read_api"])

    page.goto("/settings/access-tokens/new/")
    page.get_by_label("Expiration").select_option("No expiration")
    expect(page.get_by_role("note")).to_be_visible()
    _assert_readable(page, scheme)

    page.get_by_label("Name").fill("Fresh")
    page.get_by_label("api", exact=True).check()
    page.get_by_role("button", name="Create token").click()
    expect(page.locator(".new-token")).to_be_visible()
    expect(page.get_by_role("button", name="Copy")).to_be_visible()  # keystand.js has run
    _assert_readable(page, scheme)

    page.get_by_label("Open user menu for alice").click()
    expect(page.get_by_role("menuitem", name="Log out")).to_be_visible()
    _assert_readable(page, scheme)
    page.keyboard.press("Escape")

    page.get_by_role("link", name="Delete token Forever").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    _assert_readable(page, scheme)
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Token Forever deleted.")).to_be_visible()
    _assert_readable(page, scheme)


def test_it_renders_the_account_pages_readably(new_page, scheme, alice, live_server):
    from tests.browser.test_accessibility import ANONYMOUS_ACCOUNT_PAGES, SIGNED_IN_ACCOUNT_PAGES

    page = new_page(color_scheme=scheme)
    for url in ["/accounts/signup/", *ANONYMOUS_ACCOUNT_PAGES]:
        page.goto(url)
        _assert_readable(page, scheme)
    sign_in(page, alice, live_server.url)
    for url in SIGNED_IN_ACCOUNT_PAGES:
        page.goto(url)
        expect(page.locator("h1")).to_be_visible()
        _assert_readable(page, scheme)


def test_it_renders_a_tokens_page_and_the_searched_list_readably(
    new_page, scheme, alice, make_token, live_server
):
    from access_tokens import services

    page = new_page(color_scheme=scheme)
    sign_in(page, alice, live_server.url)
    token, raw = make_token(alice, name="Deploy", description="On the build box.")
    for i in range(26):
        make_token(alice, name=f"runner {i:02}", expires_at=services.end_of_day_in(3))

    page.goto(f"/settings/access-tokens/{token.pk}/")
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    _assert_readable(page, scheme)
    page.get_by_label("Name (optional)").fill(raw)
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("That looks like an access token.")).to_be_visible()
    _assert_readable(page, scheme)

    page.goto(f"/settings/access-tokens/{token.pk}/rotate/")
    _assert_readable(page, scheme)

    page.goto("/settings/access-tokens/?ordering=name")
    expect(page.locator(".pager")).to_be_visible()
    _assert_readable(page, scheme)
    page.goto("/settings/access-tokens/?search=nothing")
    expect(page.get_by_role("heading", name="No tokens match")).to_be_visible()
    _assert_readable(page, scheme)

    services.delete_access_token(token=token, actor=alice)
    page.goto(f"/settings/access-tokens/{token.pk}/")
    expect(page.get_by_role("note")).to_be_visible()
    _assert_readable(page, scheme)
