"""Sponsored-content markers, each with the reason an admin can read.

A label must *be* a label: "Anzeige: …", "Werbung | …", "(Anzeige)", a whole
feed category "Sponsored", a URL path segment /advertorial/. The same words
inside a sentence ("Werbung für den Tourismus im Westerwald") are news.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

LABELS = (
    "Anzeige",
    "Werbung",
    "Sponsored Post",
    "Sponsored Content",
    "Sponsored",
    "Gesponsert",
    "Advertorial",
    "Promotion",
    "Paid Post",
    "Paid Content",
    "Partner Content",
    "Bezahlte Partnerschaft",
    "Paid Partnership",
    "Verlagsbeilage",
    "Sonderveröffentlichung",
    "Verlagssonderveröffentlichung",
    "Publireportage",
    "Werbebeitrag",
)
# "Promotion" is also a doctorate; only brackets or "|" make it a label
_AMBIGUOUS = {"promotion"}
_LABEL_ALT = "|".join(re.escape(label) for label in LABELS)
_PREFIX = re.compile(rf"^\s*(?P<label>{_LABEL_ALT})\s*(?P<sep>[:|]|[-–—](?=\s))", re.IGNORECASE)
_BRACKETED = re.compile(
    rf"^\s*[\[(](?P<label>{_LABEL_ALT})[\])]|[\[(](?P<label2>{_LABEL_ALT})[\])]\s*$", re.IGNORECASE
)
_SUFFIX = re.compile(rf"(?P<sep>\||\s[-–—])\s*(?P<label>{_LABEL_ALT})\s*$", re.IGNORECASE)
_COOPERATION = re.compile(
    r"^\s*(?:in\s+Kooperation\s+mit|in\s+Zusammenarbeit\s+mit|präsentiert\s+von|sponsored\s+by"
    r"|in\s+partnership\s+with)\s+[^.!?:|]{1,60}[:|]"
    r"|[\[(]\s*(?:in\s+Kooperation\s+mit|präsentiert\s+von|sponsored\s+by)\s+[^)\]]{1,60}[)\]]",
    re.IGNORECASE,
)
# press-agency bylines whose texts are paid placements ("(prm)", "(djd)", "(akz-o)" …)
AGENCY_MARKERS = ("prm", "djd", "akz-o", "akz", "spp-o", "txn", "txn-p", "pm/anzeige", "anzeige")
_MARKER_ALT = "|".join(re.escape(m) for m in AGENCY_MARKERS)
_MARKER = re.compile(rf"(?:^\s*|\s)\((?P<marker>{_MARKER_ALT})\)(?=\s|[.:,;-]|$)", re.IGNORECASE)
URL_SEGMENTS = frozenset(
    {
        "anzeige",
        "anzeigen",
        "sponsored",
        "sponsored-content",
        "advertorial",
        "advertorials",
        "promotion",
        "werbung",
        "paid-content",
        "partner-content",
        "publireportage",
    }
)
CATEGORY_LABELS = frozenset(label.casefold() for label in LABELS) | {
    "anzeigen",
    "advertorials",
    "werbebeiträge",
    "pr",
}


# Where a search can find something (the patterns are scanned at every position
# otherwise). A label matches as many characters as it has, IGNORECASE too (re
# folds case one character to one); a match that must end at the end of the text
# ends with its last non-whitespace character (labels and brackets are not
# whitespace, and \s is what str.rstrip strips).
_LONGEST_LABEL = max(len(label) for label in LABELS)


def _bracketed(text: str, end: int) -> re.Match[str] | None:
    """``_BRACKETED.search(text)``; *end* is the length of *text* rstripped."""
    match = _BRACKETED.match(text)  # the first position: "^(label)", or "(label)" to the end
    if match or not text.endswith((")", "]"), 0, end):
        return match
    # the rest can only be "(label)" ending at *end*
    return _BRACKETED.search(text, max(1, end - _LONGEST_LABEL - 2))


def _suffix(text: str, end: int) -> re.Match[str] | None:
    """``_SUFFIX.search(text)``; *end* is the length of *text* rstripped."""
    # the label ends at *end*; before it only whitespace, before that the
    # separator of at most 2 characters
    label_start = max(0, end - _LONGEST_LABEL)
    return _SUFFIX.search(text, max(0, len(text[:label_start].rstrip()) - 2))


def _text_label(text: str, where: str) -> str | None:
    match = _PREFIX.match(text)
    if match and not (
        match.group("label").casefold() in _AMBIGUOUS and match.group("sep") not in {"|", ":"}
    ):
        return f"{where} label '{match.group('label')}'"
    end = len(text.rstrip())
    match = _bracketed(text, end)
    if match:
        return f"{where} label '({match.group('label') or match.group('label2')})'"
    match = _suffix(text, end)
    if match and not (match.group("label").casefold() in _AMBIGUOUS and match.group("sep") != "|"):
        return f"{where} label '{match.group('label')}'"
    has_bracket = "(" in text or "[" in text
    # without brackets only the first alternative, at the start, can match
    match = _COOPERATION.search(text) if has_bracket else _COOPERATION.match(text)
    if match:
        return f"{where} label '{match.group(0).strip()[:60]}'"
    if "(" not in text:  # every marker is in parentheses
        return None
    match = _MARKER.search(text[:200]) or _MARKER.search(text[-200:])
    if match:
        return f"{where} marker '({match.group('marker')})'"
    return None


def _url_segment(url: str) -> str | None:
    try:
        path = urlsplit(url if "://" in url else "//" + url).path
    except ValueError:
        return None
    for segment in path.casefold().split("/"):
        if segment in URL_SEGMENTS:
            return f"URL path /{segment}/"
    return None


def _byline(author: str) -> str | None:
    folded = author.casefold()
    match = _MARKER.search(" " + author)
    if match:
        return f"byline marker '({match.group('marker')})'"
    for label in LABELS:
        if re.search(rf"\b{re.escape(label.casefold())}\b", folded):
            return f"byline '{author.strip()[:60]}'"
    if re.search(r"\bin kooperation mit\b|\bsponsored by\b|\bpr-agentur\b", folded):
        return f"byline '{author.strip()[:60]}'"
    return None


def detect_sponsored(
    *,
    title: str,
    lead: str,
    url: str = "",
    author: str = "",
    feed_categories: Iterable[str] = (),
    rel_sponsored: bool = False,
) -> str | None:
    """The first sponsored marker found, as a human-readable reason; None for news."""
    for category in feed_categories:
        if category.strip().casefold() in CATEGORY_LABELS:
            return f"feed category '{category.strip()}'"
    reason = _text_label(title, "title") or _text_label(lead[:400], "lead")
    if reason:
        return reason
    reason = _url_segment(url)
    if reason:
        return reason
    if author:
        reason = _byline(author)
        if reason:
            return reason
    if rel_sponsored:
        return 'rel="sponsored" link'
    return None
