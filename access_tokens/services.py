"""
Every write to access tokens, and the one check that every authentication path uses.

Views, the API, the admin and management commands call these functions and nothing else, so a
rule (a limit, an audit row, an email) lives in exactly one place.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from . import scopes as scope_registry
from .audit import COMMAND_LINE_ACTOR, acting_token, record_event  # noqa: F401  (this API)
from .client_ip import client_ip
from .conf import token_settings
from .expiry import (  # noqa: F401  (the expiry helpers are part of this API)
    default_expiry,
    end_of_day,
    end_of_day_in,
    latest_allowed_expiry,
    same_lifetime_from_today,
)
from .lookup import token_by_digest
from .models import AccessToken, AccessTokenEvent
from .token_format import (  # noqa: F401  (the format helpers are part of this API)
    PREFIX,
    TOKEN_IN_TEXT_RE,
    checksum,
    generate_token,
    has_token_shape,
    is_well_formed,
    token_digest,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest


def _now() -> dt.datetime:
    return timezone.now()


# --- Checking a token -------------------------------------------------------------------------


class TokenInactiveError(ValidationError):
    """The token is revoked or expired: the request conflicts with its state rather than
    being malformed, which the API answers with 409."""


class TokenError(Exception):
    """Base of the reasons a presented token is refused; `code` names it for API clients
    (access_tokens/errors.py)."""

    message = "Invalid token."
    code = "unknown_token"

    def __str__(self) -> str:
        return self.message


class MalformedToken(TokenError):
    message = "Malformed token: a Keystand token starts with kspat_ and has 55 characters."
    code = "malformed_token"


class ChecksumMismatch(MalformedToken):
    message = (
        "Invalid token: its checksum does not match. It has the right form, so most likely "
        "it was mistyped or cut short: copy the whole token again."
    )
    code = "checksum_mismatch"


class UnknownToken(TokenError):
    message = "Invalid token."
    code = "unknown_token"


class ExpiredToken(TokenError):
    message = "Token has expired."
    code = "token_expired"


class RevokedToken(TokenError):
    message = "Token has been revoked."
    code = "token_revoked"


class InactiveOwner(TokenError):
    message = "User inactive or deleted."
    code = "owner_inactive"


# One indexed query by digest with the owner joined, planned once per thread (lookup.py).
_token_by_digest = token_by_digest


@sensitive_variables("raw")
def find_access_token(raw: str) -> AccessToken | None:
    """Return the token with this raw value, whatever its state, or None.

    One indexed query by digest with the owner joined; malformed input costs no query.
    """
    if not is_well_formed(raw):
        return None
    return _token_by_digest(token_digest(raw))


@sensitive_variables("raw")
def check_access_token(
    raw: str,
    *,
    now: dt.datetime | None = None,
    find: Callable[[str, dt.datetime], AccessToken | None] | None = None,
) -> AccessToken:
    """Return the live token for `raw` or raise the TokenError that says why not.

    The single path for every way a token is presented (header, Basic password). `find`
    ((digest, now) -> the token with that digest, its owner joined, or None) replaces the
    usual lookup where a request fetches more in the same query (listing.FirstPageFinder),
    at the check's own moment; the checks are the same.
    """
    if not is_well_formed(raw):
        raise ChecksumMismatch if has_token_shape(raw) else MalformedToken
    digest = token_digest(raw)
    if find is None:
        token = _token_by_digest(digest)
    else:
        now = now or _now()
        token = find(digest, now)
    if token is None:
        raise UnknownToken
    if token.revoked_at is not None:
        raise RevokedToken
    if token.is_expired(now or _now()):
        raise ExpiredToken
    if not token.user.is_active:
        raise InactiveOwner
    return token


def record_access_token_use(
    token: AccessToken,
    *,
    ip: str | None = None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Note when and from where (`ip`, or the client of `request`) a token was last used, at
    most once per interval.

    The value read during authentication decides, so a fresh token costs no query at all (and
    no address lookup). The conditional UPDATE keeps concurrent workers from writing the same
    minute twice.
    """
    now = now or _now()
    interval = dt.timedelta(seconds=token_settings.LAST_USED_INTERVAL)
    if token.last_used_at is not None and now - token.last_used_at < interval:
        return
    if request is not None:
        ip = client_ip(request)
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - interval)
    AccessToken.objects.filter(stale, pk=token.pk).update(last_used_at=now, last_used_ip=ip)
    token.last_used_at, token.last_used_ip = now, ip


# --- Rules for new tokens ---------------------------------------------------------------------


