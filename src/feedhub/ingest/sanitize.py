"""Make hostile feed HTML safe to store and show, and derive plain text from it.

Feed content is written by strangers and sometimes by attackers. Everything a feed
says in HTML goes through :func:`sanitize_html` on ingest: an allow-list of harmless
tags and attributes (nh3, the Rust ``ammonia`` sanitizer), http/https/mailto URLs only,
relative URLs resolved against the entry's base so they survive, and every link marked
``rel="noopener noreferrer nofollow"``. Anything not on the list goes; the content of
script-like elements goes with it.

The reader escapes metadata at render time as well; sanitizing here keeps stored HTML
and republished feeds clean for every consumer, not just our own templates.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

import nh3

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_TAGS",
    "has_sponsored_link",
    "html_to_text",
    "sanitize_html",
    "strip_control_chars",
    "text_to_html",
]

ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "hr",
        "a",
        "img",
        "picture",
        "figure",
        "figcaption",
        "blockquote",
        "q",
        "cite",
        "ul",
        "ol",
        "li",
        "dl",
        "dt",
        "dd",
        "strong",
        "em",
        "b",
        "i",
        "u",
        "s",
        "del",
        "ins",
        "mark",
        "small",
        "sub",
        "sup",
        "abbr",
        "span",
        "div",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "pre",
        "code",
        "table",
        "caption",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "th",
        "td",
        "audio",
        "video",
        "source",
    }
)

ALLOWED_ATTRIBUTES: dict[str, frozenset[str]] = {
    "a": frozenset({"href", "title"}),
    "img": frozenset({"src", "alt", "title", "width", "height", "srcset", "sizes"}),
    "abbr": frozenset({"title"}),
    "ol": frozenset({"start"}),
    "td": frozenset({"colspan", "rowspan"}),
    "th": frozenset({"colspan", "rowspan", "scope"}),
    "audio": frozenset({"src"}),
    "video": frozenset({"src", "poster", "width", "height"}),
    "source": frozenset({"src", "srcset", "type", "media", "sizes"}),
}

# elements removed together with everything inside them (not just unwrapped)
_DROP_WITH_CONTENT = frozenset(
    {
        "script",
        "style",
        "template",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "applet",
        "noembed",
        "noframes",
        "xmp",
        "svg",
        "math",
        "select",
        "textarea",
        "button",
        "title",
        "head",
    }
)

_URL_SCHEMES = frozenset({"http", "https", "mailto"})
_MEDIA_SCHEMES = ("http", "https")
_LINK_REL = "noopener noreferrer nofollow"
# media elements always get controls (no invisible autoplay); images load lazily
# (one attribute per element: nh3 emits several in random order, which would make the
# output, and so the content hash, differ between processes)
_FORCED_ATTRIBUTES = {
    "audio": {"controls": ""},
    "video": {"controls": ""},
    "img": {"loading": "lazy"},
}
_SRCSET_DESCRIPTOR_RE = re.compile(r"^\d+(?:\.\d+)?[wx]$")
_MEDIA_URL_ATTRS = frozenset({"src", "poster"})

# characters that XML 1.0 forbids: C0 controls except TAB/LF/CR, lone surrogates,
# U+FFFE and U+FFFF
_XML_ILLEGAL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# block-level elements whose boundaries separate words in plain text
_BLOCK_START_RE = re.compile(
    r"<(?=/?(?:p|div|br|hr|li|ul|ol|dl|dt|dd|h[1-6]|tr|td|th|table|caption|thead|tbody|"
    r"tfoot|blockquote|figure|figcaption|pre|section|article|header|footer|aside|nav|"
    r"address|main|img|picture|video|audio|source)[\s/>])",
    re.IGNORECASE,
)
_H1_RE = re.compile(r"<(/?)h1(?=[\s/>])", re.IGNORECASE)
# images and sources whose every URL was refused: nothing left to show
_EMPTY_MEDIA_RE = re.compile(r"<(?:img|source)\b(?![^>]*\b(?:src|srcset)=)[^>]*>")
_SPONSORED_RE = re.compile(
    r"""<a\b[^>]*?\brel\s*=\s*(?:"[^"]*\bsponsored\b[^"]*"|'[^']*\bsponsored\b[^']*'|sponsored\b)""",
    re.IGNORECASE,
)

_TEXT_CLEANER = nh3.Cleaner(tags=set(), clean_content_tags=set(_DROP_WITH_CONTENT), attributes={})


def strip_control_chars(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry.

    Applied to every stored text and HTML field so that the feeds we republish stay
    well-formed XML whatever a source sent us.
    """
    if _XML_ILLEGAL_RE.search(text) is None:
        return text
    return _XML_ILLEGAL_RE.sub("", text)


def _is_http_base(base_url: str | None) -> bool:
    if not base_url:
        return False
    try:
        parts = urlsplit(base_url)
    except ValueError:
        return False
    return parts.scheme.lower() in _MEDIA_SCHEMES and bool(parts.netloc)


