"""Default categories and the feed-tag synonym table."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from feedhub.db import Database
from feedhub.models import Category
from feedhub.slug import slugify
from feedhub.stories.categories import ensure_default_categories, map_feed_categories
from feedhub.stories.text import fold

KNOWN = {
    fold(name): name
    for name in ["Wirtschaft", "Politik", "Sport", "Technik", "Kultur", "Weitere Artikel"]
}


@pytest.mark.parametrize(
    ("tag", "category"),
    [
        ("Wirtschaft", "Wirtschaft"),
        ("Economy", "Wirtschaft"),
        ("business", "Wirtschaft"),
        ("Finanzen", "Wirtschaft"),
        ("Unternehmen", "Wirtschaft"),
        ("Politics", "Politik"),
        ("Fußball", "Sport"),
        ("Fussball", "Sport"),
        ("Sports", "Sport"),
        ("Tech", "Technik"),
        ("IT", "Technik"),
        ("Digital", "Technik"),
        ("Culture", "Kultur"),
        ("Sport > Fußball", "Sport"),
        ("Nachrichten/Wirtschaft", "Wirtschaft"),
    ],
)
def test_synonyms_map_to_categories(tag: str, category: str) -> None:
    assert map_feed_categories([tag], KNOWN) == (category, tag)


def test_first_mappable_tag_decides() -> None:
    assert map_feed_categories(["Neuwied", "Economy", "Sport"], KNOWN) == ("Wirtschaft", "Economy")


def test_synonym_for_a_missing_category_is_ignored() -> None:
    # "Lokales" exists in the synonym table but not as a category here
    assert map_feed_categories(["Regional"], KNOWN) is None


def test_tag_naming_an_admin_category_directly() -> None:
    known = {**KNOWN, "blaulicht": "Blaulicht"}
    assert map_feed_categories(["Blaulicht"], known) == ("Blaulicht", "Blaulicht")


def test_slugify() -> None:
    assert slugify("Weitere Artikel") == "weitere-artikel"
    assert slugify("Köln & Umgebung") == "koeln-umgebung"


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    with db.session() as s:
        yield s


def test_defaults_are_seeded_in_order_with_headings(session: Session) -> None:
    ensure_default_categories(session, "Weitere Artikel")
    cats = list(session.scalars(select(Category).order_by(Category.position)))
    assert [c.name for c in cats] == [
        "Wirtschaft",
        "Politik",
        "Sport",
        "Technik",
        "Kultur",
        "Weitere Artikel",
    ]
    assert cats[0].heading == "Aktuelle Artikel aus der Wirtschaft"
    assert [c.is_fallback for c in cats] == [False] * 5 + [True]
    assert cats[-1].slug == "weitere-artikel"


def test_seeding_is_idempotent_and_keeps_admin_changes(session: Session) -> None:
    ensure_default_categories(session, "Weitere Artikel")
    sport = session.scalars(select(Category).where(Category.name == "Sport")).one()
    sport.heading = "Sport aus der Region"
    ensure_default_categories(session, "Weitere Artikel")
    assert session.query(Category).count() == 6
    assert sport.heading == "Sport aus der Region"


def test_configured_fallback_name(session: Session) -> None:
    ensure_default_categories(session, "Sonstiges")
    fallback = session.scalars(select(Category).where(Category.is_fallback.is_(True))).one()
    assert (fallback.name, fallback.slug) == ("Sonstiges", "sonstiges")
