"""Within-source identity and the unstable-guid detector."""

from __future__ import annotations

from datetime import UTC, datetime

from feedhub.ingest import identify
from feedhub.ingest.records import EntryData


def entry(guid: str | None, url: str, title: str = "T") -> EntryData:
    return EntryData(
        guid=guid,
        url="https://" + url,
        canonical_url=url,
        title=title,
        author="",
        summary="",
        content="",
        lead="",
        published_at=datetime(2026, 11, 1, tzinfo=UTC),
        updated_at=None,
    )


def test_guid_first_then_url_then_title_date() -> None:
    assert identify.identity(entry("g1", "a.example/1"), use_guid=True) == "guid:g1"
    assert identify.identity(entry(None, "a.example/1"), use_guid=True) == "url:a.example/1"
    assert identify.identity(entry("g1", "a.example/1"), use_guid=False) == "url:a.example/1"
    key = identify.identity(entry(None, ""), use_guid=True)
    assert key.startswith("hash:")
    assert key != identify.identity(entry(None, "", title="Other"), use_guid=True)


def test_long_identities_are_capped_but_distinct() -> None:
    a = identify.identity(entry("x" * 2000 + "a", ""), use_guid=True)
    b = identify.identity(entry("x" * 2000 + "b", ""), use_guid=True)
    assert len(a) <= identify.MAX_IDENTITY and a != b


def test_unstable_guids_detected_when_known_urls_get_new_guids() -> None:
    known_ids = {"guid:old1": 1, "guid:old2": 2, "guid:old3": 3}
    known_urls = {"a.example/1": 1, "a.example/2": 2, "a.example/3": 3}
    polled = [entry(f"new{i}", f"a.example/{i}") for i in (1, 2, 3)]
    assert identify.guids_look_unstable(polled, known_ids, known_urls)


def test_stable_guids_not_flagged() -> None:
    known_ids = {"guid:g1": 1}
    known_urls = {"a.example/1": 1, "a.example/2": 2, "a.example/3": 3}
    polled = [entry("g1", "a.example/1"), entry("n2", "a.example/2"), entry("n3", "a.example/3")]
    assert not identify.guids_look_unstable(polled, known_ids, known_urls)
    assert not identify.guids_look_unstable([entry("n", "b.example/x")], {}, {})
