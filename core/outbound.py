"""The outbound policy: where the server itself may send a request.

Anything Steward sends or fetches on a user's behalf (alert webhooks today) goes through
:func:`outbound_url_check` when the address is saved and :func:`outbound_post` when it is used.
Otherwise whoever may save a URL could make the server reach what only it can reach: its own
admin ports, the database, other hosts of the private network, the cloud metadata service.

The rules:

- ``https`` only; plain ``http`` only to a host named in ``STEWARD_OUTBOUND_ALLOWED_HOSTS`` (or
  an IP literal inside a network listed there);
- no user name or password in the URL; a host is required;
- every address the host resolves to (A and AAAA, all of them) must be public: loopback,
  private (RFC 1918, ULA), link-local (with the metadata address 169.254.169.254), unspecified,
  multicast, reserved, shared (CGNAT 100.64/10) and IPv4 addresses embedded in IPv6 (mapped,
  NAT64, 6to4, Teredo) are refused, unless the host name or the address is allow-listed;
- an IP address written in a non-standard way (``2130706433``, ``0x7f.1``, ``017700000001``)
  is refused outright: it exists to slip past filters.

At send time the URL is checked again, and the connection goes to one of the addresses that
were just checked, with the name in the ``Host`` header and the TLS SNI and certificate check:
a DNS answer that changes between check and connect (DNS rebinding) is never used. Redirects
are never followed, the response read is bounded, and environment proxies are not used (a
proxy would resolve the name again, out of our sight).
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
import time
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings

from core.errors import InvalidInput
from core.net import IPAddress, IPNetwork

MAX_URL_LENGTH = 2000
MAX_RESPONSE_BYTES = 64 * 1024
SHORT_TEXT_CHARS = 300
USER_AGENT = "Steward-Outbound/1"

_HOSTNAME = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")
_SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
# Checked in this order, so an address gets its most telling name.
_REFUSED_KINDS = (
    ("is_unspecified", "unspecified"),
    ("is_loopback", "loopback"),
    ("is_link_local", "link-local"),
    ("is_multicast", "multicast"),
    ("is_reserved", "reserved"),
    ("is_private", "private"),
    ("is_site_local", "site-local"),
)


class HostNotResolved(InvalidInput):
    """The host name has no address (now): refused when saved, retried when sending."""


class OutboundUnavailable(Exception):
    """The request could not be completed (no connection, timeout, TLS failure, broken answer,
    a name that does not resolve at the moment). Worth trying again later."""


@dataclass(frozen=True)
class ParsedTarget:
    """A URL that passed the policy, with the addresses it was checked against: connect to one
    of these, never to a fresh resolution of ``host``."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]
    allow_listed: bool


def outbound_url_check(url: str) -> ParsedTarget:
    """Check ``url`` against the outbound policy (see the module docstring) and resolve it.
    Raises :class:`core.errors.InvalidInput` saying what is wrong."""
    scheme, host, port, path = _split(url)
    names, networks = _allow_list(tuple(getattr(settings, "STEWARD_OUTBOUND_ALLOWED_HOSTS", ())))
    literal = _ip_literal(host)
    name_allowed = literal is None and host in names
    if scheme == "http" and not (
        name_allowed or (literal is not None and _in_any(literal, networks))
    ):
        raise _refused(
            "Use an https:// address: plain http is allowed only to hosts listed in "
            "STEWARD_OUTBOUND_ALLOWED_HOSTS."
        )
    addresses = [literal] if literal is not None else _resolve(host, port)
    for address in addresses:
        if name_allowed or _in_any(address, networks):
            continue
        kind = address_refusal(address)
        if kind:
            shown = f"'{host}' resolves to {address}" if literal is None else str(address)
            raise _refused(
                f"{shown}, a {kind} address: Steward sends nothing to internal addresses. An "
                "operator can allow a trusted internal host in STEWARD_OUTBOUND_ALLOWED_HOSTS."
            )
    return ParsedTarget(
        url=url,
        scheme=scheme,
        host=host,
        port=port,
        path=path,
        addresses=tuple(str(address) for address in addresses),
        allow_listed=name_allowed or all(_in_any(a, networks) for a in addresses),
    )


def address_refusal(address: IPAddress) -> str:
    """Why the policy refuses ``address`` ("loopback", "private", ...), or "" if it is public."""
    if address in _METADATA:
        return "link-local (cloud metadata)"
    if address.version == 6:
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            kind = address_refusal(embedded)
            if kind:
                return f"{kind} (IPv4 {embedded} inside IPv6)"
    for attribute, kind in _REFUSED_KINDS:
        if getattr(address, attribute, False):
            return kind
    if address in _SHARED_ADDRESS_SPACE:
        return "shared (CGNAT 100.64.0.0/10)"
    if not address.is_global:
        return "non-public"
    return ""


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def _refused(message: str) -> InvalidInput:
    return InvalidInput(message, field_errors={"target": [message]})


