"""Fewer passes of Python's cyclic garbage collector while a poll round stores.

Storing a cold poll allocates millions of short-lived container objects (rows,
parameter dicts, SQLAlchemy state); CPython starts a young-generation pass
every 700 net allocations and, every hundred of those, a full pass over every
tracked object of the process: the models, the compiled statements, the
imported modules. Measured with ``gc.callbacks`` in a cold poll of 500 feeds,
that was about 0.55 s of the storing thread's 7 s, two thirds of it in five
full passes. Reference counting frees nearly all of a poll's garbage anyway;
the collector only has cycles to find.

So for the length of a round the objects that exist when it starts are frozen
(left out of every pass) and the young generation is collected every
``THRESHOLD`` allocations instead. Both are process-wide: rounds running at
once in one process (the background poller and an admin's "poll now") share
one relaxation, restored when the last of them ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

THRESHOLD = 50_000  # young-generation allocations between passes (CPython's default: 700)

_lock = threading.Lock()
_holders = 0
_saved: tuple[int, int, int] = gc.get_threshold()


@contextmanager
def relaxed_gc(threshold: int = THRESHOLD) -> Iterator[None]:
    """Freeze what exists now and collect the young generation less often, until exit."""
    global _holders, _saved
    with _lock:
        if _holders == 0:
            _saved = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(max(threshold, _saved[0]), _saved[1], _saved[2])
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                gc.set_threshold(*_saved)
                gc.unfreeze()  # back into the oldest generation, collected as before
