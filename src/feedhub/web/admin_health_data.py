"""Numbers behind the health pages and the dashboard.

Every query here is bounded by an index: fetch statistics read a time window
through ``ix_fetches_started`` or one source's rows through
``ix_fetches_source_started``; entry rates use ``ix_entries_source_seen_id``.
Aggregation by hour happens in SQL with the dialect's own date function, so
a busy instance does not ship a day of fetch rows to Python.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import case, func, select, text
from sqlalchemy.orm import Session

from feedhub.models import Entry, Fetch, Source, Story, User, utcnow

ERROR_OUTCOMES = ("error", "gone")
NOT_MODIFIED_OUTCOMES = ("not_modified", "unchanged")


@dataclass(frozen=True)
class Totals:
    sources: int
    enabled: int
    failing: int
    disabled: int
    entries: int
    stories: int
    users: int


@dataclass(frozen=True)
class HourBucket:
    start: datetime
    polls: int
    errors: int


@dataclass(frozen=True)
class HostSpeed:
    host: str
    polls: int
    avg_ms: float
    max_ms: int


@dataclass(frozen=True)
class FetchSummary:
    total: int
    not_modified: int
    errors: int
    avg_ms: float
    bytes: int
    new_entries: int


def _count(session: Session, stmt: Any) -> int:
    return int(session.scalar(stmt) or 0)


def totals(session: Session) -> Totals:
    sources = select(func.count()).select_from(Source)
    return Totals(
        sources=_count(session, sources),
        enabled=_count(session, sources.where(Source.enabled)),
        failing=_count(session, sources.where(Source.enabled, Source.error_count > 0)),
        disabled=_count(session, sources.where(Source.enabled.is_(False))),
        entries=_count(session, select(func.count()).select_from(Entry)),
        stories=_count(session, select(func.count()).select_from(Story)),
        users=_count(session, select(func.count()).select_from(User)),
    )


def _hour_bucket(session: Session) -> Any:
    if session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m-%d %H:00:00", Fetch.started_at)
    return func.to_char(func.date_trunc("hour", Fetch.started_at), "YYYY-MM-DD HH24:00:00")


def polls_per_hour(
    session: Session, hours: int = 24, now: datetime | None = None
) -> list[HourBucket]:
    """Poll attempts and failures per hour for the last ``hours`` hours, oldest first."""
    now = now or utcnow()
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(hours=hours)
    bucket = _hour_bucket(session).label("bucket")
    is_error = case((Fetch.outcome.in_(ERROR_OUTCOMES), 1), else_=0)
    rows = session.execute(
        select(bucket, func.count(), func.sum(is_error))
        .where(Fetch.started_at >= start, Fetch.started_at < end)
        .group_by(bucket)
    ).all()
    counted = {str(row[0]): (int(row[1]), int(row[2] or 0)) for row in rows}
    out: list[HourBucket] = []
    for index in range(hours):
        hour = start + timedelta(hours=index)
        polls, errors = counted.get(hour.strftime("%Y-%m-%d %H:00:00"), (0, 0))
        out.append(HourBucket(start=hour, polls=polls, errors=errors))
    return out


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def slowest_hosts(session: Session, since: datetime, limit: int = 10) -> list[HostSpeed]:
    """Hosts by mean fetch duration since ``since`` (sources of one host pooled)."""
    rows = session.execute(
        select(
            Fetch.source_id,
            func.count(),
            func.sum(Fetch.duration_ms),
            func.max(Fetch.duration_ms),
        )
        .where(Fetch.started_at >= since)
        .group_by(Fetch.source_id)
    ).all()
    if not rows:
        return []
    urls = {
        int(row[0]): str(row[1])
        for row in session.execute(
            select(Source.id, Source.url).where(Source.id.in_([row[0] for row in rows]))
        )
    }
    pooled: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for source_id, polls, total_ms, max_ms in rows:
        host = host_of(urls.get(source_id, ""))
        acc = pooled[host]
        acc[0] += int(polls)
        acc[1] += int(total_ms or 0)
        acc[2] = max(acc[2], int(max_ms or 0))
    speeds = [
        HostSpeed(host=host, polls=acc[0], avg_ms=acc[1] / acc[0], max_ms=acc[2])
        for host, acc in pooled.items()
        if acc[0]
    ]
    speeds.sort(key=lambda s: s.avg_ms, reverse=True)
    return speeds[:limit]


def database_size(session: Session) -> int | None:
    """Bytes the database occupies (SQLite pages, or PostgreSQL's own figure)."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        pages = session.execute(text("PRAGMA page_count")).scalar()
        size = session.execute(text("PRAGMA page_size")).scalar()
        return int(pages or 0) * int(size or 0)
    if dialect == "postgresql":
        value = session.execute(text("SELECT pg_database_size(current_database())")).scalar()
        return int(value or 0)
    return None


def entries_per_day(
    session: Session, source_ids: Sequence[int], days: int = 7, now: datetime | None = None
) -> dict[int, float]:
    """Mean new entries per day over the last ``days`` days, per source."""
    if not source_ids:
        return {}
    since = (now or utcnow()) - timedelta(days=days)
    rows = session.execute(
        select(Entry.source_id, func.count())
        .where(Entry.source_id.in_(list(source_ids)), Entry.first_seen_at >= since)
        .group_by(Entry.source_id)
    ).all()
    counts = {int(row[0]): int(row[1]) for row in rows}
    return {source_id: counts.get(source_id, 0) / days for source_id in source_ids}


def recent_fetches(session: Session, source_id: int, limit: int = 60) -> list[Fetch]:
    """The source's latest fetches, oldest first (chart order)."""
    rows = session.scalars(
        select(Fetch)
        .where(Fetch.source_id == source_id)
        .order_by(Fetch.started_at.desc(), Fetch.id.desc())
        .limit(limit)
    ).all()
    return list(reversed(rows))


def summarize(fetches: Sequence[Fetch]) -> FetchSummary:
    total = len(fetches)
    return FetchSummary(
        total=total,
        not_modified=sum(1 for f in fetches if f.outcome in NOT_MODIFIED_OUTCOMES),
        errors=sum(1 for f in fetches if f.outcome in ERROR_OUTCOMES),
        avg_ms=(sum(f.duration_ms for f in fetches) / total) if total else 0.0,
        bytes=sum(f.bytes for f in fetches),
        new_entries=sum(f.new_entries for f in fetches),
    )


def window_summary(session: Session, since: datetime) -> FetchSummary:
    """All fetches since ``since``, summarized in SQL (the dashboard's error rate)."""
    is_error = case((Fetch.outcome.in_(ERROR_OUTCOMES), 1), else_=0)
    is_304 = case((Fetch.outcome.in_(NOT_MODIFIED_OUTCOMES), 1), else_=0)
    row = session.execute(
        select(
            func.count(),
            func.sum(is_304),
            func.sum(is_error),
            func.avg(Fetch.duration_ms),
            func.sum(Fetch.bytes),
            func.sum(Fetch.new_entries),
        ).where(Fetch.started_at >= since)
    ).one()
    return FetchSummary(
        total=int(row[0] or 0),
        not_modified=int(row[1] or 0),
        errors=int(row[2] or 0),
        avg_ms=float(row[3] or 0.0),
        bytes=int(row[4] or 0),
        new_entries=int(row[5] or 0),
    )
