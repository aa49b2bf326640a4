"""The number guard: template stories that differ in figures or dates never merge.

Daily reports ("Inzidenz sinkt auf 569,0 (Vortag: 571,2)"), match days
("Spieltag 12" / "Spieltag 13") and weekly columns ("KW 45" / "KW 46") share
almost every word with their predecessor. What tells them apart are the
figures, weekdays and months. Two texts conflict when, within one such class,
*each* side mentions something the other does not; a figure present on one
side only (a truncated teaser, a shortened headline) is no conflict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from feedhub.stories.text import drop_truncated_tail, tokens

WEEKDAYS = {
    "montag": "mon", "dienstag": "tue", "mittwoch": "wed", "donnerstag": "thu",
    "freitag": "fri", "samstag": "sat", "sonnabend": "sat", "sonntag": "sun",
    "monday": "mon", "tuesday": "tue", "wednesday": "wed", "thursday": "thu",
    "friday": "fri", "saturday": "sat", "sunday": "sun",
}  # fmt: skip
MONTHS = {
    "januar": 1, "jan": 1, "january": 1, "jaenner": 1, "februar": 2, "feb": 2,
    "february": 2, "marz": 3, "maerz": 3, "march": 3, "april": 4, "apr": 4, "mai": 5,
    "may": 5, "juni": 6, "june": 6, "juli": 7, "july": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "oktober": 10, "october": 10, "okt": 10,
    "oct": 10, "november": 11, "nov": 11, "dezember": 12, "december": 12, "dez": 12,
    "dec": 12,
}  # fmt: skip
_THOUSANDS = re.compile(r"^\d{1,3}(?:\.\d{3})+$")


def _number(token: str) -> str:
    if _THOUSANDS.match(token):
        return token.replace(".", "")
    token = token.replace(",", ".")
    # "12.0" and "12" are the same figure; "05" and "5" too
    if re.fullmatch(r"\d+\.0+", token):
        token = token.split(".")[0]
    if token.isdigit():
        return token.lstrip("0") or "0"
    return token


@dataclass(frozen=True)
class GuardTokens:
    numbers: frozenset[str]
    weekdays: frozenset[str]
    months: frozenset[int]


def guard_tokens(title: str, lead: str) -> GuardTokens:
    return guard_tokens_of(tokens(title) + tokens(drop_truncated_tail(lead)))


def guard_tokens_of(words: list[str]) -> GuardTokens:
    """``guard_tokens`` from the tokens of the title and of the untruncated lead."""
    return GuardTokens(
        numbers=frozenset(_number(w) for w in words if w[0].isdigit()),
        weekdays=frozenset(WEEKDAYS[w] for w in words if w in WEEKDAYS),
        months=frozenset(MONTHS[w] for w in words if w in MONTHS),
    )


def _disagree(a: frozenset[str] | frozenset[int], b: frozenset[str] | frozenset[int]) -> bool:
    return bool(a - b) and bool(b - a)


def conflict(a: GuardTokens, b: GuardTokens) -> str | None:
    """Why the two texts must stay apart, or None when nothing speaks against a merge."""
    if _disagree(a.numbers, b.numbers):
        return "numbers differ: " + ", ".join(sorted(a.numbers ^ b.numbers)[:6])
    if _disagree(a.weekdays, b.weekdays):
        return "weekdays differ"
    if _disagree(a.months, b.months):
        return "months differ"
    return None
