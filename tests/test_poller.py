"""The poller end to end: a real HTTP server, real SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import gc
import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, func, inspect, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from feedhub import gc_tuning
from feedhub.config import Settings
from feedhub.db import Database
from feedhub.ingest import poller as poller_mod
from feedhub.ingest.poller import Poller, PollerBusy, parse_processes, poll_once, poll_source_now
from feedhub.ingest.records import EntryData
from feedhub.ingest.sources import add_source
from feedhub.models import (
    Entry,
    Fetch,
    LshBand,
    Source,
    SourceEvent,
    Star,
    Tombstone,
    User,
    utcnow,
)
from feedhub.stories import features

from .feedserver import FeedServer, Response, SeenRequest, rss


def items(n: int, prefix: str = "a", start: int = 0) -> list[dict[str, str]]:
    return [
        {
            "title": f"Meldung {prefix} {i}",
            "link": f"https://news.example/{prefix}/{i}",
            "guid": f"{prefix}-{i}",
            "description": f"Neuwied. Text der Meldung {prefix} {i}.",
            "pubDate": f"Wed, {11 + (i % 10):02d} Nov 2026 {i % 24:02d}:00:00 +0000",
        }
        for i in range(start, start + n)
    ]


Add = Callable[[str], int]


@pytest.fixture
def add(db: Database, settings: Settings) -> Add:
    def _add(url: str) -> int:
        with db.session() as s:
            return add_source(s, settings, url).id

    return _add


def source(db: Database, source_id: int) -> Source:
    with db.session() as s:
        src = s.get(Source, source_id)
        assert src is not None
        return src


def entry_count(db: Database, source_id: int | None = None) -> int:
    with db.session() as s:
        q = select(func.count()).select_from(Entry)
        if source_id is not None:
            q = q.where(Entry.source_id == source_id)
        return int(s.scalar(q) or 0)


def make_due(db: Database) -> None:
    with db.session() as s:
        s.execute(update(Source).values(next_poll_at=utcnow() - timedelta(seconds=1)))


def test_cold_poll_stores_entries(
    db: Database, settings: Settings, feed_server: FeedServer, add: Add
) -> None:
    sid = add(feed_server.add("/feed", body=rss(items(5), title="Neuwieder Test")))
    summary = poll_once(db, settings)
    assert (summary.sources, summary.ok, summary.new_entries) == (1, 1, 5)
    assert entry_count(db, sid) == 5
    src = source(db, sid)
    assert src.title == "Neuwieder Test"
    assert src.error_count == 0 and src.last_success_at is not None
    assert src.next_poll_at > utcnow() + timedelta(minutes=4)


def test_the_feed_title_is_written_without_a_unit_of_work_flush(
    db: Database, settings: Settings, feed_server: FeedServer, add: Add
) -> None:
    """A source's first poll adopts the feed's title and site URL with an UPDATE
    of its own; a pending ORM change would make the next statement flush it."""
    sid = add(feed_server.add("/feed", body=rss(items(2), title="Neuwieder Test")))
    flushed: list[str] = []

    def before_flush(session: Any, _context: Any, _instances: Any) -> None:
        for obj in session.dirty:
            if isinstance(obj, Source) and inspect(obj).attrs.title.history.has_changes():
                flushed.append(obj.url)

    event.listen(Session, "before_flush", before_flush)
    try:
        poll_once(db, settings)
    finally:
        event.remove(Session, "before_flush", before_flush)
    assert flushed == []
    assert source(db, sid).title == "Neuwieder Test"


def test_etag_gives_304_and_nothing_changes(
    db: Database, settings: Settings, feed_server: FeedServer, add: Add
) -> None:
    sid = add(feed_server.add("/feed", body=rss(items(3)), headers={"ETag": '"v1"'}))
    poll_once(db, settings)
    make_due(db)
    summary = poll_once(db, settings)
    assert summary.not_modified == 1
    assert feed_server.hits("/feed")[-1].headers.get("if-none-match") == '"v1"'
    assert entry_count(db, sid) == 3
    with db.session() as s:
        outcomes = s.scalars(select(Fetch.outcome).order_by(Fetch.id)).all()
    assert outcomes == ["ok", "not_modified"]


def test_last_modified_sent_back(
    db: Database, settings: Settings, feed_server: FeedServer, add: Add
) -> None:
    lm = "Wed, 25 Nov 2026 10:00:00 GMT"
    add(feed_server.add("/feed", body=rss(items(2)), headers={"Last-Modified": lm}))
    poll_once(db, settings)
    make_due(db)
    assert poll_once(db, settings).not_modified == 1
    assert feed_server.hits("/feed")[-1].headers.get("if-modified-since") == lm


def test_unchanged_body_is_not_reparsed(
    db: Database,
    settings: Settings,
    feed_server: FeedServer,
    add: Add,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add(feed_server.add("/feed", body=rss(items(3)), headers={"ETag": '"v1"'}, conditional=False))
    poll_once(db, settings)
    parsed: list[str] = []
    real = poller_mod.parse_feed
    monkeypatch.setattr(poller_mod, "parse_feed", lambda *a: parsed.append(a[2]) or real(*a))
    make_due(db)
    # parsing in this process, where the patched function would see a re-parse
    summary = poll_once(db, dataclasses.replace(settings, parse_processes=-1))
    assert summary.unchanged == 1 and parsed == []


def test_unconditional_fetch_after_12_hours(
    db: Database, settings: Settings, feed_server: FeedServer, add: Add
) -> None:
    sid = add(feed_server.add("/feed", body=rss(items(2)), headers={"ETag": '"v1"'}))
    poll_once(db, settings)
    with db.session() as s:
        s.execute(
            update(Source)
            .where(Source.id == sid)
            .values(last_unconditional_at=utcnow() - timedelta(hours=13), next_poll_at=utcnow())
        )
    poll_once(db, settings)
    assert "if-none-match" not in feed_server.hits("/feed")[-1].headers
    assert source(db, sid).last_unconditional_at > utcnow() - timedelta(minutes=1)


def test_changed_entry_updates_in_place(
    db: Database, settings: Settings, feed_server: FeedServer, add: Add
) -> None:
    first = items(3)
    url = feed_server.add("/feed", body=rss(first))
    sid = add(url)
    poll_once(db, settings)
    changed = [dict(it) for it in first]
    changed[0]["title"] = "Meldung a 0 (aktualisiert)"
    feed_server.add("/feed", body=rss(changed + items(1, start=3)))
    make_due(db)
    summary = poll_once(db, settings)
    assert (summary.new_entries, summary.updated_entries) == (1, 1)
    assert entry_count(db, sid) == 4
    with db.session() as s:
        titles = set(s.scalars(select(Entry.title)))
    assert "Meldung a 0 (aktualisiert)" in titles and "Meldung a 0" not in titles


@pytest.fixture
def prepared_titles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Titles of the entries whose features are computed, wherever (parsing inline)."""
    seen: list[str] = []
    real = features._derive

    def counting(data: EntryData, *args: Any) -> None:
        seen.append(data.title)
        real(data, *args)

    monkeypatch.setattr(features, "_derive", counting)
    return seen


