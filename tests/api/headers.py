"""Build `Authorization` header values the way API clients do."""

import base64


def basic(password: str, username: str = "-") -> str:
    """Return HTTP Basic credentials, as `curl -u username:password` sends them."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
