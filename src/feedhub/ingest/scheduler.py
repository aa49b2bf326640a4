"""When to poll a source next: pure decisions over plain data.

The interval follows how often a source publishes, is floored by what the
server asks for (Cache-Control max-age, Expires, RSS ttl), clamped between the
admin's bounds and jittered so sources never poll in lockstep. Errors back off
exponentially with jitter; Retry-After wins over both.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from itertools import pairwise

JITTER = 0.1  # ± share of the interval


@dataclass(frozen=True)
class Bounds:
    default: int
    minimum: int
    maximum: int


def server_floor(headers: Mapping[str, str], ttl_minutes: int | None, now: datetime) -> int | None:
    """Seconds the server asked us not to come back before (max-age, Expires, RSS ttl)."""
    floors: list[int] = []
    cache_control = headers.get("cache-control", "")
    match = re.search(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", cache_control, re.IGNORECASE)
    if match:
        floors.append(int(match.group(1)))
    elif "expires" in headers:
        try:
            expires = parsedate_to_datetime(headers["expires"])
        except (TypeError, ValueError, IndexError):
            expires = None
        if expires is not None and expires.tzinfo is not None:
            floors.append(max(0, int((expires - now).total_seconds())))
    if ttl_minutes and ttl_minutes > 0:
        floors.append(ttl_minutes * 60)
    return max(floors) if floors else None


def publishing_interval(published: Sequence[datetime]) -> float | None:
    """Median gap in seconds between recent entries, or None with too few dates."""
    times = sorted(published, reverse=True)
    gaps = [(a - b).total_seconds() for a, b in pairwise(times)]
    gaps = [g for g in gaps if g > 0]
    if len(gaps) < 2:
        return None
    gaps.sort()
    return gaps[len(gaps) // 2]


def jitter(seconds: float, rng: random.Random) -> float:
    return seconds * (1 + rng.uniform(-JITTER, JITTER))


def next_interval(
    bounds: Bounds,
    published: Sequence[datetime],
    floor: int | None,
) -> int:
    """Poll about twice per publishing gap, never below the server's floor, within bounds."""
    gap = publishing_interval(published)
    interval = bounds.default if gap is None else gap / 2
    if floor is not None:
        interval = max(interval, floor)
    return int(min(max(interval, bounds.minimum), bounds.maximum))


def backoff(error_count: int, base: int, cap: int, rng: random.Random) -> int:
    """Exponential backoff: base · 2^(n-1), jittered, capped."""
    exponent = min(max(error_count - 1, 0), 20)
    return int(min(cap, jitter(base * (2**exponent), rng)))


def retry_after_delay(retry_after: float, bounds: Bounds, cap: int) -> int:
    """Honour Retry-After, but not below the minimum interval nor beyond the cap."""
    return int(min(max(retry_after, bounds.minimum), cap))


def needs_unconditional(
    last_unconditional_at: datetime | None, now: datetime, every_seconds: int
) -> bool:
    return last_unconditional_at is None or now - last_unconditional_at >= timedelta(
        seconds=every_seconds
    )
