"""The README's API section is the reference a client author reads: it must keep up with the
code's own lists (the error codes, the headers CORS exposes)."""

import re
from pathlib import Path

from django.conf import settings

from access_tokens.errors import CODES

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def _section(title: str) -> str:
    start = README.index(f"\n### {title}\n")
    end = README.index("\n## ", start)
    following = README.find("\n### ", start + 1)
    return README[start : min(end, following) if following != -1 else end]


def test_the_error_table_lists_every_code():
    table = _section("Errors")
    listed = set(re.findall(r"^\| \d{3} \| `([a-z_]+)` \|", table, flags=re.MULTILINE))
    assert listed == set(CODES)


def test_the_cors_section_names_every_exposed_header():
    text = _section("Cross-origin requests (CORS)")
    missing = [h for h in settings.CORS_EXPOSE_HEADERS if f"`{h}`" not in text]
    assert missing == []
