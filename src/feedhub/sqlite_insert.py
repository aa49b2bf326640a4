"""Multi-row INSERTs sent to SQLite as plain SQL text and a flat tuple.

A poll inserts some forty entries (twenty-odd columns each), as many stories
and merge rows. Through SQLAlchemy each such INSERT is compiled from its cache,
rendered by the "insertmanyvalues" machinery and every value is run through
its type's bind processor one call at a time: for a cold poll that was more of
the storing thread's time than SQLite's own work. Here the SQL text is built
once per table, column list and row count, the bind processors are looked up
once, and values whose type has none are passed as they are. Column defaults
that live in Python (``default=utcnow``, ``default=list``) are applied as
SQLAlchemy would; server-side defaults and the integer primary key are left to
SQLite. Statements run on the session's driver connection
(:func:`feedhub.sqlite_exec.driver_execute`): pending ORM changes are flushed
first and errors arrive as SQLAlchemy's exceptions.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from operator import itemgetter
from typing import Any

from sqlalchemy import Insert, Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from feedhub.db import core, session_is_sqlite
from feedhub.sqlite_exec import Processor, bind_processor, driver_execute

# SQLite allows 32,766 bound values in a statement since 3.32; stay well below
MAX_VALUES = 8000
MAX_ROWS = 500


@dataclass(frozen=True)
class _Plan:
    names: tuple[str, ...]  # keys read from each row, in column order of the SQL
    processors: tuple[Processor | None, ...]
    defaults: tuple[tuple[Processor | None, Any], ...]  # (processor, ColumnDefault) per default
    head: str  # "INSERT INTO t (a, b, …) VALUES "
    values: str  # "(?, ?, …)"
    tail: str  # " RETURNING id" or ""


@functools.lru_cache(maxsize=64)
def _plan(table: Table, names: tuple[str, ...], returning: str | None, dialect: Dialect) -> _Plan:
    given = set(names)
    for name in names:
        if name not in table.c:
            raise KeyError(f"{table.name} has no column {name!r}")
    defaulted = [
        c
        for c in table.c
        if c.name not in given
        and c.default is not None
        and getattr(c.default, "is_scalar", False) | getattr(c.default, "is_callable", False)
    ]
    columns = [table.c[n] for n in names] + defaulted
    head = f'INSERT INTO "{table.name}" (' + ", ".join(f'"{c.name}"' for c in columns) + ") VALUES "
    return _Plan(
        names=names,
        processors=tuple(bind_processor(table.c[n].type, dialect) for n in names),
        defaults=tuple((bind_processor(c.type, dialect), c.default) for c in defaulted),
        head=head,
        values="(" + ", ".join("?" * len(columns)) + ")",
        tail=f' RETURNING "{returning}"' if returning else "",
    )


def _default_values(plan: _Plan) -> list[Any]:
    """The Python-side defaults, evaluated once per statement (as one ``utcnow()``)."""
    out = []
    for processor, default in plan.defaults:
        value = default.arg(None) if default.is_callable else default.arg
        out.append(processor(value) if processor else value)
    return out


def insert_rows(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    returning: str | None = None,
) -> list[Any]:
    """Insert *rows* (all with the same keys) into *table* on SQLite.

    With *returning* (a column name) the values of that column for the new
    rows come back, in no particular order (as SQLite's RETURNING gives them).
    """
    if not rows:
        return []
    dialect = session.get_bind().dialect
    names = tuple(rows[0])
    plan = _plan(table, names, returning, dialect)
    defaults = _default_values(plan)
    width = len(names) + len(defaults)
    per_statement = max(1, min(MAX_ROWS, MAX_VALUES // width))
    processors = plan.processors
    out: list[Any] = []
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        if any(len(row) != len(names) for row in chunk):
            raise ValueError(f"rows for {table.name} differ in their keys")
        # column by column: one C-level pass per column instead of a Python loop per row
        columns: list[Any] = []
        for name, processor in zip(names, processors, strict=True):
            column = map(itemgetter(name), chunk)
            columns.append(list(map(processor, column) if processor else column))
        columns.extend(repeat(value, len(chunk)) for value in defaults)
        params = list(chain.from_iterable(zip(*columns, strict=True)))
        sql = plan.head + ", ".join([plan.values] * len(chunk)) + plan.tail
        result = driver_execute(session, sql, params)
        if returning:
            out.extend(r[0] for r in result)
    return out


@functools.cache
def _insert(table: Table) -> Insert:
    return insert(table)


def insert_all(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert *rows* on either database: plain SQL on SQLite, a cached Core INSERT
    (executemany) on PostgreSQL."""
    if not rows:
        return
    if session_is_sqlite(session):
        insert_rows(session, table, rows)
    else:
        core(session).execute(_insert(table), list(rows))
