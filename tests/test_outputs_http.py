"""HTTP behaviour of output feeds: validators, 304, HEAD, compression, caching, tokens."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import brotli
import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

from feedhub.db import Database
from feedhub.publish.outputs import OutputSpec, create_output, rotate_token
from feedhub.publish.query import FeedFilter
from feedhub.web.feeds import outputs_state

from .outputs_seed import Seeder

FEED_PATHS = ["/feeds/all.atom", "/feeds/all.rss", "/feeds/all.json", "/feeds/category/sport.atom"]


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """Check the database on every request: these tests change data between requests."""
    return {**app_config, "OUTPUT_REVALIDATE_SECONDS": 0}


@pytest.fixture
def seed(db: Database) -> Seeder:
    return Seeder(db)


@pytest.fixture
def world(seed: Seeder) -> dict[str, int]:
    src = seed.source("A")
    sport = seed.category("Sport", "sport")
    first = seed.story("Erste Meldung", [src], category_id=sport, age=timedelta(hours=2))
    second = seed.story("Zweite Meldung", [src], age=timedelta(hours=1))
    return {"source": src, "sport": sport, "first": first, "second": second}


def renders(app: Flask) -> int:
    return outputs_state(app).cache.renders


@pytest.mark.parametrize("path", FEED_PATHS)
def test_every_output_has_etag_last_modified_and_cache_control(
    client: FlaskClient, world: dict[str, int], path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["ETag"].startswith('"')
    assert response.headers["Last-Modified"].endswith("GMT")
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert "Accept-Encoding" in response.headers["Vary"]


@pytest.mark.parametrize("path", FEED_PATHS)
def test_if_none_match_gives_304(client: FlaskClient, world: dict[str, int], path: str) -> None:
    etag = client.get(path).headers["ETag"]
    response = client.get(path, headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == etag


def test_weak_and_listed_etags_match(client: FlaskClient, world: dict[str, int]) -> None:
    etag = client.get("/feeds/all.atom").headers["ETag"]
    response = client.get("/feeds/all.atom", headers={"If-None-Match": f'"other", W/{etag}'})
    assert response.status_code == 304


def test_other_etag_gives_200(client: FlaskClient, world: dict[str, int]) -> None:
    response = client.get("/feeds/all.atom", headers={"If-None-Match": '"something-else"'})
    assert response.status_code == 200


def test_if_modified_since_gives_304(client: FlaskClient, world: dict[str, int]) -> None:
    last_modified = client.get("/feeds/all.rss").headers["Last-Modified"]
    response = client.get("/feeds/all.rss", headers={"If-Modified-Since": last_modified})
    assert response.status_code == 304


def test_if_modified_since_before_the_change_gives_200(
    client: FlaskClient, world: dict[str, int]
) -> None:
    response = client.get(
        "/feeds/all.rss", headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}
    )
    assert response.status_code == 200


def test_head_sends_headers_without_body(client: FlaskClient, world: dict[str, int]) -> None:
    full = client.get("/feeds/all.atom")
    head = client.head("/feeds/all.atom")
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["ETag"] == full.headers["ETag"]
    assert head.headers["Content-Length"] == str(len(full.data))


def test_gzip_when_accepted(client: FlaskClient, world: dict[str, int]) -> None:
    plain = client.get("/feeds/all.atom")
    zipped = client.get("/feeds/all.atom", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    assert zipped.headers["ETag"] != plain.headers["ETag"]


def test_brotli_preferred_when_accepted(client: FlaskClient, world: dict[str, int]) -> None:
    plain = client.get("/feeds/all.json")
    compressed = client.get("/feeds/all.json", headers={"Accept-Encoding": "gzip, br"})
    assert compressed.headers["Content-Encoding"] == "br"
    assert brotli.decompress(compressed.data) == plain.data


def test_gzip_etag_gives_304_too(client: FlaskClient, world: dict[str, int]) -> None:
    headers = {"Accept-Encoding": "gzip"}
    etag = client.get("/feeds/all.atom", headers=headers).headers["ETag"]
    response = client.get("/feeds/all.atom", headers={**headers, "If-None-Match": etag})
    assert response.status_code == 304


def test_repeated_requests_render_once(
    app: Flask, client: FlaskClient, world: dict[str, int]
) -> None:
    client.get("/feeds/all.atom")
    before = renders(app)
    for _ in range(5):
        assert client.get("/feeds/all.atom").status_code == 200
    assert renders(app) == before


def test_story_change_invalidates_the_cache(
    client: FlaskClient, seed: Seeder, world: dict[str, int]
) -> None:
    first = client.get("/feeds/all.atom")
    seed.change(world["second"], title="Zweite Meldung, aktualisiert")
    second = client.get("/feeds/all.atom", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    assert "Zweite Meldung, aktualisiert" in second.get_data(as_text=True)
    assert second.headers["ETag"] != first.headers["ETag"]


def test_new_story_appears_at_once(
    client: FlaskClient, seed: Seeder, world: dict[str, int]
) -> None:
    client.get("/feeds/all.json")
    seed.story("Eilmeldung", [world["source"]], age=timedelta(minutes=1))
    assert "Eilmeldung" in client.get("/feeds/all.json").get_data(as_text=True)


def test_hidden_story_disappears_at_once(
    client: FlaskClient, seed: Seeder, world: dict[str, int]
) -> None:
    client.get("/feeds/all.json")
    seed.change(world["second"], hidden=True)
    assert "Zweite Meldung" not in client.get("/feeds/all.json").get_data(as_text=True)


def test_another_process_hands_out_the_same_etag(
    app_config: dict[str, Any], instance_path: Path, client: FlaskClient, world: dict[str, int]
) -> None:
    """Web processes share no memory; their validators must still agree."""
    from feedhub import create_app

    etag = client.get("/feeds/all.atom").headers["ETag"]
    other = create_app(app_config, instance_path=instance_path)
    try:
        response = other.test_client().get("/feeds/all.atom", headers={"If-None-Match": etag})
        assert response.status_code == 304
    finally:
        other.extensions["feedhub"].db.dispose()


def test_unknown_feed_is_404(client: FlaskClient, world: dict[str, int]) -> None:
    assert client.get("/feeds/nope.atom").status_code == 404
    assert client.get("/feeds/category/nope.rss").status_code == 404
    assert client.get("/feeds/all.xml").status_code == 404


def test_category_feed_shows_only_that_category(client: FlaskClient, world: dict[str, int]) -> None:
    body = client.get("/feeds/category/sport.json").get_data(as_text=True)
    assert "Erste Meldung" in body and "Zweite Meldung" not in body


# --- output feeds with tokens -------------------------------------------------------


@pytest.fixture
def private_token(db: Database, world: dict[str, int]) -> Iterator[str]:
    with db.session() as s:
        feed = create_output(
            s, OutputSpec(slug="intern", title="Intern", public=False, filter=FeedFilter())
        )
        token = feed.token
    assert token
    yield token


def test_private_feed_with_token(client: FlaskClient, private_token: str) -> None:
    response = client.get(f"/feeds/intern.atom?token={private_token}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"].startswith("private")
    root = etree.fromstring(response.data)
    links = {ln.get("rel"): ln.get("href") for ln in root.findall("{*}link")}
    assert links["self"].endswith(f"/feeds/intern.atom?token={private_token}")


def test_private_feed_without_token_is_404(client: FlaskClient, private_token: str) -> None:
    assert client.get("/feeds/intern.atom").status_code == 404


def test_private_feed_with_wrong_token_is_404(client: FlaskClient, private_token: str) -> None:
    assert client.get("/feeds/intern.rss?token=" + "x" * len(private_token)).status_code == 404


def test_rotated_token_retires_the_old_url(
    client: FlaskClient, db: Database, private_token: str
) -> None:
    assert client.get(f"/feeds/intern.json?token={private_token}").status_code == 200
    with db.session() as s:
        from feedhub.publish.outputs import find_output

        new = rotate_token(s, find_output(s, "intern"))
    assert client.get(f"/feeds/intern.json?token={private_token}").status_code == 404
    assert client.get(f"/feeds/intern.json?token={new}").status_code == 200


def test_tokens_are_unguessable(db: Database, world: dict[str, int]) -> None:
    tokens = set()
    with db.session() as s:
        for i in range(20):
            feed = create_output(s, OutputSpec(slug=f"p{i}", title="P", public=False))
            assert feed.token is not None and len(feed.token) >= 32
            tokens.add(feed.token)
    assert len(tokens) == 20


# --- OPML --------------------------------------------------------------------------


def test_opml_lists_public_feeds_only(
    client: FlaskClient, db: Database, private_token: str
) -> None:
    with db.session() as s:
        create_output(s, OutputSpec(slug="oeffentlich", title="Öffentlich"))
    response = client.get("/feeds.opml")
    assert response.status_code == 200
    root = etree.fromstring(response.data)
    urls = [o.get("xmlUrl") for o in root.iter("outline")]
    assert "http://localhost/feeds/all.atom" in urls
    assert "http://localhost/feeds/category/sport.atom" in urls
    assert "http://localhost/feeds/oeffentlich.atom" in urls
    assert not any("intern" in (u or "") for u in urls)


def test_opml_has_an_etag(client: FlaskClient, world: dict[str, int]) -> None:
    etag = client.get("/feeds.opml").headers["ETag"]
    assert client.get("/feeds.opml", headers={"If-None-Match": etag}).status_code == 304
