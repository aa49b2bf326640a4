"""SSRF guard: which addresses and URLs a fetch may reach (no database, no network)."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from feedhub.ingest.netguard import (
    GuardError,
    allowed_candidates,
    check_address,
    split_url,
    validate_feed_url,
)

REFUSED = [
    ("127.0.0.1", "127.0.0.1 is a loopback address"),
    ("127.255.0.9", "loopback"),
    ("10.0.0.1", "10.0.0.1 is a private address"),
    ("172.16.5.4", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.1", "private"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("100.127.255.254", "carrier-grade NAT"),
    ("169.254.169.254", "169.254.169.254 is a link-local address"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "unspecified"),
    ("255.255.255.255", "broadcast"),
    ("224.0.0.1", "224.0.0.1 is a multicast address"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("192.0.0.8", "reserved"),
    ("192.0.2.1", "documentation"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.9", "documentation"),
    ("198.18.0.1", "benchmarking"),
    ("::1", "::1 is a loopback address"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("fec0::1", "site-local"),
    ("fd00::1", "fd00::1 is a unique local address"),
    ("fc00::1", "unique local"),
    ("ff02::1", "multicast"),
    ("2001:db8::1", "documentation"),
    ("100::1", "discard-only"),
    ("::ffff:127.0.0.1", "::ffff:127.0.0.1 maps to 127.0.0.1, a loopback address"),
    ("::ffff:10.0.0.1", "maps to 10.0.0.1, a private address"),
    ("::ffff:169.254.169.254", "maps to 169.254.169.254, a link-local address"),
    ("::ffff:8.8.8.8", "IPv4-mapped"),
    ("::127.0.0.1", "IPv4-compatible"),
    ("::10.0.0.1", "IPv4-compatible"),
    ("2002:7f00:1::1", "embeds 127.0.0.1, a loopback address"),
    ("2002:a00:1::1", "embeds 10.0.0.1, a private address"),
    ("64:ff9b::7f00:1", "embeds 127.0.0.1, a loopback address"),
    ("64:ff9b::a9fe:a9fe", "embeds 169.254.169.254, a link-local address"),
    ("64:ff9b:1::1", "local-use NAT64"),
    ("not-an-address", "not an IP address"),
]

PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "100.128.0.1",  # just past the CGNAT block
    "172.32.0.1",  # just past 172.16/12
    "2606:4700:4700::1111",
    "2a00:1450:4001:82a::200e",
    "2002:808:808::1",  # 6to4 wrapping 8.8.8.8
    "64:ff9b::808:808",  # NAT64 wrapping 8.8.8.8
]


@pytest.mark.parametrize(("ip", "reason"), REFUSED)
def test_forbidden_address_is_refused_with_reason(ip: str, reason: str) -> None:
    result = check_address(ip)
    assert result is not None
    assert reason in result


@pytest.mark.parametrize("ip", PUBLIC)
def test_public_address_is_allowed(ip: str) -> None:
    assert check_address(ip) is None


def test_address_objects_are_accepted() -> None:
    assert check_address(ipaddress.ip_address("10.1.2.3")) == "10.1.2.3 is a private address"
    assert check_address(ipaddress.ip_address("2606:4700:4700::1111")) is None


def test_bracketed_ipv6_literal_is_understood() -> None:
    assert check_address("[::1]") == "::1 is a loopback address"


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("ftp://example.org/feed.xml", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("example.org/feed", "scheme"),
        ("http:///feed.xml", "url"),
        ("http://example.org:99999/", "url"),
        ("http://[::1/", "url"),
    ],
)
def test_split_url_refuses_what_cannot_be_fetched(url: str, kind: str) -> None:
    with pytest.raises(GuardError) as info:
        split_url(url)
    assert info.value.kind == kind


def test_split_url_encodes_international_host_names() -> None:
    target = split_url("http://Bücher.example/feed?x=1#top")
    assert (target.host, target.port, target.path) == ("xn--bcher-kva.example", 80, "/feed?x=1")


def test_split_url_defaults_https_port_and_root_path() -> None:
    target = split_url("HTTPS://user:pw@Example.ORG")
    assert (target.scheme, target.host, target.port, target.path, target.userinfo) == (
        "https",
        "example.org",
        443,
        "/",
        "user:pw",
    )


def test_hostname_is_resolved_and_checked() -> None:
    with pytest.raises(GuardError) as info:
        allowed_candidates("localhost", 80, allow_private=False, timeout=5.0)
    assert info.value.kind == "ssrf"
    assert "loopback" in info.value.message


def test_candidates_are_the_resolved_addresses_that_pass_the_check() -> None:
    candidates = allowed_candidates(
        "localhost", 8080, allow_private=False, timeout=5.0, check=lambda ip: None
    )
    assert (socket.AF_INET, ("127.0.0.1", 8080)) in candidates


def test_validate_refuses_non_http_scheme() -> None:
    reason = validate_feed_url("ftp://example.org/feed.xml", allow_private=False)
    assert reason == "unsupported URL scheme ftp: only http and https"


def test_validate_refuses_loopback_literal() -> None:
    reason = validate_feed_url("http://127.0.0.1:5000/feed", allow_private=False)
    assert reason == "refused: 127.0.0.1 is a loopback address"


def test_validate_refuses_mapped_private_literal() -> None:
    reason = validate_feed_url("https://[::ffff:10.0.0.1]/feed", allow_private=False)
    assert reason == "refused: ::ffff:10.0.0.1 maps to 10.0.0.1, a private address"


def test_validate_refuses_name_resolving_to_loopback() -> None:
    reason = validate_feed_url("http://localhost/feed", allow_private=False)
    assert reason is not None
    assert reason.startswith("refused: ") and "loopback" in reason


def test_validate_accepts_loopback_when_private_networks_allowed() -> None:
    assert validate_feed_url("http://127.0.0.1:5000/feed", allow_private=True) is None


def test_validate_accepts_public_literal() -> None:
    assert validate_feed_url("http://93.184.216.34/feed.xml", allow_private=False) is None


def test_validate_names_an_unresolvable_host() -> None:
    reason = validate_feed_url("http://nothing-here.invalid/feed", allow_private=False, timeout=3)
    assert reason is not None
    assert "nothing-here.invalid" in reason
