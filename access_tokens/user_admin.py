"""
Each user's tokens on the host's user admin page, without the app owning that page.

The host's user admin is the host's: the app never replaces it. It offers
`TokenUserAdminMixin`, which a host puts first in its own UserAdmin's bases:

    from access_tokens.user_admin import TokenUserAdminMixin

    @admin.register(User)
    class UserAdmin(TokenUserAdminMixin, BaseUserAdmin): ...

It adds the user's tokens (read-only inline), an action that revokes all tokens of the
selected users, and makes deleting a user revoke their tokens through the service first, so
the audit trail keeps a line per token. A host that writes no UserAdmin of its own need do
nothing: when access_tokens.admin is imported, the user admin registered at that moment (e.g.
django.contrib.auth's) gets the mixin. A user admin registered later without the mixin is
reported by `manage.py check` (access_tokens.W002).
"""

from __future__ import annotations

import datetime as dt

from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import format_html

from . import users
from .models import AccessToken


# Here rather than in admin.py, which imports this module (the token list uses it too).
def short_time(value: dt.datetime | None, empty: str = "—") -> str:
    """Show an instant as its day, with the full time on hover: a list of tokens stays narrow
    enough for a laptop screen, where "Dec. 4, 2026, 2:56 p.m." takes three lines."""
    if value is None:
        return empty
    local = timezone.localtime(value)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.isoformat(),
        localize(local),
        local.strftime("%Y-%m-%d"),
    )


class AccessTokenInline(admin.TabularInline):
    model = AccessToken
    fk_name = "user"
    verbose_name_plural = "personal access tokens"
    fields = [
        "display_name",
        "masked_token",
        "scopes",
        "created_on",
        "expires_on_day",
        "last_used_on",
        "status",
    ]
    readonly_fields = fields
    extra = 0
    show_change_link = False  # the name links to the token
    can_delete = False

    # The row names the token once, as a link to its page (admin.css hides the line of
    # str(token) that Django puts above each inline row, which said it all a second time).
    @admin.display(description="name")
    def display_name(self, token: AccessToken) -> str:
        url = reverse("admin:access_tokens_accesstoken_change", args=[token.pk])
        return format_html('<a href="{}">{}</a>', url, token.display_name)

    @admin.display(description="token")
    def masked_token(self, token: AccessToken) -> str:
        return token.masked

    @admin.display(description="created")
    def created_on(self, token: AccessToken) -> str:
        return short_time(token.created_at)

    @admin.display(description="expires")
    def expires_on_day(self, token: AccessToken) -> str:
        return short_time(token.expires_at, "never")

    @admin.display(description="last used")
    def last_used_on(self, token: AccessToken) -> str:
        return short_time(token.last_used_at, "never")

    @admin.display(description="status")
    def status(self, token: AccessToken) -> str:
        return token.state()

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class TokenUserAdminMixin:
    """Tokens on a user admin: the inline, "Revoke all tokens", deletes that revoke first."""

    def get_inlines(self, request, obj):
        inlines = list(super().get_inlines(request, obj))
        return inlines if AccessTokenInline in inlines else [*inlines, AccessTokenInline]

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm("access_tokens.delete_accesstoken")

    def get_actions(self, request):
        # Added here rather than in `actions`, which the host's class sets for its own.
        actions = super().get_actions(request)
        if IS_POPUP_VAR not in request.GET and self.has_revoke_permission(request):
            func = TokenUserAdminMixin.revoke_all_tokens
            actions.setdefault(
                "revoke_all_tokens", (func, "revoke_all_tokens", func.short_description)
            )
        return actions

    @admin.action(description="Revoke all tokens of selected users")
    def revoke_all_tokens(self, request, queryset):
        from .admin import plural, revoke_confirmation, revoke_tokens

        tokens = list(
            AccessToken.objects.filter(user__in=queryset, revoked_at__isnull=True)
            .select_related("user")
            .order_by(f"user__{users.username_field()}", "-created_at")
        )
        if request.POST.get("post") == "yes":
            count = revoke_tokens(request, tokens)
            who = plural(queryset.count(), "user")
            self.message_user(request, f"Revoked {plural(count)} of {who}.", messages.SUCCESS)
            return None
        return revoke_confirmation(
            self,
            request,
            queryset,
            action="revoke_all_tokens",
            tokens=tokens,
            title="Revoke all tokens of these users?",
        )

    # Deleting a user would cascade to their tokens behind the audit trail's back.

    def delete_model(self, request, obj) -> None:
        from .admin import revoke_tokens

        revoke_tokens(request, list(obj.access_tokens.select_related("user")))
        super().delete_model(request, obj)

    def get_deleted_objects(self, objs, request):
        # Tokens refuse Django's delete; an operator who may revoke them may delete their owner,
        # because delete_model and delete_queryset revoke them through the service first.
        to_delete, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        if self.has_revoke_permission(request):
            perms_needed.discard(AccessToken._meta.verbose_name)
        return to_delete, model_count, perms_needed, protected

    def delete_queryset(self, request, queryset) -> None:
        from .admin import revoke_tokens

        tokens = AccessToken.objects.filter(user__in=queryset).select_related("user")
        revoke_tokens(request, list(tokens))
        super().delete_queryset(request, queryset)


def extend_registered_user_admin(site: admin.AdminSite) -> None:
    """Give the user admin registered on `site` now the mixin, if it lacks it."""
    User = get_user_model()
    if not site.is_registered(User):
        return
    model_admin = site.get_model_admin(User)
    if isinstance(model_admin, TokenUserAdminMixin):
        return
    base = type(model_admin)
    extended = type(base.__name__, (TokenUserAdminMixin, base), {"__module__": base.__module__})
    site.unregister(User)
    site.register(User, extended)
