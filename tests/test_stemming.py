"""Stemming's fast paths give what the plain definitions give."""

from __future__ import annotations

import random
import re

from feedhub.stories.stemming import index_terms, index_text, stem, stem_words
from feedhub.stories.text import fold

TRICKY = [
    "",
    "   ",
    "Kreisen Kreise Häuser Häusern Koeln Köln Straße STRASSE Maßnahmen",
    "Ungerechtigkeiten Universities studies Meinungen Heizungs-Gesetz",
    "ℌilbert ǅemal ﬁnanzen Ⅻ ② ¹ ½ ﬀ ℃ ㎏",  # compatibility forms fold to ASCII, some upper-case
    "e\u0301te\u0323\u0301 Zoë naïve façade Ångström",
    "Москва 北京 Αθήνα عربى",  # words _WORD does not find
    "12.11.2023 3:1 569,0 0815 KW45 mp3-Player 4K",
    "tab\tnew\nline\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\u00a0\u2009\u3000end",
    "x_y a-b c/d e.f g'h i’j (k) [l] {m} <n> @o #p $q %r &s *t +u =v ~w `x ^y |z",
    "\x00\x01\x7f ÿ Ÿ ß ẞ ı İ",
]


def reference(text: str) -> list[str]:
    return [stem(w) for w in re.findall(r"[a-z0-9]+", fold(text))]


def test_stem_words_equals_the_definition_on_tricky_text() -> None:
    for text in TRICKY:
        assert stem_words(text) == reference(text), repr(text)
    rng = random.Random(3)
    pieces = [*TRICKY, "Wort", " ", "…", "ä", "Ü", "ß", "9", "_", "ℌ", "\u0301", "-", "Ω"]
    for _ in range(2000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
        assert stem_words(text) == reference(text), repr(text)


def test_index_terms_are_the_distinct_stems_in_order() -> None:
    rng = random.Random(5)
    texts = [*TRICKY, " ".join(TRICKY), "Die Kreise, der Kreis und die Kreise: Koeln, Köln"]
    texts += [" ".join(rng.choice(TRICKY) for _ in range(3)) for _ in range(500)]
    for text in texts:
        assert index_terms(text) == list(dict.fromkeys(reference(text))), repr(text)
    text = "Die Kreise, der Kreis und die Kreise: Koeln, Köln"
    assert index_text(text) == "die krei der und koln"
