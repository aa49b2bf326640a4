"""OPML 1.0/2.0 in and out.

OPML files come from users and other apps, so they are parsed with DTDs and
entity declarations refused outright: no entity expansion, no external entity
ever reaches the disk or the network.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.parsers import expat

MAX_OPML_BYTES = 5 * 1024 * 1024


class OpmlError(ValueError):
    """An OPML document that cannot be read; the message is shown to the user."""


@dataclass(frozen=True)
class OpmlFeed:
    url: str
    title: str
    category: str | None


@dataclass(frozen=True)
class ExportedSource:
    url: str
    title: str
    site_url: str
    category: str | None


def _refuse_dtd(*_args: object) -> None:
    raise OpmlError("OPML with a DOCTYPE or entity declarations is refused")


def _refuse_external(*_args: object) -> int:
    raise OpmlError("OPML with a DOCTYPE or entity declarations is refused")


def _parse_xml(data: bytes) -> ET.Element:
    """Parse with expat, refusing DTDs first, so no entity is ever expanded."""
    scan = expat.ParserCreate()
    scan.StartDoctypeDeclHandler = _refuse_dtd
    scan.EntityDeclHandler = _refuse_dtd
    scan.ExternalEntityRefHandler = _refuse_external
    try:
        scan.Parse(data, True)
        return ET.fromstring(data)
    except (expat.ExpatError, ET.ParseError) as exc:
        raise OpmlError(f"not valid XML: {exc}") from None


def parse_opml(data: bytes) -> list[OpmlFeed]:
    """Feeds of an OPML document; nested outlines name the category (innermost wins)."""
    if len(data) > MAX_OPML_BYTES:
        raise OpmlError(f"OPML file larger than {MAX_OPML_BYTES // (1024 * 1024)} MiB")
    if not data.strip():
        raise OpmlError("the OPML file is empty")
    root = _parse_xml(data)
    if root.tag.lower() != "opml":
        raise OpmlError(f"not an OPML document (root element <{root.tag}>)")
    body = next((c for c in root if c.tag.lower() == "body"), None)
    if body is None:
        raise OpmlError("OPML document without <body>")
    feeds: list[OpmlFeed] = []

    def walk(node: ET.Element, category: str | None) -> None:
        for child in node:
            if child.tag.lower() != "outline":
                continue
            attrs = {k.lower(): v for k, v in child.attrib.items()}
            title = (attrs.get("title") or attrs.get("text") or "").strip()
            url = (attrs.get("xmlurl") or "").strip()
            if url:
                feeds.append(OpmlFeed(url=url, title=title, category=category))
                walk(child, category)
            else:
                walk(child, title or category)

    walk(body, None)
    return feeds


def export_opml(sources: Iterable[ExportedSource], title: str = "feedhub sources") -> bytes:
    """OPML 2.0 with one folder outline per category (sources without one at the top)."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(datetime.now(UTC))
    body = ET.SubElement(root, "body")
    folders: dict[str, ET.Element] = {}
    for src in sources:
        parent = body
        if src.category:
            if src.category not in folders:
                folders[src.category] = ET.SubElement(
                    body, "outline", text=src.category, title=src.category
                )
            parent = folders[src.category]
        attrs = {"type": "rss", "text": src.title or src.url, "title": src.title or src.url}
        attrs["xmlUrl"] = src.url
        if src.site_url:
            attrs["htmlUrl"] = src.site_url
        ET.SubElement(parent, "outline", attrs)
    ET.indent(root)
    out: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return out + b"\n"
