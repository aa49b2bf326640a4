"""The number guard keeps same-template reports with different figures apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from feedhub.stories.guard import conflict, guard_tokens

PAIRS = json.loads((Path(__file__).parent / "data/stories/guard_pairs.json").read_text())


def _tokens(side: list[str]):  # type: ignore[no-untyped-def]
    return guard_tokens(side[0], side[1])


@pytest.mark.parametrize("pair", PAIRS["hard_negatives"], ids=lambda p: p[0][0][:40])
def test_template_reports_with_other_figures_conflict(pair: list[list[str]]) -> None:
    assert conflict(_tokens(pair[0]), _tokens(pair[1])) is not None


@pytest.mark.parametrize("pair", PAIRS["compatible"], ids=lambda p: p[1][0][:40])
def test_copies_that_drop_a_figure_do_not_conflict(pair: list[list[str]]) -> None:
    assert conflict(_tokens(pair[0]), _tokens(pair[1])) is None


def test_conflict_is_symmetric() -> None:
    for a, b in PAIRS["hard_negatives"]:
        assert (conflict(_tokens(a), _tokens(b)) is None) == (
            conflict(_tokens(b), _tokens(a)) is None
        )


def test_reason_names_the_differing_figures() -> None:
    a = guard_tokens("Spieltag 12", "")
    b = guard_tokens("Spieltag 13", "")
    assert conflict(a, b) == "numbers differ: 12, 13"


def test_thousands_separators_and_leading_zeros_are_the_same_figure() -> None:
    assert (
        guard_tokens("4.210 Arbeitslose", "").numbers
        == guard_tokens("4210 Arbeitslose", "").numbers
    )
    assert guard_tokens("Spieltag 05", "").numbers == guard_tokens("Spieltag 5", "").numbers


def test_truncated_teaser_does_not_contribute_its_cut_off_figure() -> None:
    tokens = guard_tokens("Haushalt", "Die Stadt plant Ausgaben von 12,5 Millionen und 3.4…")
    assert tokens.numbers == frozenset({"12.5"})
