from rest_framework.permissions import SAFE_METHODS, BasePermission

from .models import AccessToken


class TokenScopePermission(BasePermission):
    """Let a read-only token use safe methods only. Sessions and read-write tokens pass."""

    message = "This token is read-only."

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if isinstance(token, AccessToken) and token.scope == AccessToken.Scope.READ_ONLY:
            return request.method in SAFE_METHODS
        return True
