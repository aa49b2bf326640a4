"""Within-source identity of an entry: guid, else canonical URL, else title + date.

Some feeds regenerate their guids on every poll. That is detected by comparing
a poll with what is stored: when most entries' URLs are known but none of
their guids are, the source switches to URL identity for good.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from feedhub.ingest.records import EntryData

MAX_IDENTITY = 500
# a poll is evidence of unstable guids when at least this many known URLs arrive
# with guids that are all new
MIN_EVIDENCE = 3


def _cap(value: str) -> str:
    if len(value) <= MAX_IDENTITY:
        return value
    return value[:400] + "#" + hashlib.sha256(value.encode()).hexdigest()


def title_date_key(entry: EntryData) -> str:
    date = entry.published_at or entry.updated_at
    raw = f"{entry.title}\x00{date.isoformat() if date else ''}"
    return "hash:" + hashlib.sha256(raw.encode()).hexdigest()[:40]


def url_key(entry: EntryData) -> str | None:
    return _cap("url:" + entry.canonical_url) if entry.canonical_url else None


def guid_key(entry: EntryData) -> str | None:
    guid = (entry.guid or "").strip()
    return _cap("guid:" + guid) if guid else None


def identity(entry: EntryData, *, use_guid: bool) -> str:
    """The key an entry is stored under for its source."""
    if use_guid:
        key = guid_key(entry)
        if key:
            return key
    return url_key(entry) or title_date_key(entry)


def guids_look_unstable(
    entries: Iterable[EntryData],
    known_identities: Mapping[str, object],
    known_urls: Mapping[str, object],
) -> bool:
    """True when known URLs come back under guids the source never used before."""
    known_url_new_guid = 0
    known_guid = 0
    for entry in entries:
        gk = guid_key(entry)
        if gk is None:
            continue
        if gk in known_identities:
            known_guid += 1
        elif entry.canonical_url and entry.canonical_url in known_urls:
            known_url_new_guid += 1
    return known_guid == 0 and known_url_new_guid >= MIN_EVIDENCE
