from rest_framework.permissions import BasePermission

from . import scopes
from .instants import iso
from .models import AccessToken

# Response headers that tell the caller about the token it called with, in the manner of
# GitHub's github-authentication-token-expiration and X-OAuth-Scopes / X-Accepted-OAuth-Scopes
# (without the "X-" that RFC 6648 retired), so a CI job can warn before its token runs out.
EXPIRATION_HEADER = "Keystand-Token-Expiration"
SCOPES_HEADER = "Keystand-Token-Scopes"
ACCEPTED_SCOPES_HEADER = "Keystand-Accepted-Scopes"


def token_headers(token: AccessToken) -> dict[str, str]:
    """Return the headers that describe `token`: read from the row authentication already
    loaded, so they cost no query."""
    expires = iso(token.expires_at) if token.expires_at is not None else "never"
    return {EXPIRATION_HEADER: expires, SCOPES_HEADER: ", ".join(token.scope_list)}


class TokenScopePermission(BasePermission):
    """Let a token through only with a scope the view accepts for this method (scopes.py).
    Browser sessions act with everything their user can do, as before.

    Every answer to a token-authenticated request, refusals included, carries the token's
    expiry and scopes and the scopes this request accepts (token_headers): DRF adds a view's
    `headers` to whatever response it finally sends.
    """

    message = "This token's scopes do not allow this request."
    code = "insufficient_scope"  # RFC 6750's name for it

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, AccessToken):
            return True
        headers = getattr(view, "headers", None)
        if headers is not None:
            # setdefault: OPTIONS asks again for each method it describes; the first answer,
            # for the request itself, is the one that stands.
            for name, value in token_headers(token).items():
                headers.setdefault(name, value)
        method = request.method
        lower = method.lower()
        if lower not in view.http_method_names or not hasattr(view, lower):
            # No such method here: let the view answer 405, which is the truth, not 403.
            return True
        needed = scopes.required_for(view, method)
        if headers is not None:
            headers.setdefault(ACCEPTED_SCOPES_HEADER, scopes.granting_header(needed))
        if scopes.granted_by(token.scopes) & needed:
            return True
        self.message = (
            f"This token's scopes ({', '.join(token.scope_list)}) do not allow this request: "
            f"it needs {' or '.join(scopes.granting(needed))}."
        )
        return False
