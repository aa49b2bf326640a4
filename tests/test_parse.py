"""process_feed: fixture feeds against their pinned results, plus the promises the
poller relies on (never raises, picklable, hostile input neutralized).

Each ``tests/data/parse/<name>.json`` names its feed file, the URL and response
headers it is parsed with, and the expected :class:`FeedData`. After a deliberate
change of behaviour, re-pin with ``FEEDHUB_PIN_PARSE_FIXTURES=1 pytest tests/test_parse.py``
and review the diff of the JSON files: the diff is the behaviour change.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import re
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from feedhub.ingest.parse import process_feed
from feedhub.ingest.records import FeedData

from .feedserver import FeedServer

DATA = Path(__file__).parent / "data" / "parse"
SPECS = sorted(DATA.glob("*.json"))
DERIVED = (
    "prepared",
    "band_keys",
    "signature",
    "place",
    "sponsored_marker",
    "search_stems",
)
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def feed_as_json(feed: FeedData) -> dict[str, Any]:
    def convert(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        return value

    pinned = {k: convert(v) for k, v in dataclasses.asdict(feed).items()}
    # what the stories stage derives later (prepare_entry) is not parse output
    for entry in pinned["entries"]:
        for name in DERIVED:
            entry.pop(name, None)
    return pinned


def parse_fixture(name: str) -> FeedData:
    spec = json.loads((DATA / f"{name}.json").read_text("utf-8"))
    body = (DATA / spec["source"]).read_bytes()
    return process_feed(body, spec["headers"], spec["url"])


def text_fields(feed: FeedData) -> list[str]:
    fields = [feed.title, feed.site_url, feed.problem or ""]
    for entry in feed.entries:
        fields += [entry.guid or "", entry.url, entry.canonical_url, entry.title, entry.author]
        fields += [entry.summary, entry.content, entry.lead, *entry.feed_categories]
        fields += [str(e) for e in entry.enclosures]
    return fields


@pytest.mark.parametrize("spec_path", SPECS, ids=[p.stem for p in SPECS])
def test_fixture_matches_pinned_result(spec_path: Path) -> None:
    spec = json.loads(spec_path.read_text("utf-8"))
    body = (DATA / spec["source"]).read_bytes()
    actual = feed_as_json(process_feed(body, spec["headers"], spec["url"]))
    if os.environ.get("FEEDHUB_PIN_PARSE_FIXTURES") == "1":
        spec["expected"] = actual
        spec_path.write_text(json.dumps(spec, indent=2, ensure_ascii=False) + "\n", "utf-8")
    assert actual == spec["expected"]


def test_every_fixture_has_a_pinned_result() -> None:
    sources = {json.loads(p.read_text("utf-8"))["source"] for p in SPECS}
    feeds = {p.name for p in DATA.iterdir() if p.suffix != ".json"}
    assert sources == feeds


def test_hostile_html_leaves_nothing_executable() -> None:
    feed = parse_fixture("hostile")
    dangerous = re.compile(
        r"<script|<iframe|<object|<embed|<svg|<math|<form|<input|<style|<base|<meta|<link"
        r"|\son\w+=|javascript:|vbscript:|data:|style=|expression\(|target=|alert\(",
        re.IGNORECASE,
    )
    found = [m.group(0) for f in text_fields(feed) for m in dangerous.finditer(f)]
    assert found == []


def test_hostile_html_keeps_the_harmless_parts() -> None:
    entry = parse_fixture("hostile").entries[0]
    assert '<img src="https://img.example/ok.png"' in entry.content
    assert 'srcset="https://img.example/ok@2x.png 2x"' in entry.content
    assert '<a href="mailto:tips@example.org" rel="noopener noreferrer nofollow">' in entry.content
    assert "<p>End &amp; done.</p>" in entry.content


def test_every_link_gets_noopener_noreferrer_nofollow() -> None:
    for name in ("hostile", "rss20", "atom10", "regional-de"):
        for entry in parse_fixture(name).entries:
            anchors = re.findall(r"<a\b[^>]*>", entry.summary + entry.content)
            assert all('rel="noopener noreferrer nofollow"' in a for a in anchors), anchors


def test_rel_sponsored_is_seen_in_the_raw_html() -> None:
    assert parse_fixture("hostile").entries[0].rel_sponsored is True
    assert not any(e.rel_sponsored for e in parse_fixture("rss20").entries)


def test_hostile_metadata_is_plain_text_and_urls_are_http() -> None:
    feed = parse_fixture("hostile")
    entry = feed.entries[0]
    assert feed.site_url == ""
    assert entry.url == ""
    assert entry.title == "Harmless title"
    assert entry.author == "Mallory"
    assert entry.enclosures == [
        {"url": "https://media.example/ok.mp3", "type": "audio/mpeg", "length": None}
    ]


def test_control_characters_never_reach_the_output() -> None:
    for spec in SPECS:
        feed = parse_fixture(spec.stem)
        assert [f for f in text_fields(feed) if XML_ILLEGAL.search(f)] == [], spec.stem


def test_external_entities_are_never_fetched(feed_server: FeedServer) -> None:
    dtd = feed_server.add("/evil.dtd", body=b'<!ENTITY leak "LEAKED">')
    entity = feed_server.add("/entity.txt", body=b"REMOTE")
    body = f"""<?xml version="1.0"?>
