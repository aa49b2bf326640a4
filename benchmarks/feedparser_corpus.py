"""Run process_feed over feedparser's own test corpus (~2,200 hostile and odd feeds).

feedparser's sdist ships the feeds its authors collected over two decades: broken
encodings, ill-formed XML, every RSS/Atom dialect, entity tricks. Every one of them must
go through :func:`feedhub.ingest.parse.process_feed` without an exception. The script
also measures how much our sanitize/normalize stage adds on top of feedparser on a
typical 40-entry feed.

    .venv/bin/python benchmarks/feedparser_corpus.py [--cache DIR] [--repeat N]

The corpus is fetched with ``pip download --no-binary :all: --no-deps feedparser`` into
the cache directory (default ``$FEEDHUB_CORPUS_CACHE`` or ``~/.cache/feedhub``) and
unpacked there once. :func:`corpus_files` is the file discovery the end-to-end poll of
the corpus reuses.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser

from feedhub.ingest.normalize import normalize_entry
from feedhub.ingest.parse import process_feed

__all__ = [
    "CorpusReport",
    "corpus_files",
    "corpus_headers",
    "default_cache_dir",
    "ensure_corpus",
    "measure_overhead",
    "run_corpus",
    "sample_feed",
]

# files of the corpus: feeds (.xml) and compressed bodies (.gz, .z)
CORPUS_SUFFIXES = frozenset({".xml", ".gz", ".z"})
# what process_feed writes when its catch-alls fire (see parse._fill / process_feed)
_INTERNAL_ERROR_RE = re.compile(r"^parser error: |\b\d+ entr(?:y|ies) skipped \(")
_HEADER_RE = re.compile(rb"^\s*Header:\s*([A-Za-z0-9-]+):\s*(.*?)\s*$", re.MULTILINE)


def default_cache_dir() -> Path:
    return Path(os.environ.get("FEEDHUB_CORPUS_CACHE") or Path.home() / ".cache" / "feedhub")


def ensure_corpus(cache_dir: Path, python: str = sys.executable) -> Path:
    """The unpacked feedparser sdist's ``tests`` directory, downloaded if absent.

    Raises ``RuntimeError`` with pip's message when the sdist cannot be downloaded.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    existing = sorted(cache_dir.glob("feedparser-*/tests"))
    if existing:
        return existing[-1]
    archives = sorted(cache_dir.glob("feedparser-*.tar.gz"))
    if not archives:
        command = [python, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps"]
        command += ["--disable-pip-version-check", "feedparser", "-d", str(cache_dir)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        archives = sorted(cache_dir.glob("feedparser-*.tar.gz"))
        if done.returncode != 0 or not archives:
            lines = (done.stderr or done.stdout).strip().splitlines()
            raise RuntimeError(f"pip could not download feedparser's sdist: {lines[-1:] or '?'}")
    with tarfile.open(archives[-1]) as archive:
        archive.extractall(cache_dir, filter="data")
    unpacked = sorted(cache_dir.glob("feedparser-*/tests"))
    if not unpacked:
        raise RuntimeError(f"{archives[-1].name} holds no tests/ directory")
    return unpacked[-1]


def corpus_files(root: Path) -> list[Path]:
    """Every feed file of the corpus under ``root`` (the sdist's ``tests`` directory,
    the unpacked sdist, or a directory holding it), sorted for a stable order."""
    if (root / "tests").is_dir():
        root = root / "tests"
    elif root.name != "tests" and sorted(root.glob("feedparser-*/tests")):
        root = sorted(root.glob("feedparser-*/tests"))[-1]
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in CORPUS_SUFFIXES)


def corpus_headers(body: bytes) -> dict[str, str]:
    """The HTTP response headers a corpus file expects (its ``Header:`` comment lines),
    lower-case names; feedparser's own test runner serves files with these."""
    head = body[:2048]
    if b"Header:" not in head:
        return {}
    return {
        name.decode("ascii").lower(): value.decode("latin-1")
        for name, value in _HEADER_RE.findall(head)
    }


@dataclass
class CorpusReport:
    files: int = 0
    exceptions: int = 0
    problems: int = 0
    not_feeds: int = 0
    entries: int = 0
    # process_feed's own safety nets caught something: a bug of ours, not of the feed
    internal_errors: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)


def run_corpus(files: list[Path], base_url: str = "https://corpus.example/") -> CorpusReport:
    """process_feed over every file; an exception is counted, never propagated."""
    report = CorpusReport()
    started = time.perf_counter()
    for path in files:
        body = path.read_bytes()
        report.files += 1
        try:
            feed = process_feed(body, corpus_headers(body), base_url + path.name)
        except Exception as exc:  # the very thing this corpus run looks for
            report.exceptions += 1
            report.failures.append(f"{path}: {type(exc).__name__}: {exc}")
            continue
        report.entries += len(feed.entries)
        report.problems += feed.problem is not None
        if feed.problem and _INTERNAL_ERROR_RE.search(feed.problem):
            report.internal_errors += 1
            report.failures.append(f"{path}: {feed.problem}")
        report.not_feeds += not feed.is_feed
    report.seconds = time.perf_counter() - started
    return report


