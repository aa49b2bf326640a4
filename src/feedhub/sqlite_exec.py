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
arrive as SQLAlchemy's exceptions, as through ``Connection.execute``. The
engine's cursor events fire (with no execution context); SQLAlchemy's own
statement logging (``echo``) does not see these statements. IN lists are
padded to a power of two by repeating their last value, so that a statement
has a few SQL texts, not one per length.

What the driver path does not model runs through SQLAlchemy as before: other
statements that return rows than a plain SELECT or text (RETURNING, UNION, typed
text columns), tuple IN lists, literal-execute parameters, empty IN lists. On
PostgreSQL (several pollers, each statement a network round trip) every
statement runs through SQLAlchemy.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Delete, Executable, Insert, Select, TextClause, Update
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.types import TupleType, TypeEngine

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
        """The SQL for IN lists of these (padded) lengths."""
        text = self.texts.get(lengths)
        if text is None:
            parts = [self.pieces[0]]
            for length, piece in zip(lengths, self.pieces[1:], strict=True):
                parts.append(", ".join("?" * length))
                parts.append(piece)
            text = self.texts[lengths] = "".join(parts)
        return text


def _modelled(statement: ClauseElement) -> bool:
    """A SELECT, plain text, or DML without RETURNING: the rows (if any) are the
    driver's, with the processors of a SELECT's columns."""
    if isinstance(statement, Select | TextClause):
        return True
    if isinstance(statement, Insert | Update | Delete):
        return not statement._returning
    return False


@functools.lru_cache(maxsize=256)
def _plan(statement: ClauseElement, dialect: Dialect) -> _Plan | None:
    """The statement's plan; None for one the driver path does not model."""
    if not _modelled(statement):
        return None
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    names = tuple(compiled.positiontup or ())
    slots = []
    pieces = []
    rest = compiled.string
    for name in names:
        bind = compiled.binds[name]
        if bind.literal_execute or isinstance(bind.type, TupleType):
            return None
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


def _padded(length: int) -> int:
    """The next power of two: IN lists of 33 to 64 values share one SQL text."""
    return 1 << max(0, length - 1).bit_length()


def _bound(plan: _Plan, params: Params) -> tuple[tuple[int, ...], list[Any]]:
    lengths: list[int] = []
    values: list[Any] = []
    for slot in plan.slots:
        if slot.literal is _MISSING:
            value = params[slot.name]
        else:
            value = params.get(slot.name, slot.literal)
        if slot.expanding:
            items = list(value)
            padded = _padded(len(items))
            items.extend(items[-1:] * (padded - len(items)))  # the same value: the same IN
            lengths.append(padded)
            values.extend(map(slot.processor, items) if slot.processor else items)
        else:
            values.append(slot.processor(value) if slot.processor else value)
    return tuple(lengths), values


def _driver_plan(session: Session, statement: Executable, params: Params) -> _Plan | None:
    """The statement's plan when it runs on the driver; None: through SQLAlchemy
    (PostgreSQL, an empty IN list, a statement the plan does not model)."""
    if not session_is_sqlite(session):
        return None
    if any(isinstance(v, list | tuple) and not v for v in params.values()):
        return None  # SQLAlchemy renders an empty IN list as an empty set
    return _plan(statement, session.get_bind().dialect)


def _run(session: Session, plan: _Plan, params: Params) -> sqlite3.Cursor:
    try:
        lengths, values = _bound(plan, params)
    except (KeyError, TypeError, ValueError) as exc:  # as SQLAlchemy reports them
        statement = "".join(plan.pieces)
        raise StatementError(f"parameters not bound: {exc!r}", statement, params, exc) from exc
    return driver_execute(session, plan.sql(lengths), values)


def driver_execute(session: Session, sql: str, values: Sequence[Any]) -> sqlite3.Cursor:
    """Run *sql* (qmark style) on the session's SQLite driver connection.

    The engine's cursor events fire as for any statement (tests count
    statements with them; so may an operator's statement logging).
    """
    return _on_driver(session, sql, tuple(values), many=False)


def driver_executemany(session: Session, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """``driver_execute`` once per row of *rows*, as the driver's executemany."""
    if rows:
        _on_driver(session, sql, rows, many=True)


def _on_driver(session: Session, sql: str, params: Any, *, many: bool) -> sqlite3.Cursor:
    connection = core(session)  # flushes first, as Session.execute would
    driver = connection.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    cursor = driver.cursor()
    events = connection._has_events or connection.engine._has_events
    if events:
        for fn in connection.dispatch.before_cursor_execute:
            sql, params = fn(connection, cursor, sql, params, None, many)
    try:
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
    except sqlite3.Error as exc:
        raise DBAPIError.instance(
            sql, params, exc, sqlite3.Error, dialect=connection.dialect, ismulti=many
        ) from exc
    if events:
        connection.dispatch.after_cursor_execute(connection, cursor, sql, params, None, many)
    return cursor


def rows(session: Session, statement: Executable, params: Params | None = None) -> list[Row]:
    """All rows of *statement* as tuples, their columns processed as SQLAlchemy would."""
    params = params or {}
    plan = _driver_plan(session, statement, params)
    if plan is None:
        return [tuple(row) for row in core(session).execute(statement, params)]
    fetched = _run(session, plan, params).fetchall()
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
    plan = _driver_plan(session, statement, params)
    if plan is None:
        core(session).execute(statement, params)
        return
    _run(session, plan, params)