def clean_token_name(name: str) -> str:
    """Return the name with surrounding space removed; refuse what no one can see or type."""
    name = (name or "").strip()
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in name):
        raise ValidationError({"name": "A name can't contain control characters."})
    _refuse_pasted_token(name, "name", "its name")
    max_length = AccessToken._meta.get_field("name").max_length
    if len(name) > max_length:
        raise ValidationError(
            {"name": f"Keep the name to {max_length} characters or fewer (it has {len(name)})."}
        )
    return name


def clean_token_description(description: str) -> str:
    """Return the description trimmed; line breaks are fine, other control characters not."""
    description = (description or "").strip().replace("\r\n", "\n")
    if any(unicodedata.category(ch) in ("Cc", "Cs") and ch != "\n" for ch in description):
        raise ValidationError({"description": "A description can't contain control characters."})
    _refuse_pasted_token(description, "description", "its description")
    max_length = AccessToken._meta.get_field("description").max_length
    if len(description) > max_length:
        raise ValidationError(
            {
                "description": f"Keep the description to {max_length} characters or fewer "
                f"(it has {len(description)})."
            }
        )
    return description


def _refuse_pasted_token(text: str, field: str, where: str) -> None:
    if TOKEN_IN_TEXT_RE.search(text):
        # A pasted token would sit in plain text, defeating digest-only storage.
        raise ValidationError(
            {field: f"That looks like an access token. Never put a token in {where}."}
        )


def clean_scopes(names: Iterable[str]) -> str:
    """Return the scopes as stored, or raise a ValidationError keyed by "scopes"."""
    names = list(names)
    if not names:
        raise ValidationError({"scopes": "Select at least one scope."})
    unknown = scope_registry.unknown(names)
    if unknown:
        known = ", ".join(scope_registry.registry())
        raise ValidationError(
            {"scopes": f"Unknown scope {', '.join(unknown)}. Choose from: {known}."}
        )
    return scope_registry.normalise(names)


