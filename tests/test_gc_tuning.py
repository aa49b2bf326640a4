"""The collector relaxation a poll round runs under: on while held, restored after,
and whatever the host process set itself left alone."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from feedhub import gc_tuning
from feedhub.gc_tuning import THRESHOLD, relaxed_gc


@pytest.fixture(autouse=True)
def default_collector() -> Iterator[None]:
    # an admin "poll now" job of an earlier test in this process may still be in a round
    deadline = time.monotonic() + 10
    while gc_tuning.holders() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert gc_tuning.holders() == 0
    before = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    yield
    assert gc_tuning.holders() == 0
    gc.unfreeze()
    gc.set_threshold(*before)


def test_objects_that_exist_are_frozen_and_passes_are_rarer_while_held() -> None:
    with relaxed_gc():
        assert gc.get_threshold()[0] == THRESHOLD
        assert gc.get_freeze_count() > 0


def test_the_collector_is_restored_on_exit() -> None:
    with relaxed_gc():
        pass
    assert gc.get_threshold()[0] == 700
    assert gc.get_freeze_count() == 0


def test_the_collector_is_restored_when_the_round_fails() -> None:
    with pytest.raises(RuntimeError), relaxed_gc():
        raise RuntimeError("poll failed")
    assert gc.get_threshold()[0] == 700
    assert gc.get_freeze_count() == 0


def test_a_round_ending_while_another_runs_leaves_the_other_relaxed() -> None:
    with ExitStack() as outer:
        outer.enter_context(relaxed_gc())
        with relaxed_gc():
            pass
        assert gc.get_threshold()[0] == THRESHOLD
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == 700
    assert gc.get_freeze_count() == 0


def test_rounds_in_several_threads_restore_once_the_last_ends() -> None:
    inside = threading.Barrier(4)
    seen: list[int] = []

    def round_() -> None:
        with relaxed_gc():
            inside.wait(10)  # all four hold it at once
            seen.append(gc.get_threshold()[0])
            inside.wait(10)

    threads = [threading.Thread(target=round_) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [THRESHOLD] * 4
    assert gc.get_threshold()[0] == 700
    assert gc.get_freeze_count() == 0


def test_a_higher_threshold_set_by_the_host_is_not_lowered() -> None:
    gc.set_threshold(THRESHOLD * 2, 10, 10)
    with relaxed_gc():
        assert gc.get_threshold()[0] == THRESHOLD * 2
    assert gc.get_threshold()[0] == THRESHOLD * 2


def test_automatic_collection_turned_off_by_the_host_stays_off() -> None:
    gc.set_threshold(0)
    with relaxed_gc():
        assert gc.get_threshold()[0] == 0
    assert gc.get_threshold()[0] == 0


def test_a_threshold_the_host_sets_during_a_round_is_kept() -> None:
    with relaxed_gc():
        gc.set_threshold(5000, 20, 20)
    assert gc.get_threshold()[0] == 5000


def test_objects_the_host_froze_stay_frozen() -> None:
    gc.freeze()
    with relaxed_gc():
        assert gc.get_threshold()[0] == THRESHOLD
    assert gc.get_freeze_count() > 0  # an unfreeze would have emptied it


def test_a_worker_process_is_relaxed_for_good() -> None:
    gc_tuning.relax_process()
    assert gc.get_threshold() == (THRESHOLD, 10, 10)
    assert gc.get_freeze_count() > 0


def test_a_worker_process_keeps_automatic_passes_off() -> None:
    gc.set_threshold(0)
    gc_tuning.relax_process()
    assert gc.get_threshold()[0] == 0
