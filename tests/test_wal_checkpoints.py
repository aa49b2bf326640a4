"""WAL checkpoints in a background thread while a writer (the poller) holds them."""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from feedhub import wal
from feedhub.db import Database
from feedhub.wal import DEFAULT_PAGES, FALLBACK_PAGES

BLOB_ROWS = 3000  # ~12 MB of WAL: three times SQLite's own checkpoint threshold


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE blobs (data BLOB)"))
    yield db
    db.dispose()


def _main_file_size(db: Database) -> int:
    path = db.engine.url.database
    assert path
    return os.path.getsize(path)


def _write_blobs(db: Database) -> None:
    with db.session() as session:
        session.execute(
            text("INSERT INTO blobs (data) VALUES (:d)"),
            [{"d": os.urandom(4000)} for _ in range(BLOB_ROWS)],
        )


def _autocheckpoint(db: Database) -> int:
    with db.session() as session:
        return int(session.execute(text("PRAGMA wal_autocheckpoint")).scalar_one())


def test_without_a_holder_the_committing_writer_checkpoints(sqlite_db: Database) -> None:
    before = _main_file_size(sqlite_db)
    _write_blobs(sqlite_db)
    assert _main_file_size(sqlite_db) > before + 4_000_000
    assert _autocheckpoint(sqlite_db) == DEFAULT_PAGES


def test_a_held_database_commits_without_checkpointing(sqlite_db: Database) -> None:
    sqlite_db.checkpoint_interval = 60  # the thread's only checkpoint: its last
    sqlite_db.hold_background_checkpoints()
    assert _autocheckpoint(sqlite_db) == FALLBACK_PAGES
    before = _main_file_size(sqlite_db)
    _write_blobs(sqlite_db)
    assert _main_file_size(sqlite_db) < before + 4_000_000
    sqlite_db.release_background_checkpoints()
    assert _main_file_size(sqlite_db) > before + 10_000_000  # nothing left in the WAL
    assert _autocheckpoint(sqlite_db) == DEFAULT_PAGES


def test_the_thread_checkpoints_while_held(sqlite_db: Database) -> None:
    sqlite_db.checkpoint_interval = 0.2
    with sqlite_db.background_checkpoints():
        checkpointer = sqlite_db._checkpointer
        assert checkpointer is not None
        before = _main_file_size(sqlite_db)
        _write_blobs(sqlite_db)
        deadline = time.monotonic() + 10
        # the file grows inside the thread's PRAGMA call, before it counts it
        while (
            _main_file_size(sqlite_db) < before + 10_000_000 or not checkpointer.checkpoints
        ) and (time.monotonic() < deadline):
            time.sleep(0.05)
        assert _main_file_size(sqlite_db) > before + 10_000_000
        assert checkpointer.checkpoints > 0


def _wal_pages(db: Database) -> int:
    path = db.engine.url.database
    assert path
    return os.path.getsize(path + "-wal") // 4096


def test_a_long_wal_is_truncated_by_the_thread(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PASSIVE checkpoints never rewind the WAL; past TRUNCATE_PAGES the thread empties it."""
    monkeypatch.setattr(wal, "TRUNCATE_PAGES", 1000)
    sqlite_db.checkpoint_interval = 0.05
    with sqlite_db.background_checkpoints():
        checkpointer = sqlite_db._checkpointer
        assert checkpointer is not None
        _write_blobs(sqlite_db)  # ~3,000 pages in one commit, which leaves them in the WAL
        deadline = time.monotonic() + 10
        # the file empties inside the thread's PRAGMA call, before it counts it
        while (_wal_pages(sqlite_db) or not checkpointer.truncations) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.05)
        assert _wal_pages(sqlite_db) == 0
        assert checkpointer.truncations > 0


def test_the_last_holder_leaving_truncates_a_long_wal(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The final checkpoint does not wait for a quiet interval: the writes are over."""
    monkeypatch.setattr(wal, "TRUNCATE_PAGES", 1000)
    sqlite_db.checkpoint_interval = 3600  # no checkpoint but the final one
    with sqlite_db.background_checkpoints():
        checkpointer = sqlite_db._checkpointer
        assert checkpointer is not None
        _write_blobs(sqlite_db)
        assert _wal_pages(sqlite_db) > 1000
    assert checkpointer.truncations == 1
    assert _wal_pages(sqlite_db) == 0


def test_holders_are_counted(sqlite_db: Database) -> None:
    sqlite_db.hold_background_checkpoints()
    sqlite_db.hold_background_checkpoints()
    sqlite_db.release_background_checkpoints()
    assert _autocheckpoint(sqlite_db) == FALLBACK_PAGES
    sqlite_db.release_background_checkpoints()
    assert _autocheckpoint(sqlite_db) == DEFAULT_PAGES
    sqlite_db.release_background_checkpoints()  # one release too many changes nothing
    assert _autocheckpoint(sqlite_db) == DEFAULT_PAGES


def test_dispose_stops_the_thread_but_a_later_holder_keeps_its_own(sqlite_db: Database) -> None:
    sqlite_db.hold_background_checkpoints()  # a poller that outlives the engine
    sqlite_db.dispose()
    assert sqlite_db._checkpointer is None
    sqlite_db.hold_background_checkpoints()  # a new poller
    sqlite_db.release_background_checkpoints()  # the first one closes
    assert sqlite_db._checkpointer is not None
    sqlite_db.release_background_checkpoints()
    assert sqlite_db._checkpointer is None


def test_only_sqlite_files_get_a_checkpoint_thread(db: Database) -> None:
    with db.background_checkpoints():
        assert (db._checkpointer is not None) == (db.dialect == "sqlite")
        with db.session() as session:
            assert session.execute(text("SELECT 1")).scalar_one() == 1
    assert db._checkpointer is None
    memory = Database("sqlite://")
    with memory.background_checkpoints():
        assert memory._checkpointer is None
    memory.dispose()


@pytest.mark.parametrize(
    ("busy", "frames", "done", "previous", "final", "long_for", "truncate"),
    [
        (0, 20_000, 20_000, 20_000, False, 5, True),  # long, all copied, no commit since
        (0, 20_000, 20_000, 19_000, False, 5, False),  # commits keep coming: a poll runs
        (0, 20_000, 19_000, 20_000, False, 5, False),  # not all copied
        (1, 20_000, 20_000, 20_000, False, 5, False),  # a reader or writer held it back
        (0, 500, 500, 500, False, 0, False),  # short
        (0, 20_000, 19_000, 19_000, True, 1, True),  # the last holder leaves
        (0, 500, 400, 300, True, 0, False),  # ... but a short log stays
        (0, 20_000, 19_000, 18_000, False, wal.MAX_LONG_CHECKPOINTS, True),  # writes never pause
    ],
)
def test_when_the_thread_truncates(
    busy: int,
    frames: int,
    done: int,
    previous: int,
    final: bool,
    long_for: int,
    truncate: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(wal, "TRUNCATE_PAGES", 10_000)
    decision = wal.should_truncate(busy, frames, done, previous, final=final, long_for=long_for)
    assert decision is truncate


def test_a_failed_checkpoint_is_logged_and_the_thread_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    checkpointer = wal.WalCheckpointer(str(tmp_path / "gone.sqlite3"))
    conn = sqlite3.connect(tmp_path / "gone.sqlite3")
    conn.close()
    with caplog.at_level(logging.WARNING, logger="feedhub.wal"):
        checkpointer._checkpoint(conn)  # a closed connection: sqlite3.ProgrammingError
    assert "WAL checkpoint of" in caplog.text
