"""Server-side latency of the reader's pages on a large database.

Seeds 10^6 entries in 3x10^5 stories by direct inserts (SQLite file and/or the
PostgreSQL database ``feedhub_bench_pages``), then times the front page, category
pages (first and deep keyset pages), story pages and searches through the WSGI app
in-process, and reports p50/p95 per page kind. Writes benchmarks/.work/pages.md (copy the
table into BENCHMARKS.md).

    .venv/bin/python benchmarks/pages.py --db both
    .venv/bin/python benchmarks/pages.py --db sqlite --entries 100000 --stories 30000
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from feedhub.db import Database, upgrade
from feedhub.stories.search import document_text
from feedhub.stories.stemming import index_text

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get("FEEDHUB_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_NAME = "feedhub_bench_pages"
START = datetime(2024, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=180)
CATEGORIES = [
    ("Lokales", "lokales"),
    ("Wirtschaft", "wirtschaft"),
    ("Politik", "politik"),
    ("Sport", "sport"),
    ("Kultur", "kultur"),
    ("Polizei", "polizei"),
    ("Technik", "technik"),
    ("Wissen", "wissen"),
]
WORDS = (  # noqa: SIM905 - a readable block of words
    "Rathaus Stadtrat Haushalt Schule Kindergarten Feuerwehr Polizei Unfall Brand Baustelle "
    "Straße Brücke Bahnhof Zug Bus Radweg Klinik Krankenhaus Arzt Pflege Wetter Regen Sturm "
    "Hitze Ernte Landwirt Bauer Markt Firma Betrieb Arbeit Stellen Umsatz Gewinn Bank Zinsen "
    "Miete Wohnung Neubau Gemeinde Bürgermeister Wahl Partei Landtag Bund Minister Gesetz "
    "Gericht Urteil Prozess Anklage Verein Fest Konzert Theater Museum Kino Buch Lesung Kunst "
    "Fußball Handball Tor Sieg Niederlage Trainer Spieler Saison Turnier Meister Freibad "
    "Hallenbad Park Wald Fluss Donau Hochwasser Energie Strom Solar Windrad Heizung Gas Preis "
    "Software Computer Netz Daten Sicherheit Angriff Update Handy Internet Forschung Studie "
    "Universität Hochschule Studenten Labor Klima Umwelt Tiere Zoo Hund Katze Kirche Pfarrer "
    "Jubiläum Geburtstag Ehrung Spende Hilfe Ehrenamt Jugend Senioren Familie Kinder Eltern"
).split()
SUFFIXES = (
    "", "platz", "straße", "verein", "amt", "haus", "bericht", "plan", "markt", "zeit", "gruppe",
    "projekt", "streit", "kosten", "leiter", "tag", "woche", "ausschuss", "zentrum", "fest",
)  # fmt: skip
# ~2,400 words used with Zipf frequencies, like news text: a few words are everywhere,
# most are rare. Searches pick words uniformly from the vocabulary (a typical query)
# or from the ten most frequent ones (a worst case).
VOCABULARY = [w + s for s in SUFFIXES for w in WORDS]
ZIPF_WEIGHTS = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(VOCABULARY))))
SOURCES = 300
PLACES = 150


def _words(rng: random.Random, k: int) -> list[str]:
    return rng.choices(VOCABULARY, cum_weights=ZIPF_WEIGHTS, k=k)


@dataclass
class Sizes:
    entries: int
    stories: int


def _story_rows(sizes: Sizes, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    """(id, title, lead, category_id, sort_at, entry_count, places) for every story."""
    step = SPAN / sizes.stories
    per_story, extra = divmod(sizes.entries, sizes.stories)
    for sid in range(1, sizes.stories + 1):
        title = " ".join(_words(rng, 6)).capitalize()
        lead = " ".join(_words(rng, 24)) + "."
        cat = rng.randint(1, len(CATEGORIES) + 1)  # the last one is the fallback
        category_id = None if cat == len(CATEGORIES) + 1 and rng.random() < 0.5 else cat
        sort_at = START + step * sid + timedelta(seconds=rng.randint(0, 30))
        count = per_story + (1 if sid <= extra else 0)
        places = [f"Ort {rng.randint(1, PLACES)}"] if rng.random() < 0.3 else []
        yield sid, title, lead, category_id, sort_at, count, places


def _naive(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


@dataclass
class Seed:
    stories: list[tuple[Any, ...]]
    entries: list[tuple[Any, ...]]
    story_places: list[tuple[int, int, datetime]]
    fts: list[tuple[int, str, str]]


def build(sizes: Sizes) -> Seed:
    """All rows in memory (about 1.5 GB for the full size), generated deterministically."""
    rng = random.Random(42)
    stories: list[tuple[Any, ...]] = []
    entries: list[tuple[Any, ...]] = []
    places: list[tuple[int, int, datetime]] = []
    fts: list[tuple[int, str, str]] = []
    entry_id = 0
    import json

    for sid, title, lead, category_id, sort_at, count, place_names in _story_rows(sizes, rng):
        first_entry = entry_id + 1
        sources = []
        for n in range(count):
            entry_id += 1
            src = rng.randint(1, SOURCES)
            sources.append(f"Quelle {src}")
            url = f"https://site{src}.example/{sort_at:%Y/%m}/{entry_id}"
            content = f"<p>{lead}</p><p>{' '.join(_words(rng, 30))}.</p>"
            seen = _naive(sort_at + timedelta(minutes=n * 7))
            entries.append(
                (entry_id, src, f"guid:{entry_id}", f"{entry_id}", url, url, title, content,
                 lead, _naive(sort_at), seen, sid)
            )  # fmt: skip
        stories.append(
            (sid, title, lead, category_id, first_entry, _naive(sort_at), count,
             len(set(sources)), json.dumps(place_names))
        )  # fmt: skip
        for name in place_names:
            places.append((sid, int(name.split()[1]), _naive(sort_at)))
        doc = document_text(
            title=title, lead=lead, content_html="", sources=sources, places=place_names
        )
        fts.append((sid, index_text(doc), doc))
    return Seed(stories, entries, places, fts)


STORY_COLS = (
    "id, title, lead, category_id, representative_entry_id, sort_at, entry_count, source_count, "
    "places, category_reason, updated_at, created_at, sponsored, sponsored_reason, hidden, version"
)
ENTRY_COLS = (
    "id, source_id, identity, guid, url, canonical_url, title, content, lead, published_at, "
    "first_seen_at, story_id, author, summary, feed_categories, enclosures, content_hash, "
    "story_pinned, sponsored, sponsored_reason, place"
)


def _story_full(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return (*row, "", row[5], row[5], False, "", False, 1)


def _entry_full(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return (*row, "", "", "[]", "[]", "", False, False, "", "")


def _small_tables() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    cats = [
        (i, name, slug, i, False, f"Aktuelle Artikel: {name}")
        for i, (name, slug) in enumerate(CATEGORIES, start=1)
    ]
    cats.append((len(CATEGORIES) + 1, "Weitere Artikel", "weitere", 99, True, ""))
    stamps = (_naive(START), _naive(START))
    sources = [
        (i, f"https://site{i}.example/feed.xml", f"Quelle {i}", f"https://s{i}.example/", *stamps)
        for i in range(1, SOURCES + 1)
    ]
    places = [(i, f"Ort {i}", f"ort-{i}") for i in range(1, PLACES + 1)]
    return cats, sources, places


def seed_sqlite(path: Path, seed: Seed) -> None:
    if path.exists():
        path.unlink()
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    cats, sources, places = _small_tables()
    with conn:
        conn.executemany(
            "INSERT INTO categories (id, name, slug, position, is_fallback, heading) "
            "VALUES (?,?,?,?,?,?)",
            cats,
        )
        conn.executemany(
            "INSERT INTO sources (id, url, title, site_url, created_at, next_poll_at, priority, "
            "enabled, is_sample, interval_seconds, error_count, unstable_guids) "
            "VALUES (?,?,?,?,?,?,0,1,0,1800,0,0)",
            sources,
        )
        conn.executemany("INSERT INTO places (id, name, slug) VALUES (?,?,?)", places)
        marks = ",".join("?" * 16)
        conn.executemany(
            f"INSERT INTO stories ({STORY_COLS}) VALUES ({marks})",
            (_story_full(r) for r in seed.stories),
        )
        marks = ",".join("?" * 21)
        conn.executemany(
            f"INSERT INTO entries ({ENTRY_COLS}) VALUES ({marks})",
            (_entry_full(r) for r in seed.entries),
        )
        conn.executemany(
            "INSERT INTO story_places (story_id, place_id, sort_at) VALUES (?,?,?)",
            seed.story_places,
        )
        conn.executemany(
            "INSERT INTO story_fts (rowid, body) VALUES (?, ?)", ((i, s) for i, s, _ in seed.fts)
        )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _copy(cur: Any, table: str, cols: str, rows: Iterable[tuple[Any, ...]]) -> None:
    with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def seed_postgres(admin_url: str, seed: Seed) -> str:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_NAME}"')
    url = admin_url.rsplit("/", 1)[0] + "/" + PG_NAME
    db = Database(url)
    upgrade(db)
    db.dispose()
    cats, sources, places = _small_tables()
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")  # FKs checked by construction
        _copy(cur, "categories", "id, name, slug, position, is_fallback, heading", cats)
        _copy(
            cur,
            "sources",
            "id, url, title, site_url, created_at, next_poll_at, priority, enabled, is_sample, "
            "interval_seconds, error_count, unstable_guids",
            ((*s, 0, True, False, 1800, 0, False) for s in sources),
        )
        _copy(cur, "places", "id, name, slug", places)
        _copy(cur, "stories", STORY_COLS, (_story_full(r) for r in seed.stories))
        _copy(cur, "entries", ENTRY_COLS, (_entry_full(r) for r in seed.entries))
        _copy(cur, "story_places", "story_id, place_id, sort_at", seed.story_places)
        cur.execute("CREATE TEMP TABLE fts_in (id int, stemmed text, raw text)")
        _copy(cur, "fts_in", "id, stemmed, raw", seed.fts)
        cur.execute(
            "INSERT INTO story_search (story_id, document) SELECT id, "
            "to_tsvector('simple'::regconfig, stemmed) || to_tsvector('german'::regconfig, raw) "
            "|| to_tsvector('english'::regconfig, raw) FROM fts_in"
        )
        for table in ("categories", "sources", "places", "stories", "entries"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return url


@dataclass
class Result:
    kind: str
    p50: float
    p95: float
    n: int


def measure(url: str, sizes: Sizes, requests: int) -> list[Result]:
    from feedhub import create_app
    from feedhub.web.reader_queries import Cursor

    instance = Path(tempfile.mkdtemp(prefix="feedhub-bench-"))
    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "bench", "LOAD_SAMPLE_SOURCES": False},
        instance_path=instance,
    )
    client = app.test_client()
    rng = random.Random(7)
    step = SPAN / sizes.stories

    def deep_cursor() -> str:
        sid = rng.randint(1000, sizes.stories)
        return Cursor(START + step * sid, sid).encode()

    kinds: dict[str, Callable[[], str]] = {
        "front page": lambda: "/",
        "category, first page": lambda: f"/category/{rng.choice(CATEGORIES)[1]}",
        "category, deep page": lambda: (
            f"/category/{rng.choice(CATEGORIES)[1]}?before={deep_cursor()}"
        ),
        "fallback category": lambda: "/category/weitere",
        "place page": lambda: f"/place/ort-{rng.randint(1, PLACES)}",
        "source page": lambda: f"/source/{rng.randint(1, SOURCES)}",
        "story page": lambda: f"/story/{rng.randint(1, sizes.stories)}",
        "search, typical word": lambda: f"/search?q={rng.choice(VOCABULARY)}",
        "search, two words": lambda: f"/search?q={'+'.join(rng.sample(VOCABULARY, 2))}",
        "search, word + category": lambda: (
            f"/search?q={rng.choice(VOCABULARY)}&category={rng.choice(CATEGORIES)[1]}"
        ),
        "search, most common words": lambda: f"/search?q={rng.choice(VOCABULARY[:10])}",
    }
    results = []
    for kind, make in kinds.items():
        for _ in range(10):  # warm caches and the connection pool
            client.get(make())
        timings = []
        for _ in range(requests):
            path = make()
            began = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - began) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{path}: HTTP {response.status_code}")
        timings.sort()
        p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
        results.append(Result(kind, statistics.median(timings), p95, len(timings)))
        print(f"  {kind:28s} p50 {results[-1].p50:7.1f} ms  p95 {p95:7.1f} ms", flush=True)
    app.extensions["feedhub"].db.dispose()
    return results


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        pg = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "show server_version"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pg = "?"
    return (
        f"{cpu}, {os.cpu_count()} cores visible, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, PostgreSQL {pg or '?'}, {platform.platform()}"
    )


def write_report(
    path: Path,
    command: str,
    sizes: Sizes,
    results: dict[str, list[Result]],
    seed_s: dict[str, float],
) -> None:
    out = io.StringIO()
    out.write("# Reader page latency (benchmarks/pages.py)\n\n")
    out.write(f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
    out.write(f"- machine: {_machine()}\n")
    out.write(f"- command: `{command}`\n")
    out.write(
        f"- data: {sizes.entries:,} entries in {sizes.stories:,} stories, {SOURCES} sources, "
        f"{len(CATEGORIES) + 1} categories, {PLACES} places; seeded by direct inserts "
        f"({', '.join(f'{k} {v:.0f} s' for k, v in seed_s.items())})\n"
    )
    out.write(
        "- method: in-process WSGI requests through Flask's test client (full routing, "
        "queries and template rendering; no network), anonymous reader, "
        "10 warm-up requests, then the stated number per kind with random targets\n"
    )
    out.write("- targets: p95 <= 50 ms for listing and story pages, <= 150 ms for search\n\n")
    out.write("| page | database | requests | p50 ms | p95 ms | target ms | ok |\n")
    out.write("|---|---|---:|---:|---:|---:|---|\n")
    for dbname, rows in results.items():
        for r in rows:
            target = 150 if r.kind.startswith("search") else 50
            ok = "yes" if r.p95 <= target else "**no**"
            out.write(
                f"| {r.kind} | {dbname} | {r.n} | {r.p50:.1f} | {r.p95:.1f} | {target} | {ok} |\n"
            )
    path.write_text(out.getvalue())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--stories", type=int, default=300_000)
    parser.add_argument("--requests", type=int, default=200)
    default_sqlite = Path(tempfile.gettempdir()) / "feedhub_bench_pages.sqlite3"
    parser.add_argument("--sqlite-path", type=Path, default=default_sqlite)
    parser.add_argument("--pg-admin-url", default=PG_ADMIN)
    parser.add_argument("--reuse", action="store_true", help="measure the existing databases")
    parser.add_argument("--report", type=Path, default=ROOT / "benchmarks" / ".work" / "pages.md")
    args = parser.parse_args(argv)
    sizes = Sizes(entries=args.entries, stories=args.stories)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    seed: Seed | None = None
    if not args.reuse:
        began = time.perf_counter()
        seed = build(sizes)
        print(f"generated rows in {time.perf_counter() - began:.0f} s", flush=True)
    results: dict[str, list[Result]] = {}
    seed_s: dict[str, float] = {}
    for kind in kinds:
        began = time.perf_counter()
        if kind == "sqlite":
            if seed is not None:
                seed_sqlite(args.sqlite_path, seed)
            url = f"sqlite:///{args.sqlite_path}"
        else:
            if seed is not None:
                url = seed_postgres(args.pg_admin_url, seed)
            else:
                url = args.pg_admin_url.rsplit("/", 1)[0] + "/" + PG_NAME
        seed_s[kind] = time.perf_counter() - began
        print(f"{kind}: seeded in {seed_s[kind]:.0f} s", flush=True)
        results[kind] = measure(url, sizes, args.requests)
    command = " ".join(["python", "benchmarks/pages.py", *(argv or sys.argv[1:])])
    args.report.parent.mkdir(parents=True, exist_ok=True)
    write_report(args.report, command, sizes, results, seed_s)
    print(f"wrote {args.report}")


if __name__ == "__main__":
    main()
