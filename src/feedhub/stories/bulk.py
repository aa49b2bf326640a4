"""The two statements of the stories stage that move many small rows per poll.

A poll writes about 21 LSH band rows per entry and probes the band index with
as many keys, each in its own time window. Rows carry the day of their time and
the index leads with it: a poll's inserts land in the few days around now, a
small part of the index that stays in the page cache and leaves checkpoints
few distinct pages to write, however many entries lie behind it. A probe seeks
once per day of its window: seven for 72 h either side.

Sent row by row through SQLAlchemy's executemany, the bind processing alone
costs more than the database work, so both statements go to the database with
one array parameter: a JSON array read by ``json_each`` on SQLite, typed arrays
read by ``unnest`` on PostgreSQL. Times are bound the way
:class:`feedhub.models.UTCDateTime` stores them (naive UTC; on SQLite the same
text format SQLAlchemy writes).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

_SQLITE_INSERT = text(
    "INSERT INTO lsh_bands (band_key, entry_id, at, day) "
    "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), "
    "json_extract(value, '$[2]'), json_extract(value, '$[3]') FROM json_each(:rows)"
)
_PG_INSERT = text(
    "INSERT INTO lsh_bands (band_key, entry_id, at, day) "
    "SELECT * FROM unnest(CAST(:keys AS bigint[]), CAST(:ids AS integer[]), "
    "CAST(:ats AS timestamp[]), CAST(:days AS integer[]))"
)
# CROSS JOIN keeps the probes as the outer loop, so each (key, day) is one index range
# scan of ix_lsh_bands_day_key (day, band_key, at, entry_id); only each entry's best
# candidates (most hits, then the newest) come back. On SQLite an entry's probes go as
# one JSON item [index, from, until, [days], [keys]]: json_each walks the lists
# instead of json_extract parsing one small array per (key, day).
_SQLITE_HITS = text(
    "SELECT i, entry_id, hits FROM (SELECT q.i AS i, b.entry_id AS entry_id, "
    "count(*) AS hits, row_number() OVER (PARTITION BY q.i "
    "ORDER BY count(*) DESC, b.entry_id DESC) AS rank "
    "FROM (SELECT json_extract(e.value, '$[0]') AS i, json_extract(e.value, '$[1]') AS lo, "
    "json_extract(e.value, '$[2]') AS hi, d.value AS day, k.value AS k "
    "FROM json_each(:probes) AS e, json_each(e.value, '$[3]') AS d, "
    "json_each(e.value, '$[4]') AS k) AS q "
    "CROSS JOIN lsh_bands AS b WHERE b.day = q.day AND b.band_key = q.k "
    "AND b.at >= q.lo AND b.at <= q.hi "
    "GROUP BY q.i, b.entry_id) WHERE rank <= :best"
)
_PG_HITS = text(
    "SELECT i, entry_id, hits FROM (SELECT q.i AS i, b.entry_id AS entry_id, "
    "count(*) AS hits, row_number() OVER (PARTITION BY q.i "
    "ORDER BY count(*) DESC, b.entry_id DESC) AS rank "
    "FROM unnest(CAST(:i AS integer[]), CAST(:k AS bigint[]), "
    "CAST(:lo AS timestamp[]), CAST(:hi AS timestamp[]), CAST(:day AS integer[])) "
    "AS q(i, k, lo, hi, day) JOIN lsh_bands AS b ON b.day = q.day AND b.band_key = q.k "
    "AND b.at >= q.lo AND b.at <= q.hi "
    "GROUP BY q.i, b.entry_id) AS ranked WHERE rank <= :best"
)

BandRow = tuple[int, int, datetime]  # band key, entry id, at
Probe = tuple[int, int, datetime, datetime]  # batch index, band key, from, until


_DAY_SECONDS = 24 * 3600


def band_day(at: datetime) -> int:
    """Whole days since the epoch (0 before it), as migration 0010 computes them in SQL."""
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    return max(0, int(aware.timestamp()) // _DAY_SECONDS)


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _sqlite_time(value: datetime) -> str:
    """The text SQLAlchemy's SQLite DateTime type stores (microseconds always written)."""
    return _naive_utc(value).isoformat(sep=" ", timespec="microseconds")


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def insert_bands(session: Session, rows: Sequence[BandRow]) -> None:
    """Insert LSH band rows in one statement."""
    if not rows:
        return
    if _is_sqlite(session):
        times: dict[datetime, str] = {}
        days: dict[datetime, int] = {}
        payload = json.dumps(
            [
                [
                    key,
                    entry,
                    times.get(at) or times.setdefault(at, _sqlite_time(at)),
                    days.get(at) or days.setdefault(at, band_day(at)),
                ]
                for key, entry, at in rows
            ]
        )
        session.execute(_SQLITE_INSERT, {"rows": payload})
        return
    session.execute(
        _PG_INSERT,
        {
            "keys": [r[0] for r in rows],
            "ids": [r[1] for r in rows],
            "ats": [_naive_utc(r[2]) for r in rows],
            "days": [band_day(r[2]) for r in rows],
        },
    )


def band_hits(session: Session, probes: Sequence[Probe], best: int) -> list[tuple[int, int, int]]:
    """(batch index, stored entry id, matching band rows) for every probe's window.

    Per batch index only the *best* stored entries come back: most hits first,
    among equals the newest.
    """
    if not probes:
        return []
    windows: dict[tuple[int, datetime, datetime], list[int]] = defaultdict(list)
    for i, key, lo, hi in probes:
        windows[(i, lo, hi)].append(key)
    if _is_sqlite(session):
        times: dict[datetime, str] = {}

        def stamp(at: datetime) -> str:
            return times.get(at) or times.setdefault(at, _sqlite_time(at))

        payload = json.dumps(
            [
                [i, stamp(lo), stamp(hi), list(range(band_day(lo), band_day(hi) + 1)), keys]
                for (i, lo, hi), keys in windows.items()
            ]
        )
        result = session.execute(_SQLITE_HITS, {"probes": payload, "best": best})
    else:
        rows = [
            (i, key, _naive_utc(lo), _naive_utc(hi), day)
            for (i, lo, hi), keys in windows.items()
            for day in range(band_day(lo), band_day(hi) + 1)
            for key in keys
        ]
        result = session.execute(
            _PG_HITS,
            {
                "i": [r[0] for r in rows],
                "k": [r[1] for r in rows],
                "lo": [r[2] for r in rows],
                "hi": [r[3] for r in rows],
                "day": [r[4] for r in rows],
                "best": best,
            },
        )
    return [(int(i), int(entry_id), int(hits)) for i, entry_id, hits in result]
