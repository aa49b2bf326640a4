"""SQLAlchemy 2.0 typed ORM models.

Times are stored as naive UTC and handed out as aware UTC (:class:`UTCDateTime`),
so SQLite and PostgreSQL behave the same. Every column that a page or a poll
filters or sorts on has an index; keyset pagination relies on the composite
``(sort_at, id)`` indexes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Naive UTC in the database, aware UTC in Python."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # pragma: no cover - raw SQLite text
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Setting(Base):
    """Admin-changeable settings that live in the database (public reading, …)."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


class Category(Base):
    __tablename__ = "categories"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0, index=True)
    is_fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    # headline used on the front page ("Aktuelle Artikel aus der Wirtschaft"); empty: name
    heading: Mapped[str] = mapped_column(String(300), default="")


class Source(Base):
    """One subscribed feed URL with its poll state."""

    __tablename__ = "sources"
    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    title: Mapped[str] = mapped_column(String(500), default="")
    site_url: Mapped[str] = mapped_column(String(2048), default="")
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL"), index=True
    )
    priority: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    is_sample: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # HTTP validators and body fingerprint
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(200))
    body_hash: Mapped[str | None] = mapped_column(String(64))
    last_unconditional_at: Mapped[datetime | None]
    # schedule
    next_poll_at: Mapped[datetime] = mapped_column(default=utcnow)
    interval_seconds: Mapped[int] = mapped_column(Integer, default=1800)
    min_interval: Mapped[int | None] = mapped_column(Integer)
    max_interval: Mapped[int | None] = mapped_column(Integer)
    cache_max_age: Mapped[int | None] = mapped_column(Integer)
    retry_after_until: Mapped[datetime | None]
    # health
    last_polled_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    last_status: Mapped[int | None] = mapped_column(Integer)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    # a permanent redirect seen on the last poll (moved after two in a row)
    pending_redirect: Mapped[str | None] = mapped_column(String(2048))
    # identity: set when guids were seen changing between polls
    unstable_guids: Mapped[bool] = mapped_column(Boolean, default=False)
    # multi-process leasing
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None]

    category: Mapped[Category | None] = relationship(lazy="joined")

    __table_args__ = (Index("ix_sources_due", "enabled", "next_poll_at"),)

    @property
    def display_title(self) -> str:
        return self.title or self.url


class SourceEvent(Base):
    """History of URL moves (301/308), disables (410) and admin actions on a source."""

    __tablename__ = "source_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))  # moved, disabled, enabled, added
    detail: Mapped[str] = mapped_column(Text, default="")
    old_url: Mapped[str | None] = mapped_column(String(2048))
    new_url: Mapped[str | None] = mapped_column(String(2048))

    __table_args__ = (Index("ix_source_events_source_at", "source_id", "at"),)


class Fetch(Base):
    """One poll attempt of one source."""

    __tablename__ = "fetches"
    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    url: Mapped[str] = mapped_column(String(2048), default="")
    status: Mapped[int | None] = mapped_column(Integer)
    # ok, not_modified, unchanged, error, gone, moved
    outcome: Mapped[str] = mapped_column(String(20))
    bytes: Mapped[int] = mapped_column(Integer, default=0)
    new_entries: Mapped[int] = mapped_column(Integer, default=0)
    updated_entries: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        Index("ix_fetches_source_started", "source_id", "started_at"),
        Index("ix_fetches_started", "started_at"),
    )


class Story(Base):
    """What readers see: one or more entries reporting the same thing."""

    __tablename__ = "stories"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Text, default="")
    lead: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL")
    )
    category_reason: Mapped[str] = mapped_column(String(300), default="")
    representative_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("entries.id", ondelete="SET NULL", use_alter=True, name="fk_story_rep")
    )
    # sort key: when the story was first published (or first seen)
    sort_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    entry_count: Mapped[int] = mapped_column(Integer, default=0)
    source_count: Mapped[int] = mapped_column(Integer, default=0)
    sponsored: Mapped[bool] = mapped_column(Boolean, default=False)
    sponsored_reason: Mapped[str] = mapped_column(Text, default="")
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    places: Mapped[list[Any]] = mapped_column(JSON, default=list)  # display names
    # bumped whenever anything that an output feed shows changes
    version: Mapped[int] = mapped_column(Integer, default=1)

    category: Mapped[Category | None] = relationship(lazy="joined")

    __table_args__ = (
        Index("ix_stories_sort", "sort_at", "id"),
        Index("ix_stories_category_sort", "category_id", "sort_at", "id"),
        Index("ix_stories_updated", "updated_at"),
    )


def stored_content(summary: str, content: str) -> str:
    """The ``entries.content`` column for an item: "" when it repeats the summary.

    Most RSS items carry one description, which normalizing makes both summary
    and content. Stored twice, a typical news item's row outgrew half a SQLite
    page: one entry per 4 KiB page, and twice the bytes to write and keep.
    """
    return "" if content == summary else content


def entry_body(content: str, summary: str) -> str:
    """The full HTML of a stored entry, from its two columns (see ``stored_content``)."""
    return content or summary


