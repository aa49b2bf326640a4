"""A light German/English stemmer for search, applied to indexed text and queries alike.

SQLite's FTS5 ships only an English Porter stemmer, and it cannot load custom
tokenizers through Python's sqlite3; so feedhub folds and stems the text
itself and lets FTS5 index the result. Umlauts fold to their base vowel and
the spelled-out forms ("Koeln") fold the same way ("Köln" → "koln").
"""

from __future__ import annotations

import re

from feedhub.stories.text import fold

_WORD = re.compile(r"[a-z0-9]+")
# longest first; one suffix per pass, two passes ("Kreisen" → "kreis" → "krei")
_SUFFIXES = (
    "ungen", "ungs", "ung", "heiten", "heit", "keiten", "keit", "ings", "ing", "ies",
    "ern", "ers", "em", "en", "er", "es", "ed", "e", "s", "n",
)  # fmt: skip
MIN_STEM = 4


def fold_spelled_umlauts(word: str) -> str:
    return word.replace("ae", "a").replace("oe", "o").replace("ue", "u")


def stem(word: str) -> str:
    """Stem one folded word; numbers and short words pass unchanged."""
    if word.isdigit() or len(word) <= MIN_STEM:
        return fold_spelled_umlauts(word)
    word = fold_spelled_umlauts(word)
    for _ in range(2):
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM:
                word = word[: -len(suffix)] + ("y" if suffix == "ies" else "")
                break
        else:
            break
    return word


# word → stem; news vocabulary is Zipf-distributed, so most words are seen before
_STEMS: dict[str, str] = {}
_MAX_CACHED = 200_000


def cached_stem(word: str) -> str:
    """``stem`` through a per-process cache (the same result, a dict lookup)."""
    stemmed = _STEMS.get(word)
    if stemmed is None:
        if len(_STEMS) >= _MAX_CACHED:
            _STEMS.clear()
        stemmed = _STEMS[word] = stem(word)
    return stemmed


def stem_words(text: str) -> list[str]:
    """Folded, stemmed words of *text*, in order."""
    cache = _STEMS
    out = []
    for word in _WORD.findall(fold(text)):
        stemmed = cache.get(word)
        out.append(cached_stem(word) if stemmed is None else stemmed)
    return out


def stem_text(text: str) -> str:
    return " ".join(stem_words(text))
