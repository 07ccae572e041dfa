"""
The container's health check: `python -m config.healthcheck [/readyz]` asks the local gunicorn
for a probe path and exits 0 on a 200, 1 otherwise. The slim image has no curl.

Django answers 400 to a Host it does not serve, so the request names the first of
ALLOWED_HOSTS, whatever the deployment set there; and it loads no Django, so a check costs
milliseconds.
"""

import os
import sys
import urllib.error
import urllib.request


def probe_host(allowed_hosts: str) -> str:
    """Return a Host header that ALLOWED_HOSTS accepts."""
    first = next((h.strip() for h in allowed_hosts.split(",") if h.strip()), "localhost")
    if first == "*":
        return "localhost"
    # ".example.com" allows example.com and every subdomain.
    return first.lstrip(".")


def main(argv: list[str]) -> int:
    path = argv[1] if len(argv) > 1 else "/readyz"
    port = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").rpartition(":")[2]
    request = urllib.request.Request(  # noqa: S310 (always http on loopback)
        f"http://127.0.0.1:{port}{path}",
        headers={"Host": probe_host(os.environ.get("ALLOWED_HOSTS", ""))},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"health check {path}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
