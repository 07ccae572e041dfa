"""
The app's pages inside the host's layout.

Every page extends `access_tokens/base.html`, which extends the template the host names in
ACCESS_TOKEN_BASE_TEMPLATE (default "base.html"). `render` puts that name in the context,
so a host needs no context processor. See the README's "Templates" section for the blocks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import shortcuts

from .conf import token_settings

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse


def render(
    request: HttpRequest, template_name: str, context: dict | None = None, **kwargs
) -> HttpResponse:
    """Return django.shortcuts.render of the page, with the host's base template named."""
    ctx = {"access_tokens_base_template": token_settings.BASE_TEMPLATE, **(context or {})}
    return shortcuts.render(request, template_name, ctx, **kwargs)
