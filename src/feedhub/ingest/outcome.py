"""What a fetch (and parse) means for a source's state: pure decisions.

Kept apart from the poller so every HTTP case (304, unchanged body, 301 twice,
410, 429 with Retry-After, errors with backoff) is decided in one place and can
be tested without a network or a database.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from feedhub.ingest import scheduler
from feedhub.ingest.records import FeedData, FetchResult


@dataclass(frozen=True)
class SourceState:
    url: str
    interval_seconds: int
    error_count: int
    pending_redirect: str | None
    body_hash: str | None


@dataclass
class Decision:
    """How to update the source after one poll."""

    outcome: str  # ok, not_modified, unchanged, error, gone
    error: str | None = None
    error_count: int = 0
    next_in: int = 0  # seconds until the next poll (before the adaptive interval)
    adapt_interval: bool = False  # recompute from publishing frequency
    disable_reason: str | None = None
    move_to: str | None = None  # permanent move confirmed on this poll
    pending_redirect: str | None = None
    retry_after_until: datetime | None = None
    store_entries: bool = False
    remember_validators: bool = False
    problem: str | None = None  # recovered feed with a problem (kept on the source)


def decide(
    state: SourceState,
    result: FetchResult,
    feed: FeedData | None,
    body_hash: str | None,
    bounds: scheduler.Bounds,
    max_backoff: int,
    now: datetime,
    rng: random.Random,
) -> Decision:
    pending = result.permanent_redirect
    move_to = pending if pending and pending == state.pending_redirect else None
    if move_to:
        pending = None

    if result.status == 410:
        return Decision(
            outcome="gone",
            error=result.error or "410 Gone",
            error_count=state.error_count + 1,
            disable_reason="410 Gone: the feed was removed by its publisher",
        )
    if result.retry_after is not None and result.status in (429, 503):
        delay = scheduler.retry_after_delay(result.retry_after, bounds, max_backoff)
        return Decision(
            outcome="error",
            error=result.error or f"{result.status}",
            error_count=state.error_count + 1,
            next_in=delay,
            retry_after_until=now + timedelta(seconds=delay),
            pending_redirect=state.pending_redirect,
        )
    if result.error is not None or result.status is None:
        count = state.error_count + 1
        return Decision(
            outcome="error",
            error=result.error or "no response",
            error_count=count,
            next_in=scheduler.backoff(count, state.interval_seconds, max_backoff, rng),
            pending_redirect=state.pending_redirect,
        )
    if result.not_modified:
        return Decision(
            outcome="not_modified",
            next_in=state.interval_seconds,
            move_to=move_to,
            pending_redirect=pending,
            remember_validators=True,
        )
    if body_hash is not None and body_hash == state.body_hash:
        return Decision(
            outcome="unchanged",
            next_in=state.interval_seconds,
            move_to=move_to,
            pending_redirect=pending,
            remember_validators=True,
        )
    assert feed is not None
    if not feed.is_feed or (feed.problem and not feed.entries and not feed.title):
        count = state.error_count + 1
        return Decision(
            outcome="error",
            error=feed.problem or "not a feed",
            error_count=count,
            next_in=scheduler.backoff(count, state.interval_seconds, max_backoff, rng),
            pending_redirect=pending,
            move_to=move_to,
        )
    return Decision(
        outcome="ok",
        next_in=state.interval_seconds,
        adapt_interval=True,
        move_to=move_to,
        pending_redirect=pending,
        store_entries=True,
        remember_validators=True,
        problem=feed.problem,
    )
