"""Engine and sessions; SQLite pragmas; schema creation through Alembic.

SQLite runs in WAL mode with a busy timeout and foreign keys on, so the web
process can read while the poller writes; a writer may move the WAL
checkpoints into a thread of their own (:mod:`feedhub.wal`). PostgreSQL goes
through psycopg 3.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from feedhub.wal import DEFAULT_PAGES, FALLBACK_PAGES, WalCheckpointer

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use psycopg 3 for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    # 16 MiB page cache per connection: the OS caches the file too, and the poller
    # must stay within its memory budget (peak RSS <= 150 MB at 500 feeds)
    cur.execute("PRAGMA cache_size=-16384")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


MIN_SQLITE = (3, 35, 0)  # RETURNING and MATERIALIZED common table expressions


class SQLiteTooOld(RuntimeError):
    """Python's sqlite3 module is built against an SQLite without features we use."""


def check_sqlite_version(version: tuple[int, int, int] | None = None) -> None:
    version = version or sqlite3.sqlite_version_info
    if version < MIN_SQLITE:
        raise SQLiteTooOld(
            f"SQLite {'.'.join(map(str, version))} is too old: feedhub needs "
            f"{'.'.join(map(str, MIN_SQLITE))} or newer (use a newer Python build, or PostgreSQL)"
        )


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        check_sqlite_version()
        db = parsed.database
        if db and db != ":memory:":
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            **kwargs,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def session_is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def core(session: Session) -> Connection:
    """The session's connection, for a Core statement built once at import.

    ``Session.execute`` runs even a Core statement through the ORM's execution
    layer, and a statement built per call pays for its construction and cache
    key: a 40-key IN lookup cost 200 µs that way and 60 µs as a prebuilt
    statement on the connection, and a poll sends some twenty of them. Pending
    ORM changes are flushed first, as ``Session.execute``'s autoflush would.
    """
    if session.autoflush:
        session.flush()
    return session.connection()


class Database:
    """An engine plus a session factory; one per process."""

    checkpoint_interval = 1.0  # seconds between background WAL checkpoints

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = normalize_url(url)
        self.engine = make_engine(self.url, **engine_kwargs)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self._checkpoint_lock = threading.Lock()
        self._checkpoint_holders = 0
        self._checkpointer: WalCheckpointer | None = None
        if is_sqlite(self.engine):
            event.listen(self.engine, "checkout", self._set_autocheckpoint)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on error."""
        with self.sessionmaker() as session, session.begin():
            yield session

    def dispose(self) -> None:
        with self._checkpoint_lock:
            checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None:
            checkpointer.stop()
        self.engine.dispose()

    # -- WAL checkpoints (SQLite files) -------------------------------------------
    def hold_background_checkpoints(self) -> None:
        """Checkpoint the WAL from a thread while held (a poller's whole life).

        Holders are counted: the thread runs from the first hold to the last
        release (``dispose`` stops it early). Nothing happens for PostgreSQL or
        an in-memory or URI-style SQLite database.
        """
        url = make_url(self.url)
        path = url.database if is_sqlite(self.engine) else None
        if not path or path == ":memory:" or path.startswith("file:") or url.query.get("uri"):
            return
        with self._checkpoint_lock:
            self._checkpoint_holders += 1
            if self._checkpointer is None:
                self._checkpointer = WalCheckpointer(path, self.checkpoint_interval)
                self._checkpointer.start()

    def release_background_checkpoints(self) -> None:
        with self._checkpoint_lock:
            self._checkpoint_holders = max(0, self._checkpoint_holders - 1)
            if self._checkpoint_holders or self._checkpointer is None:
                return
            checkpointer, self._checkpointer = self._checkpointer, None
        checkpointer.stop()

    @contextmanager
    def background_checkpoints(self) -> Iterator[None]:
        self.hold_background_checkpoints()
        try:
            yield
        finally:
            self.release_background_checkpoints()

    def _set_autocheckpoint(self, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        """Inline checkpoints only as a fallback while the thread does them."""
        pages = DEFAULT_PAGES if self._checkpointer is None else FALLBACK_PAGES
        if record.info.get("wal_autocheckpoint") != pages:
            cur = dbapi_connection.cursor()
            cur.execute(f"PRAGMA wal_autocheckpoint={pages}")
            cur.close()
            record.info["wal_autocheckpoint"] = pages


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def upgrade(db: Database) -> None:
    """Create the schema or upgrade it in place to the newest migration."""
    from alembic import command

    cfg = alembic_config(db.url)
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "heads")


def current_heads(db: Database) -> tuple[str, ...]:
    """The migration heads the database is at (several while branches are unmerged)."""
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as connection:
        return tuple(sorted(MigrationContext.configure(connection).get_current_heads()))


def script_heads() -> tuple[str, ...]:
    from alembic.script import ScriptDirectory

    return tuple(sorted(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()))
