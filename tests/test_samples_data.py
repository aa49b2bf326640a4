"""The bundled sample feeds and the starter OPML are data the first run depends on.

A fresh install without internet ingests the sample feeds through the normal pipeline, so a
broken file would show an empty reader; the samples also carry the material the story
folding, dateline and sponsored-content stages are demonstrated with. These tests check the
data itself, without a database: the loader that feeds them to the pipeline is tested elsewhere.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from calendar import timegm
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import feedparser
import pytest

SAMPLES = Path(__file__).resolve().parents[1] / "src" / "feedhub" / "samples"
PLACEHOLDER = re.compile(r"\{\{minutes_ago:(\d+)\}\}")
THREE_DAYS_MINUTES = 3 * 24 * 60
SOURCES: list[dict[str, Any]] = json.loads((SAMPLES / "sources.json").read_text("utf-8"))
SOURCE_IDS = [source["file"] for source in SOURCES]

# Item counts the sample brief asks for, per file.
ITEM_RANGES = {
    "neuwieder-rundschau.xml": (10, 12),
    "rhein-wied-kurier.xml": (9, 12),
    "koblenzer-stadtanzeiger.xml": (8, 10),
    "technik-ticker.xml": (8, 10),
    "tech-wire.xml": (6, 8),
}
REGIONAL = ["neuwieder-rundschau.xml", "rhein-wied-kurier.xml", "koblenzer-stadtanzeiger.xml"]


def render(text: str, fmt: str, now: datetime) -> str:
    """Fill the date placeholders the way the loader does: RFC 822 for RSS, RFC 3339 for Atom."""

    def replace(match: re.Match[str]) -> str:
        when = now - timedelta(minutes=int(match.group(1)))
        return format_datetime(when) if fmt == "rss" else when.isoformat(timespec="seconds")

    return PLACEHOLDER.sub(replace, text)


def raw(file: str) -> str:
    return (SAMPLES / file).read_text("utf-8")


def source(file: str) -> dict[str, Any]:
    return next(s for s in SOURCES if s["file"] == file)


def parse(file: str, now: datetime | None = None) -> Any:
    now = now or datetime.now(UTC)
    body = render(raw(file), source(file)["format"], now).encode("utf-8")
    return feedparser.parse(body, sanitize_html=False)


def lead(entry: Any) -> str:
    """The plain text of an entry's description, as a reader would see it."""
    return html.unescape(re.sub(r"<[^>]+>", " ", entry.get("summary", ""))).strip()


def dateline(text: str) -> str | None:
    """The dateline of a regional lead ("Kreis Neuwied. …"), or None for an ordinary sentence.

    Good enough for checking the data: a dateline is at most three words before the first
    full stop, all capitalised but for joiners ("Linz am Rhein"), so "Endlich wieder
    Deichstadtfest." is an ordinary sentence. The product's extractor lives elsewhere.
    """
    head, sep, _ = text.partition(". ")
    words = head.split()
    if not sep or not 1 <= len(words) <= 3:
        return None
    if not all(w[:1].isupper() or w in {"am", "an", "der", "im", "bei"} for w in words):
        return None
    return head


def is_example_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    reserved = ("example.com", "example.org", "example.net")
    return (
        host == "example"
        or host.endswith(".example")
        or host in reserved
        or host.endswith(tuple("." + r for r in reserved))
    )


def test_sources_json_names_every_sample_feed_once() -> None:
    on_disk = {p.name for p in SAMPLES.glob("*.xml")}
    assert sorted(SOURCE_IDS) == sorted(on_disk)


def test_sources_json_entries_are_well_formed() -> None:
    for entry in SOURCES:
        assert set(entry) == {"file", "title", "category", "priority", "format", "site_url"}
        assert entry["format"] in {"rss", "atom"}
        assert isinstance(entry["priority"], int)
        assert entry["title"] and entry["category"]
        site = urlsplit(entry["site_url"])
        assert site.scheme == "https" and is_example_host(site.hostname or "")
    assert len({e["title"] for e in SOURCES}) == len(SOURCES)


def test_regional_original_outranks_its_republisher() -> None:
    assert (
        source("neuwieder-rundschau.xml")["priority"] > source("rhein-wied-kurier.xml")["priority"]
    )
    assert source("tech-wire.xml")["priority"] > source("technik-ticker.xml")["priority"]


@pytest.mark.parametrize("file", SOURCE_IDS)
def test_sample_feed_parses_without_errors(file: str) -> None:
    parsed = parse(file)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == ("atom10" if source(file)["format"] == "atom" else "rss20")
    assert parsed.feed.title == source(file)["title"]


@pytest.mark.parametrize("file", SOURCE_IDS)
def test_sample_feed_item_count(file: str) -> None:
    low, high = ITEM_RANGES[file]
    assert low <= len(parse(file).entries) <= high


@pytest.mark.parametrize("file", SOURCE_IDS)
def test_every_date_is_a_placeholder_within_three_days(file: str) -> None:
    text = raw(file)
    dates = re.findall(r"<(pubDate|lastBuildDate|published|updated)>([^<]*)<", text)
    assert dates
    for _, value in dates:
        match = PLACEHOLDER.fullmatch(value.strip())
        assert match, value
        assert 0 <= int(match.group(1)) <= THREE_DAYS_MINUTES


