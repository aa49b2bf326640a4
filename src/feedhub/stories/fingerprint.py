"""Near-duplicate fingerprints: shingles → MinHash signature → LSH band keys.

The fingerprint covers the title and only the *beginning* of the lead, so a
teaser truncated after two sentences and the full lead of the same article
still look alike. Band keys are stored in ``lsh_bands`` and looked up by
equality, which costs the same with a thousand or ten million stored entries.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass

from feedhub.stories.stemming import cached_stem
from feedhub.stories.text import content_tokens, drop_truncated_tail

LEAD_TOKENS = 32  # content tokens of the lead that enter the fingerprint
# 10 bands of 2 rows. Recall of the duplicate pairs of benchmarks/dedup.py
# (goal 0.97) by bands: 20: 0.9974, 15: 0.9951, 12: 0.9919, 10: 0.9893, 8: 0.9806,
# 6: 0.9669; precision 1.0 throughout. Band rows are most of what a poll writes:
# with 10 instead of 15 the storing thread of a cold poll of 500 feeds spent
# 0.3-1.2 s less of its 6.5-8 s (alternating runs, BENCHMARKS.md).
# The permutations are the first ones of the same random sequence, so the keys
# of bands 0-9 equal those stored before; rows of the older bands 10-19 are
# never probed again and leave with their entries.
NUM_PERM = 20
ROWS_PER_BAND = 2
BANDS = NUM_PERM // ROWS_PER_BAND
PRIME = (1 << 61) - 1
_MASK63 = (1 << 63) - 1
_rng = random.Random(0x5EED_F00D)
PERMUTATIONS = [(_rng.randrange(1, PRIME), _rng.randrange(0, PRIME)) for _ in range(NUM_PERM)]


def _hash64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def _grams(words: list[str], prefix: str) -> set[str]:
    if len(words) < 2:
        return {prefix + w for w in words}
    return {f"{prefix}{a} {b}" for a, b in itertools.pairwise(words)}


@dataclass(frozen=True)
class Fingerprint:
    shingles: frozenset[int]
    band_keys: tuple[int, ...]

    @property
    def empty(self) -> bool:
        return not self.shingles


def shingles(title: str, lead: str) -> frozenset[int]:
    """Hashed word bigrams of the title plus the first LEAD_TOKENS of the lead."""
    return shingles_of(content_tokens(title), content_tokens(drop_truncated_tail(lead)))


def shingles_of(title_tokens: list[str], lead_tokens: list[str]) -> frozenset[int]:
    """``shingles`` from the content tokens of the title and of the (untruncated) lead."""
    grams = _grams(title_tokens, "") | _grams(lead_tokens[:LEAD_TOKENS], "")
    blake2b, from_bytes = hashlib.blake2b, int.from_bytes
    # _hash64 of each, inlined (a call per bigram is a third of the cost)
    return frozenset(
        [from_bytes(blake2b(g.encode(), digest_size=8).digest(), "big") for g in grams]
    )


def minhash(shingle_hashes: frozenset[int]) -> tuple[int, ...]:
    """Per permutation (a, b) of PERMUTATIONS, the least ``(a * x + b) mod PRIME``."""
    if not shingle_hashes:
        return ()
    # numpy is loaded where signatures are computed (the parse workers), not in
    # every process that imports this module: it costs the poller 18 MB of RSS
    from feedhub.stories.minhash import signature

    return signature(shingle_hashes)


def minhashes(sets: Sequence[frozenset[int]]) -> list[tuple[int, ...]]:
    """``minhash`` of each set, computed together (a feed's entries at once)."""
    from feedhub.stories.minhash import signatures

    return signatures(sets)


def band_keys(signature: tuple[int, ...]) -> tuple[int, ...]:
    """One key per band: a 63-bit hash of (band number, the band's rows)."""
    if not signature:
        return ()
    if len(signature) == NUM_PERM and ROWS_PER_BAND == 2:
        blake2b, from_bytes = hashlib.blake2b, int.from_bytes
        # what the loop below hashes, "band:row:row", built by one f-string
        return tuple(
            from_bytes(blake2b(f"{band}:{a}:{b}".encode(), digest_size=8).digest(), "big") & _MASK63
            for band, a, b in zip(range(BANDS), signature[0::2], signature[1::2], strict=True)
        )
    keys = []
    for band in range(BANDS):
        rows = signature[band * ROWS_PER_BAND : (band + 1) * ROWS_PER_BAND]
        digest = hashlib.blake2b(
            f"{band}:{':'.join(map(str, rows))}".encode(), digest_size=8
        ).digest()
        keys.append(int.from_bytes(digest, "big") & _MASK63)
    return tuple(keys)


def title_key(title: str) -> int | None:
    """Order-insensitive key of the title words: reordered headlines still meet."""
    return _title_key(content_tokens(title))


def _title_key(title_tokens: list[str]) -> int | None:
    words = sorted(set(title_tokens))
    if len(words) < 3:
        return None
    return _hash64("title:" + " ".join(words)) & _MASK63


def fingerprint(title: str, lead: str) -> Fingerprint:
    return fingerprint_of(content_tokens(title), content_tokens(drop_truncated_tail(lead)))


def fingerprint_of(title_tokens: list[str], lead_tokens: list[str]) -> Fingerprint:
    """``fingerprint`` from the content tokens of the title and of the untruncated lead."""
    sh = shingles_of(title_tokens, lead_tokens)
    return fingerprint_from(sh, minhash(sh), title_tokens)


def fingerprint_from(
    sh: frozenset[int], signature: tuple[int, ...], title_tokens: list[str]
) -> Fingerprint:
    """The fingerprint of shingles *sh* whose ``minhash`` is *signature*."""
    keys = list(band_keys(signature))
    tkey = _title_key(title_tokens)
    if tkey is not None:
        keys.append(tkey)
    return Fingerprint(shingles=sh, band_keys=tuple(keys))


def similarity(a: frozenset[int], b: frozenset[int]) -> float:
    """Overlap of the two shingle sets, relative to the smaller one.

    A truncated teaser is (nearly) contained in the full text, so plain Jaccard
    would undervalue it; tiny sets fall back to Jaccard so that two three-word
    headlines do not count as identical stories.
    """
    if not a or not b:
        return 0.0
    common = len(a & b)
    smaller = min(len(a), len(b))
    if smaller < 6:
        return common / len(a | b)
    return common / smaller


def title_words(title: str) -> frozenset[str]:
    """The headline's stemmed content words (what ``title_overlap`` compares)."""
    return frozenset(cached_stem(w) for w in content_tokens(title))


def title_words_of(title_tokens: list[str]) -> frozenset[str]:
    return frozenset(cached_stem(w) for w in title_tokens)


def word_overlap(words_a: frozenset[str], words_b: frozenset[str]) -> float:
    """Share of the smaller word set that the other set has too."""
    if not words_a or not words_b:
        return 0.0
    return len(words_a & words_b) / min(len(words_a), len(words_b))


def title_overlap(a: str, b: str) -> float:
    """Share of the shorter headline's (stemmed) words that the other headline has too."""
    return word_overlap(title_words(a), title_words(b))
