from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from . import flash, listing, scopes, services
from .expiry import WARN_DAYS, warn_of_expiry
from .forms import AccessTokenForm, RotateTokenForm, TokenDetailsForm, is_form_nonce, new_form_nonce
from .hooks import can_email_user
from .models import AccessToken, AccessTokenEvent
from .reauth import reauthentication_required, restore_form_input, stashed_form_data
from .rendering import render
from .token_format import TOKEN_IN_TEXT_RE

# The list's "expiring soon" filter: the same last 7 days as the badge and the reminder email.
SOON_DAYS = WARN_DAYS


def _expiry(token: AccessToken, now, today) -> dict:
    """Describe a token's expiry the way the list shows it (expiry.warn_of_expiry says when
    it deserves the amber badge)."""
    if token.expires_at is None:
        return {"state": "never"}
    if token.is_expired(now):
        return {"state": "expired"}
    days = (timezone.localdate(token.expires_at) - today).days
    soon = warn_of_expiry(token.created_at, token.expires_at, now=now)
    return {"state": "soon" if soon else "later", "days": days}


def _already_created(request: HttpRequest, nonce: str) -> bool:
    # Only a nonce we could have issued is looked up: PostgreSQL refuses a NUL in a query
    # parameter with an error, and a hostile form must get a field error, not a 500.
    return is_form_nonce(nonce) and (request.user.access_tokens.filter(form_nonce=nonce).exists())


def _duration(seconds: int) -> str:
    if seconds % 60 == 0:
        minutes = seconds // 60
        return "1 minute" if minutes == 1 else f"{minutes} minutes"
    return "1 second" if seconds == 1 else f"{seconds} seconds"


def _new_token(request: HttpRequest, now) -> AccessToken | None:
    """Return the token created just before this page, with its raw value, once.

    Taking it out of the session is what makes a reload show it no more. A HEAD request (a
    link checker, say) renders no body, so it must not use up the display.
    """
    if request.method != "GET":
        return None
    pending = flash.take(request.session)
    if pending is None:
        return None
    token = request.user.access_tokens.active(now).filter(pk=pending.token_id).first()
    if token is None:
        return None
    if pending.expired:
        messages.warning(
            request,
            f"Your new token “{pending.name}” can no longer be shown: it waited more than "
            f"{_duration(services.token_settings.NEW_TOKEN_DISPLAY_SECONDS)} to be "
            "displayed. If you did not copy it, delete it and create another.",
        )
        return None
    token.raw = pending.raw
    return token


# The list's filters: what each shows of the active tokens, in listing.search_sort_filter's terms.
FILTERS = {
    "active": ("Active", {}, ""),
    "expiring": (
        f"Expiring within {SOON_DAYS} days",
        {"expiring_within_days": SOON_DAYS},
        f"expires within {SOON_DAYS} days",
    ),
    "unused": ("Never used", {"never_used": True}, "is still unused"),
}
# The columns the page sorts by, and the way a first click on each sorts (newest first, say).
SORTABLE = {
    "name": ("Name", "name"),
    "created_at": ("Created", "-created_at"),
    "expires_at": ("Expires", "expires_at"),
    "last_used_at": ("Last used", "-last_used_at"),
}
SORT_CHOICES = [
    ("-created_at", "Newest first"),
    ("created_at", "Oldest first"),
    ("name", "Name, A to Z"),
    ("-name", "Name, Z to A"),
    ("expires_at", "Expiring soonest"),
    ("-expires_at", "Expiring latest"),
    ("-last_used_at", "Recently used"),
    ("last_used_at", "Least recently used"),
]
_MAX_SEARCH = 100


def _clean_search(text: str) -> str:
    # No control characters: PostgreSQL refuses a NUL in a query parameter with an error.
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cs"))
    return " ".join(text.split())[:_MAX_SEARCH]


