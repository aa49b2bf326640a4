"""A fast path for plain RSS 2.0: ElementTree (expat in C) instead of feedparser's SAX.

feedparser spends about half a millisecond per entry in pure-Python SAX callbacks;
expat building an ElementTree costs a few microseconds. :func:`parse_rss` reads the
small, common subset of RSS 2.0 it models completely and returns, for the keys feedhub
reads (``parse._fill``, ``normalize.normalize_entry``), the very values feedparser
would produce. It is a replay of feedparser's handlers for that subset, not a second
interpretation of RSS: duplicate elements, ``guid`` as link, the order-dependent
summary/content rules and the title-depth rule behave as in feedparser, and every
step whose exact result matters calls feedparser's own code (encoding detection, URL
joins, dates, the author split, the HTML guess for titles, the cp1252 and
double-encoding repairs).

Anything outside the subset makes it return None, and the caller runs feedparser:
an unknown element or namespace, an unexpected attribute (``xml:base`` changes
links), markup inside a text element, a DOCTYPE, an encoding other than UTF-8 or
ASCII, anything feedparser would flag as ill-formed, and any exception at all.
Correctness over coverage: a feed that bails costs only the time of this attempt.

No DTD is ever processed: a body with a DOCTYPE or ENTITY declaration bails before
it is parsed, and ElementTree fetches no external entities.
"""

from __future__ import annotations

import functools
import re
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Callable, Collection, Mapping
from typing import Any

import feedparser
import feedparser.encodings
import feedparser.html
import feedparser.mixin
import feedparser.urls
from feedparser.datetimes import _parse_date

__all__ = ["parse_rss"]

_Mixin: Any = feedparser.mixin._FeedParserMixin
_looks_like_html: Callable[[str], bool] = _Mixin.looks_like_html
_sync_author_detail: Callable[[Any], None] = _Mixin._sync_author_detail
_CP1252: Any = feedparser.html._cp1252
# feedparser's URL join itself: parse.py's memoized wrapper would only miss (entry
# links are unique) and churn its cache
_urljoin: Callable[[str, str], str] = feedparser.urls._urljoin
# an absolute http(s) URL that urljoin hands back unchanged: no slash after "//"
# (feedparser strips those), no empty query or fragment and no ";" params (urlparse
# and urlunparse drop or move them), no brackets (urlsplit checks IPv6 hosts)
_PLAIN_ABSOLUTE_RE = re.compile(r"https?://[^/\s\[\];?#][^\s\[\];?#]*(?:\?[^\s#]+)?(?:#\S+)?")


def _join(base: str, text: str) -> str:
    """``_urljoin``, without its two URL parses for a link that is already absolute."""
    if (
        text.isascii()
        and text.isprintable()
        and _PLAIN_ABSOLUTE_RE.fullmatch(text)
        and _base_parses(base)
    ):
        return text
    return _urljoin(base, text)


@functools.lru_cache(maxsize=64)  # a feed has a few bases, one per depth
def _base_parses(base: str) -> bool:
    """Whether urljoin can parse *base*: with one it cannot, any join gives ``""``."""
    try:
        urllib.parse.urlsplit(base)
    except ValueError:
        return False
    return True


# the characters feedparser's cp1252 table maps: translating a text without them is
# the identity, and translating with a dict costs a lookup per character
_CP1252_KEYS_RE = re.compile("[" + "".join(re.escape(chr(key)) for key in sorted(_CP1252)) + "]")

# <rss version> values whose handling is the same as 2.0's (feedparser's
# _start_rss; the version string is only compared against "atom" later)
_VERSIONS = {"2.0": "rss20", "0.91": "rss091u", "0.92": "rss092"}
# the encodings taken: UTF-8 and ASCII, and for a pure-ASCII body the single-byte
# charsets feedparser assumes without a Content-Type (they decode ASCII alike)
_PLAIN_ENCODINGS = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
_ASCII_COMPATIBLE = frozenset(
    {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "windows-1252", "cp1252"}
)
_DTD_RE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_XMLNS_RE = re.compile(rb"""xmlns(?::([^\s=>/]+))?\s*=\s*(?:"([^"]*)"|'([^']*)')""")
# feedparser's repair of "&amp;" query strings in links (mixin.pop)
_QUERY_ENTITY_RE = re.compile("&([A-Za-z0-9_]+);")

