"""
Every write to access tokens, and the one check that every authentication path uses.

Views, the API, the admin and management commands call these functions and nothing else, so a
rule (a limit, an audit row, an email) lives in exactly one place.
"""

from __future__ import annotations

import datetime as dt
import threading
import unicodedata
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connections, router, transaction
from django.db.models import Q
from django.db.models.query import get_related_populators
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from .audit import COMMAND_LINE_ACTOR, record_event  # noqa: F401  (part of this API)
from .conf import token_settings
from .models import AccessToken, AccessTokenEvent
from .token_format import (  # noqa: F401  (the format helpers are part of this API)
    PREFIX,
    TOKEN_IN_TEXT_RE,
    checksum,
    generate_token,
    is_well_formed,
    token_digest,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest


def _now() -> dt.datetime:
    return timezone.now()


# --- Checking a token -------------------------------------------------------------------------


class TokenError(Exception):
    """Base of the reasons a presented token is refused."""

    message = "Invalid token."

    def __str__(self) -> str:
        return self.message


class MalformedToken(TokenError):
    message = "Malformed token: a Keystand token starts with kspat_ and has 55 characters."


class UnknownToken(TokenError):
    message = "Invalid token."


class ExpiredToken(TokenError):
    message = "Token has expired."


class InactiveOwner(TokenError):
    message = "User inactive or deleted."


class _DigestLookup(threading.local):
    """The query behind every token check, planned once per thread and database.

    Django rebuilds a queryset's SQL on every execution, and for this one query, run on every
    API request, that was most of its cost (docs/performance.md). The plan is Django's own:
    the compiled SQL, the column converters and ModelIterable's row-to-objects recipe.
    """

    _PLACEHOLDER = "digest placeholder"

    def __init__(self):
        self.plans = {}

    def _plan(self, db: str) -> tuple:
        queryset = AccessToken.objects.using(db).select_related("user")
        queryset = queryset.filter(digest=self._PLACEHOLDER).order_by()[:1]
        compiler = queryset.query.get_compiler(db)
        sql, params = compiler.as_sql()
        params = list(params)
        select, klass_info = compiler.select, compiler.klass_info
        converters = compiler.get_converters([s[0] for s in select[: compiler.col_count]])
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        names = [s[0].target.attname for s in select[start:end]]
        populators = get_related_populators(klass_info, select, db)
        at = params.index(self._PLACEHOLDER)
        return sql, params, at, compiler, converters, start, end, names, populators

    def __call__(self, digest: str) -> AccessToken | None:
        """Return the token with this digest, its owner joined, or None."""
        db = router.db_for_read(AccessToken)
        plan = self.plans.get(db)
        if plan is None:
            plan = self.plans[db] = self._plan(db)
        sql, params, at, compiler, converters, start, end, names, populators = plan
        params = params.copy()
        params[at] = digest
        with connections[db].cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        if converters:
            row = next(compiler.apply_converters([row], converters))
        token = AccessToken.from_db(db, names, row[start:end])
        for populator in populators:
            populator.populate(row, token)
        return token


_token_by_digest = _DigestLookup()


@sensitive_variables("raw")
def find_access_token(raw: str) -> AccessToken | None:
    """Return the token with this raw value, whatever its state, or None.

    One indexed query by digest with the owner joined; malformed input costs no query.
    """
    if not is_well_formed(raw):
        return None
    return _token_by_digest(token_digest(raw))


@sensitive_variables("raw")
def check_access_token(raw: str, *, now: dt.datetime | None = None) -> AccessToken:
    """Return the live token for `raw` or raise the TokenError that says why not.

    The single path for every way a token is presented (header, Basic password).
    """
    if not is_well_formed(raw):
        raise MalformedToken
    token = _token_by_digest(token_digest(raw))
    if token is None:
        raise UnknownToken
    if token.is_expired(now or _now()):
        raise ExpiredToken
    if not token.user.is_active:
        raise InactiveOwner
    return token


def record_access_token_use(
    token: AccessToken, *, ip: str | None, now: dt.datetime | None = None
) -> None:
    """Note when and from where a token was last used, at most once per interval.

    The value read during authentication decides, so a fresh token costs no query at all.
    The conditional UPDATE keeps concurrent workers from writing the same minute twice.
    """
    now = now or _now()
    interval = dt.timedelta(seconds=token_settings.LAST_USED_INTERVAL)
    if token.last_used_at is not None and now - token.last_used_at < interval:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - interval)
    AccessToken.objects.filter(stale, pk=token.pk).update(last_used_at=now, last_used_ip=ip)
    token.last_used_at, token.last_used_ip = now, ip


