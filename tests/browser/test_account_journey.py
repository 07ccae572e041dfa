"""Journey 9, the whole life of an account in Chromium: sign up, verify the address with the
link from the mail, set up two-factor, sign in with a TOTP code, create a token after entering
the password again (the form survives the detour), and reset a forgotten password."""

import re
import time

import pytest
from django.core import mail
from playwright.sync_api import expect

from access_tokens.models import AccessToken
from tests.conftest import PASSWORD
from tests.totp import totp_code

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a-brand-new-passphrase-77"


def _link_in_last_mail(pattern: str) -> str:
    """Return the path of the link in the newest mail (the live server shares our outbox)."""
    return re.search(rf"https?://[^/\s]+({pattern}\S*/)", mail.outbox[-1].body).group(1)


def _sign_in(page, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username or email").fill("dora")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _sign_out(page) -> None:
    page.get_by_label("Open user menu for dora").click()
    page.get_by_role("menuitem", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))


def test_an_account_from_sign_up_to_a_password_reset(page, settings, django_user_model):
    # Sign up: the token page says no mail comes until the address is verified.
    page.goto("/accounts/signup/")
    page.get_by_label("Username", exact=True).fill("dora")
    page.get_by_label("Email").fill("dora@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/settings/access-tokens/$"))
    expect(page.locator(".mail-held")).to_contain_text("until you verify that address")
    assert [m.to for m in mail.outbox] == [["dora@example.org"]]

    # Verify: open the link from the mail and confirm.
    page.goto(_link_in_last_mail("/accounts/confirm-email/"))
    page.get_by_role("button", name="Confirm").click()
    page.goto("/settings/access-tokens/")
    expect(page.get_by_role("heading", name="Personal Access Tokens", level=1)).to_be_visible()
    expect(page.locator(".mail-held")).to_have_count(0)

    # Two-factor from the user menu: scan (here: read) the secret, enter the app's code.
    page.get_by_label("Open user menu for dora").click()
    page.get_by_role("menuitem", name="Two-factor authentication").click()
    page.get_by_role("link", name="Activate").click()
    if "/reauthenticate/" in page.url:  # allauth asks for the password before 2FA changes
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Confirm").click()
    expect(page.locator("img.qr")).to_be_visible()
    secret = page.get_by_label("Authenticator secret").input_value()
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    codes = page.locator("#recovery_codes").input_value().split()
    assert len(codes) >= 10
    _sign_out(page)

    # Sign in: the password, then the code from the app.
    _sign_in(page, PASSWORD)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    page.get_by_label("Code").fill(totp_code(secret))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome, dora")).to_be_visible()

    # Create a token once the sign-in is old: the password is asked for again first, and the
    # form comes back as it was filled in.
    settings.ACCESS_TOKEN_REAUTH_SECONDS = 1
    time.sleep(1.5)
    page.goto("/settings/access-tokens/new/")
    page.get_by_label("Name").fill("Deploy from CI")
    page.get_by_label("Expiration").select_option("90")
    page.get_by_label("read_api", exact=True).check()
    page.get_by_label("read_user", exact=True).check()
    page.get_by_role("button", name="Create token").click()
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/\?next="))
    settings.ACCESS_TOKEN_REAUTH_SECONDS = 900
    assert not AccessToken.objects.exists()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/settings/access-tokens/new/$"))
    expect(page.get_by_label("Name")).to_have_value("Deploy from CI")
    expect(page.get_by_label("Expiration")).to_have_value("90")
    expect(page.get_by_label("read_api", exact=True)).to_be_checked()
    expect(page.get_by_label("read_user", exact=True)).to_be_checked()
    expect(page.get_by_label("api", exact=True)).not_to_be_checked()
    page.get_by_role("button", name="Create token").click()
    expect(page.locator(".new-token")).to_be_visible()
    token = AccessToken.objects.get()
    assert (token.name, token.scope_list) == ("Deploy from CI", ["read_api", "read_user"])
    # Verified now, so the owner hears about the new token.
    assert mail.outbox[-1].to == ["dora@example.org"]
    assert "token was created" in mail.outbox[-1].subject
    _sign_out(page)

    # Forgot the password: a link by mail sets a new one.
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("dora@example.org")
    page.get_by_role("button", name=re.compile("Reset")).click()
    expect(page.get_by_role("heading", name=re.compile("Password Reset"))).to_be_visible()
    page.goto(_link_in_last_mail("/accounts/password/reset/key/"))
    page.get_by_label("New Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New Password (again)").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change Password").click()
    expect(page.get_by_text("Your password was changed.")).to_be_visible()

    # The old password no longer works; the new one does, with a recovery code this time.
    _sign_in(page, PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text("not correct")
    _sign_in(page, NEW_PASSWORD)
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome, dora")).to_be_visible()
    assert django_user_model.objects.get(username="dora").check_password(NEW_PASSWORD)
