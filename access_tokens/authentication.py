"""
DRF authentication with personal access tokens, in the shape of DRF's TokenAuthentication.

Three ways to present a token, one check (services.check_access_token):
    Authorization: AccessToken kspat_…   (Distr's scheme)
    Authorization: Bearer kspat_…
    Authorization: Basic base64(anything:kspat_…)   (docker login -u - --password-stdin)
"""

import base64
import binascii

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from . import services
from .throttling import FailedAuthenticationThrottle


def _fail(request, message: str):
    """Refuse the credential, or answer 429 once this address has failed too often."""
    throttle = FailedAuthenticationThrottle()
    if not throttle.allow_request(request, None):
        raise exceptions.Throttled(wait=throttle.wait())
    raise exceptions.AuthenticationFailed(message)


def authenticate_token(request, raw: str):
    """Return (user, token) for a raw token or raise AuthenticationFailed."""
    now = timezone.now()
    try:
        token = services.check_access_token(raw, now=now)
    except services.TokenError as e:
        _fail(request, e.message)
    services.record_access_token_use(token, request=request, now=now)
    return token.user, token


class AccessTokenAuthentication(BaseAuthentication):
    """Authenticate `Authorization: AccessToken <token>` or `Bearer <token>`."""

    keywords = (b"accesstoken", b"bearer")
    www_authenticate_realm = "api"

    def authenticate(self, request):
        auth = get_authorization_header(request).split()
        if not auth or auth[0].lower() not in self.keywords:
            return None
        if len(auth) == 1:
            _fail(request, "Invalid token header. No credentials provided.")
        if len(auth) > 2:
            _fail(request, "Invalid token header. Token string should not contain spaces.")
        try:
            raw = auth[1].decode("ascii")
        except UnicodeError:
            _fail(
                request, "Invalid token header. Token string should not contain invalid characters."
            )
        return self.authenticate_credentials(raw, request)

    def authenticate_credentials(self, raw: str, request):
        return authenticate_token(request, raw)

    def authenticate_header(self, request) -> str:
        # DRF asks only the first class for WWW-Authenticate; answer for Basic clients too.
        scheme = get_authorization_header(request).split()[:1]
        if scheme and scheme[0].lower() == b"basic":
            return f'Basic realm="{self.www_authenticate_realm}"'
        return f'AccessToken realm="{self.www_authenticate_realm}"'


class AccessTokenBasicAuthentication(BaseAuthentication):
    """Authenticate HTTP Basic whose password is a token; the username is ignored.

    A password that is not a token is refused as such: no password hasher ever runs here.
    """

    www_authenticate_realm = "api"

    def authenticate(self, request):
        auth = get_authorization_header(request).split()
        if not auth or auth[0].lower() != b"basic":
            return None
        if len(auth) != 2:
            _fail(request, "Invalid basic header. Credentials should be one base64 string.")
        try:
            decoded = base64.b64decode(auth[1], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            _fail(request, "Invalid basic header. Credentials not correctly base64 encoded.")
        username, sep, password = decoded.partition(":")
        if not sep:
            _fail(request, "Invalid basic header. Expected username:token.")
        if not password.startswith(services.PREFIX):
            if username.startswith(services.PREFIX):
                _fail(
                    request,
                    "Basic authentication takes the token as the password, not the username "
                    "(curl -u -:TOKEN).",
                )
            _fail(request, "Basic authentication takes a personal access token as the password.")
        return authenticate_token(request, password)

    def authenticate_header(self, request) -> str:
        return f'Basic realm="{self.www_authenticate_realm}"'
