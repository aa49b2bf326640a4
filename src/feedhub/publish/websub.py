"""WebSub publishing: tell the configured hub which public feeds changed.

The poller calls :func:`ping_hub_if_changed` after a round of polls. Whether
a feed changed is decided the same way the render cache decides it (the
selection's window state), and what was last announced is kept in the
settings table, so any number of poller processes agree and a feed is pinged
once per change. A failed ping is not recorded, so the next call retries it.
Private feeds are never announced: the hub would learn their token.
"""

from __future__ import annotations

import hashlib
import logging
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedhub.db import Database
from feedhub.models import Setting
from feedhub.publish.definitions import FeedDefinition, public_definitions
from feedhub.publish.query import select_stories

log = logging.getLogger(__name__)

SETTING_KEY = "websub_published"
TOPIC_FORMATS = ("atom", "rss", "json")


def feed_digest(session: Session, definition: FeedDefinition, now: datetime) -> str:
    """Changes exactly when the feed's rendered items can change."""
    selection = select_stories(session, definition.filter, now)
    bound = selection.boundary
    raw = repr(
        (
            definition.fingerprint,
            None if bound is None else (bound[0].isoformat(), bound[1]),
            selection.state.key(),
        )
    )
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def topics(base_url: str, definition: FeedDefinition) -> list[str]:
    root = base_url if base_url.endswith("/") else base_url + "/"
    return [f"{root}{definition.path.lstrip('/')}.{fmt}" for fmt in TOPIC_FORMATS]


def publish(hub_url: str, topic: str, timeout: float) -> bool:
    """POST ``hub.mode=publish`` for one topic; True on a 2xx answer."""
    body = urllib.parse.urlencode({"hub.mode": "publish", "hub.url": topic}).encode()
    request = urllib.request.Request(
        hub_url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status: int = response.status
            return 200 <= status < 300
    except (urllib.error.URLError, OSError, ValueError) as exc:
        log.warning("WebSub ping to %s for %s failed: %s", hub_url, topic, exc)
        return False


def ping_hub_if_changed(
    db: Database,
    hub_url: str,
    base_url: str,
    *,
    timeout: float = 10.0,
    now: datetime | None = None,
) -> list[str]:
    """Ping ``hub_url`` for every public feed that changed since its last ping.

    ``base_url`` is the public address of this feedhub (``https://news.example/``),
    which the topics are built from. Returns the topic URLs that were pinged.
    Does nothing when ``hub_url`` is empty.
    """
    if not hub_url:
        return []
    now = now or datetime.now(UTC)
    with db.session() as session:
        stored_raw: Any = session.scalar(select(Setting.value).where(Setting.key == SETTING_KEY))
        stored: dict[str, str] = dict(stored_raw) if isinstance(stored_raw, dict) else {}
        current = {d.key: (d, feed_digest(session, d, now)) for d in public_definitions(session)}
    pinged: list[str] = []
    announced = {key: digest for key, digest in stored.items() if key in current}
    for key, (definition, digest) in current.items():
        if stored.get(key) == digest:
            continue
        feed_topics = topics(base_url, definition)
        if all(publish(hub_url, topic, timeout) for topic in feed_topics):
            announced[key] = digest
            pinged.extend(feed_topics)
    if announced != stored:
        with db.session() as session:
            session.merge(Setting(key=SETTING_KEY, value=announced))
    return pinged
