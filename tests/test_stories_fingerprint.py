"""Shingles, MinHash and LSH band keys: stable, edit-tolerant, and discriminating."""

from __future__ import annotations

import itertools
import random
import re
import subprocess
import sys

from feedhub.stories.fingerprint import (
    BANDS,
    NUM_PERM,
    PERMUTATIONS,
    PRIME,
    fingerprint,
    minhash,
    minhashes,
    shingles,
    similarity,
    title_key,
)
from feedhub.stories.text import drop_truncated_tail, fold

TITLE = "Brücke über den Wiedbach wird ab Juni saniert"
LEAD = (
    "Die Stadt Neuwied saniert die Brücke über den Wiedbach im Stadtteil Niederbieber. "
    "Die Arbeiten beginnen im Juni und sollen bis zum Herbst dauern, teilte die "
    "Verwaltung mit. Autofahrer müssen mit Umleitungen über die Landesstraße rechnen, "
    "Fußgänger können die Baustelle auf einem Notsteg passieren."
)
OTHER_TITLE = "Feuerwehr löscht Brand in Lagerhalle"
OTHER_LEAD = (
    "In einer Lagerhalle im Industriegebiet Distelfeld ist in der Nacht ein Feuer "
    "ausgebrochen. Die Feuerwehr war mit sechzig Kräften im Einsatz, verletzt wurde niemand."
)


def test_fold_strips_diacritics_and_sharp_s() -> None:
    assert fold("Straße in Bad Hönningen") == "strasse in bad honningen"


def test_truncated_tail_drops_the_partial_word() -> None:
    assert drop_truncated_tail("Die Arbeiten begin…") == "Die Arbeiten"
    assert drop_truncated_tail("Die Arbeiten beginnen …") == "Die Arbeiten beginnen"
    assert drop_truncated_tail("Ganz normal.") == "Ganz normal."


