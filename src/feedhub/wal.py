"""SQLite WAL checkpoints from a thread of their own, off the writers' path.

By default the connection whose commit pushes the WAL past 1000 pages copies
the WAL back into the database file and fsyncs it, inside that commit. For the
poller this is the single largest cost that grows with the database: in a file
of gigabytes the fsync of a checkpoint's scattered pages takes tens of
milliseconds, and a poll of 40 entries paid it every few commits (the dedup
benchmark measured the store time per entry at 10^6 stored entries falling from
1.6x to 1.2x the time at 10^4 with checkpoints moved here).

While a writer holds background checkpoints, its connections checkpoint inline
only when the WAL has grown past ``FALLBACK_PAGES`` (the thread fell behind,
say because a long read kept it from finishing); a daemon thread runs a
PASSIVE checkpoint, which never blocks readers or writers, every ``interval``
seconds. A PASSIVE checkpoint never rewinds the WAL while commits keep coming,
so once the log passes ``TRUNCATE_PAGES`` the thread asks for a TRUNCATE
checkpoint, which leaves an empty WAL: when the writes have paused (see
``should_truncate``), when the last holder leaves, or after 60 checkpoints (a
minute at the default interval) of writes that never paused. A TRUNCATE holds
writers back for a moment (the thread waits at most ``TRUNCATE_WAIT_MS`` for
them, then gives up until next time).
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger(__name__)

DEFAULT_PAGES = 1000  # SQLite's own wal_autocheckpoint
FALLBACK_PAGES = 25_000  # ~100 MB of WAL
TRUNCATE_PAGES = 10_000  # ~40 MB of WAL
TRUNCATE_WAIT_MS = 200


MAX_LONG_CHECKPOINTS = 60  # truncate anyway after this many checkpoints over the limit


def should_truncate(
    busy: int, frames: int, done: int, previous: int, *, final: bool = False, long_for: int = 0
) -> bool:
    """Whether to follow a PASSIVE checkpoint (its *busy* flag, *frames* in the log
    and frames *done*) with a TRUNCATE; *previous* is the log's length at the
    checkpoint before, *long_for* how many checkpoints in a row found it too long.

    Only once the writes have paused (the log has not grown for a whole interval
    and the passive checkpoint copied all of it), when the last holder leaves
    (*final*), or when writes have not paused for MAX_LONG_CHECKPOINTS intervals.
    While a poll commits, a TRUNCATE takes the write lock for the copy and the
    fsync of whatever came in since, and the poller's next write waited in
    SQLite's busy handler: 5 ms on average per 40-entry poll in a cold poll of
    200 feeds, 5 % of its wall time.
    """
    if busy or frames < TRUNCATE_PAGES:
        return False
    return final or long_for >= MAX_LONG_CHECKPOINTS or (done == frames == previous)


class WalCheckpointer:
    """A thread that checkpoints one SQLite database file until stopped."""

    def __init__(self, path: str, interval: float = 1.0) -> None:
        self.path = path
        self.interval = interval
        self.checkpoints = 0
        self.truncations = 0
        self._frames = -1  # WAL frames at the last checkpoint
        self._long_for = 0  # checkpoints in a row that found the WAL too long
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread after one last checkpoint, so nothing is left for a writer."""
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        except sqlite3.Error as exc:
            log.warning("WAL checkpoints stay with the writers: %s", exc)
            return
        try:
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA busy_timeout={TRUNCATE_WAIT_MS}")
            while True:
                stopping = self._stop.wait(self.interval)
                self._checkpoint(conn, final=stopping)
                if stopping:
                    return
        finally:
            conn.close()

    def _checkpoint(self, conn: sqlite3.Connection, *, final: bool = False) -> None:
        """A PASSIVE checkpoint, then a TRUNCATE when ``should_truncate`` says so."""
        try:
            # not "log": that is this module's logger, used below
            busy, frames, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            self.checkpoints += 1
            self._long_for = self._long_for + 1 if frames >= TRUNCATE_PAGES else 0
            previous, self._frames = self._frames, frames
            if should_truncate(busy, frames, done, previous, final=final, long_for=self._long_for):
                busy, _frames, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                self.truncations += 0 if busy else 1
                self._long_for = self._long_for if busy else 0
        except sqlite3.Error as exc:  # e.g. the file went away; the writers fall back
            log.warning("WAL checkpoint of %s failed: %s", self.path, exc)
