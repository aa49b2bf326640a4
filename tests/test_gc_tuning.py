"""The collector relaxation a poll round runs under: on while held, restored after."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from feedhub.gc_tuning import THRESHOLD, relaxed_gc


@pytest.fixture(autouse=True)
def default_collector() -> Iterator[None]:
    gc.unfreeze()
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_objects_that_exist_are_frozen_and_passes_are_rarer_while_held() -> None:
    with relaxed_gc():
        assert gc.get_threshold() == (THRESHOLD, 10, 10)
        assert gc.get_freeze_count() > 0


def test_the_collector_is_restored_on_exit() -> None:
    with relaxed_gc():
        pass
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0


def test_the_collector_is_restored_when_the_round_fails() -> None:
    with pytest.raises(RuntimeError), relaxed_gc():
        raise RuntimeError("poll failed")
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0


def test_a_round_ending_while_another_runs_leaves_the_other_relaxed() -> None:
    outer = relaxed_gc()
    outer.__enter__()
    with relaxed_gc():
        pass
    assert gc.get_threshold() == (THRESHOLD, 10, 10)
    outer.__exit__(None, None, None)
    assert gc.get_threshold() == (700, 10, 10)


def test_a_higher_threshold_set_by_the_host_is_not_lowered() -> None:
    gc.set_threshold(THRESHOLD * 2, 10, 10)
    with relaxed_gc():
        assert gc.get_threshold()[0] == THRESHOLD * 2


def test_cycles_made_while_held_are_still_collected() -> None:
    class Node:
        other: object = None

    with relaxed_gc():
        a, b = Node(), Node()
        a.other, b.other = b, a
        del a, b
        assert gc.collect() >= 2
