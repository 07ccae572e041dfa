from rest_framework.permissions import BasePermission

from . import scopes
from .models import AccessToken


class TokenScopePermission(BasePermission):
    """Let a token through only with a scope the view accepts for this method (scopes.py).
    Browser sessions act with everything their user can do, as before."""

    message = "This token's scopes do not allow this request."

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, AccessToken):
            return True
        method = request.method
        lower = method.lower()
        if lower not in view.http_method_names or not hasattr(view, lower):
            # No such method here: let the view answer 405, which is the truth, not 403.
            return True
        needed = scopes.required_for(view, method)
        if scopes.granted_by(token.scopes) & needed:
            return True
        self.message = (
            f"This token's scopes ({', '.join(token.scope_list)}) do not allow this request: "
            f"it needs {' or '.join(scopes.granting(needed))}."
        )
        return False
