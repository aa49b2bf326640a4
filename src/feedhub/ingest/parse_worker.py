"""What a parse worker process runs: feedparser, normalizing, the stories stage's text work.

Kept apart from the poller so that a spawned worker imports only what parsing
needs: the poller's module pulls in SQLAlchemy, the models and (through the
package) Flask, about a second of CPU and 40 MB of memory per worker that
parsing never uses.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

from feedhub.gc_tuning import relax_process
from feedhub.ingest.parse import process_feed
from feedhub.ingest.records import FeedData
from feedhub.stories.features import prepare_feed

try:
    import fcntl
except ImportError:  # not on Windows
    fcntl = None  # type: ignore[assignment]

# bytes the pipe of parse results holds (Linux; the default is 64 KiB)
RESULT_PIPE_BYTES = 1024 * 1024
# Linux only (Python names it from 3.10 on)
_F_SETPIPE_SZ: int | None = getattr(fcntl, "F_SETPIPE_SZ", None)


def start_worker() -> None:
    """Pool initializer: fewer garbage collector passes.

    Workers run at the poller's own CPU priority. At nice 5 (so that the storing
    thread would win a shared core) a cold poll of 500 feeds on two cores took
    4-8 % longer, in five alternating pairs of runs: the worker lost its core
    whenever a thread of the storing process (WAL checkpoints, the pool's
    manager, fetches) ran beside the storing thread, and the storing thread,
    which parses a queued feed itself rather than wait, gained nothing from it.
    The kernel's scheduler favours short, sleeping work such as page requests
    over a busy worker anyway.
    """
    relax_process()


def parse_feed(
    body: bytes, headers: dict[str, str], url: str, known: frozenset[str] = frozenset()
) -> tuple[FeedData, float]:
    """The parsed feed and the CPU seconds it took (this thread's: the storing
    thread parses too); entries whose content hash is in *known* (stored
    unchanged) are left unprepared."""
    started = time.thread_time()
    feed = process_feed(body, headers, url)
    prepare_feed(feed, skip=known)  # the stories stage's text work, here in the worker
    return feed, time.thread_time() - started


def new_pool(processes: int) -> ProcessPoolExecutor:
    """A pool of *processes* parse workers, started fresh (spawn, not fork).

    A spawned worker imports its parent's main module again: the console script
    and ``python -m feedhub`` keep that light (see ``feedhub.__main__``).
    """
    pool = ProcessPoolExecutor(
        max_workers=processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=start_worker,
    )
    _widen_result_pipe(pool)
    return pool


def _widen_result_pipe(pool: ProcessPoolExecutor) -> None:
    """Let a worker write a whole parsed feed without waiting for the poller to read.

    A 40-entry feed's result is about 130 KB, twice what a pipe holds by default.
    The worker then blocked until the pool's manager thread, a thread of the
    storing process that must win the GIL from the storing thread, had read the
    first part: 1.2-1.4 s of a cold poll of 500 feeds, against 0.6-0.7 s with a
    1 MiB pipe (the rest is pickling). Where the pipe cannot be widened (not
    Linux, a lower ``/proc/sys/fs/pipe-max-size``) it stays as it is.
    """
    reader = getattr(getattr(pool, "_result_queue", None), "_reader", None)
    if reader is None or fcntl is None or _F_SETPIPE_SZ is None:
        return
    with contextlib.suppress(OSError, ValueError, AttributeError):
        fcntl.fcntl(reader.fileno(), _F_SETPIPE_SZ, RESULT_PIPE_BYTES)
