from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_http_methods, require_safe

from . import flash, services
from .forms import AccessTokenForm, is_form_nonce, new_form_nonce
from .hooks import can_email_user
from .models import AccessToken
from .reauth import reauthentication_required, restore_form_input, stashed_form_data

SOON_DAYS = 7


def _expiry(token: AccessToken, now, today) -> dict:
    """Describe a token's expiry the way the list shows it."""
    if token.expires_at is None:
        return {"state": "never"}
    if token.is_expired(now):
        return {"state": "expired"}
    days = (timezone.localdate(token.expires_at) - today).days
    return {"state": "soon" if days <= SOON_DAYS else "later", "days": days}


def _already_created(request: HttpRequest, nonce: str) -> bool:
    # Only a nonce we could have issued is looked up: PostgreSQL refuses a NUL in a query
    # parameter with an error, and a hostile form must get a field error, not a 500.
    return is_form_nonce(nonce) and (request.user.access_tokens.filter(form_nonce=nonce).exists())


def _duration(seconds: int) -> str:
    if seconds % 60 == 0:
        minutes = seconds // 60
        return "1 minute" if minutes == 1 else f"{minutes} minutes"
    return "1 second" if seconds == 1 else f"{seconds} seconds"


def _new_token(request: HttpRequest, tokens: list[AccessToken]) -> AccessToken | None:
    """Return the token created just before this page, with its raw value, once.

    Taking it out of the session is what makes a reload show it no more. A HEAD request (a
    link checker, say) renders no body, so it must not use up the display.
    """
    if request.method != "GET":
        return None
    pending = flash.take(request.session)
    if pending is None:
        return None
    token = next((t for t in tokens if str(t.pk) == pending.token_id and t.is_active()), None)
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


@sensitive_variables("pending")
@require_safe
@never_cache
@login_required
def index(request: HttpRequest) -> HttpResponse:
    now, today = timezone.now(), timezone.localdate()
    tokens = list(request.user.access_tokens.retained(now))
    new_token = _new_token(request, tokens)
    rows = [{"token": t, "expiry": _expiry(t, now, today)} for t in tokens if t.is_active(now)]
    inactive = [t for t in tokens if not t.is_active(now)]
    inactive.sort(key=lambda t: t.inactive_since(), reverse=True)
    ctx = {
        "rows": rows,
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
