"""The poller: lease due sources, fetch concurrently, parse in worker processes,
store each source's result atomically.

Fetching is I/O bound and runs in threads (with at most ``max_per_host``
requests per host, enforced by the Fetcher). feedparser is CPU bound pure
Python, so on 2+ cores parsing runs in a process pool; storing runs in the
calling thread, which parses a queued feed itself rather than wait for the
pool (on a cold poll of 500 feeds, some 35 of them). Each source poll is
stored atomically, so a broken feed never leaves half-written state and the
rest of the poll goes on: on PostgreSQL in a transaction of its own, on SQLite
in a small group of polls committed together
(:mod:`feedhub.ingest.store_group`), for fewer WAL writes.

Several pollers may run at once on PostgreSQL: each leases due sources with
``SELECT … FOR UPDATE SKIP LOCKED`` and a lease expiry, so a crashed poller's
sources come back. On SQLite one poller runs at a time (a lock row).
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    ThreadPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, inspect, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from feedhub import sqlite_exec
from feedhub.config import Settings
from feedhub.db import Database
from feedhub.gc_tuning import relaxed_gc
from feedhub.ingest import scheduler
from feedhub.ingest.fetch import Fetcher
from feedhub.ingest.in_flight import InFlight
from feedhub.ingest.outcome import Decision, SourceState, decide
from feedhub.ingest.parse_worker import new_pool, parse_feed
from feedhub.ingest.records import FeedData, FetchRequest, FetchResult
from feedhub.ingest.samples import fetch_sample
from feedhub.ingest.sources import SAMPLE_SCHEME
from feedhub.ingest.store import prune, source_update, store_feed
from feedhub.ingest.store_group import StoreGroup
from feedhub.models import Entry, Fetch, PollerLock, Source, SourceEvent, utcnow
from feedhub.sqlite_insert import insert_all
from feedhub.stories.band_filter import BandFilter
from feedhub.stories.bulk import BAND_FILTER

log = logging.getLogger(__name__)

# sources leased at a time: enough to keep the fetch threads busy, few enough
# that other pollers get their share
LEASE_MIN = 16
LEASE_BATCH = 200


FETCHES = cast(Table, Fetch.__table__)
# the polled source, by a statement built once (Session.get builds and keys its own
# on every call: a third of the cost of loading the row)
_SOURCE = select(Source).where(Source.id == bindparam("id"))


def _write_source(s: Session, src: Source) -> None:
    """Write what the poll changed on its source with one prebuilt UPDATE.

    The ORM's flush of the one changed Source, a unit of work for a single
    UPDATE, cost some 600 µs per poll. Only the columns the poll changed are
    written, as the flush would: an admin who disables or renames the source
    while it is polled keeps the change. The object leaves the session first so
    that no flush writes it again; a later poll of the source loads it afresh.
    """
    state = inspect(src)
    attrs = state.attrs
    names = tuple(c.key for c in state.mapper.column_attrs if attrs[c.key].history.has_changes())
    source_id = src.id
    params = {"v_" + name: getattr(src, name) for name in names}
    s.expunge(src)
    if names:
        sqlite_exec.execute(s, source_update(names), {"b_id": source_id, **params})


class PollerBusy(RuntimeError):
    """Another poller holds the SQLite poller lock."""


@dataclass(frozen=True)
class Job:
    """A leased source, detached from any session."""

    source_id: int
    url: str
    etag: str | None
    last_modified: str | None
    conditional: bool
    created_at: datetime
    body_hash: str | None  # of the last body parsed: an equal body is not parsed again


@dataclass
class Outcome:
    job: Job
    result: FetchResult
    body_hash: str | None = None
    feed: FeedData | None = None
    parse_seconds: float = 0.0
    # content hashes of the source's latest stored entries: parsing skips their features
    known: frozenset[str] = frozenset()


@dataclass
class PollSummary:
    sources: int = 0
    ok: int = 0
    not_modified: int = 0
    unchanged: int = 0
    errors: int = 0
    new_entries: int = 0
    updated_entries: int = 0
    seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)

    def add(self, outcome: str, url: str, error: str | None, new: int, updated: int) -> None:
        self.sources += 1
        if outcome == "ok":
            self.ok += 1
        elif outcome == "not_modified":
            self.not_modified += 1
        elif outcome == "unchanged":
            self.unchanged += 1
        else:
            self.errors += 1
            self.failures.append((url, error or outcome))
        self.new_entries += new
        self.updated_entries += updated

    def line(self) -> str:
        return (
            f"polled {self.sources} sources in {self.seconds:.1f} s: {self.ok} updated, "
            f"{self.not_modified} not modified, {self.unchanged} unchanged, {self.errors} failed; "
            f"{self.new_entries} new entries, {self.updated_entries} changed"
        )


Progress = Callable[[str, str], None]


@dataclass(frozen=True)
class _Stored:
    """A source poll's stored result, as the summary counts it."""

    outcome: Outcome
    decision: Decision
    new: int
    updated: int


