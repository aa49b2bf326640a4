"""Default categories, slugs, and the feed-category synonym table.

Feeds tag their items in their own words ("Economy", "Finanzen", "Fußball");
the synonym table folds those onto the few categories readers browse.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedhub.models import Category
from feedhub.slug import slugify
from feedhub.stories.text import fold

DEFAULT_FALLBACK = "Weitere Artikel"


@dataclass(frozen=True)
class DefaultCategory:
    name: str
    slug: str
    heading: str


DEFAULT_CATEGORIES = (
    DefaultCategory("Wirtschaft", "wirtschaft", "Aktuelle Artikel aus der Wirtschaft"),
    DefaultCategory("Politik", "politik", "Aktuelle Artikel aus der Politik"),
    DefaultCategory("Sport", "sport", "Aktuelle Artikel aus dem Sport"),
    DefaultCategory("Technik", "technik", "Aktuelle Artikel aus der Technik"),
    DefaultCategory("Kultur", "kultur", "Aktuelle Artikel aus der Kultur"),
)

# folded feed tag → category name
SYNONYMS: dict[str, str] = {}
for _target, _words in {
    "Wirtschaft": "wirtschaft economy economics business finanzen finance finances "
    "unternehmen companies markets märkte börse boerse geld money handel arbeitsmarkt",
    "Politik": "politik politics political government regierung bundestag landtag "
    "inland ausland world welt international wahlen elections",
    "Sport": "sport sports fußball fussball football soccer bundesliga handball "
    "basketball tennis motorsport formel 1 olympia",
    "Technik": "technik tech technology technologie it digital digitales internet "
    "computer software hardware netzwelt wissenschaft science web",
    "Kultur": "kultur culture kunst art arts musik music theater film kino "
    "literatur bücher books feuilleton entertainment unterhaltung",
    "Lokales": "lokales lokal local regional region regionales stadt kreis heimat",
    "Panorama": "panorama vermischtes gesellschaft society buntes leute people",
}.items():
    for _word in _words.split():
        SYNONYMS[fold(_word)] = _target
SYNONYMS[fold("Formel 1")] = "Sport"


def unique_category_slug(session: Session, name: str, own_id: int | None = None) -> str:
    """The slug of ``name``, numbered ("-2", "-3" …) when another category has it."""
    slug = base = slugify(name)
    n = 2
    while True:
        taken = session.scalar(select(Category.id).where(Category.slug == slug))
        if taken is None or taken == own_id:
            return slug
        slug = f"{base}-{n}"
        n += 1


def _resolve(folded: str, known: dict[str, str]) -> str | None:
    if folded in known:
        return known[folded]
    target = SYNONYMS.get(folded)
    if target is not None and fold(target) in known:
        return known[fold(target)]
    return None


def map_feed_categories(tags: Iterable[str], known: dict[str, str]) -> tuple[str, str] | None:
    """The first tag that names a known category (directly or through a synonym).

    *known* maps folded category names and slugs to their display names;
    returns (category name, the tag that decided it). Compound tags
    ("Wirtschaft/Regional", "Sport > Fußball") are tried part by part.
    """
    for tag in tags:
        folded = fold(tag.strip())
        if not folded:
            continue
        name = _resolve(folded, known)
        if name is None:
            for part in re.split(r"\s*[/>|,;:]\s*", folded):
                name = _resolve(part, known)
                if name is not None:
                    break
        if name is not None:
            return name, tag
    return None


def ensure_default_categories(session: Session, fallback_name: str) -> None:
    """Create the default categories and the fallback once; never touches existing ones."""
    existing = session.scalars(select(Category)).all()
    names = {fold(c.name) for c in existing}
    slugs = {c.slug for c in existing}
    position = max((c.position for c in existing), default=0)
    for default in DEFAULT_CATEGORIES:
        if fold(default.name) in names or default.slug in slugs:
            continue
        position += 10
        session.add(
            Category(
                name=default.name, slug=default.slug, heading=default.heading, position=position
            )
        )
        names.add(fold(default.name))
        slugs.add(default.slug)
    session.flush()
    ensure_fallback_category(session, fallback_name)


def ensure_fallback_category(session: Session, fallback_name: str) -> Category:
    """The fallback category: the flagged one, else the one so named, else a new one."""
    existing = session.scalars(select(Category)).all()
    flagged = next((c for c in existing if c.is_fallback), None)
    if flagged is not None:
        return flagged
    category = next((c for c in existing if fold(c.name) == fold(fallback_name)), None)
    if category is None:
        category = Category(
            name=fallback_name,
            slug=unique_category_slug(session, fallback_name),
            heading="Weitere aktuelle Artikel" if fallback_name == DEFAULT_FALLBACK else "",
            position=10_000,
        )
        session.add(category)
    category.is_fallback = True
    session.flush()
    return category
