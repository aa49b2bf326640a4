"""Group commit for the SQLite poller: source polls in savepoints, committed together.

A commit on SQLite writes every page the transaction changed to the WAL, one
frame (and write call) per page. A cold poll's 40 entries bring some 600 LSH
band rows whose keys are hashes, so nearly every row lands on a page of its
own: the commit, not the inserts, was a fifth of the storing thread's time.
Committed together, the polls of a group share those pages.

Each source poll still applies whole or not at all: it runs in its own
SAVEPOINT, and a poll that fails is rolled back to it while the polls before
it in the group stand. A poll counts (summary, progress) once its group has
committed; if the COMMIT itself fails, every poll of the group is reported
failed. Only the SQLite poller that holds the poller lock groups; it is the
only writer of its kind, and takes the write lock with ``BEGIN IMMEDIATE`` so
that no other connection's commit can make its first write fail. It commits
when the group is full or old, and whenever it would otherwise wait, so that
readers see new entries as soon as the poller has nothing else to do and the
web process's writes wait at most ``MAX_SECONDS``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from feedhub.db import Database

MAX_POLLS = 20
MAX_SECONDS = 0.25

T = TypeVar("T")


@dataclass
class StoreGroup(Generic[T]):
    """Open write transaction of the poller's current group, and what it stored."""

    db: Database
    max_polls: int = MAX_POLLS
    max_seconds: float = MAX_SECONDS
    clock: Callable[[], float] = time.monotonic
    _session: Session | None = None
    _opened: float = 0.0
    _stored: list[T] = field(default_factory=list)

    @contextmanager
    def poll(self) -> Iterator[Session]:
        """A savepoint of the group's transaction for one source poll.

        On an exception the poll is rolled back and the exception propagates;
        the group stays open.
        """
        session = self._session if self._session is not None else self._open()
        try:
            with session.begin_nested():
                yield session
        except BaseException:
            # what the poll cached on the session (the classify context, say)
            # may name rows its savepoint took back
            session.info.clear()
            raise

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
        """Commit the group: the polls it held, and the error if COMMIT failed
        (the transaction is rolled back then, and none of the polls is stored)."""
        session, stored = self._session, self._stored
        self._session, self._stored = None, []
        if session is None:
            return stored, None
        try:
            session.commit()
        except Exception as exc:
            session.rollback()
            return stored, exc
        finally:
            session.close()
        return stored, None

    def rollback(self) -> None:
        """Drop the group (the poller is closing after an error)."""
        session, self._session, self._stored = self._session, None, []
        if session is not None:
            session.rollback()
            session.close()

    def _open(self) -> Session:
        session = self.db.sessionmaker()
        session.begin()
        # pysqlite would only BEGIN before the first INSERT: the first SAVEPOINT
        # would open (and its RELEASE commit) the transaction instead
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        self._session, self._opened = session, self.clock()
        return session