@dataclass(frozen=True)
class ListQuery:
    """What the list's controls ask for, read leniently from the query string: a value the
    page never offers (a hand-edited URL) falls back to the default rather than an error."""

    search: str = ""
    filter: str = "active"
    ordering: str = listing.DEFAULT_ORDERING
    page: str = "1"

    @classmethod
    def of(cls, params) -> ListQuery:
        ordering = params.get("ordering", "")
        show = params.get("filter", "")
        return cls(
            search=_clean_search(params.get("search", "")),
            filter=show if show in FILTERS else cls.filter,
            ordering=ordering if ordering.lstrip("-") in SORTABLE else cls.ordering,
            page=params.get("page", "1"),
        )

    @property
    def narrowed(self) -> bool:
        return bool(self.search) or self.filter != ListQuery.filter

    def url(self, **changes) -> str:
        """Return the list's address for this query with `changes`, defaults left out (and
        the page reset, unless it is what changes)."""
        changes.setdefault("page", "1")
        query = replace(self, **changes)
        params = {
            name: value
            for name, value in vars(query).items()
            if value != getattr(ListQuery, name) and value != ""
        }
        base = reverse("access_tokens:list")
        return f"{base}?{urlencode(params)}" if params else base

    def sort_links(self) -> list[dict]:
        """Return each sortable column's heading: its link, and how it is sorted now."""
        column, descending = self.ordering.lstrip("-"), self.ordering.startswith("-")
        headings = []
        for name, (label, first) in SORTABLE.items():
            current = name == column
            flipped = name if descending else f"-{name}"
            headings.append(
                {
                    "name": name,
                    "label": label,
                    "url": self.url(ordering=flipped if current else first),
                    "sort": ("descending" if descending else "ascending") if current else "",
                }
            )
        return headings


@sensitive_variables("pending")
@require_safe
@never_cache
@login_required
def index(request: HttpRequest) -> HttpResponse:
    now, today = timezone.now(), timezone.localdate()
    query = ListQuery.of(request.GET)
    if TOKEN_IN_TEXT_RE.search(query.search):
        # The search sits in the address bar, the history and access logs: never a token.
        messages.error(
            request,
            "That looks like an access token: search by name instead. If a token leaked, "
            "delete it here, or report it with the revoke endpoint.",
        )
        return redirect(query.url(search=""))
    tokens = request.user.access_tokens.retained(now)
    chosen = listing.search_sort_filter(
        tokens,
        state="active",
        search=query.search,
        ordering=query.ordering,
        now=now,
        **FILTERS[query.filter][1],
    )
    page = Paginator(chosen, listing.PAGE_SIZE).get_page(query.page)
    new_token = _new_token(request, now)
    rows = [{"token": t, "expiry": _expiry(t, now, today)} for t in page.object_list]
    inactive = []
    if query.filter == ListQuery.filter:
        inactive = list(listing.search_sort_filter(tokens, state="inactive", search=query.search))
        inactive.sort(key=lambda t: t.inactive_since(), reverse=True)
    has_active = bool(rows) or tokens.active(now).exists()
    ctx = {
        "rows": rows,
        "page": page,
        "query": query,
        "filters": [(value, label) for value, (label, _, _) in FILTERS.items()],
        "filter_phrase": FILTERS[query.filter][2],
        "sort_choices": SORT_CHOICES,
        "headings": {h["name"]: h for h in query.sort_links()},
        "previous_url": query.url(page=str(page.previous_page_number()))
        if page.has_previous()
        else None,
        "next_url": query.url(page=str(page.next_page_number())) if page.has_next() else None,
        "clear_url": reverse("access_tokens:list"),
        "has_active": has_active,
        "inactive": inactive,
        "new_token": new_token,
        "retention_days": services.token_settings.INACTIVE_RETENTION_DAYS,
        # Say why no mail comes (no address, or one not verified yet), where it would matter.
        "mail_held": not can_email_user(request.user),
    }
    return render(request, "access_tokens/index.html", ctx)