def _scheme(url: str) -> str | None:
    """The scheme of ``url`` (lower-case), or None for a relative URL."""
    match = re.match(r"^\s*([A-Za-z][A-Za-z0-9+.\-]*):", url)
    return match.group(1).lower() if match else None


def _resolve_media_url(url: str, base_url: str | None) -> str | None:
    """An absolute http(s) URL for an image/media reference, or None."""
    url = url.strip()
    if not url:
        return None
    scheme = _scheme(url)
    if scheme is None:
        if base_url is None:
            return None
        try:
            url = urljoin(base_url, url)
        except ValueError:
            return None
        scheme = _scheme(url)
    return url if scheme in _MEDIA_SCHEMES else None


def _clean_srcset(value: str, base_url: str | None) -> str | None:
    """Keep only srcset candidates with an http(s) URL and a valid descriptor."""
    kept = []
    for candidate in re.split(r",\s+", value.strip()):
        parts = candidate.split()
        if not parts or len(parts) > 2:
            continue
        url = _resolve_media_url(parts[0].rstrip(","), base_url)
        if url is None or any(c in url for c in " ,"):
            continue
        if len(parts) == 2:
            if not _SRCSET_DESCRIPTOR_RE.match(parts[1]):
                continue
            kept.append(f"{url} {parts[1]}")
        else:
            kept.append(url)
    return ", ".join(kept) or None


def _attribute_filter(base_url: str | None) -> Callable[[str, str, str], str | None]:
    def check(tag: str, attr: str, value: str) -> str | None:
        if attr in _MEDIA_URL_ATTRS and tag != "a":
            # images, audio, video: fetched by the browser, so http(s) only
            scheme = _scheme(value)
            if scheme is not None and scheme not in _MEDIA_SCHEMES:
                return None
            return value
        if attr == "srcset":
            return _clean_srcset(value, base_url)
        return value

    return check


@lru_cache(maxsize=64)
def _cleaner(base_url: str | None, filtered: bool) -> nh3.Cleaner:
    """A cleaner for one base URL (most feeds have one), with or without the Python
    attribute filter: calling back into Python for every attribute doubles the cost
    of sanitizing, so the filtered cleaner only runs when its checks are needed."""
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(_DROP_WITH_CONTENT),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_attribute_filter(base_url) if filtered else None,
        url_schemes=set(_URL_SCHEMES),
        link_rel=_LINK_REL,
        set_tag_attribute_values=_FORCED_ATTRIBUTES,
        url_relative=("rewrite_with_base", base_url) if base_url else "deny",
        strip_comments=True,
    )


def sanitize_html(html: str, base_url: str | None = None) -> str:
    """Safe HTML for ``html``; relative URLs are resolved against ``base_url``.

    With no http(s) base, relative URLs are dropped (they would point at our own
    server). The result contains no characters illegal in XML.
    """
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        return html_lib.escape(strip_control_chars(html), quote=False).strip()
    base = base_url if _is_http_base(base_url) else None
    if "<h1" in html or "<H1" in html:
        # the page title is ours; an entry's top heading becomes a second-level one
        html = _H1_RE.sub(r"<\1h2", html)
    cleaned = _cleaner(base, False).clean(html)
    # nh3 serializes attributes as name="value", so these checks on its output are exact
    if "srcset=" in cleaned or 'src="mailto:' in cleaned or 'poster="mailto:' in cleaned:
        cleaned = _cleaner(base, True).clean(html)
    if "<img" in cleaned or "<source" in cleaned:
        cleaned = _EMPTY_MEDIA_RE.sub("", cleaned)
    return strip_control_chars(cleaned).strip()


def text_to_html(text: str) -> str:
    """HTML for plain text (Atom ``type="text"``): escaped, line breaks kept."""
    text = strip_control_chars(text).strip()
    if not text:
        return ""
    escaped = html_lib.escape(text, quote=False)
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", escaped) if p.strip()]
    return "".join("<p>" + p.replace("\n", "<br>") + "</p>" for p in paragraphs)


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment: tags and script-like content removed,
    entities decoded, block boundaries turned into spaces, whitespace collapsed."""
    if not html:
        return ""
    if "<" in html:
        html = _BLOCK_START_RE.sub(" <", html)
        html = _TEXT_CLEANER.clean(html)
    text = html_lib.unescape(html) if "&" in html else html
    # whitespace runs as single spaces: what re.sub(r"\s+", " ", text) gives but for
    # a space at either end, which the strip removes (\s and str.split agree)
    return strip_control_chars(" ".join(text.split())).strip()


def has_sponsored_link(html: str) -> bool:
    """True when the raw (unsanitized) HTML has a link marked ``rel="sponsored"``;
    the sanitizer rewrites ``rel``, so this must look before sanitizing."""
    return bool(html) and "sponsored" in html.lower() and _SPONSORED_RE.search(html) is not None
