"""What the API says about a token, in every answer that describes one."""

TOKEN_FIELDS = {
    "id",
    "name",
    "description",
    "last_four",
    "scopes",
    "scope",
    "created_at",
    "created_via",
    "created_by_token",
    "rotated_from",
    "expires_at",
    "last_used_at",
    "last_used_ip",
    "active",
    "state",
    "expired",
    "revoked_at",
    "revoked_reason",
}