class Entry(Base):
    """One item from one source, as published (sanitized)."""

    __tablename__ = "entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    # within-source identity: "guid:…", "url:…" or "hash:…"
    identity: Mapped[str] = mapped_column(String(600))
    guid: Mapped[str | None] = mapped_column(String(2048))
    url: Mapped[str] = mapped_column(String(2048), default="")
    canonical_url: Mapped[str] = mapped_column(String(2048), default="")
    title: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(500), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    # "" when the item's content is its summary (see stored_content); read ``body``
    content: Mapped[str] = mapped_column(Text, default="")
    lead: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    feed_categories: Mapped[list[Any]] = mapped_column(JSON, default=list)
    enclosures: Mapped[list[Any]] = mapped_column(JSON, default=list)
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="SET NULL"))
    # an admin moved this entry (split/merge): the clusterer leaves it alone
    story_pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    sponsored: Mapped[bool] = mapped_column(Boolean, default=False)
    sponsored_reason: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(String(200), default="")
    # near-duplicate confirmation features (feedhub.stories.features), so a stored
    # candidate is never fingerprinted again; NULL for rows stored before it existed
    signature: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    # the keys of its lsh_bands rows (8 bytes each, big-endian), so that they can be
    # deleted by their primary key; None for rows stored before migration 0016
    band_keys: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)

    source: Mapped[Source] = relationship(lazy="joined")

    @property
    def body(self) -> str:
        """The entry's full HTML: its content, or its summary when that is all it has."""
        return entry_body(self.content, self.summary)

    __table_args__ = (
        UniqueConstraint("source_id", "identity", name="uq_entries_source_identity"),
        Index("ix_entries_canonical_url", "canonical_url"),
        Index("ix_entries_story", "story_id"),
        Index("ix_entries_first_seen", "first_seen_at"),
        # a source's entries by time (source page keyset, entry rates, pruning)
        Index("ix_entries_source_seen_id", "source_id", "first_seen_at", "id"),
        # search with a source filter: the source's stories from the index alone
        Index("ix_entries_source_story", "source_id", "story_id"),
    )

    @property
    def effective_date(self) -> datetime:
        return self.published_at or self.updated_at or self.first_seen_at


class Tombstone(Base):
    """Identity of a pruned entry, so the next poll does not bring it back."""

    __tablename__ = "tombstones"
    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    identity: Mapped[str] = mapped_column(String(600))
    pruned_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("source_id", "identity", name="uq_tombstones"),)


class LshBand(Base):
    """MinHash LSH band keys: one row per (entry, band); looked up by day and key.

    The rows *are* the lookup index (a WITHOUT ROWID table on SQLite, keyed by
    what a probe seeks): a poll's lookups and inserts fall into the few days
    around now, a small and hot part of the table however many entries lie
    behind it (see :mod:`feedhub.stories.bulk`). ``at`` is the band time in
    microseconds since the epoch, UTC: eight bytes in the key instead of a
    26-character timestamp.

    ``entry_id`` is no foreign key, and no index leads with it: on SQLite that
    index held every row a second time, and a cold poll's band inserts cost a
    third more and wrote twice the pages. The rows only point to candidates,
    each loaded and confirmed from the entries table. An entry remembers its
    keys (``Entry.band_keys``): a changed or deleted entry's rows are deleted by
    their primary key (migration 0016).
    """

    __tablename__ = "lsh_bands"
    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    band_key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    entry_id: Mapped[int] = mapped_column(Integer, primary_key=True)

    __table_args__ = ({"sqlite_with_rowid": False},)


class BandWrites(Base):
    """One row: a token that every insert of band rows on SQLite replaces.

    The SQLite poller's bitmap of stored band keys (:mod:`feedhub.stories.band_filter`)
    is complete only while the token is the one it last saw or wrote itself.
    """

    __tablename__ = "band_writes"
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[int] = mapped_column(BigInteger)  # random; migration 0012 seeds it


class StoryMerge(Base):
    """Why an entry joined a story (key, similarity), for admins."""

    __tablename__ = "story_merges"
    id: Mapped[int] = mapped_column(primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # new, url, guid, near_duplicate, manual_merge, manual_split
    reason: Mapped[str] = mapped_column(String(40))
    matched_entry_id: Mapped[int | None] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(Text, default="")
    similarity: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (
        Index("ix_story_merges_story", "story_id"),
        Index("ix_story_merges_entry", "entry_id"),
    )


class Place(Base):
    __tablename__ = "places"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)


class StoryPlace(Base):
    __tablename__ = "story_places"
    story_id: Mapped[int] = mapped_column(
        ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True
    )
    place_id: Mapped[int] = mapped_column(
        ForeignKey("places.id", ondelete="CASCADE"), primary_key=True
    )
    sort_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_story_places_place_sort", "place_id", "sort_at", "story_id"),)


class Rule(Base):
    """Admin rule: match (keywords/regex on a field) → action."""

    __tablename__ = "rules"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # title, lead, feed_category, author, source, any
    field: Mapped[str] = mapped_column(String(40), default="any")
    # keywords, regex
    match_type: Mapped[str] = mapped_column(String(20), default="keywords")
    pattern: Mapped[str] = mapped_column(Text)
    # set_category, flag_sponsored, hide
    action: Mapped[str] = mapped_column(String(40))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # bumped on password change: invalidates other sessions
    session_version: Mapped[int] = mapped_column(Integer, default=1)


class LoginAttempt(Base):
    """A failed login, kept briefly: rate limiting that all web processes share."""

    __tablename__ = "login_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    ip: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_login_attempts_key_at", "ip", "username", "at"),
        Index("ix_login_attempts_at", "at"),
    )


class ReadMark(Base):
    __tablename__ = "read_marks"
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    story_id: Mapped[int] = mapped_column(
        ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Star(Base):
    __tablename__ = "stars"
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    story_id: Mapped[int] = mapped_column(
        ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_stars_user_at", "user_id", "at"),)


class OutputFeed(Base):
    """A saved, named filter over stories, published as Atom, RSS and JSON Feed."""

    __tablename__ = "output_feeds"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    subtitle: Mapped[str] = mapped_column(Text, default="")
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    token: Mapped[str | None] = mapped_column(String(100))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PollerLock(Base):
    """On SQLite only one poller runs; this row says which one and until when."""

    __tablename__ = "poller_locks"
    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime]
