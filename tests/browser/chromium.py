"""Which of Debian's Chromium builds the tests drive and how; shared with screenshots.py.

Debian builds two binaries from the same Chromium source: the desktop browser (`chromium`) and
`chromium-headless-shell`, the same engine (Blink, V8, the network stack) without the desktop
browser's windowing and UI layers. Playwright itself runs headless tests in the headless shell
by default. Here it ran the 71 browser tests on half the CPU time of the desktop browser in its
headless mode (90 against 153 CPU-seconds; 87 against 166 s of wall time on 3 workers), so the
tests drive the shell when it is installed. The desktop browser still runs one journey of its
own (`test_create_token.py`), so both binaries are exercised. KEYSTAND_CHROMIUM names another build.
"""

import os
from pathlib import Path

HEADLESS_SHELL = Path("/usr/bin/chromium-headless-shell")
DESKTOP_CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chosen() -> Path:
    if os.environ.get("KEYSTAND_CHROMIUM"):
        return Path(os.environ["KEYSTAND_CHROMIUM"])
    return HEADLESS_SHELL if HEADLESS_SHELL.exists() else DESKTOP_CHROMIUM


CHROMIUM = _chosen()


def launch_chromium(playwright, executable: Path = CHROMIUM):
    """Start headless Chromium from the system; `playwright install` is never needed."""
    return playwright.chromium.launch(
        executable_path=str(executable), headless=True, args=CHROMIUM_ARGS
    )
