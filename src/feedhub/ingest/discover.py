"""Feed autodiscovery: from any web page URL to the feeds it offers.

Admins paste whatever URL they have, often a home page. The page is fetched
through the project's Fetcher (so the SSRF guard, size caps and timeouts
apply); if it is a feed itself we are done, otherwise its
``<link rel="alternate">`` feed links are read, and only when there are none
the usual feed paths of the site (``/feed``, ``/rss``, ``/atom.xml`` …) are
probed, in parallel so a slow site costs one timeout, not one per path.

Recognising a feed and reading links are pure functions over bytes; only
:func:`discover_feeds` does I/O, through the fetch callable it is given.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import feedparser

from feedhub.config import Settings
from feedhub.ingest.records import FetchRequest, FetchResult

FEED_TYPES = {
    "application/rss+xml": "rss",
    "application/atom+xml": "atom",
    "application/feed+json": "json",
    "application/json": "json",
    "application/rdf+xml": "rss",
    "application/x.atom+xml": "atom",
    "text/xml": "rss",
    "application/xml": "rss",
}
# Probed in this order when a page links no feed; the first hits are listed first.
COMMON_PATHS = (
    "/feed",
    "/rss",
    "/feed.xml",
    "/rss.xml",
    "/atom.xml",
    "/index.xml",
    "/feed.json",
    "/index.rss",
    "/rss/",
    "/feed/",
    "/feeds/posts/default",
)
MAX_LINKS = 20
PROBE_WORKERS = 4

FetchFn = Callable[[FetchRequest], FetchResult]


@dataclass(frozen=True)
class FoundFeed:
    url: str
    title: str = ""
    kind: str = ""  # rss, atom, json or "" when unknown


@dataclass
class Discovery:
    """What a URL led to: the feeds found, or why none could be found."""

    url: str
    feeds: list[FoundFeed] = field(default_factory=list)
    # the URL itself answered with a feed
    is_feed: bool = False
    # English one-liner when the page itself could not be fetched
    error: str | None = None


class _LinkParser(HTMLParser):
    """Collects ``<base href>`` and feed ``<link rel="alternate">`` tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.links: list[tuple[str, str, str]] = []  # href, type, title

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): (v or "") for k, v in attrs}
        if tag == "base" and self.base is None and values.get("href"):
            self.base = values["href"].strip()
        elif tag in {"link", "a"}:
            rels = values.get("rel", "").lower().split()
            if "alternate" in rels and values.get("href"):
                self.links.append(
                    (
                        values["href"].strip(),
                        values.get("type", "").strip().lower(),
                        values.get("title", "").strip(),
                    )
                )

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def _http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def feed_links(html: str, page_url: str) -> list[FoundFeed]:
    """Feed links announced by a page, absolute, de-duplicated, in page order."""
    parser = _LinkParser()
    try:
        parser.feed(html)
        parser.close()
    except AssertionError:  # pragma: no cover - HTMLParser on pathological markup
        pass
    base = urljoin(page_url, parser.base) if parser.base else page_url
    found: list[FoundFeed] = []
    seen: set[str] = set()
    for href, mime, title in parser.links:
        kind = FEED_TYPES.get(mime.split(";", 1)[0].strip())
        if kind is None:
            continue
        url = urljoin(base, href).split("#", 1)[0]
        if not _http_url(url) or url in seen:
            continue
        seen.add(url)
        found.append(FoundFeed(url=url, title=title, kind=kind))
        if len(found) >= MAX_LINKS:
            break
    return found


def _json_feed_title(body: bytes) -> tuple[bool, str]:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False, ""
    if isinstance(doc, dict) and str(doc.get("version", "")).startswith(
        "https://jsonfeed.org/version/"
    ):
        return True, str(doc.get("title") or "")
    return False, ""


def sniff_feed(body: bytes) -> FoundFeed | None:
    """A :class:`FoundFeed` (without URL) when the bytes are RSS, Atom or JSON Feed."""
    head = body.lstrip()[:1]
    if head == b"{":
        ok, title = _json_feed_title(body)
        return FoundFeed(url="", title=title, kind="json") if ok else None
    if head != b"<":
        return None
    parsed = feedparser.parse(body)
    version = str(parsed.get("version") or "")
    if not version:
        return None
    kind = "atom" if version.startswith("atom") else "rss"
    return FoundFeed(url="", title=str(parsed.feed.get("title") or ""), kind=kind)


def _probe(fetch: FetchFn, url: str) -> FoundFeed | None:
    result = fetch(FetchRequest(url))
    if not result.ok or result.body is None:
        return None
    sniffed = sniff_feed(result.body)
    if sniffed is None:
        return None
    return FoundFeed(url=result.final_url or url, title=sniffed.title, kind=sniffed.kind)


def _site_root(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _unique(feeds: Iterable[FoundFeed | None]) -> list[FoundFeed]:
    out: list[FoundFeed] = []
    seen: set[str] = set()
    for feed in feeds:
        if feed is not None and feed.url not in seen:
            seen.add(feed.url)
            out.append(feed)
    return out


def discover_feeds(fetch: FetchFn, url: str) -> Discovery:
    """Fetch ``url`` and find its feeds: itself, its alternate links, or common paths."""
    result = fetch(FetchRequest(url))
    if not result.ok or result.body is None:
        return Discovery(url=url, error=result.error or f"HTTP {result.status}")
    final_url = result.final_url or url
    sniffed = sniff_feed(result.body)
    if sniffed is not None:
        feed = FoundFeed(url=final_url, title=sniffed.title, kind=sniffed.kind)
        return Discovery(url=url, feeds=[feed], is_feed=True)
    html = result.body.decode("utf-8", errors="replace")
    links = feed_links(html, final_url)
    if links:
        return Discovery(url=url, feeds=links)
    root = _site_root(final_url)
    candidates = [root + path for path in COMMON_PATHS]
    with ThreadPoolExecutor(max_workers=PROBE_WORKERS) as pool:
        probed = list(pool.map(lambda candidate: _probe(fetch, candidate), candidates))
    return Discovery(url=url, feeds=_unique(probed))


def discover(settings: Settings, url: str) -> Discovery:
    """:func:`discover_feeds` through the project's Fetcher (SSRF guard included)."""
    from feedhub.ingest.fetch import Fetcher

    with Fetcher(settings) as fetcher:
        return discover_feeds(fetcher.fetch, url)
