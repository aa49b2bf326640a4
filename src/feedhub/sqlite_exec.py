"""Prebuilt Core statements run on SQLite's own driver connection.

A poll of the SQLite poller sends some fifteen small statements (lookups by
identity, tombstones, URL matches, candidates, band days, the source's
UPDATE, …). SQLAlchemy's execution of even a prebuilt, cached statement —
execution context, parameter processing, the result object — cost 100-250 µs
each on a slow machine, about a fifth of the storing thread's time in a cold
poll, several times what SQLite needs for the statement itself.

Here a statement is compiled by SQLAlchemy once (its SQL is the same as
SQLAlchemy would send), its IN lists are expanded per length, and the bind and
result processors of its typed parameters and columns are looked up once and
applied only where a type has one. The statement runs on the session's
connection, in its transaction, after the session's autoflush; driver errors
arrive as SQLAlchemy's exceptions, as through ``Connection.execute``. On
PostgreSQL (several pollers, each statement a network round trip) the same
functions run the statement through SQLAlchemy.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable, Select
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.types import TypeEngine

from feedhub.db import core, session_is_sqlite
from feedhub.models import UTCDateTime

Params = Mapping[str, Any]
Row = tuple[Any, ...]
Processor = Callable[[Any], Any]


def bind_processor(type_: TypeEngine[Any], dialect: Dialect) -> Processor | None:
    """The bind processor SQLAlchemy itself would use: the dialect's own type's
    (SQLite's DATETIME writes "YYYY-MM-DD HH:MM:SS.ffffff"; the generic
    DateTime would leave the driver's adapter to drop zero microseconds).
    Times get an equivalent in C: SQLAlchemy's formats a dict per value."""
    if isinstance(type_, UTCDateTime):
        return utc_text
    return type_.dialect_impl(dialect).bind_processor(dialect)


def utc_text(value: datetime | None) -> str | None:
    """What UTCDateTime and SQLite's DATETIME write for *value*: naive UTC text."""
    if value is None:
        return None
    if value.tzinfo is None or value.tzinfo is UTC:
        return _cached_utc_text(value)
    # other zones are not cached: two times a fold apart compare (and hash) equal
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


@functools.lru_cache(maxsize=4096)  # a poll's rows repeat a few times (its "now")
def _cached_utc_text(value: datetime) -> str:
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


@dataclass(frozen=True)
class _Slot:
    name: str
    expanding: bool
    processor: Processor | None
    literal: Any  # the value of a bound literal (``case(..., else_=1)``), else _MISSING


_MISSING = object()


@dataclass
class _Plan:
    pieces: tuple[str, ...]  # the SQL around its IN lists: len(pieces) == IN lists + 1
    slots: tuple[_Slot, ...]  # the parameters in the order of their "?"
    results: tuple[tuple[int, Processor], ...]  # (column, processor) where one applies
    # SQL per tuple of IN-list lengths
    texts: dict[tuple[int, ...], str] = field(default_factory=dict)

    def sql(self, lengths: tuple[int, ...]) -> str:
        text = self.texts.get(lengths)
        if text is None:
            parts = [self.pieces[0]]
            for length, piece in zip(lengths, self.pieces[1:], strict=True):
                parts.append(", ".join("?" * length))
                parts.append(piece)
            text = self.texts[lengths] = "".join(parts)
        return text


@functools.lru_cache(maxsize=256)
def _plan(statement: ClauseElement, dialect: Dialect) -> _Plan:
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    names = tuple(compiled.positiontup or ())
    slots = []
    pieces = []
    rest = compiled.string
    for name in names:
        bind = compiled.binds[name]
        if bind.literal_execute:
            raise NotImplementedError(f"{name}: literal-execute parameters are not supported")
        if bind.expanding:
            head, _, rest = rest.partition(f"__[POSTCOMPILE_{name}]")
            pieces.append(head)
        literal = _MISSING if bind.required else bind.effective_value
        slots.append(_Slot(name, bind.expanding, bind_processor(bind.type, dialect), literal))
    pieces.append(rest)
    results: list[tuple[int, Processor]] = []
    if isinstance(statement, Select):
        for index, column in enumerate(statement.selected_columns):
            processor = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if processor is not None:
                results.append((index, processor))
    return _Plan(tuple(pieces), tuple(slots), tuple(results))


def _bound(plan: _Plan, params: Params) -> tuple[tuple[int, ...], list[Any]]:
    lengths: list[int] = []
    values: list[Any] = []
    for slot in plan.slots:
        if slot.literal is _MISSING:
            value = params[slot.name]
        else:
            value = params.get(slot.name, slot.literal)
        if slot.expanding:
            lengths.append(len(value))
            values.extend(map(slot.processor, value) if slot.processor else value)
        else:
            values.append(slot.processor(value) if slot.processor else value)
    return tuple(lengths), values


def _run(session: Session, statement: Executable, params: Params) -> tuple[sqlite3.Cursor, _Plan]:
    dialect = session.get_bind().dialect
    plan = _plan(statement, dialect)
    lengths, values = _bound(plan, params)
    sql = plan.sql(lengths)
    return driver_execute(session, sql, values, dialect), plan


def driver_execute(
    session: Session, sql: str, values: Sequence[Any], dialect: Dialect | None = None
) -> sqlite3.Cursor:
    """Run *sql* (qmark style) on the session's SQLite driver connection.

    The engine's cursor events fire as for any statement (tests count
    statements with them; so may an operator's statement logging).
    """
    connection = core(session)  # flushes first, as Session.execute would
    driver = connection.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    params = tuple(values)
    cursor = driver.cursor()
    events = connection._has_events or connection.engine._has_events
    if events:
        for fn in connection.dispatch.before_cursor_execute:
            sql, params = fn(connection, cursor, sql, params, None, False)
    try:
        cursor.execute(sql, params)
    except sqlite3.Error as exc:
        raise DBAPIError.instance(
            sql, params, exc, sqlite3.Error, dialect=dialect or connection.dialect
        ) from exc
    if events:
        connection.dispatch.after_cursor_execute(connection, cursor, sql, params, None, False)
    return cursor


def _uses_driver(session: Session, params: Params) -> bool:
    """SQLite, and no empty IN list (SQLAlchemy renders those as an empty set)."""
    return session_is_sqlite(session) and all(
        not isinstance(v, list | tuple) or v for v in params.values()
    )


def rows(session: Session, statement: Executable, params: Params | None = None) -> list[Row]:
    """All rows of *statement* as tuples, their columns processed as SQLAlchemy would."""
    params = params or {}
    if not _uses_driver(session, params):
        return [tuple(row) for row in core(session).execute(statement, params)]
    cursor, plan = _run(session, statement, params)
    fetched = cursor.fetchall()
    if not plan.results:
        return fetched
    out = []
    for row in fetched:
        values = list(row)
        for index, processor in plan.results:
            values[index] = processor(values[index])
        out.append(tuple(values))
    return out


def scalars(session: Session, statement: Executable, params: Params | None = None) -> list[Any]:
    """The first column of every row of *statement*."""
    return [row[0] for row in rows(session, statement, params)]


def execute(session: Session, statement: Executable, params: Params | None = None) -> None:
    """Run a statement that returns no rows (an UPDATE, a DELETE)."""
    params = params or {}
    if not _uses_driver(session, params):
        core(session).execute(statement, params)
        return
    _run(session, statement, params)
