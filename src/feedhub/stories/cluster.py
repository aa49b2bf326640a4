"""Finding the stories a batch of entries belongs to: exact URL first, then near-duplicates.

One source poll's new entries are clustered together, with a fixed number of
queries however many entries the feed has: one for exact canonical-URL matches,
one that counts LSH band hits, each key in its own entry's time window, one for
the candidates' stored signatures and one for the sources already in
the confirmed stories. Every lookup is an indexed equality or range probe
(``entries.canonical_url``, ``lsh_bands (day, band_key, at)``, ``entries.story_id``),
so the cost per entry does not grow with the number of stored entries.

The rules are those of clustering one entry at a time, in feed order: an
earlier entry of the same poll counts as stored for a later one (its URL joins
at once, its bands take candidate slots, its story now carries this source).
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, case, func, select
from sqlalchemy.orm import Session

from feedhub import sqlite_exec
from feedhub.models import Entry
from feedhub.stories.bulk import Probe, band_hits
from feedhub.stories.features import Signature, decode_shingles, decode_signature, signature_of
from feedhub.stories.fingerprint import similarity, word_overlap
from feedhub.stories.guard import conflict
from feedhub.stories.places import split_places

WINDOW = timedelta(hours=72)
# text similarity that joins on its own (a rewritten headline over the same lead) …
STRONG_SIMILARITY = 0.85
# … and the weaker one that also needs the headlines to share most of their words
MIN_SIMILARITY = 0.65
MIN_TITLE_OVERLAP = 0.6
MAX_CANDIDATES = 12
# a feed date more than this after the first sighting is not believed
MAX_FUTURE = timedelta(hours=1)
_CHUNK = 500
_PROBES = 5000  # band probes per query


@dataclass(frozen=True)
class StoryRef:
    """A stored story (``story_id``) or the new story an earlier batch entry started."""

    story_id: int | None = None
    founder: int | None = None  # batch index of the entry that started the story


@dataclass(frozen=True)
class Assignment:
    """Where an entry goes and why (becomes a StoryMerge row)."""

    story: StoryRef | None  # None: start a new story
    reason: str  # new, url, near_duplicate
    matched_entry_id: int | None = None
    matched_index: int | None = None  # an earlier entry of the same batch
    key: str = ""
    similarity: float | None = None


class _StoredSignature:
    """An entry's stored signature (``encode_signature``), decoded as far as needed.

    Most batch entries meet no candidate to confirm, and most candidates fail
    on the shingles alone; an entry stored without a signature (an empty blob)
    has it computed from its title and lead.
    """

    signature_blob: bytes
    title: str
    lead: str

    @functools.cached_property
    def signature(self) -> Signature:
        return decode_signature(self.signature_blob) or signature_of(self.title, self.lead)

    @functools.cached_property
    def shingles(self) -> frozenset[int]:
        if "signature" not in self.__dict__:
            decoded = decode_shingles(self.signature_blob)
            if decoded is not None:
                return decoded
        return self.signature.shingles


@dataclass
class Pending(_StoredSignature):
    """One entry of the batch, with what clustering needs to know about it."""

    source_id: int
    canonical_url: str
    band_keys: tuple[int, ...]
    band_at: datetime
    signature_blob: bytes  # as stored (``encode_signature``); empty: compute from the text
    title: str
    lead: str
    place: str
    sponsored: bool
    entry_id: int | None = None  # set for stored entries that are clustered again
    places: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.places = _places(self.place)


class _Candidate(_StoredSignature):
    """A stored entry that shares band keys with a batch entry."""

    def __init__(
        self,
        row_id: int,
        story_id: int,
        source_id: int,
        place: str,
        sponsored: bool,
        blob: bytes,
        title: str,
        lead: str,
    ) -> None:
        self.id, self.story_id, self.source_id = row_id, story_id, source_id
        self.places = _places(place)
        self.sponsored = sponsored
        self.signature_blob, self.title, self.lead = blob, title, lead


def band_time(
    published_at: datetime | None, updated_at: datetime | None, first_seen_at: datetime
) -> datetime:
    """The entry's time on the LSH axis: its published date, unless that lies in the future."""
    published = published_at or updated_at
    if published is None or published > first_seen_at + MAX_FUTURE:
        return first_seen_at
    return published


def _places(entry_place: str) -> frozenset[str]:
    return (
        frozenset(p.casefold() for p in split_places(entry_place)) if entry_place else frozenset()
    )


# -- exact stage ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _UrlMatch:
    id: int
    story_id: int
    same_source_pinned: bool


