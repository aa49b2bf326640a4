"""Atom, RSS and JSON Feed output: valid, complete, and safe with hostile content."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import feedparser
import jsonschema
import pytest
from flask.testing import FlaskClient
from lxml import etree

from feedhub.db import Database
from feedhub.publish.text import xml_safe

from .outputs_seed import Seeder

ATOM = "{http://www.w3.org/2005/Atom}"
SCHEMA = json.loads(
    (Path(__file__).parent / "data" / "outputs" / "jsonfeed-1.1.schema.json").read_text()
)
FORMATS = ["atom", "rss", "json"]
# feedparser 6 has no JSON Feed parser: JSON Feed is checked against the schema instead
XML_FORMATS = ["atom", "rss"]
# No NUL here: PostgreSQL refuses it in text, and ingest strips it (see test_xml_safe_*).
HOSTILE = (
    'Bombe\x01\x0b\x1f\x7f\x85\ufffe im <script>alert(1)</script> ]]> &amp; & "Rathaus" \' <!--'
)
HOSTILE_HTML = (
    '<p onclick="alert(1)">Text\x08 mit <script>alert(2)</script><img src="javascript:alert(3)">'
    '<a href="javascript:alert(4)">link</a> ]]&gt; <![CDATA[ x ]]> \x0c</p>'
    '<iframe src="x"></iframe>'
)


@pytest.fixture
def seed(db: Database) -> Seeder:
    return Seeder(db)


@pytest.fixture
def story_world(seed: Seeder) -> dict[str, Any]:
    cat = seed.category("Wirtschaft", "wirtschaft")
    bonn = seed.place("Bonn", "bonn")
    a = seed.source("General-Anzeiger")
    b = seed.source('WDR <b>&"Lokal"</b>')
    story = seed.story(
        "Neue Brücke für Bonn",
        [a, b],
        lead="Die Stadt plant eine neue Brücke.",
        category_id=cat,
        places=[bonn],
        author="Anna Autorin",
        enclosures=[{"url": "https://cdn.example/a.mp3", "type": "audio/mpeg", "length": 1234}],
    )
    return {"story": story, "a": a, "b": b, "category": cat}


def get(client: FlaskClient, path: str) -> bytes:
    response = client.get(path)
    assert response.status_code == 200, response.data[:200]
    return response.data


def parse(client: FlaskClient, path: str, **kwargs: Any) -> Any:
    """feedparser as a feed app uses it: with the response headers (JSON Feed needs them)."""
    response = client.get(path)
    assert response.status_code == 200, response.data[:200]
    headers = {k.lower(): v for k, v in response.headers.items()}
    return feedparser.parse(response.data, response_headers=headers, **kwargs)


@pytest.mark.parametrize("fmt", XML_FORMATS)
def test_every_format_parses_with_feedparser_without_bozo(
    client: FlaskClient, story_world: dict[str, Any], fmt: str
) -> None:
    parsed = parse(client, f"/feeds/all.{fmt}")
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert [e.title for e in parsed.entries] == ["Neue Brücke für Bonn"]


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_xml_formats_parse_with_strict_lxml(
    client: FlaskClient, story_world: dict[str, Any], fmt: str
) -> None:
    parser = etree.XMLParser(recover=False, resolve_entities=False, no_network=True)
    root = etree.fromstring(get(client, f"/feeds/all.{fmt}"), parser)
    assert root.tag in {f"{ATOM}feed", "rss"}


def test_atom_carries_what_rfc4287_requires(
    client: FlaskClient, story_world: dict[str, Any]
) -> None:
    root = etree.fromstring(get(client, "/feeds/all.atom"))
    for name in ("id", "title", "updated"):
        assert (root.findtext(f"{ATOM}{name}") or "").strip(), name
    assert root.findtext(f"{ATOM}author/{ATOM}name")
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links["self"] == "http://localhost/feeds/all.atom"
    assert links["alternate"] == "http://localhost/"
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 1
    entry = entries[0]
    for name in ("id", "title", "updated", "published", "content"):
        assert (entry.findtext(f"{ATOM}{name}") or "").strip(), name
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "Anna Autorin"
    alternate = [link for link in entry.findall(f"{ATOM}link") if link.get("rel") == "alternate"]
    assert alternate and alternate[0].get("href", "").startswith("https://news")


def test_atom_feed_level_metadata(client: FlaskClient, story_world: dict[str, Any]) -> None:
    root = etree.fromstring(get(client, "/feeds/all.atom"))
    assert root.findtext(f"{ATOM}subtitle")
    assert root.findtext(f"{ATOM}generator") == "feedhub"
    assert root.findtext(f"{ATOM}icon", "").startswith("http://localhost/")
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "de"


def test_rss_channel_metadata(client: FlaskClient, story_world: dict[str, Any]) -> None:
    parsed = parse(client, "/feeds/all.rss")
    assert parsed.feed.language == "de"
    assert parsed.feed.link == "http://localhost/"
    assert parsed.feed.generator.startswith("feedhub")
    entry = parsed.entries[0]
    assert entry.id.startswith("tag:")
    assert entry.author == "Anna Autorin"


def test_json_feed_validates_against_schema(
    client: FlaskClient, story_world: dict[str, Any]
) -> None:
    doc = json.loads(get(client, "/feeds/all.json"))
    jsonschema.validate(doc, SCHEMA)
    assert doc["language"] == "de"
    assert doc["feed_url"] == "http://localhost/feeds/all.json"
    assert doc["items"][0]["authors"] == [{"name": "Anna Autorin"}]


def test_json_feed_schema_rejects_a_broken_feed() -> None:
    """The schema is strict enough to catch a missing item id (guards the test above)."""
    broken = {"version": "https://jsonfeed.org/version/1.1", "title": "x", "items": [{}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)


def test_json_feed_content_type(client: FlaskClient, story_world: dict[str, Any]) -> None:
    response = client.get("/feeds/all.json")
    assert response.headers["Content-Type"] == "application/feed+json; charset=utf-8"


def test_provenance_lists_every_source_with_links_and_escaped_names(
    client: FlaskClient, story_world: dict[str, Any]
) -> None:
    doc = json.loads(get(client, "/feeds/all.json"))
    html = doc["items"][0]["content_html"]
    assert "Quellen: " in html
    assert ">General-Anzeiger</a>" in html
    assert "WDR &lt;b&gt;&amp;&quot;Lokal&quot;&lt;/b&gt;</a>" in html
    assert html.count('href="https://news') == 2


def test_item_links_to_the_representative_original(
    client: FlaskClient, seed: Seeder, story_world: dict[str, Any]
) -> None:
    representative = seed.entries(story_world["story"])[0]
    doc = json.loads(get(client, "/feeds/all.json"))
    assert doc["items"][0]["url"] == seed.entry_url(representative)


def test_categories_and_places_are_exported(
    client: FlaskClient, story_world: dict[str, Any]
) -> None:
    parsed = parse(client, "/feeds/all.atom")
    terms = {(t.term, t.scheme) for t in parsed.entries[0].tags}
    assert ("Wirtschaft", "http://localhost/category/wirtschaft") in terms
    assert ("Bonn", "http://localhost/place/bonn") in terms


@pytest.mark.parametrize("fmt", XML_FORMATS)
def test_enclosures_are_passed_through(
    client: FlaskClient, story_world: dict[str, Any], fmt: str
) -> None:
    parsed = parse(client, f"/feeds/all.{fmt}")
    enclosures = parsed.entries[0].enclosures
    assert [(e.href, e.type) for e in enclosures] == [("https://cdn.example/a.mp3", "audio/mpeg")]
    assert str(enclosures[0].length) == "1234"


def test_enclosures_become_json_feed_attachments(
    client: FlaskClient, story_world: dict[str, Any]
) -> None:
    item = json.loads(get(client, "/feeds/all.json"))["items"][0]
    assert item["attachments"] == [
        {"url": "https://cdn.example/a.mp3", "mime_type": "audio/mpeg", "size_in_bytes": 1234}
    ]


def test_atom_entry_links_keep_their_relations(
    client: FlaskClient, story_world: dict[str, Any]
) -> None:
    root = etree.fromstring(get(client, "/feeds/all.atom"))
    rels = sorted(link.get("rel") for link in root.findall(f"{ATOM}entry/{ATOM}link"))
    assert rels == ["alternate", "enclosure"]


@pytest.fixture
def hostile_story(seed: Seeder) -> int:
    evil_source = seed.source(HOSTILE)
    return seed.story(
        HOSTILE,
        [evil_source],
        lead=HOSTILE,
        content=HOSTILE_HTML,
        author=HOSTILE,
        enclosures=[{"url": "javascript:alert(1)", "type": "audio/mpeg", "length": "x"}],
    )


@pytest.mark.parametrize("fmt", XML_FORMATS)
def test_hostile_content_keeps_xml_formats_valid(
    client: FlaskClient, hostile_story: int, fmt: str
) -> None:
    body = get(client, f"/feeds/all.{fmt}")
    parsed = parse(client, f"/feeds/all.{fmt}")
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert len(parsed.entries) == 1
    etree.fromstring(body, etree.XMLParser(recover=False))


def test_hostile_content_keeps_json_feed_valid(client: FlaskClient, hostile_story: int) -> None:
    body = get(client, "/feeds/all.json")
    doc = json.loads(body.decode("utf-8", errors="strict"))
    jsonschema.validate(doc, SCHEMA)
    assert len(doc["items"]) == 1


@pytest.mark.parametrize("fmt", XML_FORMATS)
def test_hostile_markup_never_survives_into_xml_content(
    client: FlaskClient, hostile_story: int, fmt: str
) -> None:
    entry = parse(client, f"/feeds/all.{fmt}", sanitize_html=False).entries[0]
    html = entry.content[0].value if "content" in entry else entry.description
    assert_harmless(html)
    assert entry.enclosures == []


def test_hostile_markup_never_survives_into_json_content(
    client: FlaskClient, hostile_story: int
) -> None:
    item = json.loads(get(client, "/feeds/all.json"))["items"][0]
    assert_harmless(item["content_html"])
    assert "attachments" not in item


def assert_harmless(html: str) -> None:
    lowered = html.lower()
    for needle in ("<script", "javascript:", "onclick", "<iframe"):
        assert needle not in lowered
    assert "\x01" not in html and "\x08" not in html
    assert "Quellen: " in html


def test_hostile_title_is_text_not_markup(client: FlaskClient, hostile_story: int) -> None:
    root = etree.fromstring(get(client, "/feeds/all.atom"))
    title = root.find(f"{ATOM}entry/{ATOM}title")
    assert title is not None and len(title) == 0  # no child elements smuggled in
    assert "<script>alert(1)</script>" in (title.text or "")


def test_hub_link_absent_without_websub(client: FlaskClient, story_world: dict[str, Any]) -> None:
    root = etree.fromstring(get(client, "/feeds/all.atom"))
    assert [link for link in root.findall(f"{ATOM}link") if link.get("rel") == "hub"] == []


def test_xml_safe_drops_everything_xml_cannot_carry() -> None:
    raw = "a\x00b\x08c\x0bd\x1fe\ud800f\ufffeg\x85h\tj\nk"
    assert xml_safe(raw) == "abcdefg\x85h\tj\nk"
