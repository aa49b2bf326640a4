"""MinHash signatures on uint64 arrays, equal to the big-integer formula.

The signature is, per permutation (a, b), the least ``(a * x + b) mod (2^61 - 1)``
over the shingle hashes x. In pure Python that is 30 x ~40 big-integer multiply
and modulo operations per entry, a large share of a parse worker's time. Here the
product a * x is split into 32-bit halves and folded with 2^61 ≡ 1 and
2^64 ≡ 8 (mod 2^61 - 1), so every value fits a uint64 and equals the exact
result: band keys stored by earlier versions stay valid.
"""

from __future__ import annotations

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
    """x mod 2^61 - 1 for x below 2 * (2^61 - 1)."""
    return np.where(x >= _P, x - _P, x)


def signature(shingle_hashes: frozenset[int]) -> tuple[int, ...]:
    """The MinHash signature of a non-empty set of 64-bit shingle hashes."""
    x = _below_p(_fold61(np.fromiter(shingle_hashes, dtype=np.uint64, count=len(shingle_hashes))))
    x_hi, x_lo = x >> _U64(32), x & _LOW32  # both below 2^32, x_hi below 2^29
    mid = _A_HI * x_lo + _A_LO * x_hi  # below 2^62; mid * 2^32 ≡ (mid >> 29) + low 29 bits << 32
    total = (
        ((_A_HI * x_hi) << _U64(3))  # 2^64 ≡ 8
        + (mid >> _U64(29))
        + ((mid & _LOW29) << _U64(32))
        + _fold61(_A_LO * x_lo)
    )  # four terms below 2^61 + 8 each: no overflow
    products = _below_p(_fold61(total))  # _fold61(total) <= p + 3
    values = _below_p(products + _B)
    return tuple(values.min(axis=1).tolist())