@pytest.mark.parametrize("file", SOURCE_IDS)
def test_entries_render_newest_first_relative_to_now(file: str) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    entries = parse(file, now).entries
    published = [datetime.fromtimestamp(timegm(e.published_parsed), UTC) for e in entries]
    assert published == sorted(published, reverse=True)
    assert all(now - timedelta(days=3) <= p <= now for p in published)


@pytest.mark.parametrize("file", SOURCE_IDS)
def test_entries_have_title_link_id_and_lead(file: str) -> None:
    for entry in parse(file).entries:
        assert entry.title and entry.id and lead(entry)
        assert urlsplit(entry.link).scheme in {"http", "https"}


def test_entry_ids_are_unique_across_samples() -> None:
    ids = [e.id for file in SOURCE_IDS for e in parse(file).entries]
    assert [i for i, n in Counter(ids).items() if n > 1] == []


@pytest.mark.parametrize("file", SOURCE_IDS)
def test_sample_hosts_are_reserved_example_hosts(file: str) -> None:
    text = re.sub(r'xmlns(:\w+)?="[^"]*"', "", raw(file))
    hosts = {urlsplit(url).hostname or "" for url in re.findall(r"https?://[^\s\"'<>]+", text)}
    hosts |= set(re.findall(r"[\w.+-]+@([\w-]+(?:\.[\w-]+)+)", text))
    hosts |= set(re.findall(r"tag:([\w.-]+),", text))
    assert hosts
    assert sorted(h for h in hosts if not is_example_host(h)) == []


def test_republisher_links_originals_through_url_variants() -> None:
    """The exact-URL stage needs copies that differ only by tracking, scheme or mobile host."""
    original_host = urlsplit(source("neuwieder-rundschau.xml")["site_url"]).hostname or ""
    bare = original_host.removeprefix("www.")
    links = [urlsplit(e.link) for e in parse("rhein-wied-kurier.xml").entries]
    to_original = [u for u in links if (u.hostname or "").endswith(bare)]
    assert any(k.startswith("utm_") for u in to_original for k, _ in parse_qsl(u.query))
    assert any(u.scheme == "http" for u in to_original)
    assert any((u.hostname or "").startswith("m.") for u in to_original)


def test_republisher_rewrites_some_stories_under_its_own_urls() -> None:
    """The near-duplicate stage needs copies with other URLs, edited titles, cut teasers."""
    own_host = urlsplit(source("rhein-wied-kurier.xml")["site_url"]).hostname
    entries = parse("rhein-wied-kurier.xml").entries
    cut = [e for e in entries if lead(e).endswith(" …") and urlsplit(e.link).hostname == own_host]
    assert len(cut) >= 2
    originals = {
        e.title
        for file in SOURCE_IDS
        if file != "rhein-wied-kurier.xml"
        for e in parse(file).entries
    }
    assert not {e.title for e in cut} & originals


def test_english_source_shares_a_story_with_the_german_ticker() -> None:
    english = {e.link for e in parse("tech-wire.xml").entries}
    german = [urlsplit(e.link) for e in parse("technik-ticker.xml").entries]
    assert any(f"{u.scheme}://{u.netloc}{u.path}" in english for u in german)


def test_daily_reports_differ_only_in_figures() -> None:
    """Hard negatives for story folding: same template, other numbers, both within 72 h."""
    templates = Counter(
        (file, re.sub(r"\d+", "#", e.title)) for file in SOURCE_IDS for e in parse(file).entries
    )
    assert len([t for t, n in templates.items() if n >= 2]) >= 3


def test_advertorial_is_labelled_as_such() -> None:
    ads = [
        e
        for e in parse("koblenzer-stadtanzeiger.xml").entries
        if "Anzeige" in {t.term for t in e.get("tags", [])}
    ]
    assert len(ads) == 1
    assert ads[0].title.startswith("Werbung:") and "(prm)" in ads[0].title


def test_regional_leads_mix_datelines_and_ordinary_sentences() -> None:
    leads = [lead(e) for file in REGIONAL for e in parse(file).entries]
    places = {dateline(text) for text in leads}
    assert {
        "Neuwied",
        "Kreis Neuwied",
        "Rengsdorf/Puderbach",
        "Bad Hönningen",
        "Koblenz",
        "Mainz",
    } <= places
    assert any(text.startswith("Koblenz. Sie ") for text in leads)
    assert sum(dateline(text) is None for text in leads) >= 3


def test_starter_opml_lists_real_feeds_in_categories() -> None:
    root = ET.parse(SAMPLES / "starter.opml").getroot()
    assert root.tag == "opml" and root.get("version") == "2.0"
    body = root.find("body")
    assert body is not None
    feeds = []
    for category in body.findall("outline"):
        assert category.get("xmlUrl") is None and category.get("text")
        feeds += [o.get("xmlUrl", "") for o in category.iter("outline") if o.get("xmlUrl")]
    assert len(feeds) == len([o for o in body.iter("outline") if o.get("xmlUrl")])
    assert len(feeds) >= 15 and len(set(feeds)) == len(feeds)
    for url in feeds:
        parts = urlsplit(url)
        assert parts.scheme in {"http", "https"} and not is_example_host(parts.hostname or "")
