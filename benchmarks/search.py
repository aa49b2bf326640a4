"""Latency of ``search_stories`` per query shape, on the databases benchmarks/pages.py seeds.

The reader's search page adds a fixed cost (cards, template) to this function;
the page itself is timed by benchmarks/pages.py. Here every filter the page
offers is timed, each with a typical word (uniform over the vocabulary) and
with one of the ten most frequent words, because the two need opposite plans.

    .venv/bin/python benchmarks/pages.py --db both            # seed once
    .venv/bin/python benchmarks/search.py --db both
    .venv/bin/python benchmarks/search.py --impl some.module  # another search_stories
"""

from __future__ import annotations

import argparse
import importlib
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pages import CATEGORIES, PG_ADMIN, PG_NAME, PLACES, SOURCES, SPAN, START, VOCABULARY

from feedhub.db import Database

Query = tuple[str, dict[str, Any]]
LIMIT = 51  # the search page asks for one more than it shows


def _word(rng: random.Random) -> str:
    return rng.choice(VOCABULARY)


def _common(rng: random.Random) -> str:
    return rng.choice(VOCABULARY[:10])


def _category(rng: random.Random) -> int:
    return rng.randint(1, len(CATEGORIES) + 1)  # the last one is the fallback


def _days(rng: random.Random) -> dict[str, datetime]:
    since = START + timedelta(days=rng.randint(0, SPAN.days - 10))
    return {"since": since, "until": since + timedelta(days=rng.randint(1, 10))}


def shapes(rng: random.Random) -> dict[str, Callable[[], Query]]:
    return {
        "typical word": lambda: (_word(rng), {}),
        "two words": lambda: (" ".join(rng.sample(VOCABULARY, 2)), {}),
        "word + category": lambda: (_word(rng), {"category_id": _category(rng)}),
        "most common words": lambda: (_common(rng), {}),
        "common word + category": lambda: (_common(rng), {"category_id": _category(rng)}),
        "word + place": lambda: (_word(rng), {"place_id": rng.randint(1, PLACES)}),
        "common word + place": lambda: (_common(rng), {"place_id": rng.randint(1, PLACES)}),
        "word + source": lambda: (_word(rng), {"source_id": rng.randint(1, SOURCES)}),
        "common word + source": lambda: (_common(rng), {"source_id": rng.randint(1, SOURCES)}),
        "word + date range": lambda: (_word(rng), _days(rng)),
        "common word + date range": lambda: (_common(rng), _days(rng)),
        "common word + next page": lambda: (
            _common(rng),
            {"before": (START + SPAN * rng.random(), 10**9)},
        ),
    }


def measure(
    url: str, search: Callable[..., list[int]], requests: int, only: list[str]
) -> list[tuple[str, float, float]]:
    db = Database(url)
    rng = random.Random(7)
    results = []
    with db.session() as session:
        for kind, make in shapes(rng).items():
            if only and kind not in only:
                continue
            for _ in range(5):  # warm caches and the statement cache
                text, filters = make()
                search(session, text, limit=LIMIT, **filters)
            timings = []
            for _ in range(requests):
                text, filters = make()
                began = time.perf_counter()
                search(session, text, limit=LIMIT, **filters)
                timings.append((time.perf_counter() - began) * 1000)
            timings.sort()
            p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
            results.append((kind, statistics.median(timings), p95))
            print(f"  {kind:26s} p50 {results[-1][1]:7.1f} ms  p95 {p95:7.1f} ms", flush=True)
    db.dispose()
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--impl", default="feedhub.stories.search", help="module of search_stories")
    parser.add_argument("--shapes", default="", help="comma-separated query shapes (default: all)")
    default_sqlite = Path(tempfile.gettempdir()) / "feedhub_bench_pages.sqlite3"
    parser.add_argument("--sqlite-path", type=Path, default=default_sqlite)
    parser.add_argument("--pg-admin-url", default=PG_ADMIN)
    args = parser.parse_args(argv)
    search = importlib.import_module(args.impl).search_stories
    urls = {
        "sqlite": f"sqlite:///{args.sqlite_path}",
        "postgresql": args.pg_admin_url.rsplit("/", 1)[0] + "/" + PG_NAME,
    }
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    only = [s.strip() for s in args.shapes.split(",") if s.strip()]
    rows = []
    for kind in kinds:
        print(kind, flush=True)
        rows += [(kind, *r) for r in measure(urls[kind], search, args.requests, only)]
    print(f"\ncommand: python benchmarks/search.py {' '.join(argv or sys.argv[1:])}")
    print("| query shape | database | p50 ms | p95 ms |\n|---|---|---:|---:|")
    for kind, shape, p50, p95 in rows:
        print(f"| {shape} | {kind} | {p50:.1f} | {p95:.1f} |")


if __name__ == "__main__":
    main()