# feedparser's namespace table, by lower-case URI: its prefixes name the handlers
_NAMESPACES: dict[str, str] = {uri.lower(): prefix for uri, prefix in _Mixin.namespaces.items()}
_STANDARD_PREFIXES = frozenset(prefix.lower() for prefix in _NAMESPACES.values() if prefix)
# declaring these before <rss> makes feedparser report another version
_VERSION_NAMESPACES = frozenset(
    {"http://my.netscape.com/rdf/simple/0.9/", "http://purl.org/rss/1.0/"}
)
_ATOM = "http://www.w3.org/2005/atom"
# the namespaces whose elements this module knows, by lower-case URI
_PREFIX_OF_URI: dict[str, str] = {
    uri: prefix
    for uri, prefix in _NAMESPACES.items()
    if prefix in {"content", "dc", "dcterms", "feedburner", "wfw", "slash", "sy"}
}
_PREFIX_OF_URI[_ATOM] = "atom"

# Element names are lower-cased, as feedparser dispatches them. Names in one set
# share one feedparser handler (_start_dc_title is _start_title, and so on).
_TITLES = frozenset({"title", "dc:title"})
_DESCRIPTIONS = frozenset({"description", "dc:description"})
_CONTENTS = frozenset({"content:encoded", "fullitem"})
_AUTHORS = frozenset({"author", "dc:creator", "dc:author"})
_CATEGORIES = frozenset({"category", "dc:subject"})
_DATES = {
    "pubdate": "published_parsed",
    "dcterms:issued": "published_parsed",
    "dc:date": "updated_parsed",
    "dcterms:modified": "updated_parsed",
    "dcterms:created": "created_parsed",
}
# children without a meaning for the keys feedhub reads: feedparser stores them
# under other keys (subtitle, rights, publisher, contributors, comments …)
_INERT_LEAVES = frozenset(
    {
        "dc:contributor",
        "dc:language",
        "dc:publisher",
        "dc:rights",
        "dcterms:valid",
    }
)
_INERT_CHANNEL_LEAVES = _INERT_LEAVES | frozenset(
    {
        "author",
        "copyright",
        "dc:author",
        "dc:creator",
        "dc:date",
        "dc:description",
        "dc:subject",
        "dcterms:created",
        "dcterms:issued",
        "dcterms:modified",
        "description",
        "docs",
        "feedburner:browserfriendly",
        "generator",
        "language",
        "lastbuilddate",
        "managingeditor",
        "pubdate",
        "rating",
        "sy:updatebase",
        "sy:updatefrequency",
        "sy:updateperiod",
        "webmaster",
    }
)
_INERT_ITEM_LEAVES = _INERT_LEAVES | frozenset(
    {"comments", "slash:comments", "wfw:comment", "wfw:commentrss"}
)
_CLOUD_ATTRIBUTES = frozenset({"domain", "port", "path", "registerprocedure", "protocol"})
_IMAGE_CHILDREN = frozenset({"title", "link", "description", "url", "width", "height"})
_ATOM_LINK_ATTRIBUTES = frozenset({"href", "rel", "type", "title", "hreflang", "length"})
_NO_ATTRIBUTES: frozenset[str] = frozenset()
_GUID_ATTRIBUTES = frozenset({"ispermalink"})
_CATEGORY_ATTRIBUTES = frozenset({"domain"})
_ENCLOSURE_ATTRIBUTES = frozenset({"url", "length", "type"})
_SOURCE_ATTRIBUTES = frozenset({"url"})

# depths as feedparser counts them (rss = 1): bases and the title rule depend on them
_CHANNEL_CHILD = 3
_ITEM_CHILD = 4


class _Bail(Exception):
    """The feed leaves the modelled subset: feedparser must decide."""


