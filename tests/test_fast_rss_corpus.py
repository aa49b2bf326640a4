"""The fast RSS path against feedparser on every feed we have: same FeedData, always.

Each feed goes through process_feed twice at one instant, with the fast path and
without it (feedparser only), and the two FeedData must be equal in every field. The
fast path must also really be taken, for a good share of the RSS 2.0 files of
feedparser's corpus and for every generated and sample feed, or a fast path that
always bails out would pass.
"""

from __future__ import annotations

import importlib.util
import io
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import feedparser
import pytest

from feedhub.ingest.fast_rss import parse_rss
from feedhub.ingest.parse import _prepare_headers, _process_feed
from feedhub.ingest.samples import render_sample, sample_manifest

ROOT = Path(__file__).resolve().parent.parent
PARSE_DATA = ROOT / "tests" / "data" / "parse"
NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)
_RSS20_RE = re.compile(rb"<rss\b[^>]*\bversion\s*=\s*[\"']2\.0[\"']")
# what normalize_entry and parse._fill read of feedparser's result
ENTRY_KEYS = (
    "link",
    "feedburner_origlink",
    "pheedo_origlink",
    "origlink",
    "links",
    "title",
    "title_detail",
    "summary",
    "summary_detail",
    "content",
    "published_parsed",
    "updated_parsed",
    "created_parsed",
    "id",
    "authors",
    "author",
    "author_detail",
    "tags",
)
FEED_KEYS = ("title", "title_detail", "link", "ttl")


@dataclass(frozen=True)
class Feed:
    name: str
    body: bytes
    headers: dict[str, str]
    url: str


def takes_fast_path(feed: Feed) -> bool:
    prepared, _ = _prepare_headers(feed.body, feed.headers, feed.url)
    return parse_rss(feed.body, prepared) is not None


def mismatches(feeds: Iterator[Feed] | list[Feed]) -> list[str]:
    """Names of the feeds whose FeedData differ between the two paths."""
    found = []
    for feed in feeds:
        fast = _process_feed(feed.body, feed.headers, feed.url, fast=True, now=NOW)
        slow = _process_feed(feed.body, feed.headers, feed.url, fast=False, now=NOW)
        if fast != slow:
            found.append(feed.name)
    return found


def load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus_feeds(corpus: ModuleType, corpus_root: Path) -> list[Feed]:
    """feedparser's corpus, each file with the headers of its Header: comments."""
    feeds = []
    for path in corpus.corpus_files(corpus_root):
        body = path.read_bytes()
        url = "https://corpus.example/" + path.name
        feeds.append(Feed(str(path), body, corpus.corpus_headers(body), url))
    return feeds


@pytest.fixture(scope="module")
def fixture_feeds() -> list[Feed]:
    """tests/data/parse, with the URL and headers their specs pin."""
    feeds = []
    for spec_path in sorted(PARSE_DATA.glob("*.json")):
        spec = json.loads(spec_path.read_text("utf-8"))
        body = (PARSE_DATA / spec["source"]).read_bytes()
        feeds.append(Feed(spec["source"], body, spec["headers"], spec["url"]))
    return feeds


@pytest.fixture(scope="module")
def generated_feeds() -> list[Feed]:
    """The ingest benchmark's feeds (also after an update with new items) and the
    feedparser benchmark's typical news feed."""
    ingest = load_script("ingest")
    headers = {"content-type": "application/rss+xml; charset=utf-8"}
    base = NOW - timedelta(hours=1)
    feeds = [
        Feed(f"make_feed({i}, {extra})", ingest.make_feed(i, 40, extra, base), headers, url)
        for i in range(0, 100, 10)
        for extra in (0, 5)
        for url in (f"https://quelle{i}.example/feed-{i}.xml",)
    ]
    sample = load_script("feedparser_corpus").sample_feed(40)
    feeds.append(Feed("sample_feed", sample, headers, "https://www.zeitung.example/feed.rss"))
    return feeds


