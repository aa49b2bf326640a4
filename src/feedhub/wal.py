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
so once the log passes ``TRUNCATE_PAGES`` and the writes have paused (the log
did not grow since the last checkpoint, which copied all of it), the thread
asks for a TRUNCATE checkpoint: it holds writers back for a moment (at most
``TRUNCATE_WAIT_MS`` waiting for them, then it gives up until next time) and leaves an empty WAL.
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


def should_truncate(busy: int, log: int, done: int, previous_log: int) -> bool:
    """Whether to follow a PASSIVE checkpoint (its *busy*, *log* and *done* frames)
    with a TRUNCATE, given the log's length at the previous checkpoint.

    Only once the writes have paused: the log has not grown for a whole interval
    and the passive checkpoint copied all of it. While a poll commits, a
    TRUNCATE takes the write lock for the copy and the fsync of whatever came in
    since, and the poller's next write waited in SQLite's busy handler: 5 ms on
    average per 40-entry poll in a cold poll of 200 feeds, 5 % of its wall time.
    """
    return not busy and log >= TRUNCATE_PAGES and done == log and log == previous_log


class WalCheckpointer:
    """A thread that checkpoints one SQLite database file until stopped."""

    def __init__(self, path: str, interval: float = 1.0) -> None:
        self.path = path
        self.interval = interval
        self.checkpoints = 0
        self.truncations = 0
        self._frames = -1  # WAL frames at the last checkpoint
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
        """A PASSIVE checkpoint, and a TRUNCATE when the writes paused (or the last holder left)."""
        try:
            # not "log": that is this module's logger, used below
            busy, frames, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            self.checkpoints += 1
            previous, self._frames = (frames if final else self._frames), frames
            if should_truncate(busy, frames, done, previous):
                busy, _frames, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                self.truncations += 0 if busy else 1
        except sqlite3.Error as exc:  # e.g. the file went away; the writers fall back
            log.warning("WAL checkpoint of %s failed: %s", self.path, exc)