def _report(stored: _Stored, summary: PollSummary, progress: Progress | None) -> None:
    decision, url = stored.decision, stored.outcome.job.url
    summary.add(decision.outcome, url, decision.error, stored.new, stored.updated)
    if progress:
        progress(url, decision.outcome)


KNOWN_HASHES = 300  # more than nearly any feed carries


def _parse_args(outcome: Outcome) -> tuple[bytes, dict[str, str], str, frozenset[str]]:
    """What ``parse_feed`` is called with, in a worker or in the storing thread."""
    result = outcome.result
    return result.body or b"", dict(result.headers), result.final_url, outcome.known


# a larger feed is parsed only in a worker, whose memory or crash on a hostile one
# does not take the poller with it
PARSE_HERE_MAX_BYTES = 256 * 1024


def _small(outcome: Outcome) -> bool:
    return len(outcome.result.body or b"") <= PARSE_HERE_MAX_BYTES


_Flight = InFlight[Job, Outcome]


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def parse_processes(settings: Settings) -> int:
    """Parse workers: one core fewer than the machine has, none on a single core.

    Storing is one serial stage (one writer) and sets the pace of a poll once
    parsing is spread out; it keeps a core to itself. On two cores one worker
    polled 500 feeds cold 5-15 % faster than two (BENCHMARKS.md).
    """
    if settings.parse_processes:
        return max(0, settings.parse_processes)
    cores = os.cpu_count() or 1
    return cores - 1 if cores >= 2 else 0


def parse_slots(processes: int) -> int:
    """Feeds a round keeps in the parse pool at a time: per worker the one it parses
    and the next, and two more for the storing thread's delay in handing over
    (it hands feeds over between the polls it stores, some 15 ms each). With one
    worker and two slots the worker sat idle so often that the storing thread
    parsed three times as many feeds itself."""
    return 2 * processes + 2


