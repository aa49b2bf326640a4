"""The round's bookkeeping of fetches, parses and feeds waiting for a parse worker."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from feedhub.ingest.in_flight import InFlight


def test_the_pool_has_room_for_as_many_feeds_as_it_has_slots() -> None:
    flight: InFlight[str, str] = InFlight(slots=2)
    first: Future[Any] = Future()
    flight.parsing_in_pool(first, "a")
    flight.parsing_in_pool(Future(), "b")
    flight.waiting.extend(["c", "d"])
    assert not flight.pool_has_room and flight.next_for_pool() is None
    assert flight.done(first) == ("parse", "a")
    assert flight.next_for_pool() == "c"  # oldest first
    assert len(flight) == 2  # "b" in the pool, "d" waiting


def test_fetches_do_not_take_parse_slots() -> None:
    flight: InFlight[str, str] = InFlight(slots=1)
    fetch: Future[Any] = Future()
    flight.fetching(fetch, "job")
    assert flight.pool_has_room
    assert flight.done(fetch) == ("fetch", "job") and flight.parsing == 0


def test_the_newest_acceptable_waiting_feed_is_taken_back() -> None:
    flight: InFlight[str, str] = InFlight()
    flight.waiting.extend(["small-1", "large", "small-2", "huge"])
    assert flight.take_back(lambda feed: feed.startswith("small")) == "small-2"
    assert list(flight.waiting) == ["small-1", "large", "huge"]
    assert flight.take_back(lambda feed: feed == "none") is None
