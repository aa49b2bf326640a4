"""Everything the stories stage needs from one entry that does not need the database.

``prepare_feed`` runs at the end of parsing, in the parse worker processes (one
numpy pass computes the MinHash signatures of all of a feed's entries), so the
storing transaction only looks things up and writes: fingerprint (shingles
and LSH band keys), the headline words and number-guard tokens that confirm a
near-duplicate, the dateline place, sponsored markers, and the stemmed pieces of
the search document. The confirmation features are also stored on the entry row
as a compact signature, so a stored candidate is never fingerprinted again.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import NamedTuple

from feedhub.ingest.records import EntryData, FeedData
from feedhub.ingest.sanitize import html_to_text
from feedhub.stories.fingerprint import (
    fingerprint,
    fingerprint_from,
    minhash,
    minhashes,
    shingles_of,
    title_words,
    title_words_of,
)
from feedhub.stories.guard import GuardTokens, guard_tokens, guard_tokens_of
from feedhub.stories.places import extract_dateline, split_places
from feedhub.stories.sponsored import detect_sponsored
from feedhub.stories.stemming import index_terms, index_text, terms_of, words
from feedhub.stories.text import content_of, drop_truncated_tail, tokens_of

SIGNATURE_VERSION = 1
_SEP = "\x1f"


@dataclass(frozen=True)
class Signature:
    """What confirming a near-duplicate compares: shingles, headline stems, guard tokens."""

    shingles: frozenset[int]
    title_words: frozenset[str]
    guard: GuardTokens


def signature_of(title: str, lead: str) -> Signature:
    """The signature computed from text (entries stored before signatures existed)."""
    return Signature(
        fingerprint(title, lead).shingles, title_words(title), guard_tokens(title, lead)
    )


def encode_signature(sig: Signature) -> bytes:
    """Version byte, shingle count, 8-byte shingles, then the words as UTF-8 text."""
    shingles = sorted(sig.shingles)
    words = _SEP.join(
        (
            " ".join(sorted(sig.title_words)),
            " ".join(sorted(sig.guard.numbers)),
            " ".join(sorted(sig.guard.weekdays)),
            " ".join(str(m) for m in sorted(sig.guard.months)),
        )
    )
    return (
        struct.pack(f">BH{len(shingles)}Q", SIGNATURE_VERSION, len(shingles), *shingles)
        + words.encode()
    )


def decode_shingles(blob: bytes) -> frozenset[int] | None:
    """Only the shingles of a stored signature (most candidates fail on these alone)."""
    if not blob or blob[0] != SIGNATURE_VERSION:
        return None
    (count,) = struct.unpack_from(">H", blob, 1)
    return frozenset(struct.unpack_from(f">{count}Q", blob, 3))


def decode_signature(blob: bytes) -> Signature | None:
    """The stored signature, or None when it is missing or from another version."""
    if not blob or blob[0] != SIGNATURE_VERSION:
        return None
    (count,) = struct.unpack_from(">H", blob, 1)
    end = 3 + 8 * count
    shingles = frozenset(struct.unpack_from(f">{count}Q", blob, 3))
    title, numbers, weekdays, months = blob[end:].decode().split(_SEP)
    return Signature(
        shingles=shingles,
        title_words=frozenset(title.split()),
        guard=GuardTokens(
            numbers=frozenset(numbers.split()),
            weekdays=frozenset(weekdays.split()),
            months=frozenset(int(m) for m in months.split()),
        ),
    )


class _Text(NamedTuple):
    """The tokens and shingles of an entry's title and lead."""

    title_tokens: list[str]
    lead: str  # without a truncated tail
    lead_tokens: list[str]
    title_content: list[str]
    shingles: frozenset[int]
    # whether the tokens are also stemming's words (see ``tokens_of``)
    title_plain: bool
    lead_plain: bool


