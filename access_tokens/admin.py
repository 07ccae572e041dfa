"""
The operators' side of tokens: the token list, the audit trail and "Find a leaked token".

Nothing here writes a token directly. Edits go through services.update_access_token and
revocations through services.delete_access_token, so each one is audited (and the owner
emailed) like any other. The digest is never shown and Django's own delete is switched off.
"""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.contrib.admin.views.main import SEARCH_VAR
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.formats import localize
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_POST

from . import scopes, services, users
from .expiry import end_of_day
from .models import AccessToken, AccessTokenEvent
from .token_format import PREFIX, TOKEN_IN_TEXT_RE, TOKEN_LENGTH, extract_token
from .user_admin import extend_registered_user_admin, short_time

UNUSED_DAYS = 90


def _now() -> dt.datetime:
    return timezone.now()


# --- Filters ----------------------------------------------------------------------------------


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("expired", "Expired"), ("revoked", "Revoked")]

    def queryset(self, request, queryset):
        now = _now()
        if self.value() == "active":
            return queryset.active(now)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lt=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


class ScopeFilter(admin.SimpleListFilter):
    title = "scope"
    parameter_name = "scope"

    def lookups(self, request, model_admin):
        return scopes.choices()

    def queryset(self, request, queryset):
        name = self.value()
        if name not in scopes.registry():
            return queryset
        # Stored space-separated: match the whole word (re.escape: a host's scope may hold ".").
        return queryset.filter(scopes__regex=rf"(^| ){re.escape(name)}( |$)")


class ExpiryWindowFilter(admin.SimpleListFilter):
    title = "expiry"
    parameter_name = "expires"

    def lookups(self, request, model_admin):
        return [
            ("expired", "Already expired"),
            ("7", "Within 7 days"),
            ("30", "Within 30 days"),
            ("later", "In more than 30 days"),
            ("never", "Never"),
        ]

    def queryset(self, request, queryset):
        now, value = _now(), self.value()
        if value == "expired":
            return queryset.filter(expires_at__lt=now)
        if value in ("7", "30"):
            soon = now + dt.timedelta(days=int(value))
            return queryset.filter(expires_at__gte=now, expires_at__lte=soon)
        if value == "later":
            return queryset.filter(expires_at__gt=now + dt.timedelta(days=30))
        if value == "never":
            return queryset.filter(expires_at__isnull=True)
        return queryset


class UsageFilter(admin.SimpleListFilter):
    title = "use"
    parameter_name = "use"

    def lookups(self, request, model_admin):
        return [
            ("unused", f"Unused for {UNUSED_DAYS} days"),
            ("recent", f"Used in the last {UNUSED_DAYS} days"),
            ("never", "Never used"),
        ]

    def queryset(self, request, queryset):
        cutoff = _now() - dt.timedelta(days=UNUSED_DAYS)
        if self.value() == "unused":
            # Never used since a creation long ago counts as unused, a new token does not.
            return queryset.filter(
                Q(last_used_at__lt=cutoff) | Q(last_used_at__isnull=True, created_at__lt=cutoff)
            )
        if self.value() == "recent":
            return queryset.filter(last_used_at__gte=cutoff)
        if self.value() == "never":
            return queryset.filter(last_used_at__isnull=True)
        return queryset


# --- The revoke action, shared with the user admin --------------------------------------------


def revoke_tokens(request: HttpRequest, tokens) -> int:
    """Revoke each token (and what it made) through the service, as this operator. Return how
    many of the given tokens were live before."""
    return sum(
        services.revoke_access_token(
            token=token,
            actor=request.user,
            reason=AccessToken.RevokedReason.REVOKED_BY_OPERATOR,
            via=AccessTokenEvent.Via.ADMIN,
            request=request,
        )
        for token in tokens
    )


def revoke_confirmation(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    action: str,
    tokens: list[AccessToken],
    title: str,
) -> TemplateResponse:
    """Render the "Are you sure?" step, in the manner of Django's delete_selected.

    "No, take me back" goes back in the browser's history (Django's cancel.js), and its
    href is the page the action came from, so that it also works before that async
    script has run, or without JavaScript at all.
    """
    opts = modeladmin.model._meta
    changelist = reverse(admin_urlname(opts, "changelist"), current_app=modeladmin.admin_site.name)
    referer = request.headers.get("referer", "")
    back = (
        referer
        if url_has_allowed_host_and_scheme(
            referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        else changelist
    )
    ctx = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "subtitle": None,
        "opts": opts,
        "queryset": queryset,
        "tokens": tokens,
        "action_name": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": modeladmin.media,
        "back_url": back,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, "admin/access_tokens/revoke_confirmation.html", ctx)