@pytest.fixture
def inline(settings: Settings) -> Settings:
    """Settings that parse in the poller itself (so a test sees what parsing does)."""
    return dataclasses.replace(settings, parse_processes=-1)


def test_a_changed_feed_prepares_only_entries_not_stored_unchanged(
    db: Database, inline: Settings, feed_server: FeedServer, add: Add, prepared_titles: list[str]
) -> None:
    first = items(3)
    add(feed_server.add("/feed", body=rss(first)))
    poll_once(db, inline)
    assert len(prepared_titles) == 3
    changed = [dict(it) for it in first]
    changed[1]["description"] = "Neuwied. Der Text wurde ergänzt."
    feed_server.add("/feed", body=rss(changed + items(1, start=3)))
    make_due(db)
    prepared_titles.clear()
    summary = poll_once(db, inline)
    assert (summary.new_entries, summary.updated_entries) == (1, 1)
    assert sorted(prepared_titles) == ["Meldung a 1", "Meldung a 3"]


def test_a_failed_lookup_of_stored_hashes_only_costs_the_skipped_work(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    poller = Poller(db, settings, workers=1)

    def broken() -> Any:
        raise OperationalError("SELECT content_hash", {}, Exception("database is locked"))

    monkeypatch.setattr(poller.db, "session", broken)
    try:
        assert poller.known_hashes(1) == frozenset()
    finally:
        monkeypatch.undo()
        poller.close()
    assert "stored content hashes not read" in caplog.text


def test_a_new_entry_with_a_stored_text_is_prepared_while_storing(
    db: Database, inline: Settings, feed_server: FeedServer, add: Add, prepared_titles: list[str]
) -> None:
    """The parse step skips it (its content hash is known); storing must not."""
    first = items(2)
    sid = add(feed_server.add("/feed", body=rss(first)))
    poll_once(db, inline)
    copy = {**first[0], "guid": "a-0-neu", "link": "https://news.example/a/0-neu"}
    feed_server.add("/feed", body=rss([*first, copy]))
    make_due(db)
    prepared_titles.clear()
    assert poll_once(db, inline).new_entries == 1
    assert prepared_titles == ["Meldung a 0"]  # once, while storing
    with db.session() as s:
        bands = dict(
            s.execute(
                select(Entry.url, func.count())
                .join(LshBand, Entry.id == LshBand.entry_id)
                .where(Entry.source_id == sid)
                .group_by(Entry.url)
            ).all()
        )
    # the copy's features are the original's: the same band rows
    assert bands["https://news.example/a/0-neu"] == bands["https://news.example/a/0"] > 0


def test_guids_changing_every_poll_fall_back_to_url_identity(
    db: Database, settings: Settings, feed_server: FeedServer, add: Add
) -> None:
    counter = {"n": 0}

    def handler(_req: SeenRequest) -> Response:
        counter["n"] += 1
        its = items(4)
        for it in its:
            it["guid"] = f"{it['guid']}-poll{counter['n']}"
        return Response(body=rss(its))

    sid = add(feed_server.add("/feed", handler))
    for _ in range(3):
        poll_once(db, settings)
        make_due(db)
    assert entry_count(db, sid) == 4
    assert source(db, sid).unstable_guids


def test_permanent_redirect_on_two_polls_moves_source(
    db: Database, settings: Settings, feed_server: FeedServer, add: Add
) -> None:
    new_url = feed_server.add("/new", body=rss(items(2)))
    sid = add(feed_server.add("/old", status=301, headers={"Location": "/new"}))
    poll_once(db, settings)
    assert source(db, sid).url.endswith("/old")
    make_due(db)
    poll_once(db, settings)
    assert source(db, sid).url == new_url
    with db.session() as s:
        moved = s.scalars(select(SourceEvent).where(SourceEvent.kind == "moved")).one()
    assert (moved.old_url or "").endswith("/old") and moved.new_url == new_url


def test_temporary_redirect_does_not_move(
    db: Database, settings: Settings, feed_server: FeedServer, add: Add
) -> None:
    feed_server.add("/new", body=rss(items(2)))
    sid = add(feed_server.add("/old", status=302, headers={"Location": "/new"}))
    for _ in range(2):
        poll_once(db, settings)
        make_due(db)
    assert source(db, sid).url.endswith("/old")
    assert entry_count(db, sid) == 2


def test_410_disables_with_reason(
    db: Database, settings: Settings, feed_server: FeedServer, add: Add
) -> None:
    sid = add(feed_server.add("/gone", status=410, body=b"gone"))
    summary = poll_once(db, settings)
    assert summary.errors == 1
    src = source(db, sid)
    assert not src.enabled and src.disabled_reason and "410" in src.disabled_reason
    make_due(db)
    assert poll_once(db, settings).sources == 0


def test_429_honours_retry_after(
    db: Database, settings: Settings, feed_server: FeedServer, add: Add
) -> None:
    sid = add(feed_server.add("/busy", status=429, headers={"Retry-After": "7200"}))
    poll_once(db, settings)
    src = source(db, sid)
    wait = (src.next_poll_at - utcnow()).total_seconds()
    assert 7100 < wait <= 7200
    assert src.error_count == 1 and src.last_error and "429" in src.last_error


def test_server_errors_back_off_exponentially(
    db: Database, settings: Settings, feed_server: FeedServer, add: Add
) -> None:
    sid = add(feed_server.add("/err", status=500, body=b"boom"))
    waits = []
    for _ in range(4):
        make_due(db)
        poll_once(db, settings)
        src = source(db, sid)
        waits.append((src.next_poll_at - utcnow()).total_seconds())
    assert source(db, sid).error_count == 4
    assert "500" in (source(db, sid).last_error or "")
    assert waits[1] > waits[0] * 1.5 and waits[2] > waits[1] * 1.5
    assert all(w <= settings.max_backoff for w in waits)


def test_broken_feed_marks_source_and_poll_goes_on(
    db: Database, settings: Settings, feed_server: FeedServer, add: Add
) -> None:
    bad = add(
        feed_server.add(
            "/html",
            body=b"<html><body><p>Keine Feeds hier</p></body></html>",
            headers={"Content-Type": "text/html"},
        )
    )
    good = add(feed_server.add("/good", body=rss(items(3))))
    summary = poll_once(db, settings)
    assert summary.errors == 1 and summary.ok == 1
    assert entry_count(db, good) == 3 and entry_count(db, bad) == 0
    src = source(db, bad)
    assert src.error_count == 1 and src.last_error


def test_malformed_feed_keeps_what_was_recovered(
    db: Database, settings: Settings, feed_server: FeedServer, add: Add
) -> None:
    body = rss(items(3)).replace(b"</channel></rss>", b"<item><title>kaputt</item></channel>")
    sid = add(feed_server.add("/broken", body=body))
    poll_once(db, settings)
    assert entry_count(db, sid) >= 3
    assert source(db, sid).last_error  # the problem is recorded on the source


def test_failed_store_leaves_nothing_half_written(
    db: Database,
    settings: Settings,
    feed_server: FeedServer,
    add: Add,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A failure halfway through a source's entries rolls the whole source back."""
    from feedhub.ingest import store

    bad = add(feed_server.add("/bad", body=rss(items(5, prefix="bad"))))
    good = add(feed_server.add("/good", body=rss(items(3, prefix="good"))))
    real = store.attach_batch

    def flaky(session: Any, source: Any, now: Any, new: Any, changed: Any) -> Any:
        ids = real(session, source, now, new, changed)  # the entries are written by now
        if any(item.data.title == "Meldung bad 3" for item in new):
            raise RuntimeError("disk on fire")
        return ids

    monkeypatch.setattr(store, "attach_batch", flaky)
    summary = poll_once(db, dataclasses.replace(settings, parse_processes=1))
    assert (summary.sources, summary.errors, summary.ok) == (2, 1, 1)  # each reported once
    assert entry_count(db, bad) == 0 and entry_count(db, good) == 3
    src = source(db, bad)
    assert src.error_count == 1 and "disk on fire" in (src.last_error or "")
    assert src.lease_owner is None


def test_a_failed_group_commit_fails_every_poll_in_it(
    sqlite_template: Path, tmp_path: Path, feed_server: FeedServer
) -> None:
    """SQLite groups polls into one commit: if the COMMIT fails, none of them is stored.

    A deferred foreign key is checked at COMMIT only; the trap makes every
    successful poll's log row violate one.
    """
    import shutil

    shutil.copy(sqlite_template, tmp_path / "db.sqlite3")
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    db = Database(url)
    settings = Settings(instance_path=tmp_path, database_url=url, allow_private_networks=True)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        conn.exec_driver_sql(
            "CREATE TABLE trap (p INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)"
        )
        conn.exec_driver_sql(
            "CREATE TRIGGER spring AFTER INSERT ON fetches WHEN new.outcome = 'ok' "
            "BEGIN INSERT INTO trap (p) VALUES (99); END"
        )
    ids = []
    with db.session() as s:
        for i in range(3):
            ids.append(
                add_source(s, settings, feed_server.add(f"/f{i}", body=rss(items(2, f"f{i}")))).id
            )
    summary = poll_once(db, settings)
    assert (summary.sources, summary.errors, summary.ok, summary.new_entries) == (3, 3, 0, 0)
    assert entry_count(db) == 0
    for sid in ids:
        src = source(db, sid)
        assert src.error_count == 1 and "FOREIGN KEY" in (src.last_error or "")
        assert src.lease_owner is None and src.etag is None
    db.dispose()


def test_stored_polls_are_visible_while_other_sources_are_still_fetched(
    db: Database, settings: Settings, feed_server: FeedServer, add: Add
) -> None:
    """A waiting poller commits its group once it is due (0.25 s), not when the wait ends."""
    fast = add(feed_server.add("/fast", body=rss(items(3, "fast"))))
    release = threading.Event()

    def slow(_request: SeenRequest) -> Response:
        release.wait(30)
        return Response(body=rss(items(3, "slow")))

    add(feed_server.add("/slow", slow))
    failures: list[BaseException] = []

    def run() -> None:
        try:
            poll_once(db, settings)
        except BaseException as exc:  # seen by the test, not lost in the thread
            failures.append(exc)

    polling = threading.Thread(target=run)
    polling.start()
    try:
        deadline = time.monotonic() + 10  # the slow fetch takes 30 s
        while entry_count(db, fast) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert entry_count(db, fast) == 3  # while the slow source is still being fetched
        assert polling.is_alive()
    finally:
        release.set()
        polling.join()
    assert failures == []
    assert entry_count(db) == 6


class _Abort(BaseException):
    """Like ^C: not an error of one source's poll."""


def test_a_round_stores_with_the_collector_relaxed_and_restores_it(
    db: Database, settings: Settings, feed_server: FeedServer, add: Add
) -> None:
    add(feed_server.add("/feed", body=rss(items(3))))
    before = gc.get_threshold()
    seen: list[tuple[int, int]] = []

    def progress(_url: str, _outcome: str) -> None:
        seen.append((gc.get_threshold()[0], gc.get_freeze_count()))

    poll_once(db, settings, progress=progress)
    assert seen and all(threshold >= gc_tuning.THRESHOLD and frozen for threshold, frozen in seen)
    assert gc.get_threshold() == before


def test_polls_stored_before_an_interruption_stay_stored(
    db: Database,
    settings: Settings,
    feed_server: FeedServer,
    add: Add,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An interruption right after a poll was stored (before its group committed)
    must not take the poll back."""
    ids = [add(feed_server.add(f"/f{i}", body=rss(items(2, f"f{i}")))) for i in range(3)]
    real = Poller.record

    def interrupted(self: Poller, outcome: Any) -> Any:
        real(self, outcome)
        raise _Abort

    monkeypatch.setattr(Poller, "record", interrupted)
    with pytest.raises(_Abort):
        poll_once(db, settings)
    stored = [sid for sid in ids if entry_count(db, sid) == 2]
    assert len(stored) == 1 and entry_count(db) == 2
    assert source(db, stored[0]).last_success_at is not None


def test_retention_prunes_and_tombstones(
    db: Database, settings: Settings, feed_server: FeedServer, add: Add
) -> None:
    sid = add(feed_server.add("/feed", body=rss(items(4))))
    poll_once(db, settings)
    with db.session() as s:
        old = utcnow() - timedelta(days=settings.retention_days + 1)
        s.execute(update(Entry).values(first_seen_at=old))
        starred = s.scalars(select(Entry).where(Entry.title == "Meldung a 0")).one()
        user = User(username="leser", password_hash="x")
        s.add(user)
        s.flush()
        s.add(Star(user_id=user.id, story_id=starred.story_id))
    poller = Poller(db, settings)
    pruned = poller.prune()
    poller.close()
    assert pruned == 3
    assert entry_count(db, sid) == 1  # the starred one stays
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Tombstone)) == 3
    make_due(db)
    feed_server.add("/feed", body=rss(items(4)), conditional=False)
    summary = poll_once(db, dataclasses.replace(settings, unconditional_every=0))
    assert summary.new_entries == 0 and entry_count(db, sid) == 1


def test_entries_older_than_retention_are_not_ingested(
    db: Database, settings: Settings, feed_server: FeedServer, add: Add
) -> None:
    old = items(2)
    for it in old:
        it["pubDate"] = "Mon, 01 Jan 2018 10:00:00 +0000"
    sid = add(feed_server.add("/feed", body=rss(old + items(1, start=5))))
    poll_once(db, settings)
    assert entry_count(db, sid) == 1


def test_poll_source_now_ignores_schedule(
    db: Database, settings: Settings, feed_server: FeedServer, add: Add
) -> None:
    sid = add(feed_server.add("/feed", body=rss(items(2))))
    with db.session() as s:
        s.execute(update(Source).values(next_poll_at=utcnow() + timedelta(hours=5)))
    assert poll_once(db, settings).sources == 0
    summary = poll_source_now(db, settings, sid)
    assert summary.new_entries == 2


def test_all_flag_polls_sources_not_yet_due(
    db: Database, settings: Settings, feed_server: FeedServer, add: Add
) -> None:
    for i in range(3):
        add(feed_server.add(f"/f{i}", body=rss(items(1, prefix=str(i)))))
    with db.session() as s:
        s.execute(update(Source).values(next_poll_at=utcnow() + timedelta(hours=5)))
    assert poll_once(db, settings, all_sources=True).sources == 3
    assert all(len(feed_server.hits(f"/f{i}")) == 1 for i in range(3))


def test_second_poller_on_sqlite_gets_clear_message(sqlite_template: Path, tmp_path: Path) -> None:
    """SQLite only: PostgreSQL pollers lease rows instead (see the two-poller test)."""
    import shutil

    shutil.copy(sqlite_template, tmp_path / "db.sqlite3")
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    db = Database(url)
    settings = Settings(instance_path=tmp_path, database_url=url)
    first = Poller(db, settings)
    first.acquire_lock()
    with pytest.raises(PollerBusy, match="another poller"):
        poll_once(db, settings)
    first.release_lock()
    first.close()
    assert poll_once(db, settings).sources == 0
    db.dispose()


def test_expired_lease_of_crashed_poller_comes_back(
    db: Database, settings: Settings, feed_server: FeedServer, add: Add
) -> None:
    sid = add(feed_server.add("/feed", body=rss(items(1))))
    with db.session() as s:
        s.execute(
            update(Source).values(
                lease_owner="crashed:1", lease_until=utcnow() + timedelta(minutes=5)
            )
        )
    assert poll_once(db, settings).sources == 0
    with db.session() as s:
        s.execute(update(Source).values(lease_until=utcnow() - timedelta(seconds=1)))
    assert poll_once(db, settings).sources == 1
    assert source(db, sid).lease_owner is None


def test_at_most_two_requests_per_host(
    db: Database, settings: Settings, feed_server: FeedServer, add: Add
) -> None:
    for i in range(8):
        add(feed_server.add(f"/slow{i}", body=rss(items(1, prefix=str(i))), delay=0.3))
    poll_once(db, settings, workers=8)
    assert feed_server.max_active == 2


def test_user_agent_is_honest(
    db: Database, settings: Settings, feed_server: FeedServer, add: Add
) -> None:
    add(feed_server.add("/feed", body=rss(items(1))))
    poll_once(db, settings)
    ua = feed_server.hits("/feed")[0].headers["user-agent"]
    assert ua.startswith("feedhub/") and "http" in ua


def test_two_pollers_on_postgresql_never_fetch_a_source_twice(
    pg_url: str, feed_server: FeedServer, tmp_path: Path
) -> None:
    """Two poller processes lease disjoint sources with FOR UPDATE SKIP LOCKED."""
    import os
    import subprocess
    import sys

    from .conftest import _truncate_pg

    _truncate_pg(pg_url)
    db = Database(pg_url)
    settings = Settings(instance_path=tmp_path, database_url=pg_url, allow_private_networks=True)
    n = 60
    with db.session() as s:
        for i in range(n):
            url = feed_server.add(f"/p{i}", body=rss(items(2, prefix=f"p{i}")), delay=0.15)
            add_source(s, settings, url)
    env = dict(
        os.environ,
        FEEDHUB_DATABASE_URL=pg_url,
        FEEDHUB_ALLOW_PRIVATE_NETWORKS="1",
        FEEDHUB_INSTANCE_PATH=str(tmp_path),
        FEEDHUB_PARSE_PROCESSES="0",
    )
    exe = Path(sys.executable).parent / "feedhub"
    procs = [
        subprocess.Popen(
            [exe, "poll", "--once", "--workers", "4"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    hits = [len(feed_server.hits(f"/p{i}")) for i in range(n)]
    assert hits == [1] * n
    with db.session() as s:
        workers = set(s.scalars(select(Fetch.worker)))
        assert s.scalar(select(func.count()).select_from(Entry)) == 2 * n
    pids = {w.split(":")[1] for w in workers if w}
    assert len(pids) == 2, "both pollers should have taken a share of the sources"
    db.dispose()


def test_changed_public_feeds_are_announced_to_the_websub_hub(
    db: Database, settings: Settings, feed_server: FeedServer, add: Add
) -> None:
    from urllib.parse import parse_qs

    hub = feed_server.add("/hub", status=204)
    add(feed_server.add("/feed", body=rss(items(2))))
    with_hub = dataclasses.replace(settings, websub_hub=hub, public_url="https://news.example/")
    poll_once(db, with_hub)
    pings = [parse_qs(r.body.decode()) for r in feed_server.hits("/hub")]
    assert {p["hub.mode"][0] for p in pings} == {"publish"}
    assert "https://news.example/feeds/all.atom" in {p["hub.url"][0] for p in pings}
    make_due(db)
    poll_once(db, with_hub)  # nothing new: no second announcement
    assert len(feed_server.hits("/hub")) == len(pings)


@dataclasses.dataclass
class GroupOfTwo:
    """A SQLite poller about to store a good and a bad poll in one group."""

    db: Database
    poller: Poller
    outcomes: list[Any]  # the good poll's, then the bad one's
    ids: dict[str, int]
    reports: list[tuple[str, str]]
    summary: Any
    failure: list[BaseException]  # what the bad poll's storing raises

    def report(self, url: str, outcome: str) -> None:
        self.reports.append((url.rsplit("/", 1)[-1], outcome))

    def store(self) -> None:
        """Store both (nothing commits in between: one group), then commit."""
        for outcome in self.outcomes:
            self.poller._finish(outcome, self.summary, self.report)
        self.poller.commit_group(self.summary, self.report)

    def fetches(self, name: str) -> int:
        with self.db.session() as s:
            q = select(func.count()).select_from(Fetch).where(Fetch.source_id == self.ids[name])
            return int(s.scalar(q) or 0)


@pytest.fixture
def group_of_two(
    sqlite_template: Path, tmp_path: Path, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[GroupOfTwo]:
    """The bad poll's storing fails with what ``failure`` holds."""
    import shutil

    from feedhub.ingest import store

    shutil.copy(sqlite_template, tmp_path / "db.sqlite3")
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    db = Database(url)
    settings = Settings(instance_path=tmp_path, database_url=url, allow_private_networks=True)
    with db.session() as s:
        ids = {
            name: add_source(s, settings, feed_server.add(f"/{name}", body=rss(items(2, name)))).id
            for name in ("good", "bad")
        }
    real = store.attach_batch
    failure: list[BaseException] = [RuntimeError("disk on fire")]

    def flaky(session: Any, source: Any, now: Any, new: Any, changed: Any) -> Any:
        stored = real(session, source, now, new, changed)
        if source.id == ids["bad"]:
            raise failure[0]
        return stored

    monkeypatch.setattr(store, "attach_batch", flaky)
    poller = Poller(db, settings)
    try:
        poller.acquire_lock()
        now = utcnow()
        jobs = {j.source_id: j for j in poller.lease(now, all_sources=True, round_start=now)}
        outcomes = [poller.fetch(jobs[ids[name]]) for name in ("good", "bad")]
        for outcome in outcomes:
            poller._parse_here(outcome)
        yield GroupOfTwo(db, poller, outcomes, ids, [], poller_mod.PollSummary(), failure)
    finally:
        poller.release_lock()
        poller.close()
        db.dispose()


def test_polls_rolled_back_with_a_failed_one_in_their_group_are_stored_again(
    group_of_two: GroupOfTwo,
) -> None:
    """The SQLite poller's group has no savepoints: a poll that fails takes the
    group's earlier polls back with it, and they are stored again, once."""
    group_of_two.store()
    db, ids = group_of_two.db, group_of_two.ids
    assert (entry_count(db, ids["good"]), entry_count(db, ids["bad"])) == (2, 0)
    assert (group_of_two.fetches("good"), group_of_two.fetches("bad")) == (1, 1)
    assert sorted(group_of_two.reports) == [("bad", "error"), ("good", "ok")]
    assert (group_of_two.summary.ok, group_of_two.summary.errors) == (1, 1)
    assert "disk on fire" in (source(db, ids["bad"]).last_error or "")


def test_polls_are_stored_again_when_recording_the_failure_fails(
    group_of_two: GroupOfTwo, monkeypatch: pytest.MonkeyPatch
) -> None:
    def locked(*_: Any) -> None:
        raise OperationalError("UPDATE sources", {}, Exception("database is locked"))

    monkeypatch.setattr(group_of_two.poller, "record_failure", locked)
    with pytest.raises(OperationalError):
        group_of_two.store()
    group_of_two.poller.commit_group(group_of_two.summary, group_of_two.report)
    assert entry_count(group_of_two.db, group_of_two.ids["good"]) == 2
    assert group_of_two.reports == [("good", "ok")]


def test_an_interrupted_store_leaves_the_round_to_store_the_rest(
    group_of_two: GroupOfTwo,
) -> None:
    """^C while storing a poll: run_round's cleanup stores what its group took back."""
    group_of_two.failure[0] = KeyboardInterrupt()
    with pytest.raises(KeyboardInterrupt):
        group_of_two.store()
    group_of_two.poller._store_again(group_of_two.summary, group_of_two.report)
    group_of_two.poller.commit_group(group_of_two.summary, group_of_two.report)
    assert entry_count(group_of_two.db, group_of_two.ids["good"]) == 2
    assert group_of_two.reports == [("good", "ok")]


TWO_KINDS_OF_ITEM = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
    "<title>Kurier</title><link>https://kurier.example/</link><description>t</description>"
    "<item><title>Brücke gesperrt</title><link>https://kurier.example/a</link><guid>a</guid>"
    "<description>&lt;p&gt;Neuwied. Die Brücke wird ab Montag gesperrt.&lt;/p&gt;</description>"
    "</item>"
    "<item><title>Stadtrat tagt</title><link>https://kurier.example/b</link><guid>b</guid>"
    "<description>Der Stadtrat tagt.</description><content:encoded>"
    "&lt;p&gt;Koblenz. Der Stadtrat tagt am Dienstag öffentlich.&lt;/p&gt;</content:encoded>"
    "</item></channel></rss>"
).encode()


def test_an_item_whose_content_is_its_summary_stores_it_once(
    db: Database, settings: Settings, feed_server: FeedServer, add: Add, client: FlaskClient
) -> None:
    """A description-only item keeps an empty content column; pages still show its text."""
    add(feed_server.add("/feed", body=TWO_KINDS_OF_ITEM))
    poll_once(db, settings)
    with db.session() as s:
        stored = s.scalars(select(Entry))
        rows = {e.title: (e.summary, e.content, e.body, e.story_id) for e in stored}
    teaser = "<p>Neuwied. Die Brücke wird ab Montag gesperrt.</p>"
    full = "<p>Koblenz. Der Stadtrat tagt am Dienstag öffentlich.</p>"
    bridge, council = rows["Brücke gesperrt"], rows["Stadtrat tagt"]
    assert bridge[:3] == (teaser, "", teaser)
    assert council[:3] == ("Der Stadtrat tagt.", full, full)
    assert teaser in client.get(f"/story/{bridge[3]}").get_data(as_text=True)
    assert full in client.get(f"/story/{council[3]}").get_data(as_text=True)


def _wait_for_file(path: str) -> None:
    """Run in a parse worker: keep it busy until the test creates *path*."""
    deadline = time.monotonic() + 120
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.01)


def test_the_storing_thread_parses_waiting_feeds_instead_of_waiting(
    db: Database, settings: Settings, feed_server: FeedServer, add: Add, tmp_path: Path
) -> None:
    """With the only parse worker busy, the feeds beyond the pool's slots are parsed
    and stored by the poller itself, before the worker is free again."""
    slots = poller_mod.parse_slots(1)
    for n in range(slots + 2):
        add(feed_server.add(f"/f{n}", body=rss(items(2, prefix=f"f{n}"))))
    gate = tmp_path / "gate"
    stored_while_blocked: list[bool] = []

    def report(url: str, outcome: str) -> None:
        stored_while_blocked.append(not gate.exists())
        if len(stored_while_blocked) == 2:
            gate.touch()  # the worker may go on: the round can end

    poller = Poller(db, dataclasses.replace(settings, parse_processes=1))
    try:
        pool = poller.parse_pool()
        assert pool is not None
        blocker = pool.submit(_wait_for_file, str(gate))
        poller.acquire_lock()
        summary = poller.run_round(all_sources=True, progress=report)
        blocker.result(timeout=120)
    finally:
        gate.touch()
        poller.release_lock()
        poller.close()
    assert (summary.ok, summary.new_entries) == (slots + 2, 2 * (slots + 2))
    assert poller.parsed_here == 2
    assert stored_while_blocked == [True, True] + [False] * slots


def _exit_worker() -> None:
    os._exit(3)


def test_a_parse_pool_whose_worker_died_is_replaced(
    db: Database, settings: Settings, feed_server: FeedServer, add: Add
) -> None:
    ids = [add(feed_server.add(f"/f{n}", body=rss(items(2, prefix=f"f{n}")))) for n in range(3)]
    poller = Poller(db, dataclasses.replace(settings, parse_processes=1))
    try:
        broken = poller.parse_pool()
        assert broken is not None
        assert broken.submit(_exit_worker).exception(timeout=60) is not None
        poller.acquire_lock()
        summary = poller.run_round(all_sources=True)
        assert poller.parse_pool() is not broken
    finally:
        poller.release_lock()
        poller.close()
    assert (summary.ok, summary.errors) == (3, 0)
    assert [entry_count(db, i) for i in ids] == [2, 2, 2]


def test_parse_workers_run_with_a_relaxed_garbage_collector(
    db: Database, settings: Settings
) -> None:
    poller = Poller(db, dataclasses.replace(settings, parse_processes=1))
    try:
        pool = poller.parse_pool()
        assert pool is not None
        threshold = pool.submit(gc.get_threshold).result(timeout=60)
        frozen = pool.submit(gc.get_freeze_count).result(timeout=60)
    finally:
        poller.close()
    assert threshold[0] == gc_tuning.THRESHOLD
    assert frozen > 1000  # the modules parsing imported


@pytest.mark.parametrize(("cores", "configured", "expected"), [
    (1, 0, 0), (2, 0, 1), (4, 0, 3), (None, 0, 0), (2, 3, 3), (8, -1, 0),
])  # fmt: skip
def test_parse_workers_leave_the_storing_thread_a_core(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    cores: int | None,
    configured: int,
    expected: int,
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    chosen = parse_processes(dataclasses.replace(settings, parse_processes=configured))
    assert chosen == expected


def test_an_admin_change_during_a_poll_is_kept(
    db: Database,
    settings: Settings,
    feed_server: FeedServer,
    add: Add,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The poll writes only the source columns it changed: an admin who disables
    the source while it is being polled keeps that."""
    if db.dialect == "sqlite":
        pytest.skip("on SQLite a poll holds the write lock: no other writer gets in meanwhile")
    sid = add(feed_server.add("/admin", body=rss(items(2), title="Rhein-Kurier")))
    with db.session() as s:  # named already: the poll itself does not touch the row early
        named = s.get(Source, sid)
        assert named is not None
        named.title, named.site_url = "Rhein-Kurier", "https://rhein-kurier.example/"
    real = poller_mod.store_feed

    def meanwhile(session: Any, src: Any, *args: Any, **kwargs: Any) -> Any:
        result = real(session, src, *args, **kwargs)
        with db.session() as admin:
            row = admin.get(Source, src.id)
            assert row is not None
            row.enabled, row.disabled_reason = False, "vom Admin pausiert"
        return result

    monkeypatch.setattr(poller_mod, "store_feed", meanwhile)
    summary = poll_once(db, settings)
    assert (summary.ok, summary.new_entries) == (1, 2)
    src = source(db, sid)
    assert src.enabled is False and src.disabled_reason == "vom Admin pausiert"
    assert src.last_success_at is not None and src.lease_owner is None  # the poll's own