# --- Rules for new tokens ---------------------------------------------------------------------


def end_of_day(day: dt.date) -> dt.datetime:
    """Return the last instant of `day` in the server's TIME_ZONE: a token chosen to expire
    on a day works through that whole day and is refused from the first instant after."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.max))


def latest_allowed_expiry(now: dt.datetime | None = None) -> dt.datetime | None:
    """Return the latest expiry ACCESS_TOKEN_MAX_LIFETIME_DAYS allows, or None for no cap."""
    days = token_settings.MAX_LIFETIME_DAYS
    if days is None:
        return None
    return end_of_day(timezone.localdate(now or _now()) + dt.timedelta(days=days))


def clean_token_name(name: str) -> str:
    """Return the name with surrounding space removed; refuse what no one can see or type."""
    name = (name or "").strip()
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in name):
        raise ValidationError({"name": "A name can't contain control characters."})
    if TOKEN_IN_TEXT_RE.search(name):
        # A pasted token would sit in plain text, defeating digest-only storage.
        raise ValidationError(
            {"name": "That looks like an access token. Never put a token in its name."}
        )
    max_length = AccessToken._meta.get_field("name").max_length
    if len(name) > max_length:
        raise ValidationError(
            {"name": f"Keep the name to {max_length} characters or fewer (it has {len(name)})."}
        )
    return name


def validate_new_token(
    *,
    user: AbstractBaseUser,
    expires_at: dt.datetime | None,
    scope: str,
    now: dt.datetime | None = None,
) -> None:
    """Check the expiry, scope and per-user limit for a token about to be created.

    Raise a ValidationError keyed by field ("expires_at", "scope", or "__all__").
    """
    now = now or _now()
    errors: dict[str, str] = {}
    if scope not in AccessToken.Scope.values:
        errors["scope"] = "Choose read_write or read_only."
    latest = latest_allowed_expiry(now)
    if expires_at is not None and expires_at <= now:
        errors["expires_at"] = "The expiry must be in the future."
    elif latest is not None and (expires_at is None or expires_at > latest):
        days = token_settings.MAX_LIFETIME_DAYS
        errors["expires_at"] = f"Tokens on this server must expire within {days} days."
    limit = token_settings.MAX_PER_USER
    if AccessToken.objects.filter(user=user).count() >= limit:
        errors["__all__"] = (
            f"You have reached the limit of {limit} tokens. Delete one you no longer need."
        )
    if errors:
        raise ValidationError(errors)


# --- Writes -----------------------------------------------------------------------------------


def _email_created(token: AccessToken, *, via: str, request: HttpRequest | None) -> None:
    from . import notifications  # imported late: notifications uses this module

    notifications.send_token_created(token, via=via, request=request)


def _email_revoked(token: AccessToken, *, request: HttpRequest | None) -> None:
    from . import notifications

    notifications.send_token_revoked_by_operator(token, request=request)


@sensitive_variables("raw")
def create_access_token(
    *,
    user: AbstractBaseUser,
    name: str = "",
    expires_at: dt.datetime | None = None,
    scope: str = AccessToken.Scope.READ_WRITE,
    request: HttpRequest | None = None,
    actor: AbstractBaseUser | None = None,
    via: str = AccessTokenEvent.Via.WEB,
    form_nonce: str | None = None,
) -> tuple[AccessToken, str]:
    """Create a token and return it with its raw value, which exists nowhere else.

    The owner's row is locked for the count, so concurrent creates cannot pass the limit.
    """
    name = clean_token_name(name)
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        validate_new_token(user=user, expires_at=expires_at, scope=scope)
        raw = generate_token()
        token = AccessToken.objects.create(
            user=user,
            name=name,
            digest=token_digest(raw),
            last_four=raw[-4:],
            scope=scope,
            expires_at=expires_at,
            form_nonce=form_nonce,
        )
        record_event(
            action=AccessTokenEvent.Action.CREATED,
            token=token,
            actor=actor if actor is not None or via == AccessTokenEvent.Via.COMMAND_LINE else user,
            via=via,
            request=request,
        )
        if token_settings.CREATION_EMAIL:
            transaction.on_commit(
                lambda: _email_created(token, via=via, request=request), robust=True
            )
    return token, raw


def delete_access_token(
    *,
    token: AccessToken,
    actor: AbstractBaseUser | None,
    request: HttpRequest | None = None,
    action: str = AccessTokenEvent.Action.DELETED,
    via: str = AccessTokenEvent.Via.WEB,
) -> bool:
    """Delete a token for good and audit it. Return False if it was already gone.

    There is no cache in front of tokens, so the very next request anywhere is refused.
    """
    with transaction.atomic():
        deleted, _ = AccessToken.objects.filter(pk=token.pk).delete()
        if not deleted:
            return False
        record_event(action=action, token=token, actor=actor, via=via, request=request)
        if action == AccessTokenEvent.Action.REVOKED_BY_OPERATOR:
            transaction.on_commit(lambda: _email_revoked(token, request=request), robust=True)
    return True


def _describe_expiry(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M %Z") if value else "never"


def validate_token_update(
    *, token: AccessToken, name: str, expires_at: dt.datetime | None, now=None
) -> str:
    """Return the cleaned name for an operator's edit, or raise a ValidationError keyed by
    "name" or "expires_at". An unchanged expiry is not judged again."""
    name = clean_token_name(name)
    if expires_at != token.expires_at:
        now = now or _now()
        latest = latest_allowed_expiry(now)
        if expires_at is not None and expires_at <= now:
            raise ValidationError(
                {"expires_at": "The expiry must be in the future. To stop a token now, revoke it."}
            )
        if latest is not None and (expires_at is None or expires_at > latest):
            days = token_settings.MAX_LIFETIME_DAYS
            raise ValidationError(
                {"expires_at": f"Tokens on this server must expire within {days} days."}
            )
    return name


def update_access_token(
    *,
    token: AccessToken,
    actor: AbstractBaseUser | None,
    name: str,
    expires_at: dt.datetime | None,
    request: HttpRequest | None = None,
    via: str = AccessTokenEvent.Via.ADMIN,
) -> str:
    """Change a token's name or expiry, the only things about it that may change, and audit
    what changed. Return that description, or "" when nothing did.

    A new expiry clears expiry_notified_at, so the owner hears about the new date too.
    """
    name = validate_token_update(token=token, name=name, expires_at=expires_at)
    changes = {}
    details = []
    if name != token.name:
        changes["name"] = name
        details.append(f"name {token.name!r} -> {name!r}")
    if expires_at != token.expires_at:
        changes["expires_at"] = expires_at
        changes["expiry_notified_at"] = None
        details.append(
            f"expiry {_describe_expiry(token.expires_at)} -> {_describe_expiry(expires_at)}"
        )
    if not changes:
        return ""
    with transaction.atomic():
        if not AccessToken.objects.filter(pk=token.pk).update(**changes):
            return ""
        for field, value in changes.items():
            setattr(token, field, value)
        detail = "; ".join(details)
        record_event(
            action=AccessTokenEvent.Action.UPDATED,
            token=token,
            actor=actor,
            via=via,
            request=request,
            detail=detail,
        )
    return detail


@sensitive_variables("raw")
def revoke_access_token_by_value(raw: str, *, request: HttpRequest | None = None) -> bool:
    """Delete the token with this raw value, if there is one. Return whether one was."""
    token = find_access_token(raw)
    if token is None:
        return False
    return delete_access_token(
        token=token,
        actor=None,
        request=request,
        action=AccessTokenEvent.Action.REVOKED_BY_VALUE,
        via=AccessTokenEvent.Via.API,
    )
