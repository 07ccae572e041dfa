import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from .conf import token_settings


class Via(models.TextChoices):
    """The way in through which a token was created or changed."""

    WEB = "web", "Web"
    API = "api", "API"
    ADMIN = "admin", "Admin"
    COMMAND_LINE = "command_line", "Command line"


def retention_cutoff(now: dt.datetime) -> dt.datetime:
    """Return the moment before which an inactive token is no longer kept: now minus
    ACCESS_TOKEN_INACTIVE_RETENTION_DAYS."""
    return now - dt.timedelta(days=token_settings.INACTIVE_RETENTION_DAYS)


class AccessTokenQuerySet(models.QuerySet):
    def active(self, now=None):
        """Tokens that work: not revoked, not expired."""
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gte=now)
        )

    def retained(self, now=None):
        """Tokens still shown to their owner: active, or inactive for less than
        ACCESS_TOKEN_INACTIVE_RETENTION_DAYS (what purge_inactive_tokens leaves)."""
        cutoff = retention_cutoff(now or timezone.now())
        return self.exclude(models.Q(revoked_at__lt=cutoff) | models.Q(expires_at__lt=cutoff))

    def inactive(self, now=None):
        """Tokens that stopped working: revoked or expired."""
        now = now or timezone.now()
        return self.filter(models.Q(revoked_at__isnull=False) | models.Q(expires_at__lt=now))


class AccessToken(models.Model):
    """A personal access token. Only the SHA-256 digest of the secret is kept.

    A token stops working when it expires or is revoked; its row stays (inactive) for
    ACCESS_TOKEN_INACTIVE_RETENTION_DAYS so its owner can see what happened, then is purged.
    """

    Via = Via

    class RevokedReason(models.TextChoices):
        DELETED = "deleted", "Deleted by its owner"
        REVOKED_BY_OPERATOR = "revoked_by_operator", "Revoked by an operator"
        REVOKED_BY_VALUE = "revoked_by_value", "Reported as leaked"
        ROTATED = "rotated", "Replaced by rotation"
        PARENT_REVOKED = "parent_revoked", "Revoked with the token that created it"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    description = models.TextField(max_length=1000, blank=True)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    last_four = models.CharField(max_length=4, editable=False)
    # Names from the scope registry (scopes.py), space-separated and sorted, as OAuth writes
    # a scope; kept in one column so the token check stays one query with nothing to join.
    scopes = models.CharField(max_length=255, default="api")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_via = models.CharField(max_length=16, choices=Via.choices, default=Via.WEB)
    # The token an API request authenticated with when it created this one: this token may
    # not outlive it or reach further, and is revoked with it.
    created_by_token = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="created_tokens",
        editable=False,
    )
    rotated_from = models.OneToOneField(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="rotated_to",
        editable=False,
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True, editable=False)
    # Set by notify_expiring_tokens, so an owner hears about an expiry once.
    expiry_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The create form's one-time nonce: a double-submitted form hits this unique index
    # instead of creating a second token. Not secret; NULL for API and command-line tokens.
    form_nonce = models.CharField(max_length=32, null=True, unique=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False, db_index=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    revoked_reason = models.CharField(
        max_length=32, choices=RevokedReason.choices, blank=True, editable=False
    )

    objects = AccessTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        # The list's default order to the last tie-break (listing.py: newest first, then id),
        # so a page is read off the index in order, with no sort.
        indexes = [
            models.Index(fields=["user", "-created_at", "id"], name="token_user_created_id_idx")
        ]
        verbose_name = "personal access token"

    def __str__(self) -> str:
        return f"{self.display_name} ({self.masked})"

    @property
    def display_name(self) -> str:
        return self.name or "Unnamed token"

    @property
    def masked(self) -> str:
        return f"kspat_…{self.last_four}"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    def is_expired(self, now=None) -> bool:
        if self.expires_at is None:
            return False
        return (now or timezone.now()) > self.expires_at

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_active(self, now=None) -> bool:
        return not self.is_revoked and not self.is_expired(now)

    def state(self, now=None) -> str:
        """Return "active", "expired" or "revoked" (a revoked token that has also expired is
        revoked: that is what stopped it)."""
        if self.is_revoked:
            return "revoked"
        return "expired" if self.is_expired(now) else "active"

    def inactive_since(self):
        """Return when the token stopped working, or None while it works."""
        if self.revoked_at is not None:
            if self.expires_at is not None and self.expires_at < self.revoked_at:
                return self.expires_at
            return self.revoked_at
        if self.is_expired():
            return self.expires_at
        return None


class AccessTokenEvent(models.Model):
    """One line of the append-only audit trail. Copies what it needs of the token,
    so the row outlives the token it speaks of."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        DELETED = "deleted", "Deleted by owner"
        REVOKED_BY_OPERATOR = "revoked_by_operator", "Revoked by an operator"
        REVOKED_BY_VALUE = "revoked_by_value", "Revoked by value"
        REVOKED_WITH_PARENT = "revoked_with_parent", "Revoked with the token that created it"
        ROTATED = "rotated", "Rotated"
        UPDATED = "updated", "Changed"
        EXPIRY_NOTIFIED = "expiry_notified", "Owner told of expiry"

    Via = Via

    action = models.CharField(max_length=32, choices=Action.choices)
    via = models.CharField(max_length=16, choices=Via.choices, default=Via.WEB)
    token_id = models.UUIDField(db_index=True)
    token_name = models.CharField(max_length=100, blank=True)
    token_last_four = models.CharField(max_length=4)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="access_token_events",
    )
    owner_username = models.CharField(max_length=254)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="access_token_actions",
    )
    actor_username = models.CharField(max_length=254, blank=True)
    # The token a request authenticated with when it made this change (copied, like the
    # token's own id and last four, so the row outlives it).
    actor_token_id = models.UUIDField(null=True, blank=True, db_index=True)
    actor_token_last_four = models.CharField(max_length=4, blank=True)
    detail = models.CharField(max_length=255, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "access token event"

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.token_name or 'Unnamed token'}"