def _split(url: str) -> tuple[str, str, int, str]:
    """Scheme, host (lower case, IDNA), port and path with query, or a refusal."""
    url = url or ""
    if len(url) > MAX_URL_LENGTH:
        raise _refused(f"The address is longer than {MAX_URL_LENGTH} characters.")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise _refused("The address contains spaces or control characters.")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise _refused("Use an https:// address.")
    if "@" in parts.netloc:
        raise _refused("The address must not contain a user name or password.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise _refused("The address has no host.")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise _refused("The address has an invalid port.") from None
    try:
        host = host.encode("idna").decode("ascii").lower() if not host.isascii() else host
    except UnicodeError:
        raise _refused(f"'{host}' is not a valid host name.") from None
    path = parts.path or "/"
    return scheme, host, port, f"{path}?{parts.query}" if parts.query else path


def _ip_literal(host: str) -> IPAddress | None:
    """The address if ``host`` is an IP literal. Numeric spellings other than the standard
    dotted quad (which C resolvers still accept) are refused."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    labels = host.split(".")
    if not _looks_numeric(labels[-1]):
        if not _HOSTNAME.match(host):
            raise _refused(f"'{host}' is not a valid host name.")
        return None
    number = _legacy_ipv4_number(labels)
    if number is None:
        raise _refused(f"'{host}' is not a valid host name or IP address.")
    raise _refused(
        f"'{host}' is a non-standard spelling of the IP address {ipaddress.IPv4Address(number)}; "
        "such spellings are refused."
    )


def _looks_numeric(label: str) -> bool:
    return bool(re.fullmatch(r"0[xX][0-9a-fA-F]*|[0-9]+", label))


def _legacy_ipv4_number(labels: list[str]) -> int | None:
    """inet_aton's forms: 1 to 4 parts, each decimal, octal (leading 0) or hex (0x); the last
    part fills the remaining bytes. None if it is not one of them."""
    if len(labels) > 4:
        return None
    values = []
    for label in labels:
        if not _looks_numeric(label):
            return None
        if label[:2].lower() == "0x":
            values.append(int(label[2:] or "0", 16))
        elif len(label) > 1 and label.startswith("0"):
            if not set(label) <= set("01234567"):
                return None
            values.append(int(label, 8))
        else:
            values.append(int(label))
    *head, last = values
    if any(value > 255 for value in head) or last >= 256 ** (4 - len(head)):
        return None
    number = last
    for index, value in enumerate(head):
        number += value << (8 * (3 - index))
    return number


def host_addresses(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6). Tests replace this function."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        found = host_addresses(host, port)
    except (OSError, UnicodeError) as exc:
        raise HostNotResolved(
            f"'{host}' cannot be resolved: {exc}", field_errors={"target": ["Unknown host."]}
        ) from exc
    if not found:
        raise HostNotResolved(f"'{host}' has no address.", field_errors={"target": ["No address."]})
    # A link-local IPv6 answer may carry its interface ("fe80::1%eth0").
    return [ipaddress.ip_address(address.split("%", 1)[0]) for address in found]


@lru_cache(maxsize=8)
def _allow_list(entries: tuple[str, ...]) -> tuple[frozenset[str], tuple[IPNetwork, ...]]:
    """Host names and networks of STEWARD_OUTBOUND_ALLOWED_HOSTS (validated at start-up)."""
    names, networks = set(), []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            names.add(entry.strip().rstrip(".").lower())
    return frozenset(names), tuple(networks)


def _in_any(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


# --- Sending ---------------------------------------------------------------------------------


def outbound_post(
    url: str, *, body: bytes, headers: dict[str, str], timeout: float
) -> tuple[int, str]:
    """POST ``body`` to ``url`` under the policy and return (status code, short text).

    The URL is checked again now, and the connection goes to an address that this check
    accepted (never a second resolution). A 3xx answer is returned as it is, with a text
    saying that redirects are not followed: it is the caller's failure to record. At most
    ``MAX_RESPONSE_BYTES`` of the answer are read; ``timeout`` bounds each network operation
    and the whole body read. Raises ``InvalidInput`` for a refused URL (final) and
    :class:`OutboundUnavailable` when no answer could be had (worth retrying)."""
    try:
        target = outbound_url_check(url)
    except HostNotResolved as exc:
        raise OutboundUnavailable(exc.message) from exc
    deadline = time.monotonic() + timeout
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, timeout)
    try:
        connection.request(
            "POST",
            target.path,
            body=body,
            headers={"User-Agent": USER_AGENT, "Connection": "close", **headers},
        )
        response = connection.getresponse()
        text = _read_short(response, deadline)
    except (OSError, http.client.HTTPException) as exc:
        # OSError covers refused and reset connections, timeouts and TLS errors.
        reason = str(exc) or type(exc).__name__
        raise OutboundUnavailable(f"No answer from {target.host}: {reason}") from exc
    finally:
        connection.close()
    if 300 <= response.status < 400:
        location = (response.getheader("Location") or "")[:200]
        to = f" to {location}" if location else ""
        return response.status, f"Redirect{to} not followed: redirects are never followed."
    return response.status, text


def _read_short(response: http.client.HTTPResponse, deadline: float) -> str:
    """Up to MAX_RESPONSE_BYTES of the body, stopping at the deadline; as short text."""
    chunks, size = [], 0
    while size < MAX_RESPONSE_BYTES and time.monotonic() < deadline:
        chunk = response.read(min(8192, MAX_RESPONSE_BYTES - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    text = " ".join(b"".join(chunks).decode("utf-8", errors="replace").split())
    return text[:SHORT_TEXT_CHARS]


def _connect_pinned(addresses: tuple[str, ...], port: int, timeout: float) -> socket.socket:
    """A TCP connection to the first of ``addresses`` that answers."""
    last_error: OSError = OSError("no address to connect to")
    for address in addresses:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect((address, port))
        except OSError as exc:
            sock.close()
            last_error = exc
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    raise last_error


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Sends ``Host: <name>`` but connects to the checked addresses only."""

    def __init__(self, target: ParsedTarget, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._addresses = target.addresses

    def connect(self) -> None:
        self.sock = _connect_pinned(self._addresses, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to a checked address, with the name as SNI and for the certificate check."""

    def __init__(self, target: ParsedTarget, timeout: float):
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self._addresses = target.addresses

    def connect(self) -> None:
        sock = _connect_pinned(self._addresses, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)