@sensitive_variables("raw")
@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
@reauthentication_required
def create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = AccessTokenForm(request.POST, user=request.user)
        if _already_created(request, request.POST.get("nonce", "")):
            # A double click: the first submission made the token; show the list, which
            # still holds the one-time display if that first response was never read.
            return redirect("access_tokens:list")
        if form.is_valid():
            try:
                token, raw = form.save(request=request)
            except IntegrityError:
                if _already_created(request, form.cleaned_data["nonce"]):
                    # The twin submission won the race on the nonce's unique index.
                    return redirect("access_tokens:list")
                form.add_error(None, "This form is out of date. Please try again.")
            except ValidationError as e:
                # Another request took the last free place between the check and the save.
                form.add_error(None, e.messages)
            else:
                flash.stash(request.session, token, raw)
                return redirect("access_tokens:list")
        if "nonce" in form.errors or form.non_field_errors():
            form.renew_nonce()
    else:
        form = AccessTokenForm(user=request.user, initial={"nonce": new_form_nonce()})
        # Back from re-entering the password: the form as it was submitted, to submit again.
        stashed = stashed_form_data(request) if request.method == "GET" else None
        if stashed is not None:
            restore_form_input(form, stashed)
    return render(request, "access_tokens/new.html", {"form": form})


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
def delete(request: HttpRequest, token_id) -> HttpResponse:
    token = get_object_or_404(AccessToken, pk=token_id, user=request.user, revoked_at__isnull=True)
    if request.method == "POST":
        services.delete_access_token(token=token, actor=request.user, request=request)
        messages.success(request, f"Token {token.display_name} deleted.")
        return redirect("access_tokens:list")
    return render(request, "access_tokens/delete.html", {"token": token})


# --- One token: its page, its edit, its rotation ----------------------------------------------

_VIA_PHRASES = {
    AccessToken.Via.WEB: "in the browser",
    AccessToken.Via.API: "through the API",
    AccessToken.Via.ADMIN: "in the admin",
    AccessToken.Via.COMMAND_LINE: "from the command line",
}
# "replaced by kspat_…a1B2 (<uuid>)", as services.rotate_access_token writes it: the page shows
# the masked token and links the id instead of printing it.
_RELATED_RE = re.compile(r"\s*\(([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\)")


def _owned(request: HttpRequest, token_id) -> AccessToken:
    """Return the signed-in person's token (active or still listed as inactive), or 404: anyone
    else's id is simply not found."""
    tokens = request.user.access_tokens.retained().select_related("rotated_from", "revoked_by")
    return get_object_or_404(tokens, pk=token_id)


def _who(user, username: str, owner) -> str:
    if user is not None and user.pk == owner.pk:
        return "you"
    return username or "someone holding the token"


def _history(token: AccessToken, owner) -> list[dict]:
    """Return the token's own lines of the audit trail, newest first, as the page shows them."""
    events = AccessTokenEvent.objects.filter(token_id=token.pk, owner=owner).select_related("actor")
    related_ids = set()
    rows = []
    for event in events.order_by("-created_at", "-id"):
        match = _RELATED_RE.search(event.detail)
        related_id = match.group(1) if match else None
        if related_id:
            related_ids.add(related_id)
        rows.append(
            {
                "event": event,
                "detail": _RELATED_RE.sub("", event.detail),
                "related_id": related_id,
                "via": _VIA_PHRASES.get(event.via, event.via),
                "who": "Keystand"
                if event.action == AccessTokenEvent.Action.EXPIRY_NOTIFIED
                else _who(event.actor, event.actor_username, owner),
            }
        )
    # Link the tokens the trail names only while they are still there to see.
    shown = {
        str(pk)
        for pk in owner.access_tokens.retained()
        .filter(pk__in=related_ids)
        .values_list("pk", flat=True)
    }
    for row in rows:
        if row["related_id"] not in shown:
            row["related_id"] = None
    return rows


def _origin(token: AccessToken, history: list[dict]) -> dict:
    """Say how the token came to be: in the browser, through the API (with which token), by an
    operator, from the command line, or by rotating another one."""
    created = next(
        (r for r in reversed(history) if r["event"].action == AccessTokenEvent.Action.CREATED),
        None,
    )
    origin = {
        "via": _VIA_PHRASES.get(token.created_via, token.created_via),
        "who": created["who"] if created else "",
        "rotated_from": token.rotated_from,
        "rotated_from_masked": "",
        "created_by_token": None,
    }
    if token.rotated_from_id is None and created and created["detail"].startswith("rotation of"):
        # The old token is purged; the trail still says which it was.
        origin["rotated_from_masked"] = created["detail"].removeprefix("rotation of ").strip()
    if token.created_by_token_id:
        origin["created_by_token"] = (
            AccessToken.objects.retained()
            .filter(pk=token.created_by_token_id, user_id=token.user_id)
            .first()
        )
    return origin


