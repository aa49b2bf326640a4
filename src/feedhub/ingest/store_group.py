"""Group commit for the SQLite poller: source polls in one transaction, committed together.

A commit on SQLite writes every page the transaction changed to the WAL, one
frame (and write call) per page. A cold poll's 40 entries bring some 400 LSH
band rows whose keys are hashes, so nearly every row lands on a page of its
own: the commit, not the inserts, was a fifth of the storing thread's time.
Committed together, the polls of a group share those pages.

Each source poll still applies whole or not at all, optimistically: polls fail
rarely, so they run without savepoints (a savepoint keeps a copy of every page
a poll touches first, 6 % of a cold poll's storing time). When a poll fails,
the whole group's transaction is rolled back and the polls stored in it before
are handed back (``take_back``) for the poller to store again, in a new group.
Search-index changes are kept aside on the group's session and written for the
whole group just before COMMIT, in the same transaction (see
``feedhub.stories.search.DeferredSearchWrites``). A failed COMMIT (a deferred
constraint, a full disk) fails every poll of its group. A poll counts (summary,
progress) only once its group has committed.

Only the SQLite poller that holds the poller lock groups: it is the only writer
of its kind, and takes the write lock with ``BEGIN IMMEDIATE`` so that no other
connection's commit can make its first write fail. It commits when the group is
full or old (``MAX_SECONDS``), also while it waits for fetches and parses: readers
see a stored poll at most that long after it. (Committing at every wait, a cold
poll's groups held 6-7 polls instead of 20; each COMMIT rewrites the band
table's pages that the group touched, whatever their number of new rows.) After holding the write
lock for ``HOLD_SECONDS`` with no real pause, it leaves the lock free for a
moment (``GAP_SECONDS``) before the next group: SQLite's busy handler retries on
a timer, and a lock taken again microseconds after each COMMIT would let a long
cold poll starve the web process's writes.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from feedhub.db import Database
from feedhub.stories.search import SEARCH_QUEUE, DeferredSearchWrites

log = logging.getLogger(__name__)

MAX_POLLS = 20
MAX_SECONDS = 0.25
GAP_SECONDS = 0.005
HOLD_SECONDS = 0.5  # at most about 1 % of a busy poller's time goes to the gaps

T = TypeVar("T")


class GroupRolledBack(RuntimeError):
    """The group's transaction ended before its COMMIT, so none of its polls is stored."""


@dataclass
class StoreGroup(Generic[T]):
    """Open write transaction of the poller's current group, and what it stored."""

    db: Database
    max_polls: int = MAX_POLLS
    max_seconds: float = MAX_SECONDS
    gap_seconds: float = GAP_SECONDS
    hold_seconds: float = HOLD_SECONDS
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _session: Session | None = None
    _driver: sqlite3.Connection | None = None
    _opened: float = 0.0
    _closed: float | None = None
    _held_since: float | None = None  # start of the current run of back-to-back groups
    _handed_back: list[T] = field(default_factory=list)  # see take_back
    _stored: list[T] = field(default_factory=list)

    @contextmanager
    def poll(self) -> Iterator[Session]:
        """The group's transaction, for one source poll.

        On an exception the whole transaction is rolled back (and the group
        closed), the polls stored in it before are kept for ``take_back``, and
        the exception propagates.
        """
        session = self._session if self._session is not None else self._open()
        try:
            yield session
            session.flush()  # the poll's own ORM changes fail here, not in the next one
        except BaseException:
            self._handed_back.extend(self._stored)
            self._session, self._driver, self._stored = None, None, []
            self._closed = self.clock()
            self._discard(session)  # its search-index queue with it
            raise

    def take_back(self) -> list[T]:
        """The polls that a failed poll's rollback took with it, to be stored again."""
        polls, self._handed_back = self._handed_back, []
        return polls

    def stored(self, item: T) -> None:
        """Remember a poll that stood (reported after the commit)."""
        self._stored.append(item)

    @property
    def due(self) -> bool:
        return self._session is not None and (
            len(self._stored) >= self.max_polls or self.clock() - self._opened >= self.max_seconds
        )

    def time_left(self) -> float | None:
        """Seconds until the open group is due by age; None when no group is open."""
        if self._session is None:
            return None
        return max(0.0, self.max_seconds - (self.clock() - self._opened))

    @property
    def open(self) -> bool:
        return self._session is not None

    def commit(self) -> tuple[list[T], Exception | None]:
        """Commit the group: the polls it held, and an error if they were not stored
        (COMMIT failed, or SQLite had rolled the transaction back before)."""
        session, stored = self._session, self._stored
        self._session, self._stored = None, []
        if session is None:
            return stored, None
        self._closed = self.clock()
        try:
            if not self._in_transaction():  # ended behind the group's back
                raise GroupRolledBack("the group's transaction was rolled back")
            search: DeferredSearchWrites = session.info.pop(SEARCH_QUEUE)
            search.write(session)
            session.commit()
        except Exception as exc:
            self._discard(session)
            return stored, exc
        finally:
            self._driver = None
        session.close()
        return stored, None

    def rollback(self) -> None:
        """Drop the group (a poller closing after an error it could not handle)."""
        session, self._session, self._stored = self._session, None, []
        self._handed_back = []
        self._driver = None
        if session is not None:
            self._closed = self.clock()
            self._discard(session)

    def _open(self) -> Session:
        now = self.clock()
        if self._closed is None or now - self._closed >= self.gap_seconds:
            self._held_since = now  # the lock was free long enough: a new run
        elif self._held_since is not None and now - self._held_since >= self.hold_seconds:
            self.sleep(self._closed + self.gap_seconds - now)
            self._held_since = self.clock()
        session = self.db.sessionmaker()
        try:
            session.begin()
            connection = session.connection()
            # pysqlite would only BEGIN before the first INSERT: take the write
            # lock now, so that no other connection's commit fails a later write
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self._discard(session)
            raise
        # the polls' search-index changes, written just before COMMIT
        session.info[SEARCH_QUEUE] = DeferredSearchWrites()
        driver = connection.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        self._session, self._driver, self._opened = session, driver, self.clock()
        return session

    def _in_transaction(self) -> bool:
        return self._driver is not None and self._driver.in_transaction

    @staticmethod
    def _discard(session: Session) -> None:
        try:
            session.rollback()
        except Exception:  # the connection is broken: closing returns it to be reset
            log.exception("rolling back a group of stored polls failed")
        finally:
            session.close()