def parse_rss(body: bytes, headers: Mapping[str, str]) -> dict[str, Any] | None:
    """feedparser's result for a plain RSS 2.0 feed, or None to run feedparser.

    ``headers`` are the response headers exactly as feedparser gets them (lower-case
    names, ``content-location`` the base for relative links). The result has the
    shape of ``feedparser.parse``'s for the keys feedhub reads: ``bozo``,
    ``bozo_exception``, ``version``, ``feed`` (title, title_detail, link, ttl) and
    ``entries``, plain dicts holding the keys feedparser's entries hold for the names
    ``normalize_entry`` reads. Never raises.
    """
    if b"<rss" not in body:
        return None  # Atom, RSS 1.0, not a feed: feedparser's, at the cost of a scan
    try:
        return _Parser(headers).parse(body)
    except Exception:  # _Bail, or anything unforeseen: feedparser decides
        return None


def _name(element: ET.Element) -> str:
    """The element's name as feedparser dispatches it: "title", "dc:creator", the
    namespace's standard prefix and the lower-cased local name."""
    tag = element.tag
    if tag[:1] != "{":
        return tag.lower()
    uri, _, local = tag[1:].partition("}")
    prefix = _PREFIX_OF_URI.get(uri.lower())
    if prefix is None:
        raise _Bail  # unknown namespace, or one feedparser maps onto core elements
    return f"{prefix}:{local.lower()}"


def _attributes(element: ET.Element, allowed: Collection[str]) -> dict[str, str]:
    """The attributes as feedparser's handlers see them: lower-case names, ``rel`` and
    ``type`` values lower-cased. Bails on any attribute not in ``allowed``, which
    keeps out ``xml:base``, ``base`` and every other attribute with side effects."""
    if not element.attrib:
        return {}
    result: dict[str, str] = {}
    for key, value in element.attrib.items():
        name = key.lower()
        if name not in allowed or name in result:
            raise _Bail
        result[name] = (value.lower() or value) if name in ("rel", "type") else value
    return result


def _text(element: ET.Element) -> str:
    """The text of an element that must hold text only, stripped as feedparser strips
    it; a child element would be handled (or serialized) by feedparser on its own."""
    if len(element):
        raise _Bail
    return (element.text or "").strip()


def _plain_text(element: ET.Element) -> str:
    """The text of an element that must hold text only and have no attributes."""
    if element.attrib:
        raise _Bail
    return _text(element)


