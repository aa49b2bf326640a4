"""A bitmap of the band keys stored for recent days, so probes that cannot hit are not sent.

Nearly every probe of a poll finds nothing: most entries are the first of their
story. Each probe still costs SQLite a seek per day of its window, about a
fifth of the storing thread in a cold poll. The SQLite poller keeps one bit per
key (the low bits of the 63-bit band key) for every band row of the days from
``first_day`` on; a probe whose window lies in those days and whose bit is clear
has no row to find, and is dropped before the statement is built. A set bit may
be another key's (about 1 % at 200,000 keys): that probe is sent as before.
Results are the same with or without the bitmap.

It must never miss a row. The poller adds the keys it inserts itself; rows that
other processes insert (an admin's "poll now" in a web process, a CLI command)
it learns about through ``band_writes.token``, which every insert of band rows
on SQLite sets to a new random value. Before it is used the bitmap is checked
against the stored token, and rebuilt from the table when another writer has
been there, or when a rolled-back poll left the bitmap ahead of the database.
Building reads nine days of band rows, so a bitmap is built only once
``BUILD_AFTER`` probe keys went out without one: a poll of a few new entries
just sends its probes.

(Rows another process commits between the token check and the probe are
missed, as rows committed just after the probe always were: a poll's first
reads are not one snapshot.)

PostgreSQL runs several pollers at once, which would invalidate each other's
bitmaps on every poll; it probes every key as before.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

BITS = 1 << 24  # 2 MiB; about 1 % false hits at 200,000 keys, 8 % at 1.5 million
_MASK = BITS - 1
# days before today that a fresh bitmap covers (a window reaches 72 h back)
LOOKBACK_DAYS = 8
MAX_KEYS = 1_500_000  # keys added since the last build before it is built again
# probe keys sent without a bitmap before one is built: a small poll (a few new
# entries) is cheaper to probe than a bitmap of nine days of rows is to build
BUILD_AFTER = 20_000


@dataclass
class BandFilter:
    """Bits of the band keys of all rows whose day is ``first_day`` or later.

    ``token`` is the ``band_writes.token`` the bitmap is complete for; None until
    it is built and after it fell behind.
    """

    first_day: int = 0
    token: int | None = None
    keys: int = 0  # keys added since the last build (the build's own not counted)
    unfiltered: int = 0  # probe keys sent since the bitmap was last usable
    bits: bytearray = field(default_factory=lambda: bytearray(BITS // 8), repr=False)

    def covers(self, day: int) -> bool:
        """Whether rows of *day* and later are all in the bitmap."""
        return self.token is not None and day >= self.first_day

    def may_hold(self, key: int) -> bool:
        index = key & _MASK
        return bool(self.bits[index >> 3] >> (index & 7) & 1)

    def add(self, keys: Iterable[int]) -> None:
        bits = self.bits
        count = 0
        for key in keys:
            index = key & _MASK
            bits[index >> 3] |= 1 << (index & 7)
            count += 1
        self.keys += count

    def worth_building(self, probes: int) -> bool:
        """Whether enough probes went out unfiltered to pay for building the bitmap;
        counts *probes* among them when not."""
        if self.unfiltered + probes >= BUILD_AFTER:
            return True
        self.unfiltered += probes
        return False

    def needs_build(self, stored_token: int, today: int) -> bool:
        """Behind the database, filled up by many keys since its build, or covering
        too many old days. (A build that alone holds more keys than MAX_KEYS only
        filters less well; building it again would not change that.)"""
        return (
            self.token != stored_token
            or self.keys > MAX_KEYS
            or self.first_day < today - 2 * LOOKBACK_DAYS
        )

    def rebuild(self, first_day: int, token: int, keys: Iterable[int]) -> None:
        """Start again from the stored keys of *first_day* and later, complete for *token*.

        Unusable until the last key is in: a build that fails half-way (the
        reading statement raises) leaves a bitmap that is built again.
        """
        self.token = None
        self.bits[:] = bytes(len(self.bits))
        self.first_day = first_day
        self.add(keys)
        self.keys = self.unfiltered = 0
        self.token = token


def new_token() -> int:
    """A fresh ``band_writes.token``: random, so a write that was rolled back is never reused."""
    return secrets.randbits(62) + 1
