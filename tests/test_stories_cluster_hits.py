"""Ranking of a batch's near-duplicate candidates (pure: no database)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from feedhub.stories import cluster
from feedhub.stories.cluster import Pending, _top_hits

NOON = datetime(2026, 11, 27, 12, tzinfo=UTC)


def pending(keys: tuple[int, ...], at: datetime = NOON) -> Pending:
    return Pending(
        source_id=1,
        canonical_url="",
        band_keys=keys,
        band_at=at,
        signature_blob=b"",
        title="Neuwied. Brücke gesperrt",
        lead="",
        place="Neuwied",
        sponsored=False,
    )


def test_most_hits_first_and_among_equals_the_newest() -> None:
    batch = [pending((1, 2, 3))]
    stored = [Counter({5: 2, 9: 2, 7: 3, 3: 1})]
    result = _top_hits(batch, stored)
    assert list(result[0].items()) == [(7, 3), (9, 2), (5, 2), (3, 1)]


def test_an_earlier_batch_entry_competes_for_the_slots(monkeypatch: pytest.MonkeyPatch) -> None:
    """It shares more keys than the stored entry does: it takes the only slot
    and, being of the same source, is dropped after."""
    monkeypatch.setattr(cluster, "MAX_CANDIDATES", 1)
    batch = [pending((1, 2, 3, 4)), pending((1, 2, 3, 8))]
    stored = [Counter(), Counter({100: 2})]
    assert _top_hits(batch, stored) == [{}, {}]


def test_a_batch_entry_outside_the_window_does_not_compete(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cluster, "MAX_CANDIDATES", 1)
    batch = [pending((1, 2, 3, 4), NOON - timedelta(days=4)), pending((1, 2, 3, 8))]
    stored = [Counter(), Counter({100: 2})]
    assert _top_hits(batch, stored) == [{}, {100: 2}]


def test_stored_hits_are_not_changed() -> None:
    batch = [pending((1, 2)), pending((1, 2))]
    stored = [Counter(), Counter({100: 1})]
    _top_hits(batch, stored)
    assert stored == [Counter(), Counter({100: 1})]