@pytest.fixture(scope="module")
def sample_feeds() -> list[Feed]:
    """feedhub's sample sources, as fetch_sample serves them and with an http(s) URL
    (which makes relative links resolve)."""
    headers = {"content-type": "application/xml; charset=utf-8"}
    feeds = []
    for manifest in sample_manifest():
        name, fmt = manifest["file"], manifest.get("format", "rss")
        body = render_sample(name, NOW - timedelta(minutes=5), fmt)
        for url in (f"feedhub-sample:{name}", f"https://samples.example/{name}"):
            feeds.append(Feed(f"{name} at {url} ({fmt})", body, headers, url))
    return feeds


@pytest.mark.slow
def test_corpus_gives_the_same_feed_data_on_both_paths(corpus_feeds: list[Feed]) -> None:
    assert len(corpus_feeds) > 2000
    assert mismatches(corpus_feeds) == []


@pytest.mark.slow
def test_fast_path_takes_most_rss20_files_of_the_corpus(corpus_feeds: list[Feed]) -> None:
    rss20 = [f for f in corpus_feeds if _RSS20_RE.search(f.body)]
    fast = [f for f in rss20 if takes_fast_path(f)]
    assert len(rss20) > 450
    assert len(fast) >= 0.7 * len(rss20)


def test_fixtures_give_the_same_feed_data_on_both_paths(fixture_feeds: list[Feed]) -> None:
    assert mismatches(fixture_feeds) == []


def test_fast_path_takes_the_plain_rss_fixture(fixture_feeds: list[Feed]) -> None:
    taken = {f.name for f in fixture_feeds if takes_fast_path(f)}
    assert {"rss20.xml", "regional-de.xml"} <= taken


def test_generated_feeds_give_the_same_feed_data_on_both_paths(
    generated_feeds: list[Feed],
) -> None:
    assert mismatches(generated_feeds) == []


def test_fast_path_takes_every_generated_feed(generated_feeds: list[Feed]) -> None:
    assert [f.name for f in generated_feeds if not takes_fast_path(f)] == []


def test_samples_give_the_same_feed_data_on_both_paths(sample_feeds: list[Feed]) -> None:
    assert mismatches(sample_feeds) == []


def test_fast_path_takes_every_rss_sample(sample_feeds: list[Feed]) -> None:
    rss = [f for f in sample_feeds if f.name.endswith("(rss)")]
    assert len(rss) >= 8
    assert [f.name for f in rss if not takes_fast_path(f)] == []


def _read_keys(entry: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    """The keys feedhub reads, as plain data (struct_time as a tuple)."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return tuple(value) if hasattr(value, "tm_year") else value

    data = dict(entry)
    return {key: plain(data[key]) for key in keys if key in data}


def _dict_mismatches(feeds: list[Feed]) -> tuple[int, list[str]]:
    """How many feeds took the fast path, and those whose feed and entry dicts differ
    from feedparser's in a key feedhub reads (stricter than FeedData: normalizing
    could hide a difference)."""
    taken, found = 0, []
    for feed in feeds:
        prepared, _ = _prepare_headers(feed.body, feed.headers, feed.url)
        fast = parse_rss(feed.body, prepared)
        if fast is None:
            continue
        taken += 1
        slow = feedparser.parse(
            io.BytesIO(feed.body),
            response_headers=prepared,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
        if (
            fast["version"] != slow["version"]
            or bool(fast["bozo"]) != bool(slow["bozo"])
            or _read_keys(fast["feed"], FEED_KEYS) != _read_keys(slow["feed"], FEED_KEYS)
            or [_read_keys(e, ENTRY_KEYS) for e in fast["entries"]]
            != [_read_keys(e, ENTRY_KEYS) for e in slow["entries"]]
        ):
            found.append(feed.name)
    return taken, found


@pytest.mark.slow
def test_corpus_dicts_hold_what_feedparser_holds(corpus_feeds: list[Feed]) -> None:
    taken, found = _dict_mismatches(corpus_feeds)
    assert found == []
    assert taken > 300


def test_generated_and_sample_dicts_hold_what_feedparser_holds(
    generated_feeds: list[Feed], sample_feeds: list[Feed], fixture_feeds: list[Feed]
) -> None:
    taken, found = _dict_mismatches(generated_feeds + sample_feeds + fixture_feeds)
    assert found == []
    assert taken > 30