class Poller:
    """One poller process: owns a Fetcher, a thread pool and (maybe) a process pool."""

    def __init__(self, db: Database, settings: Settings, *, workers: int | None = None) -> None:
        self.db = db
        self.settings = settings
        self.owner = worker_name()
        self.fetcher = Fetcher(settings)
        self.workers = workers or settings.fetch_workers
        self.rng = random.Random()
        self._parse_pool: Executor | None = None
        self.parsed_here = 0  # feeds the storing thread parsed itself (see _advance)
        self.bounds = scheduler.Bounds(
            settings.default_interval, settings.min_interval, settings.max_interval
        )
        db.hold_background_checkpoints()  # storing commits skip the checkpoint fsyncs
        self._holds_checkpoints = True
        # the SQLite poller's bitmap of stored band keys, once it holds the poller lock
        self.band_filter: BandFilter | None = None
        self._lookup_lock = threading.Lock()  # see known_hashes
        # the SQLite poller's open group of stored polls (see store_group), with the
        # lock only
        self._group: StoreGroup[_Stored] | None = None

    # -- pools ---------------------------------------------------------------
    def parse_pool(self) -> Executor | None:
        n = parse_processes(self.settings)
        if n and self._parse_pool is None:
            self._parse_pool = new_pool(n)
        return self._parse_pool

    def _submit_parse(self, flight: _Flight, outcome: Outcome) -> bool:
        """Hand *outcome* to the parse pool; False when there is none to take it
        (then the storing thread parses it, whatever its size, as on one core).

        A pool that broke (a worker died: killed, out of memory, a crash in C)
        refuses new work; it is replaced by a new one, once per feed.
        """
        for _ in range(2):
            pool = self.parse_pool()
            if pool is None:
                return False
            try:
                future = pool.submit(parse_feed, *_parse_args(outcome))
            except (BrokenProcessPool, OSError) as exc:  # OSError: a worker could not start
                log.warning("parse pool unusable (%s); starting a new one", exc)
                self._parse_pool = None
                pool.shutdown(wait=False)
                continue
            flight.parsing_in_pool(future, outcome)
            return True
        return False

    def close(self) -> None:
        self._drop_group()
        if self._parse_pool is not None:
            self._parse_pool.shutdown(wait=True, cancel_futures=True)
            self._parse_pool = None
        self.fetcher.close()
        if self._holds_checkpoints:
            self._holds_checkpoints = False
            self.db.release_background_checkpoints()

    # -- SQLite single-poller lock --------------------------------------------
    def acquire_lock(self, now: datetime | None = None) -> None:
        if self.db.dialect != "sqlite":
            return
        now = now or utcnow()
        with self.db.session() as s:
            lock = s.get(PollerLock, "poller")
            if lock is not None and lock.owner != self.owner and lock.expires_at > now:
                raise PollerBusy(
                    f"another poller ({lock.owner}) is running on this SQLite database "
                    f"(lock held until {lock.expires_at:%Y-%m-%d %H:%M:%S} UTC); "
                    "use PostgreSQL to run several pollers"
                )
            expires = now + timedelta(seconds=self.settings.lease_seconds)
            if lock is None:
                s.add(PollerLock(name="poller", owner=self.owner, expires_at=expires))
            else:
                lock.owner, lock.expires_at = self.owner, expires
        if self.band_filter is None:
            self.band_filter = BandFilter()
        if self._group is None:
            self._group = StoreGroup(self.db)

    def release_lock(self) -> None:
        if self.db.dialect != "sqlite":
            return
        self._drop_group()
        self._group = None
        with self.db.session() as s:
            lock = s.get(PollerLock, "poller")
            if lock is not None and lock.owner == self.owner:
                s.delete(lock)

    # -- leasing -----------------------------------------------------------
    def lease(
        self,
        now: datetime,
        *,
        all_sources: bool,
        round_start: datetime,
        limit: int = LEASE_BATCH,
        source_ids: list[int] | None = None,
    ) -> list[Job]:
        """Lease due sources (or all not yet polled this round) for this poller."""
        until = now + timedelta(seconds=self.settings.lease_seconds)
        with self.db.session() as s:
            q = select(Source).where(
                Source.enabled.is_(True),
                or_(Source.lease_until.is_(None), Source.lease_until < now),
            )
            if source_ids is not None:
                q = q.where(Source.id.in_(source_ids))
            elif all_sources:
                q = q.where(
                    or_(Source.last_polled_at.is_(None), Source.last_polled_at < round_start)
                )
            else:
                q = q.where(Source.next_poll_at <= now)
            q = q.order_by(Source.next_poll_at, Source.id).limit(limit)
            if self.db.dialect == "postgresql":
                q = q.with_for_update(skip_locked=True, of=Source)
            sources = s.scalars(q).unique().all()
            jobs = []
            for src in sources:
                src.lease_owner, src.lease_until = self.owner, until
                conditional = not scheduler.needs_unconditional(
                    src.last_unconditional_at, now, self.settings.unconditional_every
                )
                jobs.append(
                    Job(
                        src.id,
                        src.url,
                        src.etag,
                        src.last_modified,
                        conditional,
                        src.created_at,
                        src.body_hash,
                    )
                )
            return jobs

    # -- one round -------------------------------------------------------------
    def fetch(self, job: Job) -> Outcome:
        req = FetchRequest(job.url, job.etag, job.last_modified, job.conditional)
        if job.url.startswith(SAMPLE_SCHEME + ":"):
            result = fetch_sample(req, job.created_at)
        else:
            result = self.fetcher.fetch(req)
        body_hash = hashlib.sha256(result.body).hexdigest() if result.ok and result.body else None
        outcome = Outcome(job, result, body_hash)
        if body_hash and job.body_hash and body_hash != job.body_hash:
            outcome.known = self.known_hashes(job.source_id)  # here, off the storing thread
        return outcome

    def known_hashes(self, source_id: int) -> frozenset[str]:
        """Content hashes of the source's latest stored entries.

        A changed feed mostly repeats items already stored unchanged; their
        dedup and search features would be computed only to be thrown away
        (storing skips an entry whose content hash it has). Any other entry
        that arrives without them (it changed, or is new with a known text)
        is prepared while storing. A failed lookup only costs that work.
        One lookup at a time: sixteen fetch threads would otherwise hold as many
        connections (on SQLite each with its own page cache).
        """
        try:
            with self._lookup_lock, self.db.session() as s:
                rows = s.scalars(
                    select(Entry.content_hash)
                    .where(Entry.source_id == source_id)
                    .order_by(Entry.first_seen_at.desc(), Entry.id.desc())
                    .limit(KNOWN_HASHES)
                )
                return frozenset(rows)
        except SQLAlchemyError as exc:
            log.warning("source %s: stored content hashes not read: %s", source_id, exc)
            return frozenset()

    def run_round(
        self,
        *,
        all_sources: bool = False,
        source_ids: list[int] | None = None,
        progress: Progress | None = None,
    ) -> PollSummary:
        """Poll every due (or every) source once.

        Leasing is continuous: more sources are leased whenever fewer than two per
        fetch thread are in flight, so fetch threads, parse processes and the
        storing main thread never wait for a whole batch to drain.
        """
        summary = PollSummary()
        started = time.monotonic()
        round_start = utcnow()
        batch = max(LEASE_MIN, self.workers * 4)
        flight: _Flight = InFlight(slots=parse_slots(parse_processes(self.settings)))
        more = True
        with (
            relaxed_gc(),
            ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="fetch") as threads,
        ):
            try:
                while True:
                    if more and len(flight) < self.workers * 2:
                        self.commit_group(summary, progress)  # leasing writes on its own
                        jobs = self.lease(
                            utcnow(),
                            all_sources=all_sources,
                            round_start=round_start,
                            source_ids=source_ids,
                            limit=batch,
                        )
                        more = bool(jobs) and source_ids is None
                        for job in jobs:
                            flight.fetching(threads.submit(self.fetch, job), job)
                        if more:
                            self.acquire_lock()  # renew the SQLite poller lock
                    if not flight:
                        break
                    self._advance(flight, summary, progress)
            finally:
                # polls already stored are complete: an error (or ^C) elsewhere
                # in the round must not take them back, nor one while storing
                # (which rolled its group back: see _store_again)
                self._store_again(summary, progress)
                self.commit_group(summary, progress)
        summary.seconds = time.monotonic() - started
        return summary

    def _advance(self, flight: _Flight, summary: PollSummary, progress: Progress | None) -> None:
        """Wait for the next fetches or parses to finish; parse or store each.

        Instead of waiting for the parse workers, the storing thread parses a
        waiting feed itself. An open group is committed when it comes due while
        the thread waits, so readers see stored polls within the group's age
        limit however long the next fetch takes.
        """
        done, _ = wait(flight.futures, timeout=0, return_when=FIRST_COMPLETED)
        if not done:
            # with nothing in the pools, no worker would ever take a waiting feed
            taken = flight.take_back(_small if flight.futures else lambda _: True)
            if taken is not None:
                # a feed of any size, or a group whose time is up: not parsed while
                # holding the write lock
                due = self._group is not None and self._group.due
                self._store_here(taken, summary, progress, commit_first=due or not flight.futures)
                return
            left = self._group.time_left() if self._group is not None else None
            if left:
                done, _ = wait(flight.futures, timeout=left, return_when=FIRST_COMPLETED)
            if not done:
                self.commit_group(summary, progress)
                done, _ = wait(flight.futures, return_when=FIRST_COMPLETED)
        for fut in done:
            kind, item = flight.done(fut)
            if kind == "fetch":
                outcome = fut.result()
                assert isinstance(outcome, Outcome)
                job = outcome.job
                if outcome.body_hash and outcome.body_hash != job.body_hash:
                    if self.parse_pool() is not None:  # started on first need: 304 rounds skip it
                        if not flight.pool_has_room:
                            flight.waiting.append(outcome)
                            continue
                        if self._submit_parse(flight, outcome):
                            continue
                    self._store_here(outcome, summary, progress)
                    continue
                self._finish(outcome, summary, progress)
            else:
                assert isinstance(item, Outcome)
                try:
                    item.feed, item.parse_seconds = fut.result()
                except Exception as exc:  # a crashed worker process
                    item.feed = FeedData(problem=f"parser crashed: {exc}", is_feed=False)
                self._refill(flight, summary, progress)  # before storing: keep workers busy
                self._finish(item, summary, progress)

    def _refill(self, flight: _Flight, summary: PollSummary, progress: Progress | None) -> None:
        """Hand waiting feeds to the parse pool while it has room."""
        while (outcome := flight.next_for_pool()) is not None:
            if not self._submit_parse(flight, outcome):  # no pool would start
                self._store_here(outcome, summary, progress)

    def _store_here(
        self,
        outcome: Outcome,
        summary: PollSummary,
        progress: Progress | None,
        *,
        commit_first: bool = True,
    ) -> None:
        """Parse in the storing thread (no pool, or a feed taken back from its queue),
        then store; the open group is committed first, so that parsing does not hold
        the write lock, unless *commit_first* is off."""
        if commit_first:
            self.commit_group(summary, progress)
        self._parse_here(outcome)
        self._finish(outcome, summary, progress)

    def _parse_here(self, outcome: Outcome) -> None:
        outcome.feed, outcome.parse_seconds = parse_feed(*_parse_args(outcome))
        self.parsed_here += 1

    def _finish(self, outcome: Outcome, summary: PollSummary, progress: Progress | None) -> None:
        try:
            stored = _Stored(outcome, *self.record(outcome))
        except Exception as exc:
            log.exception("storing %s failed", outcome.job.url)
            try:
                self.commit_group(summary, progress)  # record_failure writes on its own
                decision = Decision(outcome="error", error=f"internal error while storing: {exc}")
                self.record_failure(outcome, decision)
                _report(_Stored(outcome, decision, 0, 0), summary, progress)
            finally:
                self._store_again(summary, progress)
            return
        if self._group is None:
            _report(stored, summary, progress)
            return
        self._group.stored(stored)
        if self._group.due:
            self.commit_group(summary, progress)

    def commit_group(self, summary: PollSummary, progress: Progress | None) -> None:
        """Commit the open group of stored polls (if any) and report its polls.

        If they were not stored (the COMMIT failed, or SQLite had rolled the
        group back), each is recorded and reported as failed.
        """
        if self._group is None or not self._group.open:
            return
        polls, error = self._group.commit()
        for stored in polls:
            if error is not None:
                log.error("storing %s failed at commit: %s", stored.outcome.job.url, error)
                decision = Decision(outcome="error", error=f"internal error while storing: {error}")
                try:
                    self.record_failure(stored.outcome, decision)
                except Exception:  # the database is in trouble: report the rest anyway
                    log.exception("recording the failure of %s failed", stored.outcome.job.url)
                stored = _Stored(stored.outcome, decision, 0, 0)
            _report(stored, summary, progress)

    def _store_again(self, summary: PollSummary, progress: Progress | None) -> None:
        """Store the polls that a failed poll took back with its SQLite group."""
        if self._group is not None:
            for earlier in self._group.take_back():
                self._finish(earlier.outcome, summary, progress)

    def _drop_group(self) -> None:
        """Roll back a group an exception left open (run_round commits its own):
        its sources stay leased until the lease expires, then are polled again."""
        if self._group is not None and self._group.open:
            log.warning("rolling back stored polls not yet committed")
            self._group.rollback()

    def _transaction(self) -> AbstractContextManager[Session]:
        """One source poll's transaction: the open group's (see store_group), or its own."""
        return self._group.poll() if self._group is not None else self.db.session()

    # -- storing -------------------------------------------------------------
    def record(self, outcome: Outcome) -> tuple[Decision, int, int]:
        """Apply one poll to its source: entries, state and log in one transaction
        (on SQLite the open group's, see ``commit_group``)."""
        now = utcnow()
        job, result = outcome.job, outcome.result
        with self._transaction() as s:
            if self.band_filter is not None:
                s.info[BAND_FILTER] = self.band_filter
            src = s.execute(_SOURCE, {"id": job.source_id}).scalar_one_or_none()
            if src is None:  # deleted meanwhile
                return Decision(outcome="error", error="source was deleted"), 0, 0
            state = SourceState(
                src.url, src.interval_seconds, src.error_count, src.pending_redirect, src.body_hash
            )
            decision = decide(
                state,
                result,
                outcome.feed,
                outcome.body_hash,
                self._bounds(src),
                self.settings.max_backoff,
                now,
                self.rng,
            )
            new = updated = 0
            if decision.store_entries and outcome.feed is not None:
                stored = store_feed(
                    s, src, outcome.feed, now, retention_days=self.settings.retention_days
                )
                new, updated = stored.new, stored.updated
            self._apply(s, src, decision, outcome, now)
            _write_source(s, src)
            fetch = {
                "source_id": job.source_id,
                "started_at": now - timedelta(seconds=result.elapsed),
                "duration_ms": int((result.elapsed + outcome.parse_seconds) * 1000),
                "url": job.url,
                "status": result.status,
                "outcome": decision.outcome,
                "bytes": result.bytes_received,
                "new_entries": new,
                "updated_entries": updated,
                "error": decision.error or decision.problem,
                "worker": self.owner,
            }
            insert_all(s, FETCHES, [fetch])  # the log row without the ORM's unit of work
        return decision, new, updated

    def record_failure(self, outcome: Outcome, decision: Decision) -> None:
        """After a failed store transaction: log it and back off, nothing else."""
        now = utcnow()
        with self.db.session() as s:
            src = s.get(Source, outcome.job.source_id)
            if src is None:
                return
            src.error_count += 1
            src.last_error, src.last_error_at = decision.error, now
            src.last_polled_at = now
            src.lease_owner = src.lease_until = None
            delay = scheduler.backoff(
                src.error_count, src.interval_seconds, self.settings.max_backoff, self.rng
            )
            src.next_poll_at = now + timedelta(seconds=delay)
            s.add(
                Fetch(
                    source_id=src.id,
                    url=outcome.job.url,
                    status=outcome.result.status,
                    outcome="error",
                    error=decision.error,
                    worker=self.owner,
                )
            )

    def _bounds(self, src: Source) -> scheduler.Bounds:
        return scheduler.Bounds(
            self.bounds.default,
            src.min_interval or self.bounds.minimum,
            src.max_interval or self.bounds.maximum,
        )

    def _apply(self, s: Session, src: Source, d: Decision, outcome: Outcome, now: datetime) -> None:
        result = outcome.result
        src.last_polled_at = now
        src.last_status = result.status
        src.lease_owner = src.lease_until = None
        src.pending_redirect = d.pending_redirect
        src.retry_after_until = d.retry_after_until
        if d.move_to and d.move_to != src.url:
            taken = s.scalar(select(Source.id).where(Source.url == d.move_to, Source.id != src.id))
            if taken is None:
                s.add(
                    SourceEvent(
                        source_id=src.id,
                        kind="moved",
                        old_url=src.url,
                        new_url=d.move_to,
                        detail="permanent redirect on two polls",
                    )
                )
                src.url = d.move_to
        if d.outcome in ("ok", "not_modified", "unchanged"):
            src.error_count = 0
            src.last_success_at = now
            src.last_error = d.problem
            src.last_error_at = now if d.problem else src.last_error_at
            if d.remember_validators:
                src.etag = result.headers.get("etag") or (src.etag if result.not_modified else None)
                src.last_modified = result.headers.get("last-modified") or (
                    src.last_modified if result.not_modified else None
                )
                if outcome.body_hash:
                    src.body_hash = outcome.body_hash
                if not outcome.job.conditional:
                    src.last_unconditional_at = now
            ttl = outcome.feed.ttl_minutes if outcome.feed else None
            floor = scheduler.server_floor(result.headers, ttl, now)
            src.cache_max_age = floor
            interval = src.interval_seconds
            if d.adapt_interval and outcome.feed is not None:
                # the feed itself lists its recent entries: their dates tell how often it publishes
                published = [e.published_at for e in outcome.feed.entries if e.published_at]
                interval = scheduler.next_interval(self._bounds(src), published, floor)
            elif floor is not None:
                interval = max(interval, min(floor, self._bounds(src).maximum))
            src.interval_seconds = interval
            src.next_poll_at = now + timedelta(seconds=scheduler.jitter(interval, self.rng))
            return
        src.error_count = d.error_count
        src.last_error = d.error
        src.last_error_at = now
        if d.disable_reason:
            src.enabled = False
            src.disabled_reason = d.disable_reason
            s.add(SourceEvent(source_id=src.id, kind="disabled", detail=d.disable_reason))
            src.next_poll_at = now + timedelta(seconds=self.settings.max_interval)
            return
        src.next_poll_at = now + timedelta(seconds=d.next_in)

    # -- maintenance -------------------------------------------------------------
    def announce(self, summary: PollSummary) -> None:
        """Ping the WebSub hub for public output feeds that changed in this round."""
        if not (self.settings.websub_hub and self.settings.public_url):
            return
        if not (summary.new_entries or summary.updated_entries):
            return
        from feedhub.publish.websub import ping_hub_if_changed

        try:
            pinged = ping_hub_if_changed(
                self.db, self.settings.websub_hub, self.settings.public_url
            )
        except Exception:  # the hub is optional; polling goes on
            log.exception("WebSub ping failed")
            return
        if pinged:
            log.info("announced %d changed feed URLs to %s", len(pinged), self.settings.websub_hub)

    def prune(self) -> int:
        total = 0
        while True:
            with self.db.session() as s:
                n = prune(s, utcnow(), self.settings.retention_days)
            total += n
            if n == 0:
                return total

    def next_due_in(self) -> float:
        with self.db.session() as s:
            nxt = s.scalar(
                select(Source.next_poll_at)
                .where(Source.enabled.is_(True))
                .order_by(Source.next_poll_at)
                .limit(1)
            )
        if nxt is None:
            return 60.0
        return max(0.0, (nxt - utcnow()).total_seconds())


