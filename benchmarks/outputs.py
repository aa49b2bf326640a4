"""Output-feed serving benchmark: a cached feed and a 304 against a static file, same server.

    apt-get install -y wrk
    .venv/bin/python benchmarks/outputs.py [--stories 3000] [--runs 5] [--duration 5]
        [--connections 32] [--database-url postgresql://…] [--write BENCHMARKS-outputs.md]

Seeds a database (SQLite in a temporary instance folder unless --database-url is
given) with stories by direct inserts, starts feedhub under gunicorn the way
``feedhub serve`` does (2 workers, gthread, 4 threads, 127.0.0.1; access log
off for both servers) and a second gunicorn with the same settings serving a
tiny WSGI app that returns a static byte string of exactly the feed's size.
``wrk`` (a separate process) measures requests per second for:

  static   the static bytes (200)
  feed     /feeds/all.atom, already rendered and cached in both workers (200)
  304      /feeds/all.atom with the matching If-None-Match

Scenarios are interleaved per run so that drift on a shared machine hits all of
them alike; medians of --runs are reported. Target: feed >= 0.5 x static.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
FEED_PATH = "/feeds/all.atom"
WORDS = [
    "die",
    "der",
    "das",
    "und",
    "mit",
    "für",
    "auf",
    "bei",
    "nach",
    "über",
    "unter",
    "Stadt",
    "Kreis",
    "Rat",
    "Bürger",
    "Schule",
    "Straße",
    "Brücke",
    "Verkehr",
    "Haushalt",
    "Projekt",
    "Förderung",
    "Ausbau",
    "Sanierung",
    "Veranstaltung",
    "Verein",
    "Ergebnis",
]

# --- the static comparison app (imported by gunicorn as ``outputs:static_app``) -------

_STATIC_BODY: bytes | None = None


def static_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Returns the bytes of FEEDHUB_BENCH_STATIC, read once per worker."""
    global _STATIC_BODY
    if _STATIC_BODY is None:
        _STATIC_BODY = Path(os.environ["FEEDHUB_BENCH_STATIC"]).read_bytes()
    start_response(
        "200 OK",
        [
            ("Content-Type", "application/atom+xml; charset=utf-8"),
            ("Content-Length", str(len(_STATIC_BODY))),
        ],
    )
    return [_STATIC_BODY]


# --- seeding -----------------------------------------------------------------------


def seed(database_url: str, stories: int) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    from feedhub.db import Database, upgrade
    from feedhub.models import Base, Category, Entry, Source, Story

    db = Database(database_url)
    if db.dialect == "postgresql":
        with db.engine.begin() as conn:
            Base.metadata.drop_all(conn)
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(db)
    rng = random.Random(7)
    now = datetime.now(UTC)
    with db.session() as s:
        cats = [Category(name=n, slug=n.lower(), position=i) for i, n in enumerate(
            ["Wirtschaft", "Politik", "Sport", "Kultur", "Weitere Artikel"])]  # fmt: skip
        s.add_all(cats)
        sources = [
            Source(url=f"https://quelle{i}.example/feed", title=f"Quelle {i}",
                   site_url=f"https://quelle{i}.example/")
            for i in range(20)
        ]  # fmt: skip
        s.add_all(sources)
        s.flush()
        for n in range(stories):
            at = now - timedelta(minutes=7 * n)
            title = f"Meldung {n}: " + " ".join(rng.choice(WORDS) for _ in range(8))
            story = Story(title=title, lead=" ".join(rng.choice(WORDS) for _ in range(30)),
                          category_id=cats[n % len(cats)].id, sort_at=at, updated_at=at,
                          created_at=at)  # fmt: skip
            s.add(story)
            s.flush()
            reporters = rng.sample(sources, rng.choice([1, 1, 2, 3]))
            first = None
            for k, src in enumerate(reporters):
                body = " ".join(rng.choice(WORDS) for _ in range(180))
                entry = Entry(source_id=src.id, identity=f"guid:{n}-{k}", guid=f"{n}-{k}",
                              url=f"https://quelle{src.id}.example/artikel/{n}",
                              canonical_url=f"https://quelle{src.id}.example/artikel/{n}",
                              title=title, author="Redaktion", content=f"<p>{body}</p>",
                              summary=story.lead, published_at=at, updated_at=at,
                              first_seen_at=at, story_id=story.id)  # fmt: skip
                s.add(entry)
                s.flush()
                first = first or entry
            story.representative_entry_id = first.id if first else None
            story.entry_count = story.source_count = len(reporters)
    db.dispose()


# --- servers and load --------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def gunicorn(app: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable, "-m", "gunicorn", "--workers", "2", "--worker-class", "gthread",
        "--threads", "4", "--bind", f"127.0.0.1:{port}", "--chdir", str(BENCH_DIR),
        "--log-level", "warning", app,
    ]  # fmt: skip
    return subprocess.Popen(cmd, env={**os.environ, **env})


def wait_ready(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"server at {url} did not come up")
        time.sleep(0.2)