def _url_matches_statement() -> Select[Any]:
    same = case((Entry.source_id == bindparam("source"), 0), else_=1)
    ranked = (
        select(
            Entry.id,
            Entry.story_id,
            Entry.canonical_url,
            same.label("other_source"),
            Entry.story_pinned,
            func.row_number()
            .over(
                partition_by=Entry.canonical_url,
                order_by=(same, Entry.story_pinned.desc(), Entry.id.desc()),
            )
            .label("rank"),
        )
        .where(Entry.canonical_url.in_(bindparam("urls", expanding=True)))
        .where(Entry.story_id.is_not(None))
        .subquery()
    )
    return select(ranked).where(ranked.c.rank == 1)


_URL_MATCHES = _url_matches_statement()


def _url_matches(session: Session, source_id: int, urls: set[str]) -> dict[str, _UrlMatch]:
    """Per canonical URL, the stored entry a new entry of *source_id* would join.

    The same source's copy comes first (a re-published item), then admin-placed
    ones, then the newest.
    """
    found: dict[str, _UrlMatch] = {}
    keys = sorted(urls)
    for start in range(0, len(keys), _CHUNK):
        params = {"source": source_id, "urls": keys[start : start + _CHUNK]}
        for entry_id, story_id, url, other_source, pinned, _rank in sqlite_exec.rows(
            session, _URL_MATCHES, params
        ):
            found[url] = _UrlMatch(entry_id, story_id, other_source == 0 and bool(pinned))
    return found


# -- near-duplicate stage ---------------------------------------------------------------------
def _stored_hits(session: Session, batch: Sequence[Pending]) -> list[Counter[int]]:
    """Per entry, the stored entries with most band rows matching its keys in its window.

    Only the best MAX_CANDIDATES can end up among the candidates (earlier entries
    of the batch may push them out, never in), so no more are fetched; one more
    when the entry is stored itself and must not count as its own candidate.
    """
    best = MAX_CANDIDATES + (1 if any(p.entry_id is not None for p in batch) else 0)
    hits: list[Counter[int]] = [Counter() for _ in batch]
    # an entry's probes always go into the same query: the ranking is per entry
    chunks: list[list[Probe]] = [[]]
    for index, pending in enumerate(batch):
        if len(chunks[-1]) >= _PROBES:
            chunks.append([])
        low, high = pending.band_at - WINDOW, pending.band_at + WINDOW
        chunks[-1].extend((index, key, low, high) for key in set(pending.band_keys))
    for chunk in chunks:
        for index, entry_id, count in band_hits(session, chunk, best):
            if entry_id != batch[index].entry_id:
                hits[index][entry_id] = count
    return hits


def _top_hits(batch: Sequence[Pending], stored: list[Counter[int]]) -> list[dict[int, int]]:
    """Per entry, band hits of its best MAX_CANDIDATES stored entries.

    Earlier entries of the batch compete for the slots as stored ones would
    (they are of the same source and never confirmed, so they are dropped after).
    Only keys that more than one batch entry has can make such a hit.
    """
    key_sets = [set(pending.band_keys) for pending in batch]
    owners = Counter(key for keys in key_sets for key in keys)
    earlier: dict[int, list[tuple[int, datetime]]] = {}
    result: list[dict[int, int]] = []
    for index, pending in enumerate(batch):
        hits = stored[index]
        shared = [key for key in key_sets[index] if owners[key] > 1]
        if shared:
            hits = Counter(hits)
            low, high = pending.band_at - WINDOW, pending.band_at + WINDOW
            for key in shared:
                seen = earlier.setdefault(key, [])
                for other, at in seen:
                    if low <= at <= high:
                        hits[-1 - other] += 1  # batch entries: negative, newest first
                seen.append((index, pending.band_at))
        if not hits:
            result.append({})
            continue
        # most hits first; among equals the newest row first (batch entries are newest)
        ranked = sorted(hits.items(), key=lambda kv: (-kv[1], kv[0] >= 0, -abs(kv[0])))
        result.append({k: v for k, v in ranked[:MAX_CANDIDATES] if k >= 0})
    return result


_CANDIDATES = select(
    Entry.id,
    Entry.story_id,
    Entry.source_id,
    Entry.place,
    Entry.sponsored,
    Entry.signature,
    # the text is only needed for rows stored before signatures existed
    case((Entry.signature.is_(None), Entry.title), else_="").label("title"),
    case((Entry.signature.is_(None), Entry.lead), else_="").label("lead"),
).where(Entry.id.in_(bindparam("ids", expanding=True)), Entry.story_id.is_not(None))


