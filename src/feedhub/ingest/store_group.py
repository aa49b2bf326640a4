"""Group commit for the SQLite poller: source polls in savepoints, committed together.

A commit on SQLite writes every page the transaction changed to the WAL, one
frame (and write call) per page. A cold poll's 40 entries bring some 600 LSH
band rows whose keys are hashes, so nearly every row lands on a page of its
own: the commit, not the inserts, was a fifth of the storing thread's time.
Committed together, the polls of a group share those pages.

Each source poll still applies whole or not at all: it runs in its own
SAVEPOINT, and a poll that fails is rolled back to it while the polls before
it in the group stand. Search-index changes are the exception to "in the
poll's savepoint": FTS5 writes a new index segment at every savepoint release,
so each poll's changes are kept aside and written for the whole group just
before COMMIT, in the same transaction (a failed poll's are dropped with it).
Some errors (a full disk, an I/O error) make SQLite roll
back the whole transaction instead; the group then counts as failed, as does a
failed COMMIT, and the poller records every poll of it as failed. A poll counts
(summary, progress) only once its group has committed.

Only the SQLite poller that holds the poller lock groups: it is the only writer
of its kind, and takes the write lock with ``BEGIN IMMEDIATE`` so that no other
connection's commit can make its first write fail. It commits when the group is
full or old, and whenever it would otherwise wait, so that readers see new
entries as soon as the poller has nothing else to do. After holding the write
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
    """SQLite rolled back the group's whole transaction (the error says why)."""


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
    _lost: BaseException | None = None  # what took the whole transaction back
    _stored: list[T] = field(default_factory=list)
    # search-index changes of the polls that stood, written just before COMMIT
    _search: DeferredSearchWrites = field(default_factory=DeferredSearchWrites)

    @contextmanager
    def poll(self) -> Iterator[Session]:
        """A savepoint of the group's transaction for one source poll.

        On an exception the poll is rolled back and the exception propagates;
        the polls before it stay in the group, unless SQLite took back the whole
        transaction (then the group's ``commit`` reports the loss).
        """
        if self._lost is not None:
            raise GroupRolledBack(f"the group's transaction was rolled back: {self._lost}")
        session = self._session if self._session is not None else self._open()
        savepoint = session.begin_nested()
        search = session.info[SEARCH_QUEUE] = DeferredSearchWrites()
        try:
            yield session
            savepoint.commit()
            self._search.merge(search)
        except BaseException as exc:
            # what the poll cached on the session (the classify context, say)
            # may name rows its savepoint took back
            session.info.clear()
            if not self._in_transaction():  # no savepoint left; commit() reports the loss
                self._lost = exc
            elif savepoint.is_active:
                savepoint.rollback()
            raise
        finally:
            session.info.pop(SEARCH_QUEUE, None)

    def stored(self, item: T) -> None:
        """Remember a poll whose savepoint was released (reported after the commit)."""
        self._stored.append(item)

    @property
    def due(self) -> bool:
        return self._session is not None and (
            len(self._stored) >= self.max_polls or self.clock() - self._opened >= self.max_seconds
        )

    @property
    def open(self) -> bool:
        return self._session is not None

    def commit(self) -> tuple[list[T], Exception | None]:
        """Commit the group: the polls it held, and an error if they were not stored
        (COMMIT failed, or SQLite had rolled the transaction back before)."""
        session, stored, lost, search = self._session, self._stored, self._lost, self._search
        self._session, self._stored, self._lost = None, [], None
        self._search = DeferredSearchWrites()
        if session is None:
            return stored, None
        self._closed = self.clock()
        try:
            if lost is not None or not self._in_transaction():
                raise GroupRolledBack(f"the group's transaction was rolled back: {lost}")
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
        session, self._session, self._stored, self._lost = self._session, None, [], None
        self._search, self._driver = DeferredSearchWrites(), None
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
            # pysqlite would only BEGIN before the first INSERT: the first SAVEPOINT
            # would open (and its RELEASE commit) the transaction instead
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self._discard(session)
            raise
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