def wrk(url: str, duration: int, connections: int, headers: dict[str, str]) -> float:
    cmd = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{duration}s", "--latency"]
    for key, value in headers.items():
        cmd += ["-H", f"{key}: {value}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match or "Non-2xx" in out:  # wrk counts 304 as fine (3xx)
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    return float(match.group(1))


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, b"", dict(exc.headers)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stories", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--write", type=Path, help="Write a Markdown report here.")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install -y wrk")

    tmp = Path(tempfile.mkdtemp(prefix="feedhub-bench-outputs-"))
    instance = tmp / "instance"
    instance.mkdir()
    database_url = args.database_url or f"sqlite:///{instance / 'feedhub.sqlite3'}"
    print(f"seeding {args.stories} stories into {database_url.split('@')[-1]} …", flush=True)
    seed(database_url, args.stories)

    env = {
        "FEEDHUB_INSTANCE_PATH": str(instance),
        "FEEDHUB_DATABASE_URL": database_url,
        "FEEDHUB_LOAD_SAMPLE_SOURCES": "0",
        "PYTHONPATH": str(ROOT / "src"),
    }
    feed_port, static_port = free_port(), free_port()
    servers = [gunicorn("feedhub:create_app()", feed_port, env)]
    try:
        feed_url = f"http://127.0.0.1:{feed_port}{FEED_PATH}"
        wait_ready(feed_url)
        for _ in range(40):  # every worker thread renders and caches once
            status, body, headers = fetch(feed_url)
            assert status == 200
        etag = headers["ETag"]
        assert fetch(feed_url, {"If-None-Match": etag})[0] == 304
        static_file = tmp / "static.atom"
        static_file.write_bytes(b"x" * len(body))
        servers.append(
            gunicorn("outputs:static_app", static_port, {"FEEDHUB_BENCH_STATIC": str(static_file)})
        )
        static_url = f"http://127.0.0.1:{static_port}/static.atom"
        wait_ready(static_url)
        assert len(fetch(static_url)[1]) == len(body)

        scenarios: dict[str, tuple[str, dict[str, str]]] = {
            "static": (static_url, {}),
            "feed": (feed_url, {}),
            "304": (feed_url, {"If-None-Match": etag}),
        }
        results: dict[str, list[float]] = {name: [] for name in scenarios}
        for run in range(args.runs):
            for name, (url, headers) in scenarios.items():
                rps = wrk(url, args.duration, args.connections, headers)
                results[name].append(rps)
                print(f"run {run + 1}/{args.runs} {name:>6}: {rps:10.1f} req/s", flush=True)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=20)
        shutil.rmtree(tmp, ignore_errors=True)

    medians = {name: statistics.median(values) for name, values in results.items()}
    ratio = medians["feed"] / medians["static"]
    summary = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{cpu_model()}, {os.cpu_count()} cores, {platform.platform()}",
        "python": platform.python_version(),
        "database": "postgresql" if "postgres" in database_url else "sqlite",
        "stories": args.stories,
        "feed_bytes": len(body),
        "command": "benchmarks/outputs.py " + " ".join(sys.argv[1:]),
        "wrk": f"wrk -t 1 -c {args.connections} -d {args.duration}s",
        "runs": results,
        "medians": medians,
        "feed_vs_static": round(ratio, 3),
        "target_met": ratio >= 0.5,
    }
    print(json.dumps(summary, indent=2))
    if args.write:
        args.write.write_text(report(summary))


def report(s: dict[str, Any]) -> str:
    m = s["medians"]
    runs = s["runs"]

    def row(name: str, label: str) -> str:
        values = ", ".join(f"{v:.0f}" for v in runs[name])
        return f"| {label} | {m[name]:.0f} | {m[name] / m['static']:.2f} | {values} |"

    return "\n".join(
        [
            "# Output feeds: serving benchmark",
            "",
            f"- Date: {s['date']}",
            f"- Machine: {s['machine']}, Python {s['python']}",
            f"- Command: `.venv/bin/python {s['command']}`",
            f"- Load generator: `{s['wrk']}` (separate process, keep-alive)",
            "- Server: gunicorn, 2 workers, gthread with 4 threads, 127.0.0.1, access log off "
            "(same settings for both servers)",
            f"- Data: {s['stories']} stories on {s['database']}; `/feeds/all.atom` "
            f"(50 items, {s['feed_bytes']} bytes, identity encoding)",
            "- Static comparison: a minimal WSGI app under the same gunicorn returning "
            "the same number of bytes",
            "",
            "| scenario | median req/s | x static | runs |",
            "|---|---:|---:|---|",
            row("static", "static bytes (200)"),
            row("feed", "cached output feed (200)"),
            row("304", "output feed, If-None-Match (304)"),
            "",
            f"Target: cached output feed >= 0.5 x static. Result: {s['feed_vs_static']:.2f} x "
            f"({'met' if s['target_met'] else 'NOT met'}).",
            "",
        ]
    )


if __name__ == "__main__":
    main()
