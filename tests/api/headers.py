"""Build `Authorization` header values the way API clients do."""

import base64


def basic(password: str, username: str = "-") -> str:
    """Return HTTP Basic credentials, as `curl -u username:password` sends them."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


# What a 401 offers: every scheme Keystand takes, in one header.
CHALLENGES = 'AccessToken realm="api", Bearer realm="api", Basic realm="api"'


def refused_challenges(scheme: str, description: str) -> str:
    """Return the WWW-Authenticate of a 401 for a token sent with `scheme` (AccessToken or
    Bearer) and refused: RFC 6750's error on that scheme's challenge."""
    error = f'error="invalid_token", error_description="{description}"'
    return CHALLENGES.replace(f'{scheme} realm="api"', f'{scheme} realm="api", {error}')
