"""Feed autodiscovery against real pages served on 127.0.0.1."""

from __future__ import annotations

from feedhub.config import Settings
from feedhub.ingest.discover import discover, feed_links, sniff_feed

from .feedserver import FeedServer, rss

FEED = rss([{"title": "Erster Artikel", "link": "https://example.org/1", "guid": "1"}])
ATOM = (
    b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
    b"<title>Atom-Titel</title><id>urn:x</id><updated>2024-01-01T00:00:00Z</updated></feed>"
)
JSON_FEED = b'{"version": "https://jsonfeed.org/version/1.1", "title": "JSON-Titel", "items": []}'


def page(head: str) -> bytes:
    return f"<!doctype html><html><head>{head}</head><body><p>Hallo</p></body></html>".encode()


HTML = {"Content-Type": "text/html; charset=utf-8"}


def test_links_are_resolved_against_the_page_and_base() -> None:
    html = (
        '<base href="https://example.org/sub/">'
        '<link rel="alternate" type="application/rss+xml" title="RSS" href="rss.xml">'
        '<link rel="alternate" type="application/atom+xml" href="/atom.xml#x">'
        '<link rel="stylesheet" href="style.css">'
        '<link rel="alternate" type="text/html" href="/en/">'
    )
    found = feed_links(html, "https://example.org/page")
    assert [(f.url, f.kind, f.title) for f in found] == [
        ("https://example.org/sub/rss.xml", "rss", "RSS"),
        ("https://example.org/atom.xml", "atom", ""),
    ]


def test_links_with_other_schemes_are_ignored() -> None:
    html = '<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">'
    assert feed_links(html, "https://example.org/") == []


def test_sniff_recognises_rss_atom_and_json_feed() -> None:
    assert [sniff_feed(b).kind for b in (FEED, ATOM, JSON_FEED)] == ["rss", "atom", "json"]  # type: ignore[union-attr]
    assert sniff_feed(page("")) is None


def test_a_feed_url_is_its_own_feed(feed_server: FeedServer, settings: Settings) -> None:
    url = feed_server.add("/feed.xml", body=FEED, headers={"Content-Type": "application/rss+xml"})
    result = discover(settings, url)
    assert result.is_feed
    assert [(f.url, f.title) for f in result.feeds] == [(url, "Testquelle")]


def test_a_page_lists_the_feeds_it_links(feed_server: FeedServer, settings: Settings) -> None:
    head = (
        '<link rel="alternate" type="application/rss+xml" title="Alle Artikel" href="/all.rss">'
        '<link rel="alternate" type="application/atom+xml" title="Lokales" href="/local.atom">'
    )
    url = feed_server.add("/", body=page(head), headers=HTML)
    result = discover(settings, url)
    assert not result.is_feed
    assert [(f.url, f.title, f.kind) for f in result.feeds] == [
        (feed_server.url("/all.rss"), "Alle Artikel", "rss"),
        (feed_server.url("/local.atom"), "Lokales", "atom"),
    ]


def test_a_page_without_links_falls_back_to_common_paths(
    feed_server: FeedServer, settings: Settings
) -> None:
    url = feed_server.add("/blog/post", body=page("<title>x</title>"), headers=HTML)
    feed_server.add("/index.xml", body=FEED, headers={"Content-Type": "application/xml"})
    feed_server.add("/rss", body=page(""), headers=HTML)  # an HTML page is no feed
    result = discover(settings, url)
    assert [f.url for f in result.feeds] == [feed_server.url("/index.xml")]
    assert feed_server.hits("/feed")  # the usual paths were probed at the site root


def test_nothing_found_is_an_empty_result(feed_server: FeedServer, settings: Settings) -> None:
    url = feed_server.add("/", body=page(""), headers=HTML)
    result = discover(settings, url)
    assert result.feeds == [] and result.error is None


def test_an_unreachable_page_reports_the_error(feed_server: FeedServer, settings: Settings) -> None:
    result = discover(settings, feed_server.url("/missing"))
    assert result.error == "404 Not Found"


def test_the_ssrf_guard_applies(feed_server: FeedServer, settings: Settings) -> None:
    from dataclasses import replace

    url = feed_server.add("/feed.xml", body=FEED)
    result = discover(replace(settings, allow_private_networks=False), url)
    assert result.feeds == []
    assert result.error is not None and "loopback" in result.error
