"""Turn one feedparser entry into an :class:`EntryData`: sanitized, plain, bounded.

Every field that leaves this module is safe to store and to republish: HTML is
sanitized, text is plain and free of XML-illegal characters, URLs are http(s), dates
are aware UTC datetimes, and lengths fit the storage columns. Nothing here touches
the network or the database.

Date policy: feeds lie about dates. ``published_at`` is the feed's published date,
else its updated date (Atom feeds often only have ``<updated>``). Dates before 1990
(epoch-zero placeholders from broken CMSes) and dates more than two days in the future
(wrong year, wrong time zone by days, "sticky" posts) are dropped rather than clamped:
the store then falls back to the first-seen time, which is stable across polls,
whereas a date clamped to "now" would move on every poll. Up to two days ahead is
kept, because time-zone mistakes of a few hours are common and harmless.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

from .canonical import canonical_url, unwrap_redirect_url
from .records import EntryData
from .sanitize import (
    has_sponsored_link,
    html_to_text,
    sanitize_html,
    strip_control_chars,
    text_to_html,
)

__all__ = [
    "LEAD_LENGTH",
    "clean_date",
    "make_lead",
    "normalize_entry",
    "plain_text",
]

LEAD_LENGTH = 500
# column sizes of the entries table (models.Entry)
MAX_URL_LENGTH = 2048
MAX_GUID_LENGTH = 2048
MAX_AUTHOR_LENGTH = 500
MAX_CATEGORY_LENGTH = 200
MAX_CATEGORIES = 50
MAX_ENCLOSURES = 20

EARLIEST_DATE = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=2)

_HTML_TYPES = ("text/html", "application/xhtml+xml", "html", "xhtml")
# elements that name the article's original address when the link is a proxy
_ORIGINAL_LINK_KEYS = ("feedburner_origlink", "pheedo_origlink", "origlink")
_ORIGINAL_LINK_RELS = ("original", "canonical")
_EMAIL_THEN_NAME_RE = re.compile(r"^[^\s@()<>]+@[^\s@()<>]+\s*\((.+)\)$")
_NAME_THEN_EMAIL_RE = re.compile(r"^([^<>]+?)\s*<[^\s@<>]+@[^\s@<>]+>$")


def plain_text(value: str, is_html: bool = True) -> str:
    """One line of plain text: tags stripped (when HTML), entities decoded, whitespace
    collapsed, XML-illegal characters removed."""
    if not value:
        return ""
    if is_html:
        return html_to_text(value)
    return strip_control_chars(" ".join(value.split()))


def _is_html(detail: Mapping[str, Any] | None, text_types: bool = True) -> bool:
    """Whether an element holds HTML. With ``text_types`` False every element counts
    as HTML: RSS has no content types, and feedparser's guess calls an RSS title or
    description plain text as soon as it holds one tag it does not like (``<script>``),
    which would show markup to readers. Atom declares types, so they are honoured."""
    if not detail or not text_types:
        return True
    return str(detail.get("type") or "text/html").lower() in _HTML_TYPES


def _truncate_words(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + "…"


def make_lead(summary_html: str, content_html: str, limit: int = LEAD_LENGTH) -> str:
    """Plain-text lead: the summary's text (else the content's), cut at a word
    boundary before ``limit`` characters, with an ellipsis when cut."""
    return _lead_and_text(summary_html, content_html, limit)[0]


def _lead_and_text(summary_html: str, content_html: str, limit: int) -> tuple[str, str]:
    """The lead and the content's plain text; RSS gives one description for both,
    and its text is taken once."""
    summary_text = html_to_text(summary_html)
    content_text = summary_text if content_html == summary_html else html_to_text(content_html)
    return _truncate_words(summary_text or content_text, limit), content_text


def clean_date(parsed: Any, now: datetime) -> datetime | None:
    """An aware UTC datetime from feedparser's ``*_parsed`` struct, or None when it is
    missing or absurd (see the module docstring)."""
    if not isinstance(parsed, time.struct_time | tuple) or len(parsed) < 6:
        return None
    try:
        year, month, day, hour, minute, second = (int(v) for v in parsed[:6])
        value = datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None
    if value < EARLIEST_DATE or value > now + FUTURE_TOLERANCE:
        return None
    return value


def _http_url(value: Any) -> str:
    """``value`` if it is an absolute http(s) URL that fits the column, else ""."""
    if not isinstance(value, str):
        return ""
    # without whitespace (a URL without any is its own single piece)
    url = "".join(strip_control_chars(value.strip()).split())
    if len(url) > MAX_URL_LENGTH:
        return ""
    lower = url[:8].lower()
    if lower.startswith(("http://", "https://")) and len(url) > len("https://"):
        return url
    return ""


def _bounded_key(value: str, limit: int) -> str:
    """``value`` if it fits, else a prefix plus a hash of the whole (still unique)."""
    if len(value) <= limit:
        return value
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return value[: limit - len(digest) - 1] + "#" + digest


def _guid(entry: Mapping[str, Any]) -> str | None:
    raw = entry.get("id")
    if not isinstance(raw, str):
        return None
    guid = strip_control_chars(raw.strip())
    return _bounded_key(guid, MAX_GUID_LENGTH) if guid else None


def _original_url(entry: Mapping[str, Any], link: str) -> str | None:
    for key in _ORIGINAL_LINK_KEYS:
        url = _http_url(entry.get(key))
        if url:
            return url
    for item in entry.get("links") or ():
        if isinstance(item, Mapping) and item.get("rel") in _ORIGINAL_LINK_RELS:
            url = _http_url(item.get("href"))
            if url:
                return url
    if link:
        unwrapped = unwrap_redirect_url(link)
        if unwrapped != link:
            return _http_url(unwrapped) or None
    return None


def _author_name(raw: str) -> str:
    """The name in an RSS author string: "mail@example.org (Name)" or
    "Name <mail@example.org>" give "Name" (feedparser's own split cuts e-mail
    addresses with long top-level domains in half)."""
    text = plain_text(raw)
    match = _EMAIL_THEN_NAME_RE.match(text) or _NAME_THEN_EMAIL_RE.match(text)
    return match.group(1).strip() if match else text


def _author(entry: Mapping[str, Any]) -> str:
    authors = [a for a in entry.get("authors") or () if isinstance(a, Mapping)]
    names: list[str] = []
    if len(authors) > 1:
        for item in authors:
            name = plain_text(str(item.get("name") or item.get("email") or ""))
            if name and name not in names:
                names.append(name)
    else:
        raw = entry.get("author")
        if not isinstance(raw, str) or not raw.strip():
            detail = entry.get("author_detail")
            raw = detail.get("name") if isinstance(detail, Mapping) else ""
        names = [_author_name(str(raw or ""))]
    return _truncate_words(", ".join(n for n in names if n), MAX_AUTHOR_LENGTH - 1)


def _categories(entry: Mapping[str, Any]) -> list[str]:
    seen: set[str] = set()
    result: list[str] = []
    for tag in entry.get("tags") or ():
        if not isinstance(tag, Mapping):
            continue
        raw = tag.get("label") or tag.get("term") or ""
        name = plain_text(str(raw))[:MAX_CATEGORY_LENGTH].strip()
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            result.append(name)
            if len(result) == MAX_CATEGORIES:
                break
    return result


def _enclosures(entry: Mapping[str, Any], base_url: str | None) -> list[dict[str, Any]]:
    """Enclosures (feedparser keeps them as links with rel="enclosure"), resolved
    against the base, http(s) only, deduplicated by URL."""
    result: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in entry.get("links") or ():
        if not isinstance(item, Mapping) or item.get("rel") != "enclosure":
            continue
        href = item.get("href")
        if isinstance(href, str) and base_url and "://" not in href[:12]:
            try:
                href = urljoin(base_url, href.strip())
            except ValueError:
                continue
        url = _http_url(href)
        if not url or url in seen:
            continue
        seen.add(url)
        length_text = str(item.get("length") or "").strip()
        length = int(length_text) if length_text.isdigit() and len(length_text) < 19 else None
        mime = plain_text(str(item.get("type") or ""), is_html=False)[:200]
        result.append({"url": url, "type": mime, "length": length or None})
        if len(result) == MAX_ENCLOSURES:
            break
    return result


def _html_of(
    detail: Mapping[str, Any] | None, value: Any, base: str | None, text_types: bool
) -> tuple[str, str]:
    """(raw, sanitized HTML) of a summary/content element."""
    if not isinstance(value, str) or not value.strip():
        return "", ""
    if _is_html(detail, text_types):
        return value, sanitize_html(value, base)
    return "", text_to_html(value)


def _base(detail: Any, fallback: str | None) -> str | None:
    if isinstance(detail, Mapping):
        base = detail.get("base")
        if isinstance(base, str) and base.lower().startswith(("http://", "https://")):
            return base
    return fallback


def _content(entry: Mapping[str, Any], base: str | None, text_types: bool) -> tuple[str, str]:
    """The richest content element: HTML types first, then plain text."""
    items = [c for c in entry.get("content") or () if isinstance(c, Mapping) and c.get("value")]
    items.sort(key=lambda c: 0 if _is_html(c, text_types) else 1)
    for item in items:
        raw, html = _html_of(item, item.get("value"), _base(item, base), text_types)
        if html:
            return raw, html
    return "", ""


def content_hash(title: str, summary: str, content: str) -> str:
    """sha256 hex of title, summary and content (separated, so fields cannot shift)."""
    data = "\x1f".join((title, summary, content)).encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


def _first_date(entry: Mapping[str, Any], keys: Iterable[str], now: datetime) -> datetime | None:
    for key in keys:
        value = clean_date(entry.get(key), now)
        if value is not None:
            return value
    return None


def normalize_entry(
    entry: Mapping[str, Any],
    base_url: str | None,
    now: datetime | None = None,
    text_types: bool = False,
) -> EntryData:
    """An :class:`EntryData` from one feedparser entry.

    ``base_url`` resolves relative URLs in the HTML when the element carries no base of
    its own (feedparser records xml:base per element); ``now`` bounds future dates;
    ``text_types`` honours declared plain-text types (True for Atom, see ``_is_html``).
    """
    now = now or datetime.now(UTC)
    # plain dict access: FeedParserDict maps missing keys to others (updated_parsed
    # to published_parsed), which would invent dates
    entry = dict(entry)
    link = _http_url(entry.get("link"))
    original = _original_url(entry, link)
    # readers follow the original rather than a tracking redirector
    url = original or link

    title_detail = entry.get("title_detail")
    title = plain_text(str(entry.get("title") or ""), _is_html(title_detail, text_types))

    summary_detail = entry.get("summary_detail")
    raw_summary, summary = _html_of(
        summary_detail, entry.get("summary"), _base(summary_detail, base_url), text_types
    )
    raw_content, content = _content(entry, base_url, text_types)
    if raw_content and raw_content == raw_summary:
        # feedparser fills an Atom summary from the content, but with the feed's
        # xml:base instead of the entry's: use the content's resolution for both
        summary = content
    if content == summary:
        raw_content = ""
    content = content or summary

    published = _first_date(entry, ("published_parsed", "updated_parsed", "created_parsed"), now)
    updated = _first_date(entry, ("updated_parsed",), now)

    canonical = canonical_url(original or link)
    lead, content_text = _lead_and_text(summary, content, LEAD_LENGTH)
    return EntryData(
        guid=_guid(entry),
        url=url,
        canonical_url=_bounded_key(canonical, MAX_URL_LENGTH),
        title=title,
        author=_author(entry),
        summary=summary,
        content=content,
        lead=lead,
        content_text=content_text,
        published_at=published,
        updated_at=updated,
        feed_categories=_categories(entry),
        enclosures=_enclosures(entry, base_url),
        content_hash=content_hash(title, summary, content),
        rel_sponsored=has_sponsored_link(raw_summary) or has_sponsored_link(raw_content),
        original_url=original,
    )
