"""What a poll round waits for: fetches and parses in their pools, feeds waiting to parse.

A round hands the parse workers at most ``slots`` feeds at a time (enough that
a worker never waits for its next one, see ``poller.parse_slots``); the rest
wait here, in order. When the storing thread would otherwise sit idle (at the
start of a round, while the workers start, and whenever parsing falls behind
storing), it takes the newest waiting feed back and parses it itself.

Taking back never cancels a future of the process pool: on Python 3.11 a
cancelled future still in a ``ProcessPoolExecutor``'s queue kills the pool's
manager thread when a worker then dies (CPython gh-107219), and every feed
queued behind it would wait forever.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

T = TypeVar("T")  # a fetch job
U = TypeVar("U")  # a fetched feed, to parse

Kind = Literal["fetch", "parse"]


@dataclass
class InFlight(Generic[T, U]):
    slots: int = 1  # feeds in the parse pool at a time
    futures: dict[Future[Any], tuple[Kind, T | U]] = field(default_factory=dict)
    waiting: deque[U] = field(default_factory=deque)
    parsing: int = 0  # of the futures, parses

    def __len__(self) -> int:
        return len(self.futures) + len(self.waiting)

    def fetching(self, future: Future[Any], job: T) -> None:
        self.futures[future] = ("fetch", job)

    def parsing_in_pool(self, future: Future[Any], feed: U) -> None:
        self.futures[future] = ("parse", feed)
        self.parsing += 1

    def done(self, future: Future[Any]) -> tuple[Kind, T | U]:
        kind, item = self.futures.pop(future)
        if kind == "parse":
            self.parsing -= 1
        return kind, item

    @property
    def pool_has_room(self) -> bool:
        return self.parsing < self.slots

    def next_for_pool(self) -> U | None:
        """The oldest waiting feed, when the pool has room for it."""
        return self.waiting.popleft() if self.waiting and self.pool_has_room else None

    def take_back(self, may_parse_here: Callable[[U], bool]) -> U | None:
        """The newest waiting feed that *may_parse_here* accepts, out of the queue."""
        for index in range(len(self.waiting) - 1, -1, -1):
            feed = self.waiting[index]
            if may_parse_here(feed):
                del self.waiting[index]
                return feed
        return None