def sample_feed(entries: int = 40) -> bytes:
    """A typical news feed: RSS 2.0, each item with a teaser, ~2 KB of HTML content,
    an image, links, categories and a date (original text, generated)."""
    items = []
    for i in range(entries):
        paragraphs = "".join(
            f"<p>Absatz {p} zu Meldung {i}: Der Stadtrat hat am Dienstag über den "
            f'Haushalt beraten. <a href="/lokales/{i}/{p}">Mehr dazu</a> und '
            f"<strong>wichtige</strong> Zahlen: {i * 37 % 1000},{p} Prozent.</p>"
            for p in range(8)
        )
        items.append(
            f"<item><title>Meldung {i}: Haushalt &amp; Finanzen im Stadtrat</title>"
            f"<link>https://www.zeitung.example/lokales/meldung-{i}.html?utm_source=rss</link>"
            f'<guid isPermaLink="false">zeitung-{i}</guid>'
            f"<pubDate>Mon, 03 Jun 2024 {i % 24:02d}:15:00 +0200</pubDate>"
            f"<category>Lokales</category><category>Politik</category>"
            f"<dc:creator>Redaktion {i % 5}</dc:creator>"
            f"<description><![CDATA[<p><strong>Neuwied.</strong> Kurzfassung der Meldung {i} "
            f"mit einem Satz mehr.</p>]]></description>"
            f'<content:encoded><![CDATA[<figure><img src="/bilder/{i}.jpg" alt="Bild {i}" '
            f'width="640" height="360"></figure>{paragraphs}]]></content:encoded></item>'
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Zeitung</title>'
        "<link>https://www.zeitung.example/</link><description>d</description>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def measure_overhead(repeat: int = 20) -> tuple[float, float, float]:
    """Seconds per 40-entry feed, best of ``repeat`` interleaved runs (the machine is
    shared, so the minimum is the honest figure): feedparser alone, our
    sanitize/normalize stage alone on feedparser's result, and process_feed whole."""
    body = sample_feed(40)
    headers = {"content-type": "application/rss+xml; charset=utf-8"}
    url = "https://www.zeitung.example/feed.rss"
    fp_headers = {**headers, "content-location": url}

    def parse() -> Any:
        return feedparser.parse(
            io.BytesIO(body),
            response_headers=fp_headers,
            sanitize_html=False,
            resolve_relative_uris=False,
        )

    parsed = parse()
    now = datetime.now(UTC)

    def normalize() -> Any:
        return [normalize_entry(e, url, now) for e in parsed.entries]

    def whole() -> Any:
        return process_feed(body, headers, url)

    stages: tuple[Callable[[], Any], ...] = (parse, normalize, whole)
    best = [float("inf")] * len(stages)
    for _ in range(repeat):
        for slot, func in enumerate(stages):
            started = time.perf_counter()
            func()
            best[slot] = min(best[slot], time.perf_counter() - started)
    return best[0], best[1], best[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=default_cache_dir())
    parser.add_argument("--repeat", type=int, default=20, help="runs of the 40-entry timing")
    args = parser.parse_args(argv)
    try:
        root = ensure_corpus(args.cache)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    files = corpus_files(root)
    report = run_corpus(files)
    print(f"corpus:      {root}")
    print(f"files:       {report.files}")
    print(f"exceptions:  {report.exceptions}")
    print(f"internal:    {report.internal_errors} (caught by process_feed's safety nets)")
    print(f"problems:    {report.problems}")
    print(f"not feeds:   {report.not_feeds}")
    print(f"entries:     {report.entries}")
    per_file = report.seconds / max(report.files, 1) * 1e3
    print(f"time:        {report.seconds:.2f} s ({per_file:.2f} ms/file)")
    for failure in report.failures[:20]:
        print(f"  {failure}")
    parse_only, ours, full = measure_overhead(args.repeat)
    print(f"40-entry feed (best of {args.repeat}):")
    print(f"  feedparser alone:          {parse_only * 1e3:.1f} ms")
    print(
        f"  sanitize+normalize alone:  {ours * 1e3:.1f} ms ({ours / parse_only:.0%} of feedparser)"
    )
    print(f"  process_feed:              {full * 1e3:.1f} ms ({full / 40 * 1e6:.0f} us/entry)")
    return 1 if report.exceptions or report.internal_errors else 0


if __name__ == "__main__":
    sys.exit(main())