def _describe_expiry(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M %Z") if value else "never"


def _expiry_errors(
    expires_at: dt.datetime | None, *, now: dt.datetime, caps: list[AccessToken]
) -> str | None:
    """Return why `expires_at` is not allowed, or None: in the future, within the server's
    lifetime cap, and no later than any token it is made with."""
    if expires_at is not None and expires_at <= now:
        return "The expiry must be in the future."
    latest = latest_allowed_expiry(now)
    if latest is not None and (expires_at is None or expires_at > latest):
        days = token_settings.MAX_LIFETIME_DAYS
        return f"Tokens on this server must expire within {days} days."
    for cap in caps:
        if cap.expires_at is not None and (expires_at is None or expires_at > cap.expires_at):
            return (
                f"A token made with token {cap.masked} can't outlive it: choose an expiry on "
                f"or before {_describe_expiry(cap.expires_at)}."
            )
    return None


def _scope_errors(scopes: str, caps: list[AccessToken]) -> str | None:
    for cap in caps:
        wider = scope_registry.uncovered(cap.scope_list, scopes.split())
        if wider:
            return (
                f"A token made with token {cap.masked} can't have wider access than it: it "
                f"has {', '.join(cap.scope_list)}, so it can't grant {', '.join(wider)}."
            )
    return None


def _caps(parent: AccessToken | None, *inherited: AccessToken | None) -> list[AccessToken]:
    """Return the live tokens a new token must stay within."""
    return [t for t in (parent, *inherited) if t is not None and t.revoked_at is None]


def count_active_tokens(user: AbstractBaseUser, *, now: dt.datetime | None = None) -> int:
    return AccessToken.objects.filter(user=user).active(now or _now()).count()


def validate_new_token(
    *,
    user: AbstractBaseUser,
    expires_at: dt.datetime | None,
    scopes: Iterable[str],
    parent: AccessToken | None = None,
    now: dt.datetime | None = None,
) -> str:
    """Check the expiry, scopes and per-user limit for a token about to be created, and the
    token it is made with, if any. Return the scopes as stored.

    Raise a ValidationError keyed by field ("expires_at", "scopes", or "__all__").
    """
    now = now or _now()
    errors: dict[str, str] = {}
    caps = _caps(parent)
    try:
        stored = clean_scopes(scopes)
    except ValidationError as error:
        errors.update({k: v[0] for k, v in error.message_dict.items()})
        stored = ""
    else:
        wider = _scope_errors(stored, caps)
        if wider:
            errors["scopes"] = wider
    expiry_error = _expiry_errors(expires_at, now=now, caps=caps)
    if expiry_error:
        errors["expires_at"] = expiry_error
    limit = token_settings.MAX_PER_USER
    if count_active_tokens(user, now=now) >= limit:
        errors["__all__"] = (
            f"You have reached the limit of {limit} active tokens. Delete one you no longer need."
        )
    if errors:
        raise ValidationError(errors)
    return stored


def default_expiry_for(parent: AccessToken | None, *, now: dt.datetime | None = None):
    """Return the expiry of a new token whose creator chose none: the default lifetime, cut
    to the life of the token it is made with."""
    expires_at = default_expiry(now=now)
    if parent is not None and parent.expires_at is not None:
        expires_at = min(expires_at, parent.expires_at)
    return expires_at


# --- Writes -----------------------------------------------------------------------------------


def _email_created(token: AccessToken, *, via: str, request: HttpRequest | None) -> None:
    from . import notifications  # imported late: notifications imports the models' users

    notifications.send_token_created(token, via=via, request=request)


def _email_revoked(token: AccessToken, *, request: HttpRequest | None) -> None:
    from . import notifications

    notifications.send_token_revoked_by_operator(token, request=request)


def _mail_after_commit(send, token: AccessToken, **kwargs) -> None:
    transaction.on_commit(lambda: send(token, **kwargs), robust=True)


def _lock_owner(user: AbstractBaseUser) -> None:
    """Lock the owner's row, so concurrent creates for one user count one after another."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()


@sensitive_variables("raw")
def _insert_token(**fields) -> tuple[AccessToken, str]:
    raw = generate_token()
    token = AccessToken.objects.create(digest=token_digest(raw), last_four=raw[-4:], **fields)
    return token, raw


@sensitive_variables("raw")
def create_access_token(
    *,
    user: AbstractBaseUser,
    name: str = "",
    description: str = "",
    expires_at: dt.datetime | None = None,
    scopes: Iterable[str] = (scope_registry.API,),
    request: HttpRequest | None = None,
    actor: AbstractBaseUser | None = None,
    via: str = AccessTokenEvent.Via.WEB,
    form_nonce: str | None = None,
) -> tuple[AccessToken, str]:
    """Create a token and return it with its raw value, which exists nowhere else.

    When the request authenticated with a token, that token is the new one's parent: the new
    token may not outlive it or reach further, and is revoked with it. The owner's row is
    locked for the count, so concurrent creates cannot pass the limit.
    """
    name = clean_token_name(name)
    description = clean_token_description(description)
    parent = acting_token(request)
    with transaction.atomic():
        _lock_owner(user)
        stored = validate_new_token(user=user, expires_at=expires_at, scopes=scopes, parent=parent)
        token, raw = _insert_token(
            user=user,
            name=name,
            description=description,
            scopes=stored,
            expires_at=expires_at,
            created_via=via,
            created_by_token=parent,
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
            _mail_after_commit(_email_created, token, via=via, request=request)
    return token, raw


_REVOKE_ACTIONS = {
    AccessToken.RevokedReason.DELETED: AccessTokenEvent.Action.DELETED,
    AccessToken.RevokedReason.REVOKED_BY_OPERATOR: AccessTokenEvent.Action.REVOKED_BY_OPERATOR,
    AccessToken.RevokedReason.REVOKED_BY_VALUE: AccessTokenEvent.Action.REVOKED_BY_VALUE,
    AccessToken.RevokedReason.PARENT_REVOKED: AccessTokenEvent.Action.REVOKED_WITH_PARENT,
}


def _mark_revoked(
    token: AccessToken, *, actor: AbstractBaseUser | None, reason: str, now: dt.datetime
) -> bool:
    """Revoke the row if it is still unrevoked; the condition makes two concurrent revokes
    (or a revoke racing a rotation) record one revocation, not two."""
    done = AccessToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=actor, revoked_reason=reason
    )
    if done:
        token.revoked_at, token.revoked_by, token.revoked_reason = now, actor, reason
    return bool(done)


def revoke_access_token(
    *,
    token: AccessToken,
    actor: AbstractBaseUser | None,
    reason: str,
    via: str,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """Revoke a token, and every token made with it, and audit each. Return False if it was
    revoked already.

    The row stays (inactive) so its owner sees what happened; nothing caches tokens, so the
    very next request anywhere is refused.
    """
    now = now or _now()
    with transaction.atomic():
        if not _mark_revoked(token, actor=actor, reason=reason, now=now):
            return False
        record_event(
            action=_REVOKE_ACTIONS[reason], token=token, actor=actor, via=via, request=request
        )
        revoked_with = _revoke_descendants(token, actor=actor, via=via, request=request, now=now)
        if reason == AccessToken.RevokedReason.REVOKED_BY_OPERATOR:
            token.revoked_with = revoked_with
            _mail_after_commit(_email_revoked, token, request=request)
    return True


def _revoke_descendants(
    parent: AccessToken, *, actor, via: str, request, now: dt.datetime
) -> list[AccessToken]:
    revoked = []
    pending = [parent]
    while pending:
        current = pending.pop()
        children = AccessToken.objects.filter(created_by_token=current, revoked_at__isnull=True)
        for child in children.select_related("user"):
            if _mark_revoked(
                child, actor=actor, reason=AccessToken.RevokedReason.PARENT_REVOKED, now=now
            ):
                record_event(
                    action=AccessTokenEvent.Action.REVOKED_WITH_PARENT,
                    token=child,
                    actor=actor,
                    via=via,
                    request=request,
                    detail=f"made with {current.masked} ({current.pk})",
                )
                revoked.append(child)
                pending.append(child)
    return revoked


def delete_access_token(
    *,
    token: AccessToken,
    actor: AbstractBaseUser | None,
    request: HttpRequest | None = None,
    via: str = AccessTokenEvent.Via.WEB,
) -> bool:
    """Revoke a token at its owner's request (the trash icon, DELETE in the API)."""
    return revoke_access_token(
        token=token,
        actor=actor,
        reason=AccessToken.RevokedReason.DELETED,
        via=via,
        request=request,
    )


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()  # "leave this as it is", where None is a value (no expiry)


def _rotation_caps(token: AccessToken, request: HttpRequest | None) -> list[AccessToken]:
    """Return the live tokens a rotation of `token` must stay within: the one the request
    acts with, and the one `token` was made with."""
    creator = token.created_by_token if token.created_by_token_id else None
    return _caps(acting_token(request), creator)


def default_rotation_expiry(
    *, token: AccessToken, request: HttpRequest | None = None, now: dt.datetime | None = None
) -> dt.datetime | None:
    """Return the expiry a rotation gives when none is chosen: as many days from today as the
    old token had from its creation, cut to the server's cap and to the tokens it must stay
    within. The browser's rotate form shows it as its default."""
    now = now or _now()
    expires_at = same_lifetime_from_today(token.created_at, token.expires_at, now=now)
    bounds = [latest_allowed_expiry(now)] + [c.expires_at for c in _rotation_caps(token, request)]
    for bound in bounds:
        if bound is not None and (expires_at is None or expires_at > bound):
            expires_at = bound
    return expires_at


@sensitive_variables("raw")
def rotate_access_token(
    *,
    token: AccessToken,
    actor: AbstractBaseUser | None,
    via: str,
    expires_at: dt.datetime | None | _Keep = KEEP,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> tuple[AccessToken, str]:
    """Replace a token with a new secret and return the new token with its raw value.

    The new token keeps the name, description and scopes; by default it gets as many days
    from today as the old one had (never beyond the token the request acts with, nor the one
    the old token was made with). The old one is revoked in the same transaction, and the
    tokens it made now belong to the new one.
    """
    now = now or _now()
    caps = _rotation_caps(token, request)
    if isinstance(expires_at, _Keep):
        expires_at = default_rotation_expiry(token=token, request=request, now=now)
    errors = {}
    expiry_error = _expiry_errors(expires_at, now=now, caps=caps)
    if expiry_error:
        errors["expires_at"] = expiry_error
    scope_error = _scope_errors(token.scopes, [c for c in caps if c.pk != token.pk])
    if scope_error:
        errors["scopes"] = scope_error
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        rotated = AccessToken.objects.filter(pk=token.pk, revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )
        if not rotated.update(
            revoked_at=now, revoked_by=actor, revoked_reason=AccessToken.RevokedReason.ROTATED
        ):
            raise TokenInactiveError(
                {"__all__": "Only an active token can be rotated: this one is revoked or expired."}
            )
        token.revoked_at, token.revoked_by = now, actor
        token.revoked_reason = AccessToken.RevokedReason.ROTATED
        new, raw = _insert_token(
            user=token.user,
            name=token.name,
            description=token.description,
            scopes=token.scopes,
            expires_at=expires_at,
            created_via=via,
            created_by_token=token.created_by_token if token.created_by_token_id else None,
            rotated_from=token,
        )
        token.created_tokens.filter(revoked_at__isnull=True).update(created_by_token=new)
        record_event(
            action=AccessTokenEvent.Action.ROTATED,
            token=token,
            actor=actor,
            via=via,
            request=request,
            detail=f"replaced by {new.masked} ({new.pk})",
        )
        record_event(
            action=AccessTokenEvent.Action.CREATED,
            token=new,
            actor=actor,
            via=via,
            request=request,
            detail=f"rotation of {token.masked} ({token.pk})",
        )
        if token_settings.CREATION_EMAIL:
            _mail_after_commit(_email_created, new, via=via, request=request)
    return new, raw


def validate_token_update(
    *,
    token: AccessToken,
    name: str | _Keep = KEEP,
    description: str | _Keep = KEEP,
    expires_at: dt.datetime | None | _Keep = KEEP,
    now: dt.datetime | None = None,
) -> dict:
    """Return the cleaned changes for a token's edit, or raise a ValidationError keyed by
    field. An unchanged expiry is not judged again; an inactive token can't be changed."""
    if token.revoked_at is not None:
        raise TokenInactiveError({"__all__": "A revoked token can't be changed."})
    changes: dict = {}
    if not isinstance(name, _Keep):
        name = clean_token_name(name)
        if name != token.name:
            changes["name"] = name
    if not isinstance(description, _Keep):
        description = clean_token_description(description)
        if description != token.description:
            changes["description"] = description
    now = now or _now()
    if not isinstance(expires_at, _Keep) and expires_at != token.expires_at:
        error = _expiry_errors(expires_at, now=now, caps=_caps(token.created_by_token))
        if error:
            if expires_at is not None and expires_at <= now:
                error += " To stop a token now, revoke it."
            raise ValidationError({"expires_at": error})
        changes["expires_at"] = expires_at
    # An expired token is a record, like a revoked one (unless this very change revives it).
    ends = changes.get("expires_at", token.expires_at)
    if ("name" in changes or "description" in changes) and ends is not None and ends < now:
        raise TokenInactiveError({"__all__": "An expired token can't be changed."})
    return changes


def update_access_token(
    *,
    token: AccessToken,
    actor: AbstractBaseUser | None,
    name: str | _Keep = KEEP,
    description: str | _Keep = KEEP,
    expires_at: dt.datetime | None | _Keep = KEEP,
    request: HttpRequest | None = None,
    via: str = AccessTokenEvent.Via.ADMIN,
) -> str:
    """Change a token's name, description or expiry, the only things about it that may
    change, and audit what changed. Return that description, or "" when nothing did.

    A new expiry clears expiry_notified_at, so the owner hears about the new date too.
    """
    changes = validate_token_update(
        token=token, name=name, description=description, expires_at=expires_at
    )
    if not changes:
        return ""
    details = []
    if "name" in changes:
        details.append(f"name {token.name!r} -> {changes['name']!r}")
    if "description" in changes:
        details.append("description changed")
    if "expires_at" in changes:
        changes["expiry_notified_at"] = None
        details.append(
            f"expiry {_describe_expiry(token.expires_at)} -> "
            f"{_describe_expiry(changes['expires_at'])}"
        )
    with transaction.atomic():
        if not AccessToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(**changes):
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


@dataclass(frozen=True)
class RevokeByValueResult:
    """What the revoke endpoint found: "revoked" now, "already" inactive, or "unknown"."""

    outcome: str
    token: AccessToken | None = None


@sensitive_variables("raw")
def revoke_access_token_by_value(
    raw: str, *, request: HttpRequest | None = None
) -> RevokeByValueResult:
    """Revoke the token with this raw value, if there is a live one, and say what was found."""
    token = find_access_token(raw)
    if token is None:
        return RevokeByValueResult("unknown")
    if token.revoked_at is None and revoke_access_token(
        token=token,
        actor=None,
        reason=AccessToken.RevokedReason.REVOKED_BY_VALUE,
        via=AccessTokenEvent.Via.API,
        request=request,
    ):
        return RevokeByValueResult("revoked", token)
    token.refresh_from_db()
    return RevokeByValueResult("already", token)


def purge_inactive_tokens(*, now: dt.datetime | None = None, dry_run: bool = False) -> int:
    """Delete tokens inactive for longer than ACCESS_TOKEN_INACTIVE_RETENTION_DAYS. Return how
    many. The audit trail keeps their history; the digest of a purged token is forgotten."""
    now = now or _now()
    cutoff = now - dt.timedelta(days=token_settings.INACTIVE_RETENTION_DAYS)
    stale = AccessToken.objects.filter(Q(revoked_at__lt=cutoff) | Q(expires_at__lt=cutoff))
    if dry_run:
        return stale.count()
    deleted, per_model = stale.delete()
    return per_model.get(AccessToken._meta.label, 0)
