"""prepare_feed (signatures of a feed's entries computed together) equals prepare_entry."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from feedhub.ingest.records import EntryData, FeedData
from feedhub.stories import features
from feedhub.stories.features import prepare_entry, prepare_feed
from feedhub.stories.stemming import index_text

TEXTS = [
    ("Neuwied: Brücke über den Wiedbach wird ab Juni saniert", "Neuwied. Die Stadt saniert …"),
    ("", ""),  # no shingles, no signature
    ("Anzeige: Neue Küchen", ""),
    ("Polizeibericht", "Koblenz (dpa). Ein Satz."),
    ("Ein Titel mit vielen Wörtern für viele Schindeln", " ".join(f"Wort{i}" for i in range(80))),
    ("…", "..."),
    ("Inzidenz sinkt auf 569,0 am Montag", "Mainz. Im März 2023 waren es 12.11.2023 3:1 Werte …"),
]


def entry(n: int, title: str, lead: str) -> EntryData:
    return EntryData(
        guid=f"g{n}",
        url=f"https://news.example/{n}",
        canonical_url=f"https://news.example/{n}",
        title=title,
        author="",
        summary=f"<p>{lead}</p>",
        content=f"<p>{lead}</p>",
        lead=lead,
        content_text=lead,
        published_at=None,
        updated_at=None,
        content_hash=f"h{n}",
    )


def entries() -> list[EntryData]:
    return [entry(n, title, lead) for n, (title, lead) in enumerate(TEXTS * 3)]


def test_prepare_feed_equals_prepare_entry_one_by_one() -> None:
    one_by_one = entries()
    for data in one_by_one:
        prepare_entry(data)
    feed = FeedData(entries=entries())
    prepare_feed(feed)
    assert [dataclasses.asdict(e) for e in feed.entries] == [
        dataclasses.asdict(e) for e in one_by_one
    ]
    assert all(e.prepared for e in feed.entries)


def test_prepare_feed_skips_known_hashes_and_entries_listed_twice() -> None:
    items = entries()
    feed = FeedData(entries=[*items, items[0]])
    prepare_feed(feed, skip=frozenset({"h1", "h4"}))
    assert [e.prepared for e in items] == [n not in (1, 4) for n in range(len(items))]
    expected = copy.deepcopy(items[0])
    prepare_entry(expected)
    assert items[0] == expected


def test_prepare_feed_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry that cannot be prepared is left as it is (storing prepares it again)."""
    real = features._derive

    def broken(data: EntryData, *args: Any) -> None:
        if data.title.startswith("Polizeibericht"):
            raise RuntimeError("boom")
        real(data, *args)

    monkeypatch.setattr(features, "_derive", broken)
    feed = FeedData(entries=entries())
    prepare_feed(feed)
    assert [e.prepared for e in feed.entries] == [
        not e.title.startswith("Polizeibericht") for e in feed.entries
    ]


def test_prepare_feed_falls_back_to_one_signature_per_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(_sets: Any) -> Any:
        raise MemoryError

    monkeypatch.setattr(features, "minhashes", broken)
    one_by_one = entries()
    for data in one_by_one:
        prepare_entry(data)
    feed = FeedData(entries=entries())
    prepare_feed(feed)
    assert feed.entries == one_by_one


@pytest.mark.parametrize(
    ("lead", "text", "lead_terms"),
    [
        # a teaser cut from the text: the text has all its terms
        ("Neuwied. Die Stadt saniert", "Neuwied. Die Stadt saniert die Brücke.", ""),
        ("Neuwied. Die Stadt saniert", "Neuwied. Die Stadt saniert", ""),
        # cut inside a word: only the stump is the lead's own
        ("Koblenz. Der Rat", "Koblenz. Der Rathausplatz wird neu gestaltet.", "rat"),
        ("Mainz. Ein anderer Satz", "Koblenz. Der Rathausplatz.", "mainz ein ander satz"),
        # a lead cut with an ellipsis, its last word cut or whole
        ("Neuwied. Die Stadt saniert die Brü…", "Neuwied. Die Stadt saniert die Brücke.", ""),
        ("Mainz. Der Rat beschließt…", "Koblenz. Der Rathausplatz.", "mainz rat beschliesst"),
    ],
)
def test_the_search_document_holds_each_term_once(lead: str, text: str, lead_terms: str) -> None:
    data = entry(0, "Rat tagt in Koblenz", lead)
    data.content_text = text + " Koblenz. Die Stadt."
    prepare_entry(data)
    title, lead_part, text_part, _place = data.search_stems
    assert text_part == index_text(data.content_text)
    assert lead_part == lead_terms
    assert title == "rat tagt in"  # "koblenz" is in the text


@pytest.mark.parametrize(
    ("title", "lead", "text"),
    [
        # the lead's tokens serve as the text's first words only where they are them
        ("Rat tagt", "Neuwied. Der Rat tagt", "Neuwied. Der Rat tagt heute im Saal"),
        ("Rat 2026", "Koblenz. Am 12.11.2026 tagt", "Koblenz. Am 12.11.2026 tagt der Rat"),
        ("ℌallo Welt", "ℌallo Welt sagt", "ℌallo Welt sagt der Rat"),  # NFKD gives "H"
        ("Titel", "Neuwied™ und", "Neuwied™ und mehr"),  # ™ folds to letters
        ("Titel", "Neuwied. Straße", "Neuwied. Straßenbau beginnt"),  # no whitespace cut
        ("Titel", "Neuwied. Straße", "Neuwied. Straße\u0301 weiter"),  # a mark after it
        ("Ärger über Öl", "Ärger über Öl", "Ärger über Öl\tund Gas"),
        ("Ἀθῆναι", "Ἀθῆναι heute", "Ἀθῆναι heute und morgen"),
    ],
)
def test_search_stems_equal_those_of_each_text_by_itself(title: str, lead: str, text: str) -> None:
    data = entry(0, title, lead)
    data.content_text = text
    prepare_entry(data)
    title_part, lead_part, text_part, _place = data.search_stems
    assert text_part == index_text(text)
    in_text = set(text_part.split())
    assert title_part == " ".join(t for t in index_text(title).split() if t not in in_text)
    # a lead the text begins with (ending at a word's end in it) adds no terms
    starts = text.startswith(lead) and not text[len(lead)].isalnum()
    own = " ".join(t for t in index_text(lead).split() if t not in in_text)
    assert lead_part == ("" if starts else own)
