"""Fewer passes of Python's cyclic garbage collector while a poll round stores.

Storing a cold poll allocates millions of short-lived container objects (rows,
parameter dicts, SQLAlchemy state). CPython 3.11-3.13 starts a young-generation
pass every 700 net allocations and, every hundred of those, a full pass over
every tracked object of the process: the models, the compiled statements, the
imported modules. Measured with ``gc.callbacks`` in a cold poll of 500 feeds,
that was about 0.55 s of the storing thread's 7 s, two thirds of it in five
full passes. Reference counting frees nearly all of a poll's garbage anyway;
the collector only has cycles to find.

So for the length of a round the objects that exist when it starts are frozen
(left out of every pass) and the young generation is collected every
``THRESHOLD`` allocations instead. Both are process-wide: rounds that overlap
in one process (an admin's "poll now" jobs in a web process's job threads)
share one relaxation, undone when the last of them ends; the process's other
threads run under it meanwhile. What the host process set itself is left
alone: automatic collection turned off, objects it froze, a threshold it
changes while a round runs.

A parse worker process has no host to defer to: ``relax_process`` relaxes it
for good when it starts (its feeds parsed 3-5 % faster).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

THRESHOLD = 50_000  # young-generation allocations between passes


@dataclass
class _Relaxation:
    holders: int = 0
    saved: tuple[int, ...] = ()  # the host's thresholds, to restore
    relaxed: tuple[int, ...] = ()  # what was set instead (nothing when empty)
    froze: bool = False  # whether the first holder froze the heap


_lock = threading.Lock()
_state = _Relaxation()


def holders() -> int:
    """Rounds of this process inside ``relaxed_gc`` now."""
    return _state.holders


@contextmanager
def relaxed_gc(threshold: int = THRESHOLD) -> Iterator[None]:
    """Freeze what exists now and collect the young generation less often, until exit."""
    with _lock:
        if _state.holders == 0:
            _relax(threshold)
        _state.holders += 1
    try:
        yield
    finally:
        with _lock:
            _state.holders -= 1
            if _state.holders == 0:
                _restore()


def _relax(threshold: int) -> None:
    saved = gc.get_threshold()
    _state.saved, _state.relaxed = saved, ()
    if saved[0] > 0 and threshold > saved[0]:  # 0: the host turned automatic passes off
        gc.set_threshold(threshold, *saved[1:])
        _state.relaxed = gc.get_threshold()
    # a host that froze objects itself (a pre-fork server, say) keeps its own freeze
    _state.froze = gc.get_freeze_count() == 0
    if _state.froze:
        gc.freeze()


def _restore() -> None:
    if _state.relaxed and gc.get_threshold() == _state.relaxed:
        gc.set_threshold(*_state.saved)
    if _state.froze:
        gc.unfreeze()  # into the oldest generation: the next full pass looks at them again
    _state.relaxed, _state.froze = (), False


def relax_process(threshold: int = THRESHOLD) -> None:
    """Freeze what exists now and collect the young generation every *threshold*
    allocations, for the rest of this process (one that runs only short jobs)."""
    first, *rest = gc.get_threshold()
    if first > 0:  # 0: automatic passes are off, and stay off
        gc.set_threshold(max(first, threshold), *rest)
    gc.freeze()
