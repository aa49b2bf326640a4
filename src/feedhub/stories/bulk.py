"""The statements of the stories stage that move many small rows per poll.

A poll writes up to 11 LSH band rows per entry (10 bands, and a title key for
headlines of three content words or more) and probes the band table with as
many keys, each in its own time window. Rows carry the day of their time and
the table's key leads with it: a poll's inserts land in the few days around
now, a small part of the table that stays in the page cache and leaves
checkpoints few distinct pages to write, however many entries lie behind it. A
probe seeks once per day of its window that holds rows (one ``day IN (…)``
probe row for up to seven days); the SQLite poller first drops the probes that
cannot hit (:mod:`feedhub.stories.band_filter`).

Sent row by row through SQLAlchemy's executemany, the bind processing alone
costs more than the database work. Band rows go to SQLite through the
driver's own executemany (plain tuples, nothing processed per row) and to
PostgreSQL as typed arrays read by ``unnest``; the probe rows go in one array
parameter, a JSON array read by ``json_each`` on SQLite. Band times are
integers (``band_micros``). New entries and stories go in one multi-row
INSERT each (``insert_returning_ids``).
"""

from __future__ import annotations

import functools
import json
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, TextClause, bindparam, delete, insert, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert

from feedhub import sqlite_exec
from feedhub.db import core, session_is_sqlite
from feedhub.models import LshBand
from feedhub.sqlite_insert import insert_rows
from feedhub.stories.band_filter import LOOKBACK_DAYS, BandFilter, new_token