def _token_link(token: AccessToken | None, token_id) -> str:
    """Link to a token's admin page by name and masked value; a purged one by its id."""
    if token is None:
        return format_html("<code>{}</code> (purged)", token_id)
    url = reverse("admin:access_tokens_accesstoken_change", args=[token.pk])
    return format_html('<a href="{}">{} ({})</a>', url, token.display_name, token.masked)


def plural(count: int, word: str = "token") -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


# --- AccessToken ------------------------------------------------------------------------------


class AccessTokenChangeForm(forms.ModelForm):
    """Name and expiry day: an operator may rename a token or move its expiry, nothing else."""

    expires_on = forms.DateField(
        label="Expires on",
        required=False,
        widget=AdminDateWidget,
        help_text="The token works through the end of this day in the server's time zone. "
        "Leave empty for no expiry.",
    )

    class Meta:
        model = AccessToken
        fields = ["name"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.expires_at is not None:
            self.initial["expires_on"] = timezone.localdate(self.instance.expires_at)

    def clean(self):
        cleaned = super().clean()
        day = cleaned.get("expires_on")
        old = self.instance.expires_at
        if day is None:
            expires_at = None
        elif old is not None and timezone.localdate(old) == day:
            expires_at = old  # the same day: keep the exact instant
        else:
            expires_at = end_of_day(day)
        cleaned["expires_at"] = expires_at
        # Judge the original token, not self.instance, which the form has already changed.
        original = AccessToken.objects.get(pk=self.instance.pk)
        try:
            services.validate_token_update(
                token=original, name=cleaned.get("name", ""), expires_at=expires_at
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                self.add_error("expires_on" if field == "expires_at" else field, errors)
        return cleaned


@admin.register(AccessToken)
class AccessTokenAdmin(admin.ModelAdmin):
    form = AccessTokenChangeForm
    list_display = [
        "display_name",
        "user_link",
        "masked_token",
        "scopes",
        "created_on",
        "expires_on_day",
        "last_used_on",
        "status",
    ]
    list_display_links = ["display_name"]
    list_filter = [StatusFilter, ScopeFilter, ExpiryWindowFilter, UsageFilter]
    search_help_text = (
        "Search by the owner's username or email, token name or last four characters "
        "(kspat_…a1B2). "
        "Never paste a whole token here: use “Find a leaked token”."
    )
    list_select_related = ["user"]
    list_per_page = 50
    actions = ["revoke_selected"]
    fieldsets = [
        (None, {"fields": ["name", "expires_on"]}),
        (
            "Token",
            {
                "fields": [
                    "user_link",
                    "masked_token",
                    "description",
                    "scopes",
                    "status",
                    "created",
                    "last_used_at",
                    "last_used_ip",
                    "expiry_notified_at",
                    "revocation",
                    "events_link",
                ]
            },
        ),
        ("Tokens made with this one", {"fields": ["made_tokens"]}),
    ]
    readonly_fields = [
        "user_link",
        "masked_token",
        "description",
        "scopes",
        "status",
        "created",
        "last_used_at",
        "last_used_ip",
        "expiry_notified_at",
        "revocation",
        "events_link",
        "made_tokens",
    ]

    @admin.display(description="name", ordering="name")
    def display_name(self, token: AccessToken) -> str:
        return token.display_name

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        # Whatever the host's user model calls its name and address.
        owner = [f"user__{users.username_field()}"]
        email = users.email_field()
        if email and email != users.username_field():
            owner.append(f"user__{email}")
        return [*owner, "name", "=last_four"]

    @admin.display(description="created", ordering="created_at")
    def created_on(self, token: AccessToken) -> str:
        return short_time(token.created_at)

    @admin.display(description="expires", ordering="expires_at")
    def expires_on_day(self, token: AccessToken) -> str:
        return short_time(token.expires_at, "never")

    @admin.display(description="last used", ordering="last_used_at")
    def last_used_on(self, token: AccessToken) -> str:
        return short_time(token.last_used_at, "never")

    # The admin imports this module once every model is loaded, so the user model is known.
    @admin.display(description="owner", ordering=f"user__{users.username_field()}")
    def user_link(self, token: AccessToken) -> str:
        url = users.admin_change_url(token.user_id)
        if url is None:
            return token.user.get_username()
        return format_html('<a href="{}">{}</a>', url, token.user.get_username())

    @admin.display(description="token")
    def masked_token(self, token: AccessToken) -> str:
        return format_html('<code class="keystand-masked">{}</code>', token.masked)

    @admin.display(description="status")
    def status(self, token: AccessToken) -> str:
        return token.state(_now())

    @admin.display(description="created")
    def created(self, token: AccessToken) -> str:
        how = f"{localize(timezone.localtime(token.created_at))}, {token.get_created_via_display()}"
        if token.rotated_from_id:
            return format_html(
                "{} — rotation of {}", how, _token_link(token.rotated_from, token.rotated_from_id)
            )
        if token.created_by_token_id:
            return format_html(
                "{} — made with token {}",
                how,
                _token_link(token.created_by_token, token.created_by_token_id),
            )
        return how

    @admin.display(description="revoked")
    def revocation(self, token: AccessToken) -> str:
        if token.revoked_at is None:
            return "—"
        by = f" by {token.revoked_by.get_username()}" if token.revoked_by_id else ""
        when = localize(timezone.localtime(token.revoked_at))
        return f"{when}{by}: {token.get_revoked_reason_display()}"

    @admin.display(description="tokens it made")
    def made_tokens(self, token: AccessToken) -> str:
        made = list(token.created_tokens.order_by("-created_at"))
        if not made:
            return "None: no token was created by an API request made with this one."
        items = format_html_join(
            "",
            "<li>{} — {}, created {}</li>",
            (
                (_token_link(child, child.pk), child.state(_now()), localize(child.created_at))
                for child in made
            ),
        )
        return format_html("<ul class='made-tokens'>{}</ul>", items)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("user", "revoked_by", "created_by_token", "rotated_from")
        )

    def get_fieldsets(self, request, obj=None):
        if obj is not None and obj.revoked_at is not None:
            # A revoked token is a record; nothing about it changes any more.
            return [(None, {"fields": ["name", "expires_at"]}), *self.fieldsets[1:]]
        return self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.revoked_at is not None:
            return [*self.readonly_fields, "name", "expires_at"]
        return self.readonly_fields

    @admin.display(description="audit trail")
    def events_link(self, token: AccessToken) -> str:
        url = reverse("admin:access_tokens_accesstokenevent_changelist")
        return format_html('<a href="{}?token_id={}">Events for this token</a>', url, token.pk)

    # Only name and expiry change, and only through the service.

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.revoked_at is not None:
            return False  # a revoked token is a record: view it, change nothing
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Revoking is the one way out (it audits and emails); Django's delete would do neither.
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.delete_{opts.model_name}")

    def save_model(self, request, obj, form, change) -> None:
        original = AccessToken.objects.select_related("user").get(pk=obj.pk)
        services.update_access_token(
            token=original,
            actor=request.user,
            name=form.cleaned_data["name"],
            expires_at=form.cleaned_data["expires_at"],
            request=request,
        )

    class Media:
        # Sends a whole token typed into the search box to "Find a leaked token" by POST.
        js = ["js/admin_token_search.js"]

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        if _looks_like_token(request.GET.get(SEARCH_VAR, "")):
            # A whole token came in a GET (the search box without JavaScript): answer with the
            # list without it, so the page, its links and the address bar never repeat it.
            _warn_whole_token(request)
            query = request.GET.copy()
            del query[SEARCH_VAR]
            return HttpResponseRedirect(f"{request.path}?{query.urlencode()}".rstrip("?"))
        return super().changelist_view(request, extra_context)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if _looks_like_token(term):
            # Any other search path (changelist_view redirects first): find nothing, and
            # point to the page that takes a token by POST, without repeating the value.
            _warn_whole_token(request)
            return queryset.none(), False
        for masked_prefix in ("kspat_…", "kspat_...", "…", "..."):
            if term.startswith(masked_prefix) and len(term) == len(masked_prefix) + 4:
                return queryset.filter(last_four=term[-4:]), False
        return super().get_search_results(request, queryset, search_term)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The page's own Revoke button posts to "Revoke selected tokens" for this one token, so
        # it asks on the very same confirmation page (and works without JavaScript).
        token = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "can_revoke_token": token is not None
            and token.revoked_at is None
            and self.has_revoke_permission(request),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description="Revoke selected tokens", permissions=["revoke"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet):
        tokens = list(queryset.select_related("user"))
        if request.POST.get("post") == "yes":
            count = revoke_tokens(request, tokens)
            message = f"Revoked {plural(count)}."
            if count == 1 and len(tokens) == 1:  # from the token's page or the finder: say which
                [token] = tokens
                message += (
                    f" {token.user.get_username()}’s token “{token.display_name}” "
                    f"({token.masked}) no longer works."
                )
            self.message_user(request, message, messages.SUCCESS)
            return None
        return revoke_confirmation(
            self,
            request,
            queryset,
            action="revoke_selected",
            tokens=tokens,
            title="Revoke these tokens?",
        )

    # Find a leaked token.

    def get_urls(self):
        urls = [
            path(
                "find-leaked/",
                self.admin_site.admin_view(self.find_leaked_view),
                name="access_tokens_find_leaked",
            ),
            path(
                "find-leaked/revoke/",
                self.admin_site.admin_view(self.revoke_leaked_view),
                name="access_tokens_revoke_leaked",
            ),
        ]
        return urls + super().get_urls()

    @method_decorator(sensitive_post_parameters("token"))
    @method_decorator(sensitive_variables("raw"))
    @method_decorator(never_cache)
    def find_leaked_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        ctx = {
            **self.admin_site.each_context(request),
            "title": "Find a leaked token",
            "subtitle": None,
            "opts": self.opts,
            "can_revoke": self.has_revoke_permission(request),
        }
        if request.method == "POST":
            raw = _extract_token(request.POST.get("token", ""))
            ctx["checked"] = True
            ctx.update(_inspect(raw))
            if ctx.get("token") is not None:
                ctx["owner_url"] = users.admin_change_url(ctx["token"].user_id)
        return TemplateResponse(request, "admin/access_tokens/find_leaked.html", ctx)

    @method_decorator(sensitive_post_parameters("token"))
    @method_decorator(sensitive_variables("raw"))
    @method_decorator(never_cache)
    @method_decorator(require_POST)
    def revoke_leaked_view(self, request: HttpRequest) -> HttpResponse:
        # The finder's button no longer posts here: it confirms through revoke_selected, by id,
        # so the pasted value is not sent back. This stays for a client that posts a value.
        if not self.has_revoke_permission(request):
            raise PermissionDenied
        raw = _extract_token(request.POST.get("token", ""))
        token = services.find_access_token(raw)
        if token is not None and revoke_tokens(request, [token]):
            self.message_user(
                request,
                f"Revoked {token.user.get_username()}’s token “{token.display_name}” "
                f"({token.masked}). The owner has been emailed.",
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request, "No such token: it was already revoked or never existed.", messages.WARNING
            )
        return HttpResponseRedirect(reverse("admin:access_tokens_find_leaked"))


def _looks_like_token(text: str) -> bool:
    """Check whether a search term is (or holds) a whole token; static/js/admin_token_search.js
    asks the same question in the browser."""
    text = text.strip()
    return bool(TOKEN_IN_TEXT_RE.search(text)) or (text.startswith(PREFIX) and len(text) >= 40)


def _warn_whole_token(request: HttpRequest) -> None:
    messages.warning(
        request,
        "That looks like a whole token. Search by its last four characters, or "
        "check it with “Find a leaked token”, which keeps it out of addresses and logs.",
    )


@sensitive_variables("text")
def _extract_token(text: str) -> str:
    """Return the token in what was pasted: the whole value, or the first token-shaped run in
    a longer snippet (a log line, a config file), so an operator need not trim it. The revoke
    endpoint reads pastes the same way (token_format.find_tokens)."""
    return extract_token(text)


@sensitive_variables("raw")
def _inspect(raw: str) -> dict:
    """Say what a pasted string is: not a token, a typo, unknown here, or whose live or
    expired token. The verdict names the token by its masked value, never the raw one."""
    if not raw:
        return {"verdict": "empty"}
    if not raw.startswith(PREFIX) or len(raw) != TOKEN_LENGTH or not raw.isascii():
        return {"verdict": "malformed"}
    if not services.is_well_formed(raw):
        return {"verdict": "bad_checksum"}
    token = services.find_access_token(raw)
    if token is None:
        return {"verdict": "unknown"}
    return {
        "verdict": token.state(_now()),
        "token": token,
        "owner_inactive": not token.user.is_active,
    }


# --- The audit trail --------------------------------------------------------------------------


@admin.register(AccessTokenEvent)
class AccessTokenEventAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "action",
        "via",
        "token",
        "owner_username",
        "actor_name",
        "ip",
        "detail",
    ]
    list_filter = ["action", "via", "created_at"]
    search_fields = ["owner_username", "actor_username", "token_name", "=token_last_four"]
    search_help_text = "Search by owner, actor, token name or last four characters."
    date_hierarchy = "created_at"
    list_per_page = 100
    fields = [
        "created_at",
        "action",
        "via",
        "token_id",
        "token",
        "owner",
        "owner_username",
        "actor",
        "actor_username",
        "detail",
        "ip",
        "user_agent",
    ]
    readonly_fields = fields

    @admin.display(description="token")
    def token(self, event: AccessTokenEvent) -> str:
        return f"{event.token_name or 'Unnamed token'} (kspat_…{event.token_last_four})"

    @admin.display(description="actor", ordering="actor_username")
    def actor_name(self, event: AccessTokenEvent) -> str:
        return event.actor_username or "—"

    # The audit trail is append-only, here as everywhere.

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# Each user's tokens on the host's user admin page; see user_admin.py.
extend_registered_user_admin(admin.site)
