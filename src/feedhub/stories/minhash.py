"""MinHash signatures on uint64 arrays, equal to the big-integer formula.

The signature is, per permutation (a, b), the least ``(a * x + b) mod (2^61 - 1)``
over the shingle hashes x. In pure Python that is 20 x ~40 big-integer multiply
and modulo operations per entry, a large share of a parse worker's time. Here the
product a * x is split into 32-bit halves and folded with 2^61 ≡ 1 and
2^64 ≡ 8 (mod 2^61 - 1), so every value fits a uint64 and equals the exact
result: band keys stored by earlier versions stay valid.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate, chain

import numpy as np
import numpy.typing as npt

from feedhub.stories.fingerprint import PERMUTATIONS, PRIME

Array = npt.NDArray[np.uint64]

_U64 = np.uint64
_P = _U64(PRIME)
_LOW32 = _U64(0xFFFF_FFFF)
_LOW29 = _U64((1 << 29) - 1)
_A = np.array([a for a, _ in PERMUTATIONS], dtype=np.uint64)[:, None]
_A_HI, _A_LO = _A >> _U64(32), _A & _LOW32
_B = np.array([b for _, b in PERMUTATIONS], dtype=np.uint64)[:, None]


def _fold61(x: Array) -> Array:
    """Congruent to x mod 2^61 - 1 and below 2^61 + 8, for any uint64 x."""
    return (x & _P) + (x >> _U64(61))


def _below_p(x: Array) -> Array:
    """x mod 2^61 - 1 for x below 2 * (2^61 - 1).

    x - p wraps around to more than x when x < p, so the smaller of the two is
    the result (np.where with its mask costs ten times as much).
    """
    least: Array = np.minimum(x, x - _P)
    return least


# Sets are hashed together up to this many shingles: numpy's cost per call is
# paid once per chunk, while the (permutations, n) intermediate arrays stay below
# glibc's mmap threshold (128 KiB; at most 120 KiB here: 768 shingles with 20
# permutations). Larger arrays are mapped and unmapped on every operation and
# cost more per element than the separate calls they replace.
CHUNK_SHINGLES = 120 * 1024 // (8 * len(PERMUTATIONS))


def _values(x: Array) -> Array:
    """Per permutation (row) and shingle hash (column), ``(a * x + b) mod (2^61 - 1)``."""
    x = _below_p(_fold61(x))
    x_hi, x_lo = x >> _U64(32), x & _LOW32  # both below 2^32, x_hi below 2^29
    # total = (a_hi * x_hi) << 3                 2^64 ≡ 8
    #       + (mid >> 29) + (mid & 2^29-1) << 32  mid * 2^32, mid = a_hi * x_lo + a_lo * x_hi
    #       + _fold61(a_lo * x_lo)
    # four terms below 2^61 + 8 each: no overflow. Computed in place, in three
    # arrays of the full size.
    total = _A_HI * x_hi
    total <<= _U64(3)
    mid = _A_HI * x_lo
    tmp = _A_LO * x_hi
    mid += tmp  # below 2^62
    np.right_shift(mid, _U64(29), out=tmp)
    total += tmp
    mid &= _LOW29
    mid <<= _U64(32)
    total += mid
    np.multiply(_A_LO, x_lo, out=mid)
    np.right_shift(mid, _U64(61), out=tmp)  # _fold61(a_lo * x_lo)
    mid &= _P
    mid += tmp
    total += mid
    np.right_shift(total, _U64(61), out=tmp)  # _fold61(total) <= p + 3
    total &= _P
    total += tmp
    np.subtract(total, _P, out=tmp)  # _below_p: the products
    np.minimum(total, tmp, out=total)
    total += _B
    np.subtract(total, _P, out=tmp)  # _below_p: the values
    np.minimum(total, tmp, out=total)
    return total


def signature(shingle_hashes: frozenset[int]) -> tuple[int, ...]:
    """The MinHash signature of a non-empty set of 64-bit shingle hashes."""
    x = np.fromiter(shingle_hashes, dtype=np.uint64, count=len(shingle_hashes))
    return tuple(_values(x).min(axis=1).tolist())


def signatures(sets: Sequence[frozenset[int]]) -> list[tuple[int, ...]]:
    """``signature`` of each set (``()`` for an empty one), a chunk of sets at a time.

    A feed's entries have ~40 shingles each: one pass per entry spends most of
    its time in numpy's per-call overhead, not in the arithmetic.
    """
    result: list[tuple[int, ...]] = [()] * len(sets)
    chunk: list[int] = []  # indexes of the non-empty sets in this chunk
    size = 0
    for i, shingle_hashes in enumerate(sets):
        if not shingle_hashes:
            continue
        if chunk and size + len(shingle_hashes) > CHUNK_SHINGLES:
            _signatures_into(result, sets, chunk, size)
            chunk, size = [], 0
        chunk.append(i)
        size += len(shingle_hashes)
    if chunk:
        _signatures_into(result, sets, chunk, size)
    return result


def _signatures_into(
    result: list[tuple[int, ...]], sets: Sequence[frozenset[int]], chunk: list[int], size: int
) -> None:
    x = np.fromiter(chain.from_iterable(sets[i] for i in chunk), dtype=np.uint64, count=size)
    starts = np.fromiter(
        accumulate((len(sets[i]) for i in chunk[:-1]), initial=0),
        dtype=np.intp,
        count=len(chunk),
    )
    # the least value of each set's columns, per permutation; sets are non-empty,
    # so every segment of reduceat has at least one column
    least = np.minimum.reduceat(_values(x), starts, axis=1)
    for i, values in zip(chunk, least.T.tolist(), strict=True):
        result[i] = tuple(values)
