"""OPML 2.0 list of the output feeds, so a feed app can subscribe to all at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from xml.etree import ElementTree as ET

from feedhub.publish.text import one_line


@dataclass(frozen=True)
class OpmlOutline:
    title: str
    xml_url: str
    html_url: str


def render_opml(title: str, created: datetime, outlines: list[OpmlOutline]) -> bytes:
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = one_line(title)
    ET.SubElement(head, "dateCreated").text = format_datetime(created, usegmt=True)
    body = ET.SubElement(root, "body")
    for outline in outlines:
        name = one_line(outline.title)
        ET.SubElement(
            body,
            "outline",
            type="rss",
            text=name,
            title=name,
            xmlUrl=outline.xml_url,
            htmlUrl=outline.html_url,
        )
    out: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return out
