"""Group commit of the SQLite poller: polls in one transaction, committed together (real SQLite)."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from feedhub.db import Database
from feedhub.ingest.store_group import GroupRolledBack, StoreGroup
from feedhub.stories.search import index_documents, unindex_stories


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    shutil.copy(sqlite_template, tmp_path / "db.sqlite3")
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER NOT NULL)")
        conn.exec_driver_sql("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        conn.exec_driver_sql(
            "CREATE TABLE child (p INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)"
        )
    yield db
    db.dispose()


def committed(db: Database, table: str = "t") -> list[int]:
    """What another connection sees."""
    with db.engine.connect() as conn:
        return [r[0] for r in conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY 1")]


def store(group: StoreGroup[int], value: int) -> None:
    with group.poll() as s:
        s.execute(text("INSERT INTO t (x) VALUES (:x)"), {"x": value})
    group.stored(value)


def test_polls_are_seen_only_after_the_group_commits(sqlite_db: Database) -> None:
    group: StoreGroup[int] = StoreGroup(sqlite_db)
    store(group, 1)
    store(group, 2)
    assert committed(sqlite_db) == []
    assert group.commit() == ([1, 2], None)
    assert committed(sqlite_db) == [1, 2]
    assert not group.open


def test_a_failed_poll_rolls_the_group_back_and_hands_back_the_polls_before_it(
    sqlite_db: Database,
) -> None:
    group: StoreGroup[int] = StoreGroup(sqlite_db)
    store(group, 1)
    store(group, 2)
    with pytest.raises(RuntimeError, match="disk on fire"), group.poll() as s:
        s.execute(text("INSERT INTO t (x) VALUES (3)"))
        raise RuntimeError("disk on fire")
    assert not group.open and group.take_back() == [1, 2]
    assert group.take_back() == []  # handed back once
    store(group, 1)  # stored again, with the next poll, in a new transaction
    store(group, 4)
    assert group.commit() == ([1, 4], None)
    assert committed(sqlite_db) == [1, 4]


def test_a_poll_whose_orm_changes_fail_fails_itself(sqlite_db: Database) -> None:
    """Pending ORM changes are flushed at the end of their poll, not in the next."""
    from feedhub.models import Source

    group: StoreGroup[int] = StoreGroup(sqlite_db)
    with pytest.raises(IntegrityError), group.poll() as s:
        s.add(Source(url=None))  # type: ignore[arg-type]
    assert group.take_back() == []
    store(group, 2)
    assert group.commit() == ([2], None)


def test_a_failed_poll_forgets_what_it_cached_on_the_session(sqlite_db: Database) -> None:
    group: StoreGroup[int] = StoreGroup(sqlite_db)
    with pytest.raises(RuntimeError), group.poll() as s:
        s.info["context"] = "names a row the rollback takes back"
        raise RuntimeError
    with group.poll() as s:
        assert "context" not in s.info
    group.commit()


def test_a_whole_transaction_rolled_back_by_sqlite_hands_back_the_polls(
    sqlite_db: Database,
) -> None:
    """Some errors (a full disk, RAISE(ROLLBACK)) take back the whole transaction
    by themselves: the polls before are handed back the same way."""
    with sqlite_db.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TRIGGER boom BEFORE INSERT ON t WHEN new.x = 666 "
            "BEGIN SELECT RAISE(ROLLBACK, 'the disk is full'); END"
        )
    group: StoreGroup[int] = StoreGroup(sqlite_db)
    store(group, 1)
    with pytest.raises(Exception, match="the disk is full"):
        store(group, 666)
    assert group.take_back() == [1] and committed(sqlite_db) == []
    store(group, 3)  # the next group starts clean
    assert group.commit() == ([3], None)
    assert committed(sqlite_db) == [3]


def test_a_transaction_ended_behind_the_groups_back_fails_its_commit(
    sqlite_db: Database,
) -> None:
    group: StoreGroup[int] = StoreGroup(sqlite_db)
    store(group, 1)
    with group.poll() as s:
        s.connection().exec_driver_sql("ROLLBACK")
    group.stored(2)
    polls, error = group.commit()
    assert polls == [1, 2] and isinstance(error, GroupRolledBack)
    assert committed(sqlite_db) == []


def test_a_failed_commit_hands_back_its_polls_and_stores_none(sqlite_db: Database) -> None:
    group: StoreGroup[int] = StoreGroup(sqlite_db)
    store(group, 1)
    with group.poll() as s:  # checked at COMMIT, not at the end of the poll
        s.execute(text("INSERT INTO child (p) VALUES (99)"))
    group.stored(2)
    polls, error = group.commit()
    assert polls == [1, 2]
    assert isinstance(error, IntegrityError) and "FOREIGN KEY" in str(error)
    assert committed(sqlite_db) == [] and committed(sqlite_db, "child") == []
    store(group, 3)  # the next group starts clean
    assert group.commit() == ([3], None)
    assert committed(sqlite_db) == [3]


def test_the_group_is_due_when_full(sqlite_db: Database) -> None:
    group: StoreGroup[int] = StoreGroup(sqlite_db, max_polls=3, clock=lambda: 0.0)
    assert not group.due  # nothing open
    store(group, 1)
    store(group, 2)
    assert not group.due
    store(group, 3)
    assert group.due
    group.commit()
    assert not group.due


def test_the_group_is_due_when_old(sqlite_db: Database) -> None:
    now = [100.0]
    group: StoreGroup[int] = StoreGroup(
        sqlite_db, max_polls=50, max_seconds=0.25, clock=lambda: now[0]
    )
    store(group, 1)
    now[0] += 0.2
    assert not group.due
    now[0] += 0.05
    assert group.due
    group.commit()


def test_a_waiting_poller_is_told_when_its_group_comes_due(sqlite_db: Database) -> None:
    """The poller waits for fetches at most this long before it commits."""
    now = [100.0]
    group: StoreGroup[int] = StoreGroup(
        sqlite_db, max_polls=50, max_seconds=0.25, clock=lambda: now[0]
    )
    assert group.time_left() is None  # no group open: nothing to commit
    store(group, 1)
    now[0] += 0.1
    assert group.time_left() == pytest.approx(0.15)
    now[0] += 1.0
    assert group.time_left() == 0.0
    group.commit()
    assert group.time_left() is None


def test_the_write_lock_is_left_free_for_a_moment_after_a_long_hold(
    sqlite_db: Database,
) -> None:
    now = [10.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    group: StoreGroup[int] = StoreGroup(
        sqlite_db, gap_seconds=0.005, hold_seconds=0.5, clock=lambda: now[0], sleep=sleep
    )
    for n in range(4):  # back-to-back groups opened at 10.0, 10.15, 10.3, 10.45
        store(group, n)
        now[0] += 0.149
        group.commit()
        now[0] += 0.001
    assert slept == []
    store(group, 4)  # the lock has been held since 10.0: first a gap
    assert slept == [pytest.approx(0.004)]
    group.commit()
    now[0] += 0.001
    store(group, 5)  # a new run began with the gap
    assert slept == [pytest.approx(0.004)]
    group.commit()
    now[0] += 1.0
    store(group, 6)  # the lock was free anyway
    assert slept == [pytest.approx(0.004)]
    group.commit()
    assert committed(sqlite_db) == list(range(7))


def test_the_group_holds_the_write_lock_from_its_start(sqlite_db: Database) -> None:
    """BEGIN IMMEDIATE: another writer waits (here: gives up) while a group is open."""
    group: StoreGroup[int] = StoreGroup(sqlite_db)
    with group.poll():
        pass
    path = sqlite_db.engine.url.database
    assert path
    other = sqlite3.connect(path, timeout=0.1, isolation_level=None)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("INSERT INTO t (x) VALUES (7)")
        group.commit()
        other.execute("INSERT INTO t (x) VALUES (7)")
    finally:
        other.close()
    assert committed(sqlite_db) == [7]


def test_rollback_drops_the_open_group(sqlite_db: Database) -> None:
    group: StoreGroup[int] = StoreGroup(sqlite_db)
    store(group, 1)
    group.rollback()
    assert not group.open and committed(sqlite_db) == []
    assert group.commit() == ([], None)


def indexed(db: Database) -> dict[int, str]:
    """The search index as another connection sees it."""
    with db.engine.connect() as conn:
        return dict(conn.exec_driver_sql("SELECT rowid, body FROM story_fts ORDER BY rowid").all())


def test_search_documents_are_written_at_the_commit(sqlite_db: Database) -> None:
    """Each poll's index changes wait for the group's COMMIT (one FTS5 segment per
    group) and then land; before it, nothing is written."""
    group: StoreGroup[int] = StoreGroup(sqlite_db)
    with group.poll() as s:
        index_documents(s, [(1, "Neuwied Brücke", "neuwied bruck")])
        s.execute(text("INSERT INTO t (x) VALUES (1)"))
        assert s.execute(text("SELECT count(*) FROM story_fts")).scalar() == 0
    group.stored(1)
    assert group.commit() == ([1], None)
    assert indexed(sqlite_db) == {1: "neuwied bruck"}


def test_a_failed_polls_search_documents_are_dropped(sqlite_db: Database) -> None:
    group: StoreGroup[int] = StoreGroup(sqlite_db)
    with group.poll() as s:
        index_documents(s, [(1, "Koblenz", "koblenz")])
    group.stored(1)
    with pytest.raises(RuntimeError), group.poll() as s:
        index_documents(s, [(2, "Mainz", "mainz")])
        unindex_stories(s, [1])
        raise RuntimeError("poll failed")
    assert group.take_back() == [1]
    with group.poll() as s:  # the poll that stood, stored again
        index_documents(s, [(1, "Koblenz", "koblenz")])
    group.stored(1)
    group.commit()
    assert indexed(sqlite_db) == {1: "koblenz"}


def test_the_last_search_change_in_a_group_wins(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:  # outside a group: written at once
        index_documents(s, [(1, "alt", "alt"), (2, "Wirtschaft", "wirtschaft")])
    assert indexed(sqlite_db) == {1: "alt", 2: "wirtschaft"}
    group: StoreGroup[int] = StoreGroup(sqlite_db)
    with group.poll() as s:
        index_documents(s, [(1, "neu", "neu"), (3, "weg", "weg")])
    with group.poll() as s:
        unindex_stories(s, [2, 3])
        index_documents(s, [(1, "neuer", "neuer")])
    group.commit()
    assert indexed(sqlite_db) == {1: "neuer"}


def test_a_failed_commit_writes_no_search_documents(sqlite_db: Database) -> None:
    group: StoreGroup[int] = StoreGroup(sqlite_db)
    with group.poll() as s:
        index_documents(s, [(1, "Koblenz", "koblenz")])
        s.execute(text("INSERT INTO child (p) VALUES (99)"))  # fails at COMMIT
    group.stored(1)
    polls, error = group.commit()
    assert polls == [1] and isinstance(error, IntegrityError)
    assert indexed(sqlite_db) == {}
