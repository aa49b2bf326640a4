"""SSRF guard: which network addresses a feed fetch may connect to.

A feed URL is typed in by an admin or imported from OPML, and every redirect hop
is chosen by a remote server, so both can point at the poller's own network
(cloud metadata at 169.254.169.254, a database on 10.0.0.5, the admin UI on
127.0.0.1). The fetcher therefore resolves names itself, checks every candidate
address here and connects to exactly the address it checked: there is no second
lookup that a DNS-rebinding attacker could answer differently.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (address family, sockaddr) ready for socket.socket(family).connect(sockaddr)
Candidate = tuple[socket.AddressFamily, tuple[str, int] | tuple[str, int, int, int]]
AddressCheck = Callable[[str], "str | None"]

ALLOWED_SCHEMES = frozenset({"http", "https"})

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

# Ordered: the first matching network names the reason.
_FORBIDDEN_V4: tuple[tuple[ipaddress.IPv4Network, str], ...] = (
    (_V4("0.0.0.0/8"), "an unspecified address"),
    (_V4("127.0.0.0/8"), "a loopback address"),
    (_V4("10.0.0.0/8"), "a private address"),
    (_V4("172.16.0.0/12"), "a private address"),
    (_V4("192.168.0.0/16"), "a private address"),
    (_V4("100.64.0.0/10"), "a shared (carrier-grade NAT) address"),
    (_V4("169.254.0.0/16"), "a link-local address"),
    (_V4("192.0.0.0/24"), "a reserved address"),
    (_V4("192.0.2.0/24"), "a documentation address"),
    (_V4("198.51.100.0/24"), "a documentation address"),
    (_V4("203.0.113.0/24"), "a documentation address"),
    (_V4("192.88.99.0/24"), "a reserved address"),
    (_V4("198.18.0.0/15"), "a reserved (benchmarking) address"),
    (_V4("224.0.0.0/4"), "a multicast address"),
    (_V4("255.255.255.255/32"), "a broadcast address"),
    (_V4("240.0.0.0/4"), "a reserved address"),
)

_NAT64 = (_V6("64:ff9b::/96"),)
_FORBIDDEN_V6: tuple[tuple[ipaddress.IPv6Network, str], ...] = (
    (_V6("::/128"), "an unspecified address"),
    (_V6("::1/128"), "a loopback address"),
    (_V6("fe80::/10"), "a link-local address"),
    (_V6("fec0::/10"), "a private (site-local) address"),
    (_V6("fc00::/7"), "a unique local address"),
    (_V6("ff00::/8"), "a multicast address"),
    (_V6("2001:db8::/32"), "a documentation address"),
    (_V6("3fff::/20"), "a documentation address"),
    (_V6("100::/64"), "a reserved (discard-only) address"),
    (_V6("64:ff9b:1::/48"), "a private (local-use NAT64) address"),
    (_V6("::/96"), "an IPv4-compatible address (deprecated)"),
)


def _parse(ip: str | IPAddress) -> IPAddress | None:
    if not isinstance(ip, str):
        return ip
    try:
        return ipaddress.ip_address(ip.strip("[]"))
    except ValueError:
        return None


def _check_v4(addr: ipaddress.IPv4Address) -> str | None:
    for network, what in _FORBIDDEN_V4:
        if addr in network:
            return what
    if not addr.is_global:
        return "not a public address"
    return None


def _embedded_v4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a 6to4 or NAT64 address routes to."""
    if addr.sixtofour is not None:
        return addr.sixtofour
    if any(addr in net for net in _NAT64):
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    return None


def check_address(ip: str | IPAddress) -> str | None:
    """Why a fetch must not connect to ``ip``, or None when it is a public address.

    The reason reads as the end of a sentence: ``f"refused: {reason}"`` gives
    "refused: 127.0.0.1 is a loopback address".
    """
    addr = _parse(ip)
    if addr is None:
        return f"{ip} is not an IP address"
    shown = str(addr)
    if isinstance(addr, ipaddress.IPv4Address):
        what = _check_v4(addr)
        return f"{shown} is {what}" if what else None
    if addr.scope_id:
        addr = ipaddress.IPv6Address(shown.split("%", 1)[0])
    mapped = addr.ipv4_mapped
    if mapped is not None:
        shown = f"::ffff:{mapped}"  # Python < 3.13 prints ::ffff:7f00:1
        inner = _check_v4(mapped)
        if inner:
            return f"{shown} maps to {mapped}, {inner}"
        return f"{shown} is an IPv4-mapped address"
    for network, what in _FORBIDDEN_V6:
        if addr in network:
            return f"{shown} is {what}"
    embedded = _embedded_v4(addr)
    if embedded is not None:
        inner = _check_v4(embedded)
        if inner:
            return f"{shown} embeds {embedded}, {inner}"
        return None
    if addr.teredo is not None:
        server, client = addr.teredo
        for v4 in (server, client):
            inner = _check_v4(v4)
            if inner:
                return f"{shown} is a Teredo address embedding {v4}, {inner}"
        return None
    if not addr.is_global:
        return f"{shown} is not a public address"
    return None


