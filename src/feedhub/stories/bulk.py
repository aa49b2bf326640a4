"""The statements of the stories stage that move many small rows per poll.

A poll writes about 21 LSH band rows per entry and probes the band index with
as many keys, each in its own time window. Rows carry the day of their time and
the index leads with it: a poll's inserts land in the few days around now, a
small part of the index that stays in the page cache and leaves checkpoints
few distinct pages to write, however many entries lie behind it. A probe seeks
once per day of its window (one ``day IN (…)`` probe row for up to seven days).

Sent row by row through SQLAlchemy's executemany, the bind processing alone
costs more than the database work, so both statements go to the database with
one array parameter: a JSON array read by ``json_each`` on SQLite, typed arrays
read by ``unnest`` on PostgreSQL. Times are bound the way
:class:`feedhub.models.UTCDateTime` stores them (naive UTC; on SQLite the same
text format SQLAlchemy writes). New entries and stories go in one multi-row
INSERT each (``insert_returning_ids``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, insert, text
from sqlalchemy.orm import Session

from feedhub.db import session_is_sqlite

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
DAYS_PER_PROBE = 7  # a window of 72 h either side touches at most seven days
_DAY_COLUMNS = [f"d{n}" for n in range(DAYS_PER_PROBE)]
_DAYS_IN = f"b.day IN ({', '.join('q.' + d for d in _DAY_COLUMNS)})"
# The probes are materialized first: inlined, every comparison with q.k, q.lo, q.d0 …
# re-ran json_extract on the probe's JSON text, once per index seek, and that cost as
# much as the seeks. CROSS JOIN keeps the probes as the outer loop, so each probe is
# one index range scan per day of ix_lsh_bands_day_key (day, band_key, at, entry_id);
# only each entry's best candidates (most hits, then the newest) come back.
_SQLITE_HITS = text(
    "WITH q AS MATERIALIZED (SELECT json_extract(value, '$[0]') AS i, "
    "json_extract(value, '$[1]') AS k, json_extract(value, '$[2]') AS lo, "
    "json_extract(value, '$[3]') AS hi, "
    + ", ".join(f"json_extract(value, '$[{n + 4}]') AS {d}" for n, d in enumerate(_DAY_COLUMNS))
    + " FROM json_each(:probes)) "
    "SELECT i, entry_id, hits FROM (SELECT q.i AS i, b.entry_id AS entry_id, "
    "count(*) AS hits, row_number() OVER (PARTITION BY q.i "
    "ORDER BY count(*) DESC, b.entry_id DESC) AS rank "
    f"FROM q CROSS JOIN lsh_bands AS b WHERE {_DAYS_IN} "
    "AND b.band_key = q.k AND b.at >= q.lo AND b.at <= q.hi "
    "GROUP BY q.i, b.entry_id) WHERE rank <= :best"
)
_PG_HITS = text(
    "SELECT i, entry_id, hits FROM (SELECT q.i AS i, b.entry_id AS entry_id, "
    "count(*) AS hits, row_number() OVER (PARTITION BY q.i "
    "ORDER BY count(*) DESC, b.entry_id DESC) AS rank "
    "FROM unnest(CAST(:i AS integer[]), CAST(:k AS bigint[]), "
    "CAST(:lo AS timestamp[]), CAST(:hi AS timestamp[]), "
    + ", ".join(f"CAST(:{d} AS integer[])" for d in _DAY_COLUMNS)
    + f") AS q(i, k, lo, hi, {', '.join(_DAY_COLUMNS)}) "
    f"JOIN lsh_bands AS b ON {_DAYS_IN} "
    "AND b.band_key = q.k AND b.at >= q.lo AND b.at <= q.hi "
    "GROUP BY q.i, b.entry_id) AS ranked WHERE rank <= :best"
)

BandRow = tuple[int, int, datetime]  # band key, entry id, at
Probe = tuple[int, int, datetime, datetime]  # batch index, band key, from, until


_EPOCH = datetime(1970, 1, 1)
_DAY = timedelta(days=1)


def band_day(at: datetime) -> int:
    """Whole days since the epoch (0 before it), as migration 0010 computes them in SQL.

    Integer arithmetic on the naive UTC time: a float timestamp would round the
    last microsecond of a day into the next one.
    """
    return max(0, (_naive_utc(at) - _EPOCH) // _DAY)


def _day_groups(low: datetime, high: datetime) -> list[tuple[int, ...]]:
    """The days from *low* to *high* in groups of DAYS_PER_PROBE, the last padded."""
    days = list(range(band_day(low), band_day(high) + 1))
    groups = [days[n : n + DAYS_PER_PROBE] for n in range(0, len(days), DAYS_PER_PROBE)]
    return [tuple(g + [g[-1]] * (DAYS_PER_PROBE - len(g))) for g in groups]


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _sqlite_time(value: datetime) -> str:
    """The text SQLAlchemy's SQLite DateTime type stores (microseconds always written)."""
    return _naive_utc(value).isoformat(sep=" ", timespec="microseconds")


def insert_returning_ids(
    session: Session, table: Table, rows: Sequence[dict[str, Any]]
) -> list[int]:
    """Insert *rows* into *table*; their new integer ids, in the order of *rows*.

    Asked to return ids in parameter order, SQLAlchemy sends SQLite one INSERT
    per row (it has no INSERT form that ties new rowids to the parameter sets);
    a poll's 40 entries and 40 stories cost 80 round trips through the driver
    and the statement machinery. In one write transaction SQLite gives each new
    row of a rowid table max(rowid) + 1, row after row in VALUES order, so one
    multi-row INSERT … RETURNING and ascending ids are the same correspondence.
    PostgreSQL batches ordered RETURNING itself (SERIAL values ordered by a
    sentinel).
    """
    if not rows:
        return []
    if session_is_sqlite(session):
        return sorted(session.execute(insert(table).returning(table.c.id), rows).scalars())
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.execute(statement, rows).scalars())


def insert_bands(session: Session, rows: Sequence[BandRow]) -> None:
    """Insert LSH band rows in one statement."""
    if not rows:
        return
    if session_is_sqlite(session):
        # a poll's rows share a few times: format each once
        columns = {at: (_sqlite_time(at), band_day(at)) for at in {r[2] for r in rows}}
        payload = json.dumps([[key, entry, *columns[at]] for key, entry, at in rows])
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
    windows = {window: _day_groups(*window) for window in {(p[2], p[3]) for p in probes}}
    seeks = [(i, key, lo, hi, group) for i, key, lo, hi in probes for group in windows[(lo, hi)]]
    if session_is_sqlite(session):
        stamps = {at: _sqlite_time(at) for window in windows for at in window}
        payload = json.dumps(
            [[i, key, stamps[lo], stamps[hi], *group] for i, key, lo, hi, group in seeks]
        )
        result = session.execute(_SQLITE_HITS, {"probes": payload, "best": best})
    else:
        params: dict[str, object] = {
            "i": [s[0] for s in seeks],
            "k": [s[1] for s in seeks],
            "lo": [_naive_utc(s[2]) for s in seeks],
            "hi": [_naive_utc(s[3]) for s in seeks],
            "best": best,
        }
        for n, column in enumerate(_DAY_COLUMNS):
            params[column] = [s[4][n] for s in seeks]
        result = session.execute(_PG_HITS, params)
    return [(int(i), int(entry_id), int(hits)) for i, entry_id, hits in result]
