"""WebSub: hub links in public feeds and publish pings to a real local hub."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask.testing import FlaskClient
from lxml import etree

from feedhub.db import Database
from feedhub.publish.outputs import OutputSpec, create_output
from feedhub.publish.websub import ping_hub_if_changed

from .outputs_seed import Seeder

BASE = "https://news.example/"


class Hub:
    """A WebSub hub on 127.0.0.1 that records publish pings."""

    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.pings: list[dict[str, list[str]]] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                hub.pings.append(urllib.parse.parse_qs(self.rfile.read(length).decode()))
                self.send_response(hub.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hub"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def topics(self) -> list[str]:
        return [p["hub.url"][0] for p in self.pings if p.get("hub.mode") == ["publish"]]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hub() -> Iterator[Hub]:
    server = Hub()
    yield server
    server.stop()


@pytest.fixture
def seed(db: Database) -> Seeder:
    return Seeder(db)


@pytest.fixture
def story(seed: Seeder) -> int:
    return seed.story("Meldung", [seed.source("A")], age=timedelta(hours=1))


def test_first_call_announces_every_public_feed(db: Database, hub: Hub, story: int) -> None:
    pinged = ping_hub_if_changed(db, hub.url, BASE)
    assert hub.topics() == pinged == [
        f"{BASE}feeds/all.atom", f"{BASE}feeds/all.rss", f"{BASE}feeds/all.json"
    ]  # fmt: skip


def test_no_ping_without_a_change(db: Database, hub: Hub, story: int) -> None:
    ping_hub_if_changed(db, hub.url, BASE)
    hub.pings.clear()
    assert ping_hub_if_changed(db, hub.url, BASE) == []
    assert hub.pings == []


def test_ping_after_a_story_changes(db: Database, hub: Hub, seed: Seeder, story: int) -> None:
    ping_hub_if_changed(db, hub.url, BASE)
    hub.pings.clear()
    seed.change(story, title="Meldung (aktualisiert)")
    assert f"{BASE}feeds/all.atom" in ping_hub_if_changed(db, hub.url, BASE)
    assert f"{BASE}feeds/all.atom" in hub.topics()


def test_only_changed_feeds_are_pinged(db: Database, hub: Hub, seed: Seeder, story: int) -> None:
    sport = seed.category("Sport", "sport")
    ping_hub_if_changed(db, hub.url, BASE)
    hub.pings.clear()
    seed.story("Tor!", [seed.source("B")], category_id=sport, age=timedelta(minutes=5))
    ping_hub_if_changed(db, hub.url, BASE)
    assert f"{BASE}feeds/category/sport.atom" in hub.topics()
    assert f"{BASE}feeds/all.atom" in hub.topics()
    # nothing else changed: a second round is silent
    hub.pings.clear()
    assert ping_hub_if_changed(db, hub.url, BASE) == []


def test_private_feeds_are_never_announced(db: Database, hub: Hub, story: int) -> None:
    with db.session() as s:
        create_output(s, OutputSpec(slug="intern", title="Intern", public=False))
    ping_hub_if_changed(db, hub.url, BASE)
    assert not any("intern" in t for t in hub.topics())


def test_failed_ping_is_retried_next_time(db: Database, story: int) -> None:
    failing = Hub(status=500)
    try:
        assert ping_hub_if_changed(db, failing.url, BASE) == []
        assert failing.topics()  # it did try
        failing.status = 204
        failing.pings.clear()
        assert ping_hub_if_changed(db, failing.url, BASE)
    finally:
        failing.stop()


def test_no_hub_configured_does_nothing(db: Database, story: int) -> None:
    assert ping_hub_if_changed(db, "", BASE) == []


# --- hub links in the documents ------------------------------------------------------


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "WEBSUB_HUB": "https://hub.example/"}


def hub_links(body: bytes) -> list[str]:
    root = etree.fromstring(body)
    return [
        link.get("href")
        for link in root.iter("{http://www.w3.org/2005/Atom}link")
        if link.get("rel") == "hub"
    ]


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_xml_feeds_link_the_hub(client: FlaskClient, story: int, fmt: str) -> None:
    assert hub_links(client.get(f"/feeds/all.{fmt}").data) == ["https://hub.example/"]


def test_json_feed_lists_the_hub(client: FlaskClient, story: int) -> None:
    doc = json.loads(client.get("/feeds/all.json").data)
    assert doc["hubs"] == [{"type": "WebSub", "url": "https://hub.example/"}]


def test_private_feed_has_no_hub_link(client: FlaskClient, db: Database, story: int) -> None:
    with db.session() as s:
        token = create_output(s, OutputSpec(slug="intern", title="I", public=False)).token
    assert hub_links(client.get(f"/feeds/intern.atom?token={token}").data) == []
