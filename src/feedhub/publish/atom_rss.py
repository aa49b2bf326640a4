"""Atom 1.0 and RSS 2.0 from one :class:`FeedDocument`, through feedgen.

Atom carries everything RFC 4287 asks for: feed id, title, updated, an author
at feed level (so entries without one stay valid), self and alternate links;
each entry its id, title, updated, alternate link and content. Places travel
as categories whose scheme is the reader's place page. RSS can carry only one
enclosure per item (feedgen keeps the last one set), so the first one is used.

feedgen 1.0 loses ``rel``, ``type`` and ``length`` of *entry* links in Atom (a
shadowed variable in ``FeedEntry.atom_entry``), which would turn an enclosure
into a second alternate link. Atom entry links are therefore written by the
small :class:`EntryLinks` extension instead.
"""

from __future__ import annotations

from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree  # type: ignore[import-untyped]  # installed with feedgen

from feedhub.publish.items import FeedDocument, FeedItem

GENERATOR = "feedhub"
ATOM_NS = "http://www.w3.org/2005/Atom"
LINKS_EXT = "feedhub_links"


class _NoFeedExtension(BaseExtension):  # type: ignore[misc]
    """feedgen wants a feed-level class for every extension; links are per entry."""


class EntryLinks(BaseEntryExtension):  # type: ignore[misc]
    """Atom ``<link>`` elements of one entry, with every attribute kept."""

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []

    def add(self, href: str, rel: str, **attrs: str) -> None:
        self.links.append({"href": href, "rel": rel, **attrs})

    def extend_atom(self, entry: Any) -> Any:
        for attrs in self.links:
            etree.SubElement(entry, f"{{{ATOM_NS}}}link", attrib=attrs)
        return entry


def _generator(doc: FeedDocument) -> FeedGenerator:
    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)
    fg.register_extension(LINKS_EXT, _NoFeedExtension, EntryLinks, atom=True, rss=False)
    fg.id(doc.id)
    fg.title(doc.title)
    fg.subtitle(doc.subtitle or doc.title)
    fg.author({"name": doc.author_name})
    fg.updated(doc.updated)
    fg.lastBuildDate(doc.updated)
    fg.generator(GENERATOR, version=doc.generator_version, uri=doc.generator_uri)
    fg.language(doc.language)
    fg.icon(doc.icon_url)
    fg.logo(doc.icon_url)
    return fg


def _add_item(fg: FeedGenerator, item: FeedItem, *, rss: bool) -> None:
    fe = fg.add_entry(order="append")
    fe.id(item.id)
    fe.title(item.title)
    links: EntryLinks = getattr(fe, LINKS_EXT)
    if item.link:
        if rss:
            fe.link(href=item.link)
        else:
            links.add(item.link, "alternate", type="text/html")
    if rss:
        fe.description(item.content_html)
    else:
        fe.content(item.content_html, type="html")
        if item.summary:
            fe.summary(item.summary)
    fe.published(item.published)
    fe.updated(item.updated)
    if item.author:
        if rss:
            fe.dc.dc_creator(item.author)
        else:
            fe.author({"name": item.author})
    for term in (*item.categories, *item.places):
        if term.scheme:
            fe.category(term=term.label, scheme=term.scheme, label=term.label)
        else:
            fe.category(term=term.label, label=term.label)
    if rss:
        for enc in item.enclosures[:1]:
            fe.enclosure(url=enc.url, length=str(enc.length or 0), type=enc.type)
    else:
        for enc in item.enclosures:
            extra = {"length": str(enc.length)} if enc.length else {}
            links.add(enc.url, "enclosure", type=enc.type, **extra)


def render_atom(doc: FeedDocument) -> bytes:
    fg = _generator(doc)
    fg.link(href=doc.self_url, rel="self", type="application/atom+xml")
    if doc.hub_url:
        fg.link(href=doc.hub_url, rel="hub")
    fg.link(href=doc.alternate_url, rel="alternate", type="text/html")
    for item in doc.items:
        _add_item(fg, item, rss=False)
    out: bytes = fg.atom_str(pretty=False, encoding="UTF-8")
    return out


def render_rss(doc: FeedDocument) -> bytes:
    fg = _generator(doc)
    # feedgen's RSS <link> is the href of the last link set: the reader page
    fg.link(href=doc.self_url, rel="self", type="application/rss+xml")
    fg.link(href=doc.alternate_url, rel="alternate", type="text/html")
    for item in doc.items:
        _add_item(fg, item, rss=True)
    out: bytes = fg.rss_str(pretty=False, encoding="UTF-8")
    if doc.hub_url:
        out = _add_rss_hub(out, doc.hub_url)
    return out


def _add_rss_hub(rss: bytes, hub_url: str) -> bytes:
    """feedgen writes only the self atom:link into RSS; WebSub needs rel="hub" too."""
    root = etree.fromstring(rss)
    channel = root.find("channel")
    if channel is not None:
        link = etree.Element(f"{{{ATOM_NS}}}link", href=hub_url, rel="hub")
        channel.insert(0, link)
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return out
