"""Template filters for showing token names, which may be 100 characters without a space."""

import re

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

register = template.Library()

_AFTER_BREAK_CHAR = re.compile(r"(?<=[_\-./@])")
_WBR = SafeString("<wbr>")


@register.filter
def breakable(value) -> SafeString:
    """Escape a name and let it wrap after _ - . / @, so `svc_gitlab_runner_production_backup`
    breaks between its words rather than mid-word (CSS breaks it anywhere as a last resort)."""
    parts = _AFTER_BREAK_CHAR.split(str(value))
    return format_html_join(_WBR, "{}", ((part,) for part in parts))
