"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1), written by hand: feedgen has none.

Optional members are left out rather than sent empty, as the spec asks.
Places and the provenance list go into a ``_feedhub`` extension object (the
spec reserves keys starting with an underscore for extensions).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from feedhub.publish.items import FeedDocument, FeedItem

VERSION = "https://jsonfeed.org/version/1.1"
EXTENSION_ABOUT = "https://github.com/feedhub/feedhub#json-feed-extension"


def rfc3339(value: datetime) -> str:
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _item(item: FeedItem) -> dict[str, Any]:
    out: dict[str, Any] = {"id": item.id}
    if item.link:
        out["url"] = item.link
    out["title"] = item.title
    out["content_html"] = item.content_html
    if item.summary:
        out["summary"] = item.summary
    out["date_published"] = rfc3339(item.published)
    out["date_modified"] = rfc3339(item.updated)
    if item.author:
        out["authors"] = [{"name": item.author}]
    tags = [t.label for t in (*item.categories, *item.places)]
    if tags:
        out["tags"] = list(dict.fromkeys(tags))
    if item.enclosures:
        attachments = []
        for enc in item.enclosures:
            attachment: dict[str, Any] = {"url": enc.url, "mime_type": enc.type}
            if enc.length:
                attachment["size_in_bytes"] = enc.length
            attachments.append(attachment)
        out["attachments"] = attachments
    extension: dict[str, Any] = {"about": EXTENSION_ABOUT}
    if item.places:
        extension["places"] = [{"name": p.label, "url": p.scheme} for p in item.places]
    if item.sources:
        extension["sources"] = [{"name": s.name, "url": s.url} for s in item.sources]
    out["_feedhub"] = extension
    return out


def render_json_feed(doc: FeedDocument) -> bytes:
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": doc.title,
        "home_page_url": doc.alternate_url,
        "feed_url": doc.self_url,
    }
    if doc.subtitle:
        feed["description"] = doc.subtitle
    feed["icon"] = doc.icon_url
    feed["favicon"] = doc.icon_url
    feed["authors"] = [{"name": doc.author_name}]
    feed["language"] = doc.language
    if doc.hub_url:
        feed["hubs"] = [{"type": "WebSub", "url": doc.hub_url}]
    feed["items"] = [_item(item) for item in doc.items]
    return json.dumps(feed, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