def test_truncated_tail_is_what_the_pattern_alone_finds() -> None:
    """The quick check of the end must not change what the full search decides."""
    from feedhub.stories import text as text_module

    def by_pattern(text: str) -> str:
        match = text_module._TRUNCATION.search(text)
        if not match:
            return text
        head = text[: match.start()].rstrip()
        if match.start() > 0 and not text[match.start() - 1].isspace():
            head = re.sub(r"\S+$", "", head).rstrip()
        return head

    rng = random.Random(7)
    pieces = ["Wort", " ", "…", ".", "[", "]", "\u00a0", "\u2009", "\n", "x", "..."]
    pieces += ["\x1c", "\x85", "\u3000", "\t", "[…]", "[...]", "ä", "-", "\u200b"]
    for _ in range(20000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        assert drop_truncated_tail(text) == by_pattern(text), repr(text)


def test_tokens_are_what_the_pattern_finds() -> None:
    """The split of digit-free ASCII text must find the pattern's tokens."""
    from feedhub.stories import text as text_module

    rng = random.Random(9)
    pieces = ["Wort", " ", "ÄÖÜ", "ß", "ℌ", "ǅ", "Ⅻ", "②", "½", "\u0301", "_", "9", "12.11.2023"]
    pieces += ["3:1", "569,0", "a1b", "x_y", "-", "’", "\t", "\x1c", "\x00", "Ω", "北", ".", "/"]
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
        assert text_module.tokens(text) == text_module._TOKEN.findall(fold(text)), repr(text)
    assert text_module.tokens("ℌilbert zählt") == ["Hilbert", "zahlt"]  # NFKD after casefold


def test_signature_has_one_value_per_permutation_and_one_key_per_band() -> None:
    fp = fingerprint(TITLE, LEAD)
    assert len(minhash(fp.shingles)) == NUM_PERM
    assert len(fp.band_keys) == BANDS + 1  # plus the title key
    assert all(0 <= k < 2**63 for k in fp.band_keys)


def test_band_keys_are_those_stored_with_twenty_bands() -> None:
    """Bands 0-9 come from the same permutations as the first 10 of the 20 (later
    15) bands that earlier versions stored: their rows stay findable."""
    rng = random.Random(0x5EED_F00D)
    twenty_bands = [(rng.randrange(1, PRIME), rng.randrange(0, PRIME)) for _ in range(40)]
    assert twenty_bands[:NUM_PERM] == PERMUTATIONS
    # keys of the first and the last shared band, as the 20-band version (6a58134) stored them
    keys = fingerprint(TITLE, LEAD).band_keys
    assert (keys[0], keys[BANDS - 1]) == (1931248629324350583, 4021944567126572723)


def band_keys_reference(signature: tuple[int, ...]) -> tuple[int, ...]:
    """The stored keys' definition: blake2b of "band:row:row", top bit cleared."""
    import hashlib

    keys = []
    for band in range(BANDS if signature else 0):
        rows = signature[band * 2 : (band + 1) * 2]
        text = f"{band}:{':'.join(map(str, rows))}"
        digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
        keys.append(int.from_bytes(digest, "big") & (2**63 - 1))
    return tuple(keys)


def test_band_keys_and_shingles_equal_their_definitions() -> None:
    from feedhub.stories.fingerprint import _hash64, band_keys, shingles_of

    rng = random.Random(17)
    for _ in range(300):
        signature = tuple(rng.randrange(PRIME) for _ in range(NUM_PERM))
        assert band_keys(signature) == band_keys_reference(signature)
    extremes = (0,) * NUM_PERM, (PRIME - 1,) * NUM_PERM, tuple(range(NUM_PERM))
    for signature in (*extremes, (), (5,), (1, 2, 3), tuple(range(NUM_PERM - 1))):
        assert band_keys(signature) == band_keys_reference(signature)
    title, lead = ["brucke", "wiedbach", "juni"], ["stadt", "neuwied", "saniert", "brucke"] * 12
    grams = {f"{a} {b}" for a, b in itertools.pairwise(title)}
    grams |= {f"{a} {b}" for a, b in itertools.pairwise(lead[:32])}
    assert shingles_of(title, lead) == frozenset(_hash64(g) for g in grams)
    assert shingles_of(["ein"], []) == frozenset([_hash64("ein")])
    assert shingles_of([], []) == frozenset()


def minhash_reference(shingle_hashes: frozenset[int]) -> tuple[int, ...]:
    """The definition: per permutation, the least (a * x + b) mod (2^61 - 1)."""
    return tuple(min((a * x + b) % PRIME for x in shingle_hashes) for a, b in PERMUTATIONS)


def test_minhash_equals_the_big_integer_formula() -> None:
    """Stored band keys came from the Python-integer formula; the uint64 one must agree."""
    rng = random.Random(7)
    extremes = [0, 1, 2**61 - 2, 2**61 - 1, 2**61, 2**62 - 1, 2**63, 2**64 - 1]
    cases = [frozenset([x]) for x in extremes] + [frozenset(extremes)]
    cases += [frozenset(rng.getrandbits(64) for _ in range(n)) for n in (1, 2, 7, 40, 300)]
    for case in cases:
        assert minhash(case) == minhash_reference(case)


def test_minhashes_equal_minhash_of_each_set() -> None:
    """The batched signatures (a feed at a time) are those of one set at a time."""
    from feedhub.stories.minhash import CHUNK_SHINGLES

    rng = random.Random(11)
    extremes = [0, 1, 2**61 - 2, 2**61 - 1, 2**61, 2**62 - 1, 2**63, 2**64 - 1]
    sizes = [0, 1, 0, 2, 1, 40, 0, 38, 45, CHUNK_SHINGLES - 1, 1, CHUNK_SHINGLES, 0]
    sizes += [CHUNK_SHINGLES + 1, 3 * CHUNK_SHINGLES, 7] + [rng.randint(0, 60) for _ in range(80)]
    cases = [frozenset(rng.getrandbits(64) for _ in range(n)) for n in sizes]
    cases += [frozenset(extremes), frozenset([2**64 - 1]), frozenset(), frozenset([0])]
    batched = minhashes(cases)
    assert batched == [minhash(case) for case in cases]
    assert all(sig == () for sig, case in zip(batched, cases, strict=True) if not case)
    for sig, case in zip(batched, cases, strict=True):
        if 0 < len(case) <= 50:
            assert sig == minhash_reference(case)
    assert minhashes([]) == []
    assert minhashes([frozenset(), frozenset()]) == [(), ()]
    assert minhashes([frozenset([5])]) == [minhash_reference(frozenset([5]))]


def test_keys_are_the_same_in_another_process() -> None:
    """Keys are stored in the database: they must not depend on hash randomization."""
    code = (
        "from feedhub.stories.fingerprint import fingerprint;"
        f"print(list(fingerprint({TITLE!r}, {LEAD!r}).band_keys))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345"},
    ).stdout
    assert out.strip() == str(list(fingerprint(TITLE, LEAD).band_keys))


def test_truncated_teaser_with_edited_title_is_similar() -> None:
    full = shingles(TITLE, LEAD)
    teaser = shingles("Neuwied: Wiedbach-Brücke wird saniert", LEAD[:140] + " …")
    assert similarity(full, teaser) >= 0.6


def test_teaser_shares_band_keys_with_the_full_text() -> None:
    full = set(fingerprint(TITLE, LEAD).band_keys)
    teaser = set(fingerprint("Neuwied: Wiedbach-Brücke wird saniert", LEAD[:140] + " …").band_keys)
    assert full & teaser


def test_unrelated_texts_are_dissimilar_and_share_no_keys() -> None:
    a = fingerprint(TITLE, LEAD)
    b = fingerprint(OTHER_TITLE, OTHER_LEAD)
    assert similarity(a.shingles, b.shingles) < 0.1
    assert not set(a.band_keys) & set(b.band_keys)


def test_tiny_texts_use_jaccard_so_short_headlines_do_not_match_on_containment() -> None:
    a = shingles("Polizeibericht", "")
    b = shingles("Polizeibericht vom Wochenende aus dem Kreis", "")
    assert similarity(a, b) < 0.5


def test_title_key_ignores_word_order_and_needs_three_words() -> None:
    assert title_key("Brand in Lagerhalle Neuwied") == title_key("Neuwied: Lagerhalle, Brand")
    assert title_key("Polizeibericht") is None


def test_empty_text_has_no_keys() -> None:
    fp = fingerprint("", "")
    assert fp.empty and fp.band_keys == ()


def test_the_poller_process_does_not_load_numpy() -> None:
    """numpy (18 MB of RSS) belongs in the parse workers, which compute signatures."""
    code = (
        "import sys, feedhub.ingest.poller, feedhub.stories.service, feedhub.app;"
        "print('numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