<!DOCTYPE rss [
  <!ENTITY % ext SYSTEM "{dtd}"> %ext;
  <!ENTITY remote SYSTEM "{entity}">
]>
<rss version="2.0"><channel><title>x</title>
<item><title>a &remote; &leak;</title><link>https://x.example/a</link></item>
</channel></rss>""".encode()
    feed = process_feed(body, {"content-type": "application/rss+xml"}, "https://x.example/feed")
    assert feed_server.requests == []
    assert not any("LEAKED" in f or "REMOTE" in f for f in text_fields(feed))


def test_local_files_in_entities_are_never_read() -> None:
    feed = parse_fixture("xxe")
    hostname = Path("/etc/hostname").read_text().strip()
    assert hostname
    assert not any(hostname in f for f in text_fields(feed) if f)


def test_a_body_that_looks_like_a_path_is_not_opened() -> None:
    path = DATA / "rss20.xml"
    feed = process_feed(str(path).encode(), {}, "https://x.example/feed")
    assert feed.is_feed is False
    assert feed.entries == []


def test_billion_laughs_is_defused_quickly() -> None:
    started = time.monotonic()
    feed = parse_fixture("billion-laughs")
    assert time.monotonic() - started < 2.0
    assert all(len(e.title) < 100 for e in feed.entries)


def test_malformed_feed_keeps_recovered_entries_and_names_the_error() -> None:
    feed = parse_fixture("malformed")
    assert feed.is_feed is True
    assert feed.problem == "malformed XML: mismatched tag at line 14"
    assert [e.title for e in feed.entries][:1] == ["Erster Artikel"]
    assert "Dritter Artikel & mehr" in [e.title for e in feed.entries]


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("empty", "empty body"),
        (
            "html-page",
            "not a feed: an HTML page (it announces a feed at https://stadtportal.example/rss.xml)",
        ),
    ],
)
def test_non_feeds_are_flagged(name: str, problem: str) -> None:
    feed = parse_fixture(name)
    assert (feed.is_feed, feed.problem, feed.entries) == (False, problem, [])


def test_latin1_bytes_declared_utf8_are_read_as_windows_1252() -> None:
    feed = parse_fixture("latin1-declared-utf8")
    assert feed.entries[0].title == "Bürgerfest in Hachenburg: Größer als je zuvor"
    assert feed.entries[0].lead == "Über 5.000 Gäste feierten auf dem Alten Markt – trotz Regen."
    assert feed.problem is not None and feed.problem.startswith("wrong encoding:")


def test_utf8_bytes_declared_latin1_are_read_as_utf8() -> None:
    feed = parse_fixture("utf8-declared-latin1")
    assert feed.title == "Moselbote Übersicht"
    assert feed.entries[0].title == "Weinlese in Zell: Erträge über dem Schnitt"
    assert feed.problem == (
        "wrong encoding: declared as iso-8859-1, but the body is UTF-8; read as UTF-8"
    )


def test_utf8_text_xml_without_charset_is_not_a_problem() -> None:
    body = (DATA / "regional-de.xml").read_bytes()
    feed = process_feed(body, {"content-type": "text/xml"}, "https://x.example/feed")
    assert feed.problem is None
    assert feed.entries[0].title == "Deichstadtfest: Straßensperrungen am Wochenende"


def test_header_names_are_case_insensitive() -> None:
    body = (DATA / "utf8-declared-latin1.xml").read_bytes()
    lower = process_feed(body, {"content-type": "text/xml; charset=ISO-8859-1"}, "https://x/f")
    mixed = process_feed(body, {"Content-Type": "text/xml; charset=ISO-8859-1"}, "https://x/f")
    assert lower == mixed


def test_regional_leads_start_with_the_dateline() -> None:
    leads = [e.lead for e in parse_fixture("regional-de").entries]
    assert leads[0].startswith("Neuwied. Für das Deichstadtfest")
    assert leads[1].startswith("Rengsdorf/Puderbach. Sie beteiligt sich")
    assert leads[2].startswith("Kreis Neuwied. Wegen des Feiertags")


def test_relative_links_resolve_against_the_feed_url() -> None:
    entry = parse_fixture("rss20").entries[0]
    assert 'href="https://www.techblatt.example/netz/"' in entry.summary
    assert 'src="https://www.techblatt.example/bilder/bagger.jpg"' in entry.content


def test_xml_base_wins_over_the_feed_url() -> None:
    entries = parse_fixture("atom10").entries
    assert entries[0].url == "https://devnotes.example/blog/posts/code-tags"
    assert 'src="https://cdn.devnotes.example/mirror/pic.png"' in entries[1].content


def test_feed_metadata_title_site_and_ttl() -> None:
    feed = parse_fixture("rss20")
    assert (feed.title, feed.site_url, feed.ttl_minutes) == (
        "Techblatt – Nachrichten aus der IT",
        "https://www.techblatt.example/",
        45,
    )


@pytest.mark.parametrize("ttl", ["0", "-5", "soon", "99999999"])
def test_unusable_ttl_is_ignored(ttl: str) -> None:
    body = f'<rss version="2.0"><channel><title>t</title><ttl>{ttl}</ttl></channel></rss>'
    assert process_feed(body.encode(), {}, "https://x.example/f").ttl_minutes is None


def test_feedburner_origlink_becomes_the_original_url() -> None:
    entry = parse_fixture("rss20").entries[1]
    assert (
        entry.original_url == "https://m.techblatt.example/podcast/mini-pc-test.html?fbclid=abc123"
    )
    assert entry.canonical_url == "techblatt.example/podcast/mini-pc-test.html"


def test_result_survives_pickling() -> None:
    feed = parse_fixture("rss20")
    assert pickle.loads(pickle.dumps(feed)) == feed


def test_runs_in_a_worker_process() -> None:
    spec = json.loads((DATA / "regional-de.json").read_text("utf-8"))
    body = (DATA / spec["source"]).read_bytes()
    with ProcessPoolExecutor(max_workers=1) as pool:
        remote = pool.submit(process_feed, body, spec["headers"], spec["url"]).result(timeout=60)
    local = process_feed(body, spec["headers"], spec["url"])
    assert remote == local


@pytest.mark.parametrize("spec_path", SPECS, ids=[p.stem for p in SPECS])
def test_truncated_bodies_never_raise(spec_path: Path) -> None:
    spec = json.loads(spec_path.read_text("utf-8"))
    body = (DATA / spec["source"]).read_bytes()
    for cut in range(0, len(body), max(1, len(body) // 25)):
        feed = process_feed(body[:cut], spec["headers"], spec["url"])
        assert isinstance(feed, FeedData)
        assert feed.problem is None or "\n" not in feed.problem


@pytest.mark.parametrize(
    "body",
    [
        b"\x00\xff\xfe garbage",
        b"<rss",
        b"<<<>>>",
        "<rss>\udcff</rss>".encode("utf-8", "surrogatepass"),
    ],
)
def test_garbage_never_raises(body: bytes) -> None:
    feed = process_feed(body, {"content-type": "application/xml; charset=bogus-8"}, "not a url")
    assert isinstance(feed, FeedData)


def test_runs_concurrently_in_threads() -> None:
    spec = json.loads((DATA / "rss20.json").read_text("utf-8"))
    body = (DATA / spec["source"]).read_bytes()
    expected = process_feed(body, spec["headers"], spec["url"])
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(lambda _: process_feed(body, spec["headers"], spec["url"]), range(40))
        )
    assert all(result == expected for result in results)


URL_FIELDS_SCRIPT = """
import io, json, sys, feedparser
out = []
for path in sys.argv[1:]:
    d = feedparser.parse(io.BytesIO(open(path, 'rb').read()), sanitize_html=False,
        resolve_relative_uris=False,
        response_headers={'content-location': 'https://quelle.example/feeds/f.xml'})
    out.append([d.feed.get('link'), [[e.get('link'), e.get('id'),
        [link.get('href') for link in e.get('links', [])],
        [c.get('base') for c in e.get('content', [])],
        (e.get('summary_detail') or {}).get('base')] for e in d.entries]])
print(json.dumps(out))
"""


def test_memoized_url_joins_give_feedparsers_own_results() -> None:
    """feedhub memoizes two of feedparser's URL joins; links, ids and bases must not change.

    The same feeds (with xml:base) are parsed by feedparser as shipped and by
    feedparser after feedhub's parse module was imported, each in a fresh interpreter.
    """
    paths = [str(DATA / name) for name in ("atom10.xml", "atom03.xml", "rss20.xml")]

    def run(prelude: str) -> str:
        code = prelude + URL_FIELDS_SCRIPT
        return subprocess.run(
            [sys.executable, "-c", code, *paths], capture_output=True, text=True, check=True
        ).stdout

    prelude = (
        "import feedhub.ingest.parse, feedparser.mixin\n"
        "assert hasattr(feedparser.mixin.make_safe_absolute_uri, '__wrapped__')\n"
    )
    shipped, memoized = run(""), run(prelude)
    assert "devnotes.example/blog" in shipped  # the xml:base joins were exercised
    assert memoized == shipped