_DELETE_CHUNK = 500
# a row that is there already is the same row (the whole row is its key)
_SQLITE_INSERT = (
    "INSERT INTO lsh_bands (band_key, entry_id, at, day) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
_PG_INSERT = text(
    "INSERT INTO lsh_bands (band_key, entry_id, at, day) "
    "SELECT * FROM unnest(CAST(:keys AS bigint[]), CAST(:ids AS integer[]), "
    "CAST(:ats AS bigint[]), CAST(:days AS integer[])) ON CONFLICT DO NOTHING"
)
DAYS_PER_PROBE = 7  # a window of 72 h either side touches at most seven days
# Session.info key under which the SQLite poller lends its BandFilter to a poll
BAND_FILTER = "feedhub.band_filter"
# Session.info key: (transaction, the band_writes token it has seen or written)
_TOKEN_SEEN = "feedhub.band_token_seen"
_SQLITE_TOKEN = text("SELECT token FROM band_writes WHERE id = 1")
_SQLITE_SET_TOKEN = text(
    "INSERT INTO band_writes (id, token) VALUES (1, :token) "
    "ON CONFLICT (id) DO UPDATE SET token = excluded.token"
)
_SQLITE_KEYS_SINCE = "SELECT band_key FROM lsh_bands WHERE day >= ?"
_SQLITE_DAYS_WITH_ROWS = text(
    "SELECT value FROM json_each(:days) "
    "WHERE EXISTS (SELECT 1 FROM lsh_bands WHERE day = json_each.value)"
)
_PG_DAYS_WITH_ROWS = text(
    "SELECT d FROM unnest(CAST(:days AS integer[])) AS d "
    "WHERE EXISTS (SELECT 1 FROM lsh_bands WHERE day = d)"
)


@functools.cache
def _hits_statement(sqlite: bool, days: int) -> TextClause:
    """The probe statement for probe rows of *days* day columns (1 to DAYS_PER_PROBE).

    The probes are materialized first on SQLite: inlined, every comparison with
    q.k, q.lo, q.d0 … re-ran json_extract on the probe's JSON text, once per index
    seek, and that cost as much as the seeks. CROSS JOIN keeps the probes as the
    outer loop, so each probe is one range scan per day of the table's key
    (day, band_key, at, entry_id); only each entry's best candidates (most hits,
    then the newest) come back.
    """
    columns = [f"d{n}" for n in range(days)]
    days_in = f"b.day IN ({', '.join('q.' + d for d in columns)})"
    ranked = (
        "SELECT q.i AS i, b.entry_id AS entry_id, count(*) AS hits, "
        "row_number() OVER (PARTITION BY q.i ORDER BY count(*) DESC, b.entry_id DESC) AS rank "
    )
    if sqlite:
        return text(
            "WITH q AS MATERIALIZED (SELECT json_extract(value, '$[0]') AS i, "
            "json_extract(value, '$[1]') AS k, json_extract(value, '$[2]') AS lo, "
            "json_extract(value, '$[3]') AS hi, "
            + ", ".join(f"json_extract(value, '$[{n + 4}]') AS {d}" for n, d in enumerate(columns))
            + " FROM json_each(:probes)) "
            f"SELECT i, entry_id, hits FROM ({ranked}"
            f"FROM q CROSS JOIN lsh_bands AS b WHERE {days_in} "
            "AND b.band_key = q.k AND b.at >= q.lo AND b.at <= q.hi "
            "GROUP BY q.i, b.entry_id) WHERE rank <= :best"
        )
    return text(
        f"SELECT i, entry_id, hits FROM ({ranked}"
        "FROM unnest(CAST(:i AS integer[]), CAST(:k AS bigint[]), "
        "CAST(:lo AS bigint[]), CAST(:hi AS bigint[]), "
        + ", ".join(f"CAST(:{d} AS integer[])" for d in columns)
        + f") AS q(i, k, lo, hi, {', '.join(columns)}) "
        f"JOIN lsh_bands AS b ON {days_in} "
        "AND b.band_key = q.k AND b.at >= q.lo AND b.at <= q.hi "
        "GROUP BY q.i, b.entry_id) AS ranked WHERE rank <= :best"
    )


BandRow = tuple[int, int, datetime]  # band key, entry id, at
Probe = tuple[int, int, datetime, datetime]  # batch index, band key, from, until


_EPOCH = datetime(1970, 1, 1)
_DAY = timedelta(days=1)
_MICROSECOND = timedelta(microseconds=1)


def band_micros(at: datetime) -> int:
    """``lsh_bands.at``: microseconds since the epoch, UTC (exact integer arithmetic)."""
    return (_naive_utc(at) - _EPOCH) // _MICROSECOND


def band_day(at: datetime) -> int:
    """Whole days since the epoch (0 before it), as migration 0010 computes them in SQL.

    Integer arithmetic on the naive UTC time: a float timestamp would round the
    last microsecond of a day into the next one.
    """
    return max(0, (_naive_utc(at) - _EPOCH) // _DAY)


def _days(low: datetime, high: datetime) -> range:
    return range(band_day(low), band_day(high) + 1)


def _day_groups(window: range, present: set[int]) -> list[tuple[int, ...]]:
    """The days of *window* that hold band rows, in groups of DAYS_PER_PROBE."""
    days = [d for d in window if d in present]
    return [tuple(days[n : n + DAYS_PER_PROBE]) for n in range(0, len(days), DAYS_PER_PROBE)]


def _days_with_rows(session: Session, sqlite: bool, days: set[int]) -> set[int]:
    """Which of *days* hold band rows: one index seek per day.

    A window reaches 72 hours past an entry's time, and a new entry's time is
    about now: three of its seven days lie in the future and hold nothing. Each
    probe would still seek each of them; asking once per probe statement costs a
    seek per day. (On PostgreSQL the two are separate READ COMMITTED statements:
    rows another poller commits in between on a day that had none are missed, as
    rows committed after the probe statement began always were.)
    """
    if sqlite:
        rows = sqlite_exec.rows(session, _SQLITE_DAYS_WITH_ROWS, {"days": json.dumps(sorted(days))})
    else:
        rows = sqlite_exec.rows(session, _PG_DAYS_WITH_ROWS, {"days": sorted(days)})
    return {int(day) for (day,) in rows}


def _naive_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    if value.tzinfo is UTC:  # what the models and the parser give: no conversion
        return value.replace(tzinfo=None)
    return value.astimezone(UTC).replace(tzinfo=None)


@functools.cache
def _insert_returning_id(table: Table) -> ReturningInsert[int]:
    return insert(table).returning(table.c.id, sort_by_parameter_order=True)


def insert_returning_ids(
    session: Session, table: Table, rows: Sequence[dict[str, Any]]
) -> list[int]:
    """Insert *rows* into *table*; their new integer ids, in the order of *rows*.

    Asked to return ids in parameter order, SQLAlchemy sends SQLite one INSERT
    per row (it has no INSERT form that ties new rowids to the parameter sets);
    a poll's 40 entries and 40 stories cost 80 round trips through the driver
    and the statement machinery. In one write transaction SQLite gives each new
    row of a rowid table max(rowid) + 1, row after row in VALUES order, so one
    multi-row INSERT … RETURNING and ascending ids are the same correspondence
    (sent as plain SQL, see :mod:`feedhub.sqlite_insert`). PostgreSQL batches
    ordered RETURNING itself (SERIAL values ordered by a sentinel).
    """
    if not rows:
        return []
    if session_is_sqlite(session):
        return sorted(insert_rows(session, table, rows, returning="id"))
    return list(core(session).execute(_insert_returning_id(table), rows).scalars())


def insert_bands(session: Session, rows: Sequence[BandRow]) -> None:
    """Insert LSH band rows: one executemany on SQLite, one statement on PostgreSQL."""
    if not rows:
        return
    # a poll's rows share a few times: each is converted once
    columns = {at: (band_micros(at), band_day(at)) for at in {r[2] for r in rows}}
    if session_is_sqlite(session):
        # the driver's own executemany: no bind processing per row, no JSON to parse
        sqlite_exec.driver_executemany(
            session, _SQLITE_INSERT, [(key, entry, *columns[at]) for key, entry, at in rows]
        )
        _note_band_write(session, [r[0] for r in rows])
        return
    core(session).execute(
        _PG_INSERT,
        {
            "keys": [r[0] for r in rows],
            "ids": [r[1] for r in rows],
            "ats": [columns[r[2]][0] for r in rows],
            "days": [columns[r[2]][1] for r in rows],
        },
    )


def band_hits(session: Session, probes: Sequence[Probe], best: int) -> list[tuple[int, int, int]]:
    """(batch index, stored entry id, matching band rows) for every probe's window.

    Per batch index only the *best* stored entries come back: most hits first,
    among equals the newest.
    """
    if not probes:
        return []
    sqlite = session_is_sqlite(session)
    band_filter = _ready_filter(session, len(probes)) if sqlite else None
    if band_filter is not None:
        covered = {low: band_filter.covers(band_day(low)) for low in {p[2] for p in probes}}
        probes = [p for p in probes if not covered[p[2]] or band_filter.may_hold(p[1])]
        if not probes:
            return []
    spans = {span: _days(*span) for span in {(p[2], p[3]) for p in probes}}
    present = _days_with_rows(session, sqlite, {d for days in spans.values() for d in days})
    groups = {span: _day_groups(days, present) for span, days in spans.items()}
    width = max((len(g) for gs in groups.values() for g in gs), default=0)
    if not width:
        return []
    # every probe row has as many day columns as the longest group; shorter ones repeat a day
    padded = {w: [g + g[-1:] * (width - len(g)) for g in gs] for w, gs in groups.items()}
    statement = _hits_statement(sqlite, width)
    if sqlite:
        # the constant tail of each window's probe rows is encoded once, not per key
        tails = {
            (lo, hi): ["," + json.dumps([band_micros(lo), band_micros(hi), *g])[1:] for g in gs]
            for (lo, hi), gs in padded.items()
        }
        payload = (
            "["
            + ",".join(f"[{i},{key}{tail}" for i, key, lo, hi in probes for tail in tails[(lo, hi)])
            + "]"
        )
        result = sqlite_exec.rows(session, statement, {"probes": payload, "best": best})
    else:
        seeks = [(i, k, lo, hi, g) for i, k, lo, hi in probes for g in padded[(lo, hi)]]
        params: dict[str, object] = {
            "i": [s[0] for s in seeks],
            "k": [s[1] for s in seeks],
            "lo": [band_micros(s[2]) for s in seeks],
            "hi": [band_micros(s[3]) for s in seeks],
            "best": best,
        }
        for n in range(width):
            params[f"d{n}"] = [s[4][n] for s in seeks]
        result = sqlite_exec.rows(session, statement, params)
    return [(int(i), int(entry_id), int(hits)) for i, entry_id, hits in result]


_DELETE_OF_DAY = delete(LshBand).where(
    LshBand.day == bindparam("day"), LshBand.entry_id.in_(bindparam("ids", expanding=True))
)
_DELETE_ROW = text(
    "DELETE FROM lsh_bands WHERE day = :day AND band_key = :key AND at = :at AND entry_id = :id"
)


def pack_band_keys(keys: Sequence[int]) -> bytes:
    """``Entry.band_keys``: the keys of the entry's band rows."""
    return struct.pack(f">{len(keys)}q", *keys)


def unpack_band_keys(blob: bytes) -> tuple[int, ...]:
    return struct.unpack(f">{len(blob) // 8}q", blob)


_DELETE_DAYS_BEFORE = delete(LshBand).where(LshBand.day < bindparam("day"))


def delete_bands_before(session: Session, at: datetime) -> None:
    """Delete the band rows of the days before *at*'s: rows no probe reaches any more.

    Entries leave with their rows; this catches rows an entry could not take
    along (one deleted by a statement that never looked at its keys).
    """
    core(session).execute(_DELETE_DAYS_BEFORE, {"day": band_day(at)})


def delete_bands(session: Session, entries: Sequence[tuple[int, datetime, bytes | None]]) -> None:
    """Delete the band rows of entries, given as (entry id, band time, ``Entry.band_keys``).

    Each row is deleted by its primary key. No index leads with the entry id
    (see ``LshBand``): rows of an entry stored before it kept its keys (None)
    are found by their day.
    """
    rows: list[dict[str, int]] = []
    by_day: dict[int, list[int]] = {}
    for entry_id, at, keys in entries:
        day = band_day(at)
        if keys is None:
            by_day.setdefault(day, []).append(entry_id)
            continue
        micros = band_micros(at)
        rows.extend(
            {"day": day, "key": key, "at": micros, "id": entry_id} for key in unpack_band_keys(keys)
        )
    connection = core(session)
    if rows:
        connection.execute(_DELETE_ROW, rows)
    for day, ids in sorted(by_day.items()):
        for start in range(0, len(ids), _DELETE_CHUNK):
            connection.execute(
                _DELETE_OF_DAY, {"day": day, "ids": ids[start : start + _DELETE_CHUNK]}
            )


def _ready_filter(session: Session, probes: int) -> BandFilter | None:
    """The poller's bitmap of stored band keys, up to date; None when there is none to
    use for these *probes* (no bitmap lent, or building one does not pay yet)."""
    band_filter: BandFilter | None = session.info.get(BAND_FILTER)
    if band_filter is None:
        return None
    token = _stored_token(session)
    if token is None or band_filter.token != token:
        band_filter.token = None  # behind the database: unusable until built again
    if token is None:
        return None  # no token row (yet): the next insert writes one
    if band_filter.token is None and not band_filter.worth_building(probes):
        return None
    today = band_day(datetime.now(UTC))
    if band_filter.needs_build(token, today):
        first_day = today - LOOKBACK_DAYS
        rows = session.connection().exec_driver_sql(_SQLITE_KEYS_SINCE, (first_day,))
        band_filter.rebuild(first_day, token, (key for (key,) in rows))
    return band_filter


def _note_band_write(session: Session, keys: Sequence[int]) -> None:
    """Give ``band_writes`` a new token; the poll's own bitmap takes the keys and follows it.

    A bitmap that was not complete for the stored token is marked behind (it is
    rebuilt before its next use). If the transaction is rolled back, the stored
    token stays the old one and the bitmap, now ahead of it, is rebuilt too.
    One new token per transaction is enough (other connections see the rows and
    the token together, at COMMIT), unless a savepoint could take it back.
    """
    band_filter: BandFilter | None = session.info.get(BAND_FILTER)
    seen = _token_seen(session)
    if seen is not None and seen.written:
        if band_filter is not None:
            if band_filter.token == seen.token:
                band_filter.add(keys)
            else:
                band_filter.token = None
        return
    token = new_token()
    if band_filter is not None:
        stored = _stored_token(session)
        if stored is not None and band_filter.token == stored:
            band_filter.add(keys)
            band_filter.token = token
        else:
            band_filter.token = None
    sqlite_exec.execute(session, _SQLITE_SET_TOKEN, {"token": token})
    # written in a savepoint, it may be rolled back: the next insert writes again
    written = not session.in_nested_transaction()
    session.info[_TOKEN_SEEN] = _TokenSeen(session.get_transaction(), token, written)


@dataclass(frozen=True)
class _TokenSeen:
    """The ``band_writes`` token a transaction read, or wrote outside any savepoint."""

    transaction: object
    token: int | None
    written: bool


def _token_seen(session: Session) -> _TokenSeen | None:
    seen: _TokenSeen | None = session.info.get(_TOKEN_SEEN)
    transaction = session.get_transaction()
    if seen is None or transaction is None or seen.transaction is not transaction:
        return None
    return seen


def _stored_token(session: Session) -> int | None:
    """``band_writes.token`` as this transaction sees it, read once per transaction.

    A transaction sees one snapshot, so only its own writes change the token it
    reads; the SQLite poller's groups stored 20 polls with two reads each. After
    a rolled-back savepoint the remembered token may be one that was undone:
    the bitmap then holds keys of rows that are not there, which costs probes
    but never hides a row.
    """
    seen = _token_seen(session)
    if seen is not None:
        return seen.token
    token: int | None = next(iter(sqlite_exec.scalars(session, _SQLITE_TOKEN)), None)
    session.info[_TOKEN_SEEN] = _TokenSeen(session.get_transaction(), token, written=False)
    return token
