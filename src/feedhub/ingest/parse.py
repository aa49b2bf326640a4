"""Fetched bytes in, :class:`FeedData` out: feedparser plus our sanitizer and normalizer.

:func:`process_feed` is the one entry point the poller calls, possibly in a worker
process: it is a module-level function, its result is plain picklable data, and it
never raises. Whatever goes wrong becomes ``FeedData.problem`` (one line, for admins)
next to whatever could be recovered.

feedparser gets the body as a stream (never a URL or a path, which it would open) and
the response headers, whose charset decides the encoding. It runs with
``sanitize_html=False`` and ``resolve_relative_uris=False``: sanitizing and resolving
relative URLs in HTML happen in one pass of nh3 (Rust) in :mod:`.sanitize`, which is
several times faster than feedparser's pure-Python passes. feedparser still resolves
links of the feed's own elements (entry links, enclosures) against xml:base or the
feed URL, which we pass as Content-Location.

Plain RSS 2.0 skips feedparser's pure-Python SAX handlers: :mod:`.fast_rss` reads it
with ElementTree into the same values, and returns None (feedparser runs) for
anything outside the subset it models exactly.
"""

from __future__ import annotations

import functools
import io
import re
import xml.sax
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import feedparser
import feedparser.mixin

from .fast_rss import parse_rss
from .normalize import normalize_entry, plain_text
from .records import FeedData

__all__ = ["describe_parse_error", "process_feed"]

MAX_TTL_MINUTES = 366 * 24 * 60
_MAX_PROBLEM_LENGTH = 300

