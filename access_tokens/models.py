import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class AccessToken(models.Model):
    """A personal access token. Only the SHA-256 digest of the secret is kept."""

    class Scope(models.TextChoices):
        READ_WRITE = "read_write", "Read & write"
        READ_ONLY = "read_only", "Read-only"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    last_four = models.CharField(max_length=4, editable=False)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.READ_WRITE)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True, editable=False)
    # Set by notify_expiring_tokens, so an owner hears about an expiry once.
    expiry_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The create form's one-time nonce: a double-submitted form hits this unique index
    # instead of creating a second token. Not secret; NULL for API and command-line tokens.
    form_nonce = models.CharField(max_length=32, null=True, unique=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="token_user_created_idx")]
        verbose_name = "personal access token"

    def __str__(self) -> str:
        return f"{self.display_name} ({self.masked})"

    @property
    def display_name(self) -> str:
        return self.name or "Unnamed token"

    @property
    def masked(self) -> str:
        return f"kspat_…{self.last_four}"

    def is_expired(self, now=None) -> bool:
        if self.expires_at is None:
            return False
        return (now or timezone.now()) > self.expires_at


class AccessTokenEvent(models.Model):
    """One line of the append-only audit trail. Copies what it needs of the token,
    so the row outlives the token it speaks of."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        DELETED = "deleted", "Deleted by owner"
        REVOKED_BY_OPERATOR = "revoked_by_operator", "Revoked by an operator"
        REVOKED_BY_VALUE = "revoked_by_value", "Revoked by value"
        UPDATED = "updated", "Changed by an operator"
        EXPIRY_NOTIFIED = "expiry_notified", "Owner told of expiry"

    class Via(models.TextChoices):
        WEB = "web", "Web"
        API = "api", "API"
        ADMIN = "admin", "Admin"
        COMMAND_LINE = "command_line", "Command line"

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
    owner_username = models.CharField(max_length=150)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="access_token_actions",
    )
    actor_username = models.CharField(max_length=150, blank=True)
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
