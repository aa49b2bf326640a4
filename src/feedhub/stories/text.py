"""Text normalization shared by fingerprinting, the number guard and search.

Everything here is pure and deterministic across processes (no ``hash()``),
because fingerprints are stored in the database and compared later.
"""

from __future__ import annotations

import re
import unicodedata

# combining marks left after NFKD decomposition (the diacritics of Latin letters)
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_TRUNCATION = re.compile(r"(?:…|\.\.\.|\[…\]|\[\.\.\.\])\s*$")
# the marks _TRUNCATION ends with (\s and str.rstrip agree on whitespace)
_TRUNCATION_MARKS = ("…", "...", "[…]", "[...]")
# numbers keep their inner separators ("569,0", "12.11.2023", "3:1"); words are letters only
_TOKEN = re.compile(r"\d+(?:[.,:/]\d+)*|[^\W\d_]+")
# in ASCII text without digits _TOKEN finds the runs of [A-Za-z]: ASCII byte → itself
# for a letter, else a space, and str.split finds them at half the cost of findall
_DIGITS = b"0123456789"
_LETTER_BYTES = bytes(c if chr(c).isascii() and chr(c).isalpha() else 32 for c in range(256))
_LONGEST_MARK = max(len(mark) for mark in _TRUNCATION_MARKS)


def wordset(text: str) -> frozenset[str]:
    """A set of whitespace-separated words (keeps long word lists readable)."""
    return frozenset(text.split())


STOPWORDS = wordset(
    """
    a ab als am an auch auf aus bei bis da das dass dem den der des die dies diese dieser
    ein eine einem einen einer eines er es fur hat hatte im in ist ja kann mit nach nicht
    noch nun nur ob oder sein seine sich sie sind so uber um und uns unter vom von vor
    war waren was wenn werden wie wieder wird wir wurde wurden zu zum zur
    an and are as at be been but by for from has have he her his in into is it its of on
    or our that the their them they this to was were which will with
    """
)


def fold(text: str) -> str:
    """Lower-case, strip diacritics, ß → ss: "Hönningen" and "Honningen" compare equal."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())  # casefold: ß → ss
    if decomposed.isascii():
        return decomposed
    return _COMBINING.sub("", decomposed)


def drop_truncated_tail(text: str) -> str:
    """A teaser cut off with " …" ends in a partial word: drop that word too."""
    stripped = text.rstrip()
    if not stripped.endswith(_TRUNCATION_MARKS):
        return text  # what _TRUNCATION finds, at a fraction of a search's cost
    # a match is a mark (at most 5 characters) ending where the text's whitespace
    # tail begins: none starts before this, so the search starts here
    match = _TRUNCATION.search(text, max(0, len(stripped) - _LONGEST_MARK))
    if not match:
        return text
    head = text[: match.start()].rstrip()
    if match.start() > 0 and not text[match.start() - 1].isspace():
        # without its last run of non-whitespace, as re.sub(r"\S+$", "", head) leaves
        # it (\s and str.split agree on whitespace; head ends in non-whitespace)
        rest = head.rsplit(None, 1)
        head = rest[0].rstrip() if len(rest) == 2 else ""
    return head


def tokens(text: str) -> list[str]:
    """Folded word and number tokens of *text*, in order."""
    return tokens_of(text)[0]


def tokens_of(text: str) -> tuple[list[str], bool]:
    """``tokens`` of *text*, and whether they are all it has of ``[a-z0-9]``: its
    folded form is ASCII without digits or capitals (stemming's ``words`` are then
    the same list)."""
    folded = fold(text)
    if folded.isascii():
        raw = folded.encode()
        if len(raw.translate(None, _DIGITS)) == len(raw):
            # no numbers: the tokens are the runs of letters
            words = raw.translate(_LETTER_BYTES).decode().split()
            # NFKD can leave a capital ("ℌ" → "H"), which stemming's words leave out
            # (False without any letter too: then nothing is shared)
            return words, raw.islower()
    return _TOKEN.findall(folded), False


def content_tokens(text: str) -> list[str]:
    """Tokens without stop words: shingles built from these survive light edits."""
    return content_of(tokens(text))


def content_of(token_list: list[str]) -> list[str]:
    """The content tokens among *token_list* (see ``content_tokens``)."""
    return [t for t in token_list if t not in STOPWORDS and (len(t) > 1 or t.isdigit())]
