"""Plain data passed between the pipeline stages (no I/O, no database)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class FetchRequest:
    url: str
    etag: str | None = None
    last_modified: str | None = None
    # False: send no validators (the periodic unconditional fetch)
    conditional: bool = True


@dataclass(frozen=True)
class FetchResult:
    """What one fetch produced; a fetch never raises, errors land here."""

    request_url: str
    final_url: str
    status: int | None  # None when no HTTP response was received
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes | None = None  # decoded (gunzipped) body of a 200
    # one line, in English, for admins: "timed out after 20 s", "410 Gone", …
    error: str | None = None
    # timeout, dns, connect, tls, ssrf, too_large, redirects, http, protocol, scheme
    error_kind: str | None = None
    # set when every hop from the requested URL to the final one was 301/308
    permanent_redirect: str | None = None
    retry_after: float | None = None  # seconds, from Retry-After on 429/503
    elapsed: float = 0.0
    bytes_received: int = 0  # on the wire (before decompression)

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.body is not None and self.error is None


@dataclass
class EntryData:
    """One sanitized, normalized feed item, ready to be identified and stored."""

    guid: str | None
    url: str
    canonical_url: str
    title: str  # plain text, control characters stripped
    author: str
    summary: str  # sanitized HTML
    content: str  # sanitized HTML (the summary when the feed has no content)
    lead: str  # plain text: the first ~500 characters of summary/content
    published_at: datetime | None
    updated_at: datetime | None
    feed_categories: list[str] = field(default_factory=list)
    enclosures: list[dict[str, Any]] = field(default_factory=list)  # url, type, length
    content_hash: str = ""  # sha256 of title + summary + content
    # the raw HTML had a rel="sponsored" link (the sanitizer rewrites rel)
    rel_sponsored: bool = False
    # where the feed points at the original (feedburner:origLink, AMP canonical …)
    original_url: str | None = None
    # derived by feedhub.stories.features.prepare_feed in the parse worker, so the
    # storing transaction does no text processing
    prepared: bool = False
    band_keys: tuple[int, ...] = ()  # LSH band keys (plus the headline key)
    signature: bytes = b""  # shingles, headline words, guard tokens (stored on the row)
    place: str = ""  # dateline place ("Rengsdorf/Puderbach")
    sponsored_marker: str = ""  # why the entry itself reads as sponsored; "" for news
    content_text: str = ""  # plain text of content (or summary), for the search document
    # stemmed search text of: title, lead, content_text, the place names
    search_stems: tuple[str, ...] = ()


@dataclass
class FeedData:
    """A parsed feed: metadata plus entries, and what went wrong if anything did."""

    title: str = ""
    site_url: str = ""
    ttl_minutes: int | None = None
    entries: list[EntryData] = field(default_factory=list)
    # None: clean; otherwise a one-line description (malformed XML, wrong encoding…)
    problem: str | None = None
    # False when the body is not a feed at all (an HTML page, an empty body)
    is_feed: bool = True
