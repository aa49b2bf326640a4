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
# ASCII byte → itself when _WORD matches it, else a space: the words of folded ASCII
# text are then what str.split finds, at half the cost of _WORD.findall
_WORD_BYTES = bytes(
    c if chr(c) in "abcdefghijklmnopqrstuvwxyz0123456789" else 32 for c in range(256)
)
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


def _stems(words: list[str]) -> list[str]:
    """``cached_stem`` of each word; most are cached, so the dict is asked first."""
    get = _STEMS.get
    # a cached stem is never "" (and cached_stem would return the same "" anyway)
    return [get(word) or cached_stem(word) for word in words]


def words(text: str) -> list[str]:
    """What ``_WORD.findall(fold(text))`` finds: the words that are stemmed.

    Folding keeps whitespace as it is, so the words of a text are those of its
    parts when it is cut at whitespace.
    """
    folded = fold(text)
    if folded.isascii():
        return folded.encode().translate(_WORD_BYTES).decode().split()
    return _WORD.findall(folded)


def stem_words(text: str) -> list[str]:
    """Folded, stemmed words of *text*, in order."""
    return _stems(words(text))


def index_terms(text: str) -> list[str]:
    """The distinct stems of *text*, first seen first: what a search document holds.

    Search asks whether a document has a word (or a word starting with a
    prefix), never where or how often (no phrase queries, no ranking by term
    frequency): one of each is enough, and a longer text repeats many of its
    words.
    """
    return terms_of(words(text))


def terms_of(text_words: list[str]) -> list[str]:
    """``index_terms`` of a text whose ``words`` are *text_words*."""
    return list(dict.fromkeys(_stems(list(dict.fromkeys(text_words)))))


def index_text(text: str) -> str:
    """``index_terms`` of *text*, as the text FTS5 and to_tsvector read."""
    return " ".join(index_terms(text))
