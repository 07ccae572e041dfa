"""
Write the README's screenshots to docs/screenshots/ (`make screenshots`).

Starts Keystand with `manage.py runserver` on a free port in 8100-8199 against a throwaway SQLite
database, creates a demo user with a few tokens through the services, and photographs in
Chromium, light and dark: the user menu open, the create form, the one-time token box, the token
list, the delete dialog, one token's page and the regenerate form.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "screenshots"
PORTS = range(8100, 8200)
PASSWORD = "screenshots-only-password-42"
VIEWPORT = {"width": 1100, "height": 620}
SCHEMES = ["light", "dark"]

sys.path.insert(0, str(ROOT))
from tests.browser.chromium import CHROMIUM, launch_chromium  # noqa: E402


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit("No free port in 8100-8199.")


def _environment(database: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ACCESS_TOKEN_", "SECURE_")) and key != "CSRF_TRUSTED_ORIGINS"
    }
    env.update(
        KEYSTAND_ENV_FILE="",
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="true",
        SECRET_KEY="screenshots-only-not-a-secret",
        DATABASE_URL=f"sqlite:///{database}",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        CACHE_URL="locmemcache://",
        EMAIL_URL="dummymail://",
        TIME_ZONE="UTC",
        SIGNUP_ENABLED="true",
    )
    return env


def _create_demo_data(usernames: list[str]) -> dict[str, str]:
    """Create a user per colour scheme with the same tokens; return a raw token to use once."""
    import django

    django.setup()
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone

    from access_tokens import services

    call_command("migrate", verbosity=0, interactive=False)
    today = timezone.localdate()
    used = {}
    for username in usernames:
        user = get_user_model().objects.create_user(
            username, f"{username}@example.org", PASSWORD, first_name="Ada", last_name="Lovelace"
        )
        # A verified address, as after opening the sign-up link (else the list says why no
        # mail comes).
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        services.create_access_token(user=user, name="Old laptop", expires_at=None)
        services.create_access_token(
            user=user,
            name="Grafana dashboard",
            scopes=["read_api"],
            expires_at=services.end_of_day(today + timezone.timedelta(days=5)),
        )
        backup, raw = services.create_access_token(
            user=user,
            name="Nightly backup",
            description="Copies the database to the backup host at 02:00.",
            scopes=["read_api", "self_rotate"],
            expires_at=services.end_of_day(today + timezone.timedelta(days=90)),
        )
        services.update_access_token(
            token=backup,
            actor=user,
            name="Nightly backup",
            via="web",
            description="Copies the database to the backup host at 02:00. Ask Ada.",
        )
        used[username] = raw
    connections.close_all()
    return used


def _wait_for(url: str, server: subprocess.Popen) -> None:
    for _ in range(100):
        if server.poll() is not None:
            raise SystemExit(f"The server exited with {server.returncode}.")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("The server did not answer within 20 seconds.")


def _use_token(url: str, raw: str) -> None:
    """Call the API once, so the list shows a "Last used" time like a real one would."""
    request = urllib.request.Request(
        url + "/api/v1/me/", headers={"Authorization": f"AccessToken {raw}"}
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def _shoot(browser, url: str, scheme: str, username: str) -> list[Path]:
    context = browser.new_context(base_url=url, color_scheme=scheme, viewport=VIEWPORT)
    page = context.new_page()
    written = []

    def shot(name: str, **kwargs) -> None:
        path = OUT / f"{name}-{scheme}.png"
        page.screenshot(path=path, animations="disabled", caret="hide", **kwargs)
        written.append(path)

    page.goto("/accounts/login/")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/settings/access-tokens/")

    page.get_by_label(f"Open user menu for {username}").click()
    page.get_by_role("menuitem", name="Personal Access Tokens").wait_for()
    page.get_by_role("menuitem", name="Personal Access Tokens").hover()
    shot("menu")
    page.keyboard.press("Escape")

    page.get_by_role("link", name="Create token").click()
    page.get_by_label("Name").fill("Deploy from CI")
    shot("create-form", full_page=True)

    page.get_by_label("api", exact=True).check()
    page.get_by_role("button", name="Create token").click()
    page.locator(".new-token").wait_for()
    shot("new-token")

    page.reload()
    page.locator("table.tokens").wait_for()
    shot("token-list")

    page.get_by_role("link", name="Delete token Old laptop").click()
    page.get_by_role("dialog").wait_for()
    shot("delete-dialog")
    page.keyboard.press("Escape")

    page.get_by_role("link", name="Nightly backup", exact=True).click()
    page.get_by_role("heading", name="History").wait_for()
    shot("token-detail", full_page=True)

    page.get_by_role("link", name="Regenerate token").click()
    page.get_by_role("button", name="Regenerate token").wait_for()
    shot("regenerate")
    context.close()
    return written


def main() -> None:
    if not CHROMIUM.exists():
        raise SystemExit(
            f"Chromium not found at {CHROMIUM} (apt-get install chromium-headless-shell chromium)."
        )
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    usernames = [f"ada-{scheme}" for scheme in SCHEMES]
    with tempfile.TemporaryDirectory(prefix="keystand-screenshots-") as tmp:
        env = _environment(Path(tmp) / "screenshots.sqlite3")
        os.environ.update(env)
        used = _create_demo_data(usernames)
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(  # noqa: S603 (our own manage.py, fixed arguments)
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for(url, server)
            for raw in used.values():
                _use_token(url, raw)
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                for scheme, username in zip(SCHEMES, usernames, strict=True):
                    for path in _shoot(browser, url, scheme, username):
                        print(path.relative_to(ROOT))
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
