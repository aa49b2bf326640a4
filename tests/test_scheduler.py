"""When to poll next: adaptive interval, server floors, backoff, jitter."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from feedhub.ingest import scheduler

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
BOUNDS = scheduler.Bounds(default=1800, minimum=300, maximum=86400)


def hourly(n: int) -> list[datetime]:
    return [NOW - timedelta(hours=i) for i in range(n)]


def test_unknown_frequency_uses_default() -> None:
    assert scheduler.next_interval(BOUNDS, [], None) == 1800


def test_interval_follows_publishing_frequency() -> None:
    assert scheduler.next_interval(BOUNDS, hourly(10), None) == 1800  # half the hourly gap
    daily = [NOW - timedelta(days=i) for i in range(10)]
    assert scheduler.next_interval(BOUNDS, daily, None) == 43200


def test_interval_clamped_to_bounds() -> None:
    busy = [NOW - timedelta(minutes=i) for i in range(10)]
    assert scheduler.next_interval(BOUNDS, busy, None) == 300
    rare = [NOW - timedelta(days=30 * i) for i in range(5)]
    assert scheduler.next_interval(BOUNDS, rare, None) == 86400


def test_server_floor_wins_over_frequency() -> None:
    assert scheduler.next_interval(BOUNDS, hourly(10), 7200) == 7200


def test_floor_from_max_age_expires_and_ttl() -> None:
    assert scheduler.server_floor({"cache-control": "public, max-age=900"}, None, NOW) == 900
    expires = (NOW + timedelta(hours=2)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert scheduler.server_floor({"expires": expires}, None, NOW) == 7200
    assert scheduler.server_floor({}, 60, NOW) == 3600
    assert scheduler.server_floor({"cache-control": "max-age=60"}, 30, NOW) == 1800
    assert scheduler.server_floor({"expires": "garbage"}, None, NOW) is None


def test_backoff_grows_and_is_capped() -> None:
    rng = random.Random(1)
    delays = [scheduler.backoff(n, 1800, 86400, rng) for n in range(1, 10)]
    assert 1800 * 0.9 <= delays[0] <= 1800 * 1.1
    assert 3600 * 0.9 <= delays[1] <= 3600 * 1.1
    assert delays[-1] == 86400
    assert all(d <= 86400 for d in delays)


def test_jitter_spreads_sources() -> None:
    rng = random.Random(2)
    values = {round(scheduler.jitter(1800, rng)) for _ in range(50)}
    assert len(values) > 30
    assert all(1620 <= v <= 1980 for v in values)


def test_retry_after_respected_within_limits() -> None:
    assert scheduler.retry_after_delay(3600, BOUNDS, 86400) == 3600
    assert scheduler.retry_after_delay(5, BOUNDS, 86400) == 300
    assert scheduler.retry_after_delay(10**9, BOUNDS, 86400) == 86400


def test_unconditional_fetch_every_12h() -> None:
    every = 12 * 3600
    assert scheduler.needs_unconditional(None, NOW, every)
    assert not scheduler.needs_unconditional(NOW - timedelta(hours=11), NOW, every)
    assert scheduler.needs_unconditional(NOW - timedelta(hours=12), NOW, every)
