"""Per-process rendering cache with validators that every process agrees on.

gunicorn workers share no memory, so each keeps its own rendered bytes
(identity, gzip and brotli, compressed once). Whether those bytes are still
current is decided by the database, not by the process: the entry remembers
the window state of its selection (see :mod:`feedhub.publish.query`), and one
aggregate query tells whether that window changed. The ETag is derived from
the same data (definition fingerprint, window boundary and state, base URL,
format), so two workers holding the same data hand out the same ETag, and a
conditional request can be answered with a 304 without touching the bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime

import brotli
from werkzeug.http import http_date, parse_accept_header

from feedhub.publish.query import Boundary, WindowState

CacheKey = tuple[str, str, str]  # (feed key, format, base URL)


@dataclass(frozen=True)
class Rendered:
    """One rendered output with its precompressed variants and validators."""

    body: bytes
    gzip: bytes
    brotli: bytes
    etag: str  # the opaque tag without quotes; variants add "-gz" / "-br"
    last_modified: datetime
    content_type: str

    @classmethod
    def build(cls, body: bytes, etag: str, last_modified: datetime, content_type: str) -> Rendered:
        return cls(
            body=body,
            gzip=gzip.compress(body, compresslevel=9, mtime=0),
            brotli=brotli.compress(body, quality=9),
            etag=etag,
            last_modified=last_modified.astimezone(UTC).replace(microsecond=0),
            content_type=content_type,
        )

    def variant(self, encoding: str | None) -> tuple[bytes, str]:
        """(bytes, quoted ETag) for ``None``, ``"gzip"`` or ``"br"``."""
        if encoding == "br":
            return self.brotli, f'"{self.etag}-br"'
        if encoding == "gzip":
            return self.gzip, f'"{self.etag}-gz"'
        return self.body, f'"{self.etag}"'


@dataclass(frozen=True)
class CacheEntry:
    fingerprint: str
    boundary: Boundary
    state: WindowState
    rendered: Rendered


def make_etag(
    fingerprint: str,
    fmt: str,
    base_url: str,
    authority: str,
    boundary: Boundary,
    state: WindowState,
) -> str:
    bound = "" if boundary is None else f"{boundary[0].isoformat()}/{boundary[1]}"
    raw = "|".join([fingerprint, fmt, base_url, authority, bound, ",".join(map(str, state.key()))])
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def etag_matches(if_none_match: str, rendered: Rendered) -> bool:
    """Weak comparison (RFC 9110 13.1.2): any variant of our tag, or ``*``."""
    header = if_none_match.strip()
    if header == "*":
        return True
    ours = {rendered.etag, f"{rendered.etag}-gz", f"{rendered.etag}-br"}
    for part in header.split(","):
        tag = part.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag.strip('"') in ours:
            return True
    return False


def not_modified(
    rendered: Rendered, if_none_match: str | None, if_modified_since: datetime | None
) -> bool:
    """If-None-Match wins when present; otherwise If-Modified-Since (second precision)."""
    if if_none_match:
        return etag_matches(if_none_match, rendered)
    if if_modified_since is not None:
        since = (
            if_modified_since if if_modified_since.tzinfo else if_modified_since.replace(tzinfo=UTC)
        )
        return rendered.last_modified <= since
    return False


def pick_encoding(accept_encoding: str | None) -> str | None:
    """``br`` over ``gzip`` over identity, honouring q=0."""
    accept = parse_accept_header(accept_encoding or "")
    if accept.quality("br") > 0:
        return "br"
    if accept.quality("gzip") > 0:
        return "gzip"
    return None


def reply(
    rendered: Rendered,
    *,
    public: bool,
    max_age: int,
    accept_encoding: str | None,
    if_none_match: str | None,
    if_modified_since: datetime | None,
) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) of a feed response; shared by the Flask view and the fast path."""
    encoding = pick_encoding(accept_encoding)
    body, etag = rendered.variant(encoding)
    headers = [
        ("ETag", etag),
        ("Last-Modified", http_date(rendered.last_modified)),
        ("Cache-Control", f"{'public' if public else 'private'}, max-age={max_age}"),
        ("Vary", "Accept-Encoding"),
    ]
    if public:
        headers.append(("Access-Control-Allow-Origin", "*"))
    else:
        headers.append(("X-Robots-Tag", "noindex"))
    if not_modified(rendered, if_none_match, if_modified_since):
        return 304, headers, b""
    headers.append(("Content-Type", rendered.content_type))
    if encoding:
        headers.append(("Content-Encoding", encoding))
    return 200, headers, body


class RenderCache:
    """A small thread-safe LRU of :class:`CacheEntry` per process."""

    def __init__(self, max_entries: int = 512) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[CacheKey, CacheEntry] = OrderedDict()
        self._lock = threading.Lock()
        self.renders = 0  # how many times something was rendered (tests, stats)

    def get(self, key: CacheKey) -> CacheEntry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: CacheKey, entry: CacheEntry) -> None:
        with self._lock:
            self.renders += 1
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