def _repair(text: str) -> str:
    """feedparser's last steps for every text (mixin.pop): UTF-8 that was read as
    Latin-1 is read again, and C1 controls become the cp1252 characters meant."""
    try:
        repaired = text.encode("iso-8859-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        repaired = text
    if _CP1252_KEYS_RE.search(repaired):
        translated: str = repaired.translate(_CP1252)
        return translated
    return repaired


def _check_namespace_declarations(data: bytes) -> None:
    """Bail when a namespace declaration would change how feedparser names elements.

    feedparser names an element by its namespace's standard prefix and then looks that
    prefix up among the *declared* prefixes: ``xmlns:dc`` bound to another known
    namespace renames every Dublin Core element. Scanning the raw bytes may also find
    declarations quoted in content; they only make this check stricter.
    """
    for match in _XMLNS_RE.finditer(data):
        raw = match.group(2) if match.group(2) is not None else match.group(3)
        if b"&" in raw:
            raise _Bail  # a reference would hide the URI from this check
        uri = raw.decode("utf-8").lower()
        if uri in _VERSION_NAMESPACES:
            raise _Bail
        standard = "" if "backend.userland.com/rss" in uri else _NAMESPACES.get(uri)
        given = match.group(1)
        if standard is not None and given is not None:
            prefix = given.decode("utf-8")
            if prefix != standard and prefix.lower() in _STANDARD_PREFIXES:
                raise _Bail


class _AuthorContext:
    """Just enough of feedparser's parser for its own ``_sync_author_detail``, which
    splits "mail@example.org (Name)" into author_detail: reused so that the split is
    feedparser's by construction."""

    __slots__ = ("context",)

    def __init__(self, context: dict[str, Any]) -> None:
        self.context = context

    def _get_context(self) -> dict[str, Any]:
        return self.context


class _Parser:
    """One parse: the state feedparser keeps across elements that matters here."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self.headers = headers
        self.bases = _bases(str(headers.get("content-location", "") or ""))
        lang = headers.get("content-language")
        self.lang = lang.replace("_", "-") if lang else lang
        # feedparser's title_depth: the first non-empty title at a depth wins
        self.title_depth = -1

    def parse(self, body: bytes) -> dict[str, Any]:
        info: dict[str, Any] = {}
        data = feedparser.encodings.convert_to_utf8(self.headers, body, info)
        encoding = str(info.get("encoding") or "").lower()
        if encoding not in _PLAIN_ENCODINGS and not (
            encoding in _ASCII_COMPATIBLE and body.isascii()
        ):
            raise _Bail
        error = info.get("bozo_exception")
        # a text/html or text/plain content type is reported, parsing goes on as usual
        if error is not None and not isinstance(error, feedparser.NonXMLContentType):
            raise _Bail
        if not isinstance(data, bytes) or _DTD_RE.search(data):
            raise _Bail
        _check_namespace_declarations(data)
        root = ET.fromstring(data)
        if _name(root) != "rss":
            raise _Bail
        version = _VERSIONS.get(_attributes(root, ("version",)).get("version", ""))
        if version is None or len(root) > 1:
            raise _Bail
        channel = root[0] if len(root) else ET.Element("channel")
        if _name(channel) != "channel":
            raise _Bail
        _attributes(channel, _NO_ATTRIBUTES)
        feed: dict[str, Any] = {}
        entries: list[dict[str, Any]] = []
        for child in channel:
            if _name(child) == "item":
                entries.append(self.item(child))
            else:
                self.channel_child(child, feed)
        return {
            "bozo": error is not None,
            "bozo_exception": error,
            "version": version,
            "feed": feed,
            "entries": entries,
        }

    def detail(self, content_type: str, base: str, value: str) -> dict[str, Any]:
        return {"type": content_type, "language": self.lang, "base": base, "value": value}

    def title(self, element: ET.Element, depth: int, context: dict[str, Any] | None) -> None:
        text = _plain_text(element)
        content_type = "text/html" if _looks_like_html(text) else "text/plain"
        value = _repair(text)
        if context is not None and not -1 < self.title_depth <= depth:
            context["title"] = value
            context["title_detail"] = self.detail(content_type, self.bases[depth], value)
        if value:
            self.title_depth = depth

    def channel_child(self, element: ET.Element, feed: dict[str, Any]) -> None:
        name = _name(element)
        if name in _TITLES:
            self.title(element, _CHANNEL_CHILD, feed)
        elif name == "link":
            text = _plain_text(element)
            if text:
                text = _join(self.bases[_CHANNEL_CHILD], text)
            feed["link"] = _QUERY_ENTITY_RE.sub(r"&\g<1>", _repair(text))
        elif name == "ttl":
            feed["ttl"] = _repair(_plain_text(element))
        elif name in _INERT_CHANNEL_LEAVES:
            _plain_text(element)
        elif name == "category":
            _attributes(element, _CATEGORY_ATTRIBUTES)
            _text(element)
        elif name == "cloud":
            _attributes(element, _CLOUD_ATTRIBUTES)
            _text(element)
        elif name == "atom:link":
            # feedparser reads it as a <link>: one with an href and a rel other than
            # alternate leaves feed.link alone
            attributes = _attributes(element, _ATOM_LINK_ATTRIBUTES)
            if "href" not in attributes or attributes.get("rel", "alternate") == "alternate":
                raise _Bail
            _text(element)
        elif name == "image":
            self.image(element)
        elif name in ("skiphours", "skipdays"):
            _attributes(element, _NO_ATTRIBUTES)
            leaf = "hour" if name == "skiphours" else "day"
            for child in element:
                if _name(child) != leaf:
                    raise _Bail
                _plain_text(child)
        else:
            raise _Bail

    def image(self, element: ET.Element) -> None:
        """An <image> only moves the title rule: its own title counts at depth 4."""
        _attributes(element, _NO_ATTRIBUTES)
        self.title_depth = -1
        for child in element:
            name = _name(child)
            if name not in _IMAGE_CHILDREN:
                raise _Bail  # feedparser would leave the image's context early
            if name == "title":
                self.title(child, _ITEM_CHILD, None)
            else:
                _plain_text(child)

    def item(self, element: ET.Element) -> dict[str, Any]:
        _attributes(element, _NO_ATTRIBUTES)
        self.title_depth = -1
        base = self.bases[_ITEM_CHILD]
        entry: dict[str, Any] = {}
        has_content = False
        for child in element:
            name = _name(child)
            if name in _TITLES:
                self.title(child, _ITEM_CHILD, entry)
            elif name == "link":
                link = {"rel": "alternate", "type": "text/html"}
                entry.setdefault("links", []).append(link)
                text = _plain_text(child)
                if text:
                    text = _join(base, text)
                value = _QUERY_ENTITY_RE.sub(r"&\g<1>", _repair(text).replace("&amp;", "&"))
                entry["link"] = value
                if value:
                    link["href"] = value
            elif name == "guid":
                is_link = _attributes(child, _GUID_ATTRIBUTES).get("ispermalink", "true") == "true"
                text = _text(child)
                if text and is_link:
                    text = _join(base, text)
                value = _repair(text)
                entry["id"] = value
                if is_link:  # a permalink guid is the link when there is no <link>
                    entry.setdefault("link", value)
            elif name in _DESCRIPTIONS:
                if "summary" in entry and not has_content:
                    raise _Bail  # feedparser would take it for content, half-way
                value = _repair(_plain_text(child))
                entry["summary"] = value
                entry["summary_detail"] = self.detail("text/html", base, value)
            elif name in _CONTENTS:
                has_content = True
                value = _repair(_plain_text(child))
                entry.setdefault("content", []).append(self.detail("text/html", base, value))
                entry.setdefault("summary", value)
            elif name in _DATES:
                entry[_DATES[name]] = _parse_date(_repair(_plain_text(child)))
            elif name in _AUTHORS:
                entry.setdefault("authors", []).append({})
                entry["author"] = _repair(_plain_text(child))
                _sync_author_detail(_AuthorContext(entry))
            elif name in _CATEGORIES:
                allowed = _CATEGORY_ATTRIBUTES if name == "category" else _NO_ATTRIBUTES
                scheme = _attributes(child, allowed).get("domain")
                _category(entry, scheme, _repair(_text(child)))
            elif name == "enclosure":
                attributes = _attributes(child, _ENCLOSURE_ATTRIBUTES)
                _text(child)
                href = attributes.get("url")
                if href:
                    del attributes["url"]
                    attributes["href"] = href
                entry.setdefault("links", []).append({**attributes, "rel": "enclosure"})
            elif name == "feedburner:origlink":
                entry["feedburner_origlink"] = _repair(_plain_text(child))
            elif name == "source":
                _attributes(child, _SOURCE_ATTRIBUTES)
                _text(child)
                self.title_depth = -1
            elif name in _INERT_ITEM_LEAVES:
                _plain_text(child)
            else:
                raise _Bail
        return entry


def _category(entry: dict[str, Any], scheme: str | None, value: str) -> None:
    """feedparser's _start_category/_end_category: a domain opens a tag whose term is
    the text; otherwise the text fills the last tag without a term, or adds a tag."""
    tags: list[dict[str, Any]] = entry.setdefault("tags", [])
    if scheme:
        _add_tag(tags, None, scheme)
    if not value:
        return
    if tags and not tags[-1]["term"]:
        tags[-1]["term"] = value
    else:
        _add_tag(tags, value, None)


def _add_tag(tags: list[dict[str, Any]], term: str | None, scheme: str | None) -> None:
    tag = {"term": term, "scheme": scheme, "label": None}
    if tag not in tags:
        tags.append(tag)


def _bases(content_location: str) -> list[str]:
    """feedparser's base URI at each depth: the Content-Location made safe, then joined
    with itself at every start tag (there is no xml:base here)."""
    safe: Callable[..., str] = feedparser.urls.make_safe_absolute_uri
    base = safe("", content_location) or safe(content_location) or ""
    bases = [base]
    for _ in range(_ITEM_CHILD):
        base = (safe(base, base) or base) if base else _urljoin(base, base)
        bases.append(base)
    return bases
