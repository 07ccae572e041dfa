"""
DRF authentication with personal access tokens, in the shape of DRF's TokenAuthentication.

Three ways to present a token, one check (services.check_access_token):
    Authorization: AccessToken kspat_…   (Distr's scheme)
    Authorization: Bearer kspat_…
    Authorization: Basic base64(anything:kspat_…)   (docker login -u - --password-stdin)
"""

import base64
import binascii
import re

from rest_framework import authentication, exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from . import services
from .throttling import FailedAuthenticationThrottle, Refused

REALM = "api"
# Every scheme Keystand takes, in its order of preference; a 401 offers them all, so that a
# client that knows only one of them (curl --anyauth, urllib's Basic handler) answers it.
SCHEMES = ("AccessToken", "Bearer", "Basic")
# RFC 6750 §3: error_description may hold printable ASCII except '"' and '\'.
_NOT_IN_DESCRIPTION = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")


def challenges(scheme: str | None = None, description: str | None = None) -> str:
    """Return the WWW-Authenticate value of a 401: one challenge per scheme, in one header
    (Django keeps one value per header name; RFC 9110 §11.6.1 allows a comma-separated list).

    When a token sent with the AccessToken or Bearer scheme was refused, that scheme's
    challenge says so as RFC 6750 §3.1 does: error="invalid_token" and a description.
    Basic has no such parameters; its refusal is told in the body alone.
    """
    offered = []
    for name in SCHEMES:
        challenge = f'{name} realm="{REALM}"'
        if description is not None and scheme == name.lower() and name != "Basic":
            text = _NOT_IN_DESCRIPTION.sub("?", description)
            challenge += f', error="invalid_token", error_description="{text}"'
        offered.append(challenge)
    return ", ".join(offered)


class TokenRefused(exceptions.AuthenticationFailed):
    """A credential Keystand reads but refuses. It knows the scheme it came in, for the
    challenge, and the failed-authentication limit's RateLimit-* headers (access_tokens/errors.py
    puts both on the 401)."""

    def __init__(self, detail: str, *, code: str, scheme: str, response_headers: dict):
        super().__init__(detail, code=code)
        self.www_authenticate = challenges(scheme, detail)
        self.response_headers = response_headers


def _fail(request, message: str, *, scheme: str, code: str = "invalid_header"):
    """Refuse the credential, or answer 429 once this address has failed too often."""
    throttle = FailedAuthenticationThrottle()
    allowed = throttle.allow_request(request, None)
    headers = throttle.rate_limit_headers()
    if not allowed:
        raise Refused(throttle.wait(), headers)
    raise TokenRefused(message, code=code, scheme=scheme, response_headers=headers)


def authenticate_token(request, raw: str, *, scheme: str):
    """Return (user, token) for a raw token or raise AuthenticationFailed.

    A view that fetches more in the authentication's own query puts its finder (see
    services.check_access_token) on the request as `token_finder` before authenticating.
    """
    now = services._now()  # one clock for the check and the last-used write
    try:
        # vars(): DRF's Request would look for a missing attribute on Django's request too,
        # through an exception, on every other view's requests.
        token = services.check_access_token(raw, now=now, find=vars(request).get("token_finder"))
    except services.TokenError as e:
        _fail(request, e.message, scheme=scheme, code=e.code)
    services.record_access_token_use(token, request=request, now=now)
    return token.user, token


class AccessTokenAuthentication(BaseAuthentication):
    """Authenticate `Authorization: AccessToken <token>` or `Bearer <token>`."""

    keywords = (b"accesstoken", b"bearer")
    www_authenticate_realm = REALM

    def authenticate(self, request):
        auth = get_authorization_header(request).split()
        if not auth or auth[0].lower() not in self.keywords:
            return None
        scheme = auth[0].lower().decode()
        if len(auth) == 1:
            _fail(request, "Invalid token header. No credentials provided.", scheme=scheme)
        if len(auth) > 2:
            _fail(
                request,
                "Invalid token header. Token string should not contain spaces.",
                scheme=scheme,
            )
        try:
            raw = auth[1].decode("ascii")
        except UnicodeError:
            _fail(
                request,
                "Invalid token header. Token string should not contain invalid characters.",
                scheme=scheme,
            )
        return self.authenticate_credentials(raw, request, scheme=scheme)

    def authenticate_credentials(self, raw: str, request, *, scheme: str = "bearer"):
        return authenticate_token(request, raw, scheme=scheme)

    def authenticate_header(self, request) -> str:
        # DRF asks only the first class for WWW-Authenticate (without one a 401 becomes a
        # 403), so this one answers for every scheme.
        return challenges()


class AccessTokenBasicAuthentication(BaseAuthentication):
    """Authenticate HTTP Basic whose password is a token; the username is ignored.

    A password that is not a token is refused as such: no password hasher ever runs here.
    """

    www_authenticate_realm = REALM

    def authenticate(self, request):
        auth = get_authorization_header(request).split()
        if not auth or auth[0].lower() != b"basic":
            return None
        if len(auth) != 2:
            _fail(
                request,
                "Invalid basic header. Credentials should be one base64 string.",
                scheme="basic",
            )
        try:
            decoded = base64.b64decode(auth[1], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            _fail(
                request,
                "Invalid basic header. Credentials not correctly base64 encoded.",
                scheme="basic",
            )
        username, sep, password = decoded.partition(":")
        if not sep:
            _fail(request, "Invalid basic header. Expected username:token.", scheme="basic")
        if not password.startswith(services.PREFIX):
            if username.startswith(services.PREFIX):
                _fail(
                    request,
                    "Basic authentication takes the token as the password, not the username "
                    "(curl -u -:TOKEN).",
                    scheme="basic",
                )
            _fail(
                request,
                "Basic authentication takes a personal access token as the password.",
                scheme="basic",
            )
        return authenticate_token(request, password, scheme="basic")

    def authenticate_header(self, request) -> str:
        return challenges()


class SessionAuthentication(authentication.SessionAuthentication):
    """DRF's session authentication, with a code of its own for a missing CSRF token, so a
    browser client can tell it from a scope refusal."""

    def enforce_csrf(self, request):
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied as e:
            raise exceptions.PermissionDenied(str(e.detail), code="csrf_failed") from None
