"""Micro-benchmark of ``store_feed``: milliseconds per stored entry, cold feeds.

    .venv/bin/python benchmarks/store.py --db sqlite [--stored 10000] [--feeds 20]
    .venv/bin/python benchmarks/store.py --db postgresql --profile

Seeds a fresh database with ``--stored`` entries (feeds of benchmarks/ingest.py's
generator, stored through the real pipeline), then stores ``--feeds`` new feeds of
40 entries each, one transaction per feed as the poller does, and reports store
time per entry (``store_feed`` plus the commit). Parsing and the stories stage's
text work (``prepare_feed``) happen beforehand and are not timed: in the poller
they run in worker processes. ``--profile`` prints the
cProfile of the measured part.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import pstats
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from feedhub.db import Database, upgrade
from feedhub.ingest.parse import process_feed
from feedhub.ingest.records import FeedData
from feedhub.ingest.store import store_feed
from feedhub.models import Source
from feedhub.stories.categories import ensure_default_categories
from feedhub.stories.features import prepare_feed

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_NAME = "feedhub_bench_store"
ENTRIES = 40


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location(
        "ingest_bench", Path(__file__).with_name("ingest.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _database(kind: str, workdir: Path) -> Database:
    if kind == "sqlite":
        return Database(f"sqlite:///{workdir / 'store.sqlite3'}")
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_NAME}"')
    return Database(PG_ADMIN.rsplit("/", 1)[0] + "/" + PG_NAME)


def _parsed(gen: Any, numbers: range, base: datetime) -> list[tuple[str, FeedData]]:
    out = []
    for n in numbers:
        url = f"https://quelle{n}.example/feed.xml"
        body = gen.make_feed(n, ENTRIES, 0, base)
        feed = process_feed(body, {"content-type": "application/rss+xml"}, url)
        prepare_feed(feed)  # as the poller's parse workers do
        out.append((url, feed))
    return out


def _store(db: Database, feeds: list[tuple[str, FeedData]], now: datetime) -> float:
    """Seconds spent in store_feed and the commit, summed over *feeds*."""
    with db.session() as session:
        for url, _feed in feeds:
            session.add(Source(url=url))
    with db.session() as session:
        ids = {s.url: s.id for s in session.query(Source)}
    total = 0.0
    for url, feed in feeds:
        started = time.perf_counter()
        with db.session() as session:
            source = session.get(Source, ids[url])
            assert source is not None
            store_feed(session, source, feed, now, retention_days=100_000)
        total += time.perf_counter() - started
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--stored", type=int, default=10_000)
    ap.add_argument("--feeds", type=int, default=20)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()

    gen = _generator()
    base = datetime.now(UTC).replace(microsecond=0)
    workdir = Path(tempfile.mkdtemp(prefix="fh-store-"))
    db = _database(args.db, workdir)
    upgrade(db)
    with db.session() as session:
        ensure_default_categories(session, "Weitere Artikel")
    seed_feeds = args.stored // ENTRIES
    started = time.perf_counter()
    seed_seconds = _store(db, _parsed(gen, range(seed_feeds), base), base)
    print(
        f"seeded {seed_feeds * ENTRIES} entries: {seed_seconds / (seed_feeds * ENTRIES) * 1000:.3f}"
        f" ms/entry store ({time.perf_counter() - started:.1f} s with parsing)",
        file=sys.stderr,
    )
    measured = _parsed(gen, range(100_000, 100_000 + args.feeds), base)
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    seconds = _store(db, measured, base)
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    per_entry = seconds / (args.feeds * ENTRIES) * 1000
    print(
        f"{args.db}: store_feed {per_entry:.3f} ms/entry ({args.feeds} feeds x {ENTRIES}, "
        f"{args.stored} stored)"
    )
    db.dispose()


if __name__ == "__main__":
    main()