def _successor(token: AccessToken) -> AccessToken | None:
    if token.revoked_reason != AccessToken.RevokedReason.ROTATED:
        return None
    tokens = AccessToken.objects.retained().filter(user_id=token.user_id)
    return tokens.filter(rotated_from=token).first()


def _detail_page(request: HttpRequest, token: AccessToken, form: TokenDetailsForm | None = None):
    now, today = timezone.now(), timezone.localdate()
    active = token.is_active(now)
    if form is None and active:
        form = TokenDetailsForm(initial={"name": token.name, "description": token.description})
    history = _history(token, request.user)
    registry = scopes.registry()
    ctx = {
        "token": token,
        "active": active,
        "state": token.state(now),
        "expiry": _expiry(token, now, today),
        "scopes": [
            {"name": name, "description": registry[name].description if name in registry else ""}
            for name in token.scope_list
        ],
        "origin": _origin(token, history),
        "history": history,
        "successor": _successor(token),
        "revoked_by": _who(
            token.revoked_by,
            token.revoked_by.get_username() if token.revoked_by else "",
            request.user,
        )
        if token.revoked_at
        else "",
        "form": form,
        "retention_days": services.token_settings.INACTIVE_RETENTION_DAYS,
    }
    return render(request, "access_tokens/detail.html", ctx)


@require_safe
@never_cache
@login_required
def detail(request: HttpRequest, token_id) -> HttpResponse:
    return _detail_page(request, _owned(request, token_id))


def _refuse_inactive(request: HttpRequest, token: AccessToken, what: str) -> HttpResponse:
    messages.error(request, f"This token no longer works, so it can't be {what}.")
    return redirect("access_tokens:detail", token.pk)


@require_POST
@never_cache
@login_required
def edit(request: HttpRequest, token_id) -> HttpResponse:
    token = _owned(request, token_id)
    if not token.is_active():
        return _refuse_inactive(request, token, "renamed")
    form = TokenDetailsForm(request.POST)
    if form.is_valid():
        try:
            changed = services.update_access_token(
                token=token,
                actor=request.user,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                request=request,
                via=AccessTokenEvent.Via.WEB,
            )
        except ValidationError as e:
            # It expired (or was deleted elsewhere) between the page and the save.
            form.add_error(None, e.messages)
        else:
            if changed:
                messages.success(request, f"Token {token.display_name} saved.")
            return redirect("access_tokens:detail", token.pk)
    return _detail_page(request, token, form)


@sensitive_variables("raw")
@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
@reauthentication_required
def rotate(request: HttpRequest, token_id) -> HttpResponse:
    token = _owned(request, token_id)
    if token.revoked_reason == AccessToken.RevokedReason.ROTATED and request.method == "POST":
        # A double click: the first submission rotated it; the list still holds the new
        # token's one-time display if that first response was never read.
        successor = _successor(token)
        waiting = request.session.get(flash.SESSION_KEY, {}).get("id")
        if successor is None or waiting != str(successor.pk):
            messages.info(request, "This token was regenerated already.")
        return redirect("access_tokens:list")
    if not token.is_active():
        return _refuse_inactive(request, token, "regenerated")
    if request.method == "POST":
        form = RotateTokenForm(request.POST, token=token)
        if form.is_valid():
            try:
                new, raw = form.save(request=request)
            except ValidationError as e:
                form.add_service_errors(e)
            else:
                flash.stash(request.session, new, raw)
                return redirect("access_tokens:list")
    else:
        form = RotateTokenForm(token=token)
        # Back from re-entering the password: the expiry as it was chosen, to submit again.
        stashed = stashed_form_data(request) if request.method == "GET" else None
        if stashed is not None:
            restore_form_input(form, stashed)
    return render(request, "access_tokens/rotate.html", {"form": form, "token": token})