def _text_of(data: EntryData) -> _Text:
    title_tokens, title_plain = tokens_of(data.title)
    lead = drop_truncated_tail(data.lead)
    lead_tokens, lead_plain = tokens_of(lead)
    title_content = content_of(title_tokens)
    shingles = shingles_of(title_content, content_of(lead_tokens))
    return _Text(title_tokens, lead, lead_tokens, title_content, shingles, title_plain, lead_plain)


def prepare_entry(data: EntryData) -> None:
    """Fill *data*'s derived fields (idempotent; pure, safe in a worker process)."""
    text = _text_of(data)
    _derive(data, text, minhash(text.shingles))


def _derive(data: EntryData, text: _Text, sig: tuple[int, ...]) -> None:
    """``prepare_entry`` given the entry's tokens and MinHash signature."""
    fp = fingerprint_from(text.shingles, sig, text.title_content)
    data.band_keys = fp.band_keys
    data.signature = encode_signature(
        Signature(
            fp.shingles,
            title_words_of(text.title_content),
            guard_tokens_of(text.title_tokens + text.lead_tokens),
        )
    )
    data.place = extract_dateline(data.lead) or ""
    data.sponsored_marker = (
        detect_sponsored(
            title=data.title,
            lead=data.lead,
            url=data.url,
            author=data.author,
            feed_categories=[str(c) for c in data.feed_categories],
            rel_sponsored=data.rel_sponsored,
        )
        or ""
    )
    # normalizing sets it; entries built by hand (tests, scripts) may not have it
    content_text = data.content_text = data.content_text or html_to_text(
        data.content or data.summary
    )
    # the pieces of the story's search document; a term said once is enough, and
    # a lead cut from the start of the text has no term of its own
    # (the word before a lead's "…" may be cut: no part of the test)
    covered = _starts_with_words(content_text, text.lead)
    text_terms = terms_of(_text_words(content_text, text, covered))
    in_text = set(text_terms)
    title_words = text.title_tokens if text.title_plain else words(data.title)
    data.search_stems = (
        _joined_new(terms_of(title_words), in_text),
        "" if covered else _joined_new(index_terms(data.lead), in_text),
        " ".join(text_terms),
        index_text(" ".join(dict.fromkeys(split_places(data.place)))) if data.place else "",
    )
    data.prepared = True


def _text_words(content_text: str, text: _Text, covered: bool) -> list[str]:
    """Stemming's ``words`` of the text; a lead the text begins with has its words
    already, when they are its tokens and the text goes on at whitespace."""
    cut = len(text.lead)
    if covered and text.lead_plain and (cut == len(content_text) or content_text[cut].isspace()):
        return text.lead_tokens + words(content_text[cut:])
    return words(content_text)


def _joined_new(terms: list[str], known: set[str]) -> str:
    return " ".join(t for t in terms if t not in known)


def _starts_with_words(text: str, start: str) -> bool:
    """Whether *text* begins with *start*, which ends at a word's end in it."""
    return text.startswith(start) and (len(text) == len(start) or not text[len(start)].isalnum())


def prepare_feed(feed: FeedData, skip: frozenset[str] = frozenset()) -> None:
    """Prepare the entries of a parsed feed but those whose content hash is in
    *skip*; never raises (like parsing).

    An entry that cannot be prepared is left as it is; storing prepares it
    again and reports the error there, in the poll's transaction.
    """
    texts: list[tuple[EntryData, _Text]] = []
    for entry in feed.entries:
        if entry.content_hash in skip:
            continue
        try:
            texts.append((entry, _text_of(entry)))
        except Exception:  # the parse worker must hand back what it has
            continue
    # one numpy pass for the feed: per entry it costs mostly call overhead
    try:
        sigs: list[tuple[int, ...]] | None = minhashes([text.shingles for _, text in texts])
    except Exception:  # then each entry computes its own (and meets the error)
        sigs = None
    for index, (entry, text) in enumerate(texts):
        try:
            _derive(entry, text, sigs[index] if sigs is not None else minhash(text.shingles))
        except Exception:
            continue


def ensure_prepared(data: EntryData) -> None:
    """Prepare entries that did not come through the parse step (tests, scripts)."""
    if not data.prepared:
        prepare_entry(data)