_LATIN_CHARSETS = frozenset(
    {
        "iso-8859-1",
        "iso8859-1",
        "iso_8859-1",
        "latin-1",
        "latin1",
        "l1",
        "iso-8859-15",
        "latin-9",
        "windows-1252",
        "cp1252",
        "us-ascii",
        "ascii",
    }
)
_UTF8_CHARSETS = frozenset({"utf-8", "utf8"})
_CHARSET_RE = re.compile(r";\s*charset\s*=\s*[\"']?([^\"';\s]+)", re.IGNORECASE)
_XML_DECL_ENCODING_RE = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._\-]+)")
_HTML_START_RE = re.compile(
    rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S
)
_FEED_LINK_RE = re.compile(
    rb"<link\b[^>]*\btype\s*=\s*[\"']application/(?:rss|atom)\+xml[\"'][^>]*>", re.IGNORECASE
)
_HREF_RE = re.compile(rb"\bhref\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
_BOM = b"\xef\xbb\xbf"


_MAX_CACHED_JOIN = 2048  # characters of both arguments; longer ones are joined uncached


def _memoized(join: Callable[..., str]) -> Callable[..., str]:
    cached = functools.lru_cache(maxsize=4096)(join)

    @functools.wraps(join)
    def memoized(*args: Any, **kwargs: Any) -> str:
        # only short strings are cached: a hostile feed's megabyte-long link must
        # not stay pinned in a parse worker's memory for its lifetime
        if kwargs or not all(isinstance(a, str | None) for a in args):
            return join(*args, **kwargs)
        if sum(len(a) for a in args if a) > _MAX_CACHED_JOIN:
            return join(*args)
        return cached(*args)

    return memoized


def _memoize_url_joins() -> None:
    """Memoize feedparser's URL joins, which are pure functions of two strings.

    With a base URL (the Content-Location we pass), feedparser joins the current
    base with the element's xml:base at *every* start tag, and each link to the
    base: urllib parses both URLs each time, a third of its parse time on a
    typical feed, for the same two strings over and over. Cached, the results
    are the same strings at the cost of a dict lookup.
    """
    module: Any = feedparser.mixin
    for name in ("make_safe_absolute_uri", "_urljoin"):
        join = getattr(module, name, None)
        if callable(join) and not hasattr(join, "__wrapped__"):
            setattr(module, name, _memoized(join))


_memoize_url_joins()


def _one_line(text: str) -> str:
    line = " ".join(str(text).split())
    if len(line) > _MAX_PROBLEM_LENGTH:
        line = line[: _MAX_PROBLEM_LENGTH - 1] + "…"
    return line


def describe_parse_error(exc: BaseException) -> str:
    """One line for admins about feedparser's ``bozo_exception``."""
    if isinstance(exc, xml.sax.SAXParseException):
        message = exc.getMessage()
        return _one_line(f"malformed XML: {message} at line {exc.getLineNumber()}")
    if isinstance(exc, feedparser.CharacterEncodingOverride):
        return _one_line(f"wrong encoding: {exc}")
    if isinstance(exc, feedparser.CharacterEncodingUnknown):
        return _one_line(f"unknown encoding: {exc}")
    if isinstance(exc, feedparser.NonXMLContentType):
        return _one_line(f"not served as XML: {exc}")
    if isinstance(exc, feedparser.UndeclaredNamespace):
        return _one_line(f"malformed XML: {exc}")
    return _one_line(f"{type(exc).__name__}: {exc}")


def _header_charset(content_type: str) -> str | None:
    match = _CHARSET_RE.search(content_type)
    return match.group(1).lower() if match else None


def _prepare_headers(
    body: bytes, headers: Mapping[str, str], url: str
) -> tuple[dict[str, str], str | None]:
    """Response headers for feedparser, and a problem when the declared charset is wrong.

    A body that is valid UTF-8 with non-ASCII bytes but declared (by HTTP or the XML
    declaration) as Latin-1/ASCII is UTF-8 in practice: Latin-1 text almost never
    forms valid multi-byte UTF-8 by chance. feedparser would read it as Latin-1 and
    store mojibake ("MÃ¼nchen"), so the header is corrected to UTF-8. The opposite
    mistake (Latin-1 bytes declared UTF-8) feedparser detects itself and reads as
    windows-1252.
    """
    prepared = {str(k).lower(): str(v) for k, v in headers.items()}
    if url.lower().startswith(("http://", "https://")):
        # the base for relative links: the URL we fetched, not a server's claim
        prepared["content-location"] = url
    else:
        prepared.pop("content-location", None)
    content_type = prepared.get("content-type", "")
    header_charset = _header_charset(content_type)
    match = _XML_DECL_ENCODING_RE.match(body[:512])
    decl_charset = match.group(1).decode("ascii").lower() if match else None
    declared = header_charset or decl_charset
    if body.startswith(_BOM) or header_charset in _UTF8_CHARSETS or body.isascii():
        return prepared, None
    if any(
        cs and cs not in _LATIN_CHARSETS | _UTF8_CHARSETS for cs in (header_charset, decl_charset)
    ):
        return prepared, None  # another explicit encoding (windows-1251, utf-16 …)
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return prepared, None
    mime = content_type.split(";", 1)[0].strip() or "application/xml"
    prepared["content-type"] = f"{mime}; charset=utf-8"
    if declared in _LATIN_CHARSETS:
        return (
            prepared,
            f"wrong encoding: declared as {declared}, but the body is UTF-8; read as UTF-8",
        )
    return prepared, None


def _not_a_feed_reason(body: bytes, headers: Mapping[str, str], bozo: str | None) -> str:
    head = body[:4096].lstrip()
    if head.startswith(_BOM):
        head = head[len(_BOM) :].lstrip()
    content_type = headers.get("content-type", "").lower()
    if _HTML_START_RE.match(head) or (
        content_type.startswith("text/html") and head.startswith(b"<")
    ):
        reason = "not a feed: an HTML page"
        link = _FEED_LINK_RE.search(body[:65536])
        href = _HREF_RE.search(link.group(0)) if link else None
        if href:
            target = href.group(1).decode("utf-8", "replace")
            reason += f" (it announces a feed at {target})"
        return _one_line(reason)
    if head.startswith((b"{", b"[")):
        return "not a feed: JSON (JSON Feed is not supported)"
    if bozo:
        return _one_line(f"not a feed: {bozo}")
    return "not a feed: no RSS or Atom elements found"


def _ttl_minutes(value: Any) -> int | None:
    text = str(value or "").strip()
    if not text.isdigit():
        return None
    minutes = int(text)
    return minutes if 0 < minutes <= MAX_TTL_MINUTES else None


def _site_url(feed: Mapping[str, Any]) -> str:
    link = feed.get("link")
    if isinstance(link, str) and link.lower().startswith(("http://", "https://")):
        return plain_text(link, is_html=False).replace(" ", "")[:2048]
    return ""


def _fill(
    result: FeedData,
    body: bytes,
    headers: Mapping[str, str],
    url: str,
    now: datetime,
    fast: bool,
) -> list[str]:
    """Parse into ``result`` (mutated as it goes, so a failure keeps what was done);
    returns the problems found. ``fast`` tries :func:`.fast_rss.parse_rss` first."""
    problems: list[str] = []
    if not body or not body.strip():
        result.is_feed = False
        problems.append("empty body")
        return problems
    prepared, encoding_problem = _prepare_headers(body, headers, url)
    if encoding_problem:
        problems.append(encoding_problem)
    parsed = parse_rss(body, prepared) if fast else None
    if parsed is None:
        parsed = feedparser.parse(
            io.BytesIO(body),
            response_headers=prepared,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    bozo_exc = parsed.get("bozo_exception") if parsed.get("bozo") else None
    bozo = describe_parse_error(bozo_exc) if bozo_exc is not None else None
    entries = parsed.get("entries") or []
    if not parsed.get("version") and not entries:
        result.is_feed = False
        problems.append(_not_a_feed_reason(body, prepared, bozo))
        return problems
    # a feed served as text/html or text/plain is common and harmless
    if bozo and not isinstance(bozo_exc, feedparser.NonXMLContentType):
        problems.append(bozo)

    # Atom declares what is plain text; RSS content is HTML whatever feedparser guesses
    text_types = str(parsed.get("version") or "").startswith("atom")
    feed = parsed.get("feed") or {}
    title_detail = feed.get("title_detail")
    is_html = not (text_types and isinstance(title_detail, Mapping)) or "html" in str(
        title_detail.get("type", "html")
    )
    result.title = plain_text(str(feed.get("title") or ""), is_html)
    result.site_url = _site_url(feed)
    result.ttl_minutes = _ttl_minutes(feed.get("ttl"))

    base = url if url.lower().startswith(("http://", "https://")) else None
    skipped: list[str] = []
    for entry in entries:
        try:
            result.entries.append(normalize_entry(entry, base, now, text_types))
        except Exception as exc:  # one bad entry must not cost the others
            skipped.append(f"{type(exc).__name__}: {exc}")
    if skipped:
        noun = "entry" if len(skipped) == 1 else "entries"
        problems.append(_one_line(f"{len(skipped)} {noun} skipped ({skipped[0]})"))
    return problems


def process_feed(body: bytes, headers: Mapping[str, str], url: str) -> FeedData:
    """Parse, sanitize and normalize one fetched feed. Never raises.

    ``headers`` are the response headers (names in any case); ``url`` is the final URL
    of the fetch, the base for relative links. ``FeedData.is_feed`` is False for an
    empty body or something that is not a feed (an HTML page); ``problem`` then says
    why. For a malformed feed, ``entries`` holds what feedparser's lenient parser
    recovered and ``problem`` names the first error.
    """
    return _process_feed(body, headers, url)


def _process_feed(
    body: bytes,
    headers: Mapping[str, str],
    url: str,
    *,
    fast: bool = True,
    now: datetime | None = None,
) -> FeedData:
    """:func:`process_feed`, with the fast RSS path switchable and the time that bounds
    future dates given: the differential tests compare both paths at one instant."""
    result = FeedData()
    try:
        problems = _fill(
            result,
            bytes(body or b""),
            headers or {},
            url or "",
            now or datetime.now(UTC),
            fast,
        )
    except Exception as exc:  # the poller must go on with the other sources
        problems = [_one_line(f"parser error: {type(exc).__name__}: {exc}")]
    result.problem = _one_line("; ".join(problems)) if problems else None
    return result
