"""Where a request really came from.

``REMOTE_ADDR`` is the address of whoever opened the connection. Behind a reverse proxy that is
the proxy; the client's address is then in a header the proxy appends to
(``X-Forwarded-For: client, proxy1, proxy2``). Anyone can send that header, so it is believed
only when the connection comes from a proxy listed in ``settings.TRUSTED_PROXIES``, and then only
as far as the chain of trusted proxies reaches: the answer is the right-most address that is not
itself a trusted proxy (everything left of it may have been written by the client).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def trusted_networks(proxies: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """The trusted proxies as networks (a bare address is a /32 or /128). Cached per value, so
    tests that override the setting see their own list."""
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def parse_ip(value: str | None) -> IPAddress | None:
    """An address from a header or ``REMOTE_ADDR``; a port some proxies append is dropped.
    Anything else that is not an IP address is None."""
    text = (value or "").strip()
    if text.startswith("["):  # [2001:db8::1]:443
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # 203.0.113.7:51000
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def is_trusted_proxy(address: IPAddress | None) -> bool:
    if address is None:
        return False
    networks = trusted_networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
    return any(address in network for network in networks)


def client_ip(request) -> str | None:
    """The client's IP address: ``REMOTE_ADDR``, unless that is a trusted proxy, in which case
    the right-most address in ``settings.PROXY_IP_HEADER`` that is not a trusted proxy. A
    malformed entry stops the walk at the last address known to be good (the hop that handed it
    over), since nothing left of it can be believed."""
    remote = parse_ip(request.META.get("REMOTE_ADDR"))
    if not is_trusted_proxy(remote):
        return str(remote) if remote else None
    header = request.META.get(getattr(settings, "PROXY_IP_HEADER", "HTTP_X_FORWARDED_FOR"), "")
    hops = [hop for hop in header.split(",") if hop.strip()]
    last_good = remote
    for hop in reversed(hops):
        address = parse_ip(hop)
        if address is None:
            break
        last_good = address
        if not is_trusted_proxy(address):
            break
    return str(last_good)


def request_from_trusted_proxy(request) -> bool:
    """Whether the connection itself comes from a trusted proxy (so its headers count)."""
    return is_trusted_proxy(parse_ip(request.META.get("REMOTE_ADDR")))