def _load_candidates(session: Session, ids: set[int]) -> dict[int, _Candidate]:
    found: dict[int, _Candidate] = {}
    keys = sorted(ids)
    for start in range(0, len(keys), _CHUNK):
        params = {"ids": keys[start : start + _CHUNK]}
        for (
            entry_id,
            story_id,
            source_id,
            place,
            sponsored,
            signature,
            title,
            lead,
        ) in sqlite_exec.rows(session, _CANDIDATES, params):
            found[entry_id] = _Candidate(
                entry_id,
                story_id,
                source_id,
                place,
                bool(sponsored),
                signature or b"",
                title,
                lead,
            )
    return found


def confirm(pending: Pending, candidates: Sequence[_Candidate]) -> list[tuple[float, int, int]]:
    """(similarity, entry id, story id) of the candidates that pass every check."""
    confirmed: list[tuple[float, int, int]] = []
    for cand in candidates:
        if cand.source_id == pending.source_id or cand.sponsored != pending.sponsored:
            continue
        if pending.places and cand.places and not pending.places & cand.places:
            continue
        sim = similarity(pending.shingles, cand.shingles)
        if sim < MIN_SIMILARITY:
            continue
        own = pending.signature
        if (
            sim < STRONG_SIMILARITY
            and word_overlap(own.title_words, cand.signature.title_words) < MIN_TITLE_OVERLAP
        ):
            continue
        if conflict(own.guard, cand.signature.guard) is not None:
            continue
        confirmed.append((sim, cand.id, cand.story_id))
    return confirmed


_STORY_SOURCES = (
    select(Entry.story_id, Entry.source_id)
    .where(Entry.story_id.in_(bindparam("ids", expanding=True)))
    .distinct()
)


def _story_sources(session: Session, story_ids: set[int]) -> dict[int, set[int]]:
    found: dict[int, set[int]] = defaultdict(set)
    keys = sorted(story_ids)
    for start in range(0, len(keys), _CHUNK):
        for story_id, source_id in sqlite_exec.rows(
            session, _STORY_SOURCES, {"ids": keys[start : start + _CHUNK]}
        ):
            if story_id is not None:
                found[story_id].add(source_id)
    return found


# -- the batch --------------------------------------------------------------------------------
def assign_batch(session: Session, source_id: int, batch: Sequence[Pending]) -> list[Assignment]:
    """The story each entry of one source's batch joins (or None: a new story), in order."""
    if not batch:
        return []
    by_url = _url_matches(session, source_id, {p.canonical_url for p in batch if p.canonical_url})
    top = _top_hits(batch, _stored_hits(session, batch))
    loaded = _load_candidates(session, {i for hits in top for i in hits})
    confirmed: list[list[tuple[float, int, int]]] = []
    for pending, hits in zip(batch, top, strict=True):
        found = confirm(pending, [loaded[i] for i in hits if i in loaded])
        found.sort(key=lambda c: (-c[0], -hits[c[1]], c[1]))
        confirmed.append(found)
    sources = _story_sources(session, {c[2] for found in confirmed for c in found})

    assignments: list[Assignment] = []
    story_of: list[StoryRef] = []
    latest_with_url: dict[str, int] = {}  # canonical URL → batch index
    for index, pending in enumerate(batch):
        assignment = _assign(
            pending, index, by_url, latest_with_url, story_of, confirmed[index], top[index], sources
        )
        story = StoryRef(founder=index) if assignment.story is None else assignment.story
        if story.story_id is not None:
            sources[story.story_id].add(pending.source_id)
        story_of.append(story)
        assignments.append(assignment)
        if pending.canonical_url:
            latest_with_url[pending.canonical_url] = index
    return assignments


def _assign(
    pending: Pending,
    index: int,
    by_url: dict[str, _UrlMatch],
    latest_with_url: dict[str, int],
    story_of: list[StoryRef],
    confirmed: list[tuple[float, int, int]],
    hits: dict[int, int],
    sources: dict[int, set[int]],
) -> Assignment:
    url = pending.canonical_url
    if url:
        stored = by_url.get(url)
        earlier = latest_with_url.get(url)
        # an earlier entry of this poll is the same source's newest copy; only an
        # admin-placed copy of the same source comes before it
        if earlier is not None and not (stored is not None and stored.same_source_pinned):
            return Assignment(story_of[earlier], "url", matched_index=earlier, key=url)
        if stored is not None:
            return Assignment(
                StoryRef(story_id=stored.story_id), "url", matched_entry_id=stored.id, key=url
            )
    for sim, matched_id, story_id in confirmed:
        # a story that already carries an entry of this source is not joined by text alone
        if pending.source_id in sources[story_id]:
            continue
        return Assignment(
            StoryRef(story_id=story_id),
            "near_duplicate",
            matched_entry_id=matched_id,
            key=f"lsh: {hits[matched_id]} band(s)",
            similarity=round(sim, 4),
        )
    return Assignment(None, "new")