class GuardError(Exception):
    """A URL or host that must not or cannot be fetched; ``kind`` matches FetchResult.error_kind."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class Target:
    """The parts of a feed URL the fetcher needs; ``host`` is ASCII (IDNA), lower case."""

    scheme: str
    host: str
    port: int
    path: str  # path + query, never empty, fragment dropped
    userinfo: str | None


def split_url(url: str) -> Target:
    """Split a feed URL, refusing other schemes and URLs without a host."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise GuardError("url", f"invalid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        shown = scheme or "(none)"
        raise GuardError("scheme", f"unsupported URL scheme {shown}: only http and https")
    raw_host = parts.hostname
    if not raw_host:
        raise GuardError("url", "invalid URL: no host")
    try:
        host = raw_host if raw_host.isascii() else raw_host.encode("idna").decode("ascii")
    except UnicodeError:
        raise GuardError("url", f"invalid host name {raw_host}") from None
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else None
    return Target(scheme, host.lower(), port or (443 if scheme == "https" else 80), path, userinfo)


def _literal(host: str, port: int) -> list[Candidate] | None:
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv4Address):
        return [(socket.AF_INET, (host, port))]
    return [(socket.AF_INET6, (host, port, 0, 0))]


def resolve(host: str, port: int, timeout: float) -> list[Candidate]:
    """Addresses of ``host``; the lookup runs in a helper thread so it honours ``timeout``.

    getaddrinfo() itself cannot be interrupted, and the system resolver may retry
    for far longer than a feed fetch is allowed to take.
    """
    literal = _literal(host, port)
    if literal is not None:
        return literal
    box: list[list[Candidate] | OSError] = []
    done = threading.Event()

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            seen: list[Candidate] = []
            for family, _type, _proto, _name, sockaddr in infos:
                cand: Candidate = (family, sockaddr)  # type: ignore[assignment]
                if cand not in seen:
                    seen.append(cand)
            box.append(seen)
        except OSError as exc:
            box.append(exc)
        done.set()

    threading.Thread(target=lookup, name="feedhub-dns", daemon=True).start()
    if not done.wait(max(timeout, 0.0)):
        raise GuardError("timeout", f"DNS lookup of {host} timed out")
    result = box[0]
    if isinstance(result, OSError):
        raise GuardError("dns", f"could not resolve {host}")
    if not result:
        raise GuardError("dns", f"{host} has no addresses")
    return result


def allowed_candidates(
    host: str,
    port: int,
    *,
    allow_private: bool,
    timeout: float,
    check: AddressCheck = check_address,
) -> list[Candidate]:
    """The addresses of ``host`` that may be connected to, in resolver order.

    Forbidden candidates are dropped; when none is left the first reason is raised
    as a GuardError of kind "ssrf".
    """
    candidates = resolve(host, port, timeout)
    if allow_private:
        return candidates
    allowed: list[Candidate] = []
    first_reason: str | None = None
    for cand in candidates:
        reason = check(cand[1][0])
        if reason is None:
            allowed.append(cand)
        elif first_reason is None:
            first_reason = reason
    if not allowed:
        raise GuardError("ssrf", f"refused: {first_reason}")
    return allowed


def validate_feed_url(
    url: str, allow_private: bool, *, timeout: float = 10.0, check: AddressCheck = check_address
) -> str | None:
    """Why ``url`` cannot be added as a source, or None when it may be.

    Checks the scheme and, unless private networks are allowed, that the host
    resolves to at least one public address. The fetcher repeats the address
    check on every connection, so this is advice for the admin, not the guard.
    """
    try:
        target = split_url(url)
        if not allow_private:
            allowed_candidates(
                target.host, target.port, allow_private=False, timeout=timeout, check=check
            )
    except GuardError as exc:
        return exc.message
    return None
