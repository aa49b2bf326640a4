"""The two statements of the stories stage that move many small rows per poll.

A poll writes about 21 LSH band rows per entry and probes the band index with
as many keys, each in its own time window. Rows carry the week of their time
and the index leads with it, so a probe seeks once per week its window touches
(at most two for 72 h either side, sent as one ``week IN (…)`` probe) and never
strays into the cold, old part of the index.

Sent row by row through SQLAlchemy's executemany, the bind processing alone
costs more than the database work, so both statements go to the database with
one array parameter: a JSON array read by ``json_each`` on SQLite, typed arrays
read by ``unnest`` on PostgreSQL. Times are bound the way
:class:`feedhub.models.UTCDateTime` stores them (naive UTC; on SQLite the same
text format SQLAlchemy writes).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

_SQLITE_INSERT = text(
    "INSERT INTO lsh_bands (band_key, entry_id, at, week) "
    "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), "
    "json_extract(value, '$[2]'), json_extract(value, '$[3]') FROM json_each(:rows)"
)
_PG_INSERT = text(
    "INSERT INTO lsh_bands (band_key, entry_id, at, week) "
    "SELECT * FROM unnest(CAST(:keys AS bigint[]), CAST(:ids AS integer[]), "
    "CAST(:ats AS timestamp[]), CAST(:weeks AS integer[]))"
)
# CROSS JOIN keeps the probes as the outer loop, so each probe is one index range
# scan of ix_lsh_bands_week_key (week, band_key, at, entry_id); only each entry's best
# candidates (most hits, then the newest) come back
_SQLITE_HITS = text(
    "SELECT i, entry_id, hits FROM (SELECT q.i AS i, b.entry_id AS entry_id, "
    "count(*) AS hits, row_number() OVER (PARTITION BY q.i "
    "ORDER BY count(*) DESC, b.entry_id DESC) AS rank "
    "FROM (SELECT json_extract(value, '$[0]') AS i, "
    "json_extract(value, '$[1]') AS w0, json_extract(value, '$[2]') AS w1, "
    "json_extract(value, '$[3]') AS k, json_extract(value, '$[4]') AS lo, "
    "json_extract(value, '$[5]') AS hi FROM json_each(:probes)) AS q "
    "CROSS JOIN lsh_bands AS b "
    "WHERE b.week IN (q.w0, q.w1) AND b.band_key = q.k AND b.at >= q.lo AND b.at <= q.hi "
    "GROUP BY q.i, b.entry_id) WHERE rank <= :best"
)
_PG_HITS = text(
    "SELECT i, entry_id, hits FROM (SELECT q.i AS i, b.entry_id AS entry_id, "
    "count(*) AS hits, row_number() OVER (PARTITION BY q.i "
    "ORDER BY count(*) DESC, b.entry_id DESC) AS rank "
    "FROM unnest(CAST(:i AS integer[]), CAST(:w0 AS integer[]), CAST(:w1 AS integer[]), "
    "CAST(:k AS bigint[]), CAST(:lo AS timestamp[]), CAST(:hi AS timestamp[])) "
    "AS q(i, w0, w1, k, lo, hi) JOIN lsh_bands AS b "
    "ON b.week IN (q.w0, q.w1) AND b.band_key = q.k AND b.at >= q.lo AND b.at <= q.hi "
    "GROUP BY q.i, b.entry_id) AS ranked WHERE rank <= :best"
)

BandRow = tuple[int, int, datetime]  # band key, entry id, at
Probe = tuple[int, int, datetime, datetime]  # batch index, band key, from, until


_WEEK_SECONDS = 7 * 24 * 3600


def band_week(at: datetime) -> int:
    """Whole weeks since the epoch (0 before it), as migration 0010 computes them in SQL."""
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    return max(0, int(aware.timestamp()) // _WEEK_SECONDS)


def _week_pairs(low: datetime, high: datetime) -> list[tuple[int, int]]:
    """The weeks from *low* to *high* in pairs (one pair for any window up to a week)."""
    weeks = list(range(band_week(low), band_week(high) + 1))
    return [(w, weeks[min(n + 1, len(weeks) - 1)]) for n, w in enumerate(weeks) if n % 2 == 0]


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
        weeks: dict[datetime, int] = {}
        payload = json.dumps(
            [
                [
                    key,
                    entry,
                    times.get(at) or times.setdefault(at, _sqlite_time(at)),
                    weeks.get(at) or weeks.setdefault(at, band_week(at)),
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
            "weeks": [band_week(r[2]) for r in rows],
        },
    )


def band_hits(session: Session, probes: Sequence[Probe], best: int) -> list[tuple[int, int, int]]:
    """(batch index, stored entry id, matching band rows) for every probe's window.

    Per batch index only the *best* stored entries come back: most hits first,
    among equals the newest.
    """
    if not probes:
        return []
    spans: dict[tuple[datetime, datetime], list[tuple[int, int]]] = {}
    seeks = [
        (i, w0, w1, key, lo, hi)
        for i, key, lo, hi in probes
        for w0, w1 in spans.get((lo, hi)) or spans.setdefault((lo, hi), _week_pairs(lo, hi))
    ]
    if _is_sqlite(session):
        times: dict[datetime, str] = {}

        def stamp(at: datetime) -> str:
            return times.get(at) or times.setdefault(at, _sqlite_time(at))

        payload = json.dumps(
            [[i, w0, w1, key, stamp(lo), stamp(hi)] for i, w0, w1, key, lo, hi in seeks]
        )
        result = session.execute(_SQLITE_HITS, {"probes": payload, "best": best})
    else:
        result = session.execute(
            _PG_HITS,
            {
                "i": [s[0] for s in seeks],
                "w0": [s[1] for s in seeks],
                "w1": [s[2] for s in seeks],
                "k": [s[3] for s in seeks],
                "lo": [_naive_utc(s[4]) for s in seeks],
                "hi": [_naive_utc(s[5]) for s in seeks],
                "best": best,
            },
        )
    return [(int(i), int(entry_id), int(hits)) for i, entry_id, hits in result]