def poll_once(
    db: Database,
    settings: Settings,
    *,
    all_sources: bool = False,
    workers: int | None = None,
    progress: Progress | None = None,
) -> PollSummary:
    """Poll due (or all) sources once; raises PollerBusy on a busy SQLite database."""
    poller = Poller(db, settings, workers=workers)
    try:
        poller.acquire_lock()
        try:
            summary = poller.run_round(all_sources=all_sources, progress=progress)
        finally:
            poller.release_lock()
        poller.announce(summary)
        return summary
    finally:
        poller.close()


def poll_source_now(db: Database, settings: Settings, source_id: int) -> PollSummary:
    """Poll one source now, whatever its schedule (admin "poll now", first fetch)."""
    poller = Poller(db, settings, workers=1)
    poller._parse_pool = None
    try:
        return poller.run_round(source_ids=[source_id])
    finally:
        poller.close()


def run_forever(
    db: Database,
    settings: Settings,
    stop: threading.Event,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    idle_cap: float = 30.0,
) -> None:
    """The background poller: poll what is due, sleep until the next is due, prune hourly."""
    poller = Poller(db, settings, workers=workers)
    last_prune = 0.0
    try:
        while not stop.is_set():
            try:
                poller.acquire_lock()
            except PollerBusy as exc:
                log.warning("%s; waiting", exc)
                stop.wait(idle_cap)
                continue
            summary = poller.run_round(progress=progress)
            if summary.sources:
                log.info("%s", summary.line())
                poller.announce(summary)
            if time.monotonic() - last_prune > 3600:
                pruned = poller.prune()
                if pruned:
                    log.info("pruned %d entries past the retention age", pruned)
                last_prune = time.monotonic()
            poller.acquire_lock()
            stop.wait(min(idle_cap, max(1.0, poller.next_due_in())))
    finally:
        poller.release_lock()
        poller.close()


def release_stale_leases(db: Database, now: datetime | None = None) -> int:
    """Clear leases that expired (a crashed poller); leasing also ignores them."""
    now = now or utcnow()
    with db.session() as s:
        res = s.execute(
            update(Source)
            .where(Source.lease_until < now)
            .values(lease_owner=None, lease_until=None)
        )
        return int(getattr(res, "rowcount", 0) or 0)
