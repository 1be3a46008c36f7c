"""The client's address, also behind a reverse proxy.

X-Forwarded-For is read only when the connection comes from a trusted proxy
(settings.TRUSTED_PROXIES, CIDR). Then the client is the right-most address in the header
that is not itself a trusted proxy: a client can write anything to the left, but not to the
right of what its own proxy appends.
"""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from django.conf import settings


@lru_cache(maxsize=16)
def networks(spec: tuple[str, ...]) -> tuple[IPv4Network | IPv6Network, ...]:
    return tuple(ip_network(n, strict=False) for n in spec)


def _ip(text: str):
    try:
        return ip_address(text.strip())
    except ValueError:
        return None


def _trusted(addr) -> bool:
    return addr is not None and any(addr in n for n in networks(tuple(settings.TRUSTED_PROXIES)))


def client_ip(request):
    """The client's ip_address, or None if it cannot be told."""
    peer = _ip(request.META.get("REMOTE_ADDR", ""))
    if not _trusted(peer):
        return peer
    hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(hops):
        addr = _ip(hop)
        if addr is None:
            return None  # a garbled header: trust nothing in it
        if not _trusted(addr):
            return addr
    return peer


def client_address(request) -> str:
    addr = client_ip(request)
    return str(addr) if addr is not None else "unknown"


def in_networks(request, spec) -> bool:
    addr = client_ip(request)
    return addr is not None and any(addr in n for n in networks(tuple(spec)))
