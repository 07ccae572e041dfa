"""Where Debian's Chromium lives and how to start it; shared by the tests and screenshots.py."""

import os
from pathlib import Path

CHROMIUM = Path(os.environ.get("KEYSTAND_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch_chromium(playwright):
    """Start headless Chromium from the system; `playwright install` is never needed."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
