"""
The client's address: one answer for the throttles, the sign-in limits, the audit trail,
last-used and the emails.

Behind a reverse proxy every request comes from the proxy, so `REMOTE_ADDR` alone would make
every limit global and every audit row name the proxy. The proxy says who its client was in
`X-Forwarded-For`, but anyone can send that header: it is believed only when the request came
from a proxy listed in the TRUSTED_PROXIES setting, and then read from the right, hop by hop,
until the first address that is not a trusted proxy. That one is the client; what lies further
left was written by the client and is ignored.
"""

from __future__ import annotations

import functools
import ipaddress
from typing import TYPE_CHECKING

from .conf import token_settings

if TYPE_CHECKING:
    from django.http import HttpRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def parse_networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """Return the networks named by addresses or CIDR ranges; raise ValueError on a bad one."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry)


def _address(value: str | None) -> IPAddress | None:
    """Return `value` as an address, accepting the `1.2.3.4:port` and `[::1]:port` forms some
    proxies write; None for anything else (a Unix socket path, "unknown", garbage)."""
    if not value:
        return None
    value = value.strip()
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket (::ffff:1.2.3.4) is that IPv4 client.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(address in network for network in networks)


def client_ip(request: HttpRequest) -> str | None:
    """Return the address of the client that sent `request`, or None if it has no address.

    A forwarded header is honoured only from a trusted proxy, so a client talking to the
    server directly cannot choose the address its limits and audit rows are counted under.
    """
    peer = _address(request.META.get("REMOTE_ADDR"))
    networks = parse_networks(tuple(token_settings.TRUSTED_PROXIES))
    if peer is None or not networks or not _trusted(peer, networks):
        return str(peer) if peer is not None else None
    client = peer
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed(forwarded.split(",")):
        address = _address(hop)
        if address is None:
            # A trusted proxy writes addresses; anything else came from further out. Stop at
            # the last address a trusted proxy vouched for rather than guess.
            break
        client = address
        if not _trusted(address, networks):
            break
    return str(client)
