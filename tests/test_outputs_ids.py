"""Item ids are tag: URIs that survive re-polls and representative changes."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from feedhub.db import Database

from .outputs_seed import Seeder


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """Check the database on every request: these tests change data between requests."""
    return {**app_config, "OUTPUT_REVALIDATE_SECONDS": 0}


@pytest.fixture
def seed(db: Database) -> Seeder:
    return Seeder(db)


@pytest.fixture
def story(seed: Seeder) -> int:
    a, b = seed.source("A"), seed.source("B")
    return seed.story("Meldung", [a, b], age=timedelta(hours=1))


def item(client: FlaskClient) -> dict[str, Any]:
    items: list[dict[str, Any]] = json.loads(client.get("/feeds/all.json").data)["items"]
    assert len(items) == 1
    return items[0]


def test_id_is_a_tag_uri_naming_the_story(client: FlaskClient, story: int) -> None:
    assert item(client)["id"].startswith("tag:localhost,")
    assert item(client)["id"].endswith(f":story/{story}")


def test_id_survives_a_repoll_that_changes_the_entry(
    client: FlaskClient, seed: Seeder, story: int
) -> None:
    before = item(client)
    seed.update_entry(seed.entries(story)[0], content="<p>Korrigierte Fassung</p>")
    seed.change(story)
    after = item(client)
    assert "Korrigierte Fassung" in after["content_html"]
    assert after["id"] == before["id"]


def test_id_survives_a_representative_change(client: FlaskClient, seed: Seeder, story: int) -> None:
    before = item(client)
    second_entry = seed.entries(story)[1]
    seed.change(story, representative_entry_id=second_entry)
    after = item(client)
    assert after["url"] == seed.entry_url(second_entry) != before["url"]
    assert after["id"] == before["id"]


def test_configured_tag_authority_is_used(
    app_config: dict[str, Any], instance_path: Path, story: int
) -> None:
    from feedhub import create_app

    app = create_app({**app_config, "TAG_AUTHORITY": "news.example,2024-01-01"}, instance_path)
    try:
        assert item(app.test_client())["id"] == f"tag:news.example,2024-01-01:story/{story}"
    finally:
        app.extensions["feedhub"].db.dispose()


def test_authority_is_fixed_on_first_use_and_survives_a_host_change(
    app_config: dict[str, Any], instance_path: Path, client: FlaskClient, story: int
) -> None:
    from feedhub import create_app

    first = item(client)["id"]
    moved = create_app(app_config, instance_path)
    try:
        response = moved.test_client().get("/feeds/all.json", base_url="https://new-name.example")
        doc = json.loads(response.data)
        assert doc["feed_url"] == "https://new-name.example/feeds/all.json"
        assert doc["items"][0]["id"] == first
    finally:
        moved.extensions["feedhub"].db.dispose()
