"""Ingest benchmark: feedhub's poller against the PyPI `reader` library, same corpus.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/ingest.py [--feeds 500] [--entries 40] [--repeat 3]

Generates N original feeds, serves them from a separate process on 127.0.0.1 and
runs, for each system in a fresh process: a cold poll, a warm poll (all 304), a
warm poll against a server that ignores validators (same bytes, 200), and a
poll after 10% of the feeds gained new items. Reports wall and CPU seconds
(CPU of the process and its children), peak RSS and entries/s; medians of
--repeat runs, each run with both systems side by side so the ratios compare
like with like on a noisy machine.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import itertools
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

HOSTS = 25
PLACES = [
    "Neuwied",
    "Koblenz",
    "Mainz",
    "Bendorf",
    "Linz am Rhein",
    "Dierdorf",
    "Unkel",
    "Puderbach",
]
CATEGORIES = ["Wirtschaft", "Politik", "Sport", "Technik", "Kultur", "Lokales"]
FUNCTION_WORDS = [
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
    "zwischen",
    "im",
    "am",
    "vom",
    "zum",
    "zur",
    "ein",
    "eine",
    "nicht",
    "auch",
    "noch",
    "wie",
    "wird",
    "werden",
    "hat",
    "haben",
    "ist",
    "sind",
    "sich",
]
SYLLABLES = [
    "ba",
    "be",
    "bi",
    "bo",
    "bu",
    "da",
    "de",
    "di",
    "do",
    "du",
    "fa",
    "fe",
    "fi",
    "fo",
    "ga",
    "ge",
    "gi",
    "go",
    "ha",
    "he",
    "hi",
    "ho",
    "ka",
    "ke",
    "ki",
    "ko",
    "la",
    "le",
    "li",
    "lo",
    "ma",
    "me",
    "mi",
    "mo",
    "na",
    "ne",
    "ni",
    "no",
    "pa",
    "pe",
    "pi",
    "po",
    "ra",
    "re",
    "ri",
    "ro",
    "sa",
    "se",
    "si",
    "so",
    "ta",
    "te",
    "ti",
    "to",
    "wa",
    "we",
    "wi",
    "wo",
    "za",
    "ze",
    "zi",
    "zo",
    "ber",
    "ster",
    "men",
    "ung",
    "keit",
    "heit",
    "lich",
]


def vocabulary(size: int = 20000) -> list[str]:
    """Pseudo-words, ordered by rank: news text follows a Zipf law, so most words are rare
    and two unrelated articles share few of them (a tiny vocabulary would make every
    article look like a near-duplicate of every other)."""
    rng = random.Random(7)
    words: list[str] = []
    seen: set[str] = set()
    while len(words) < size:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word.capitalize() if rng.random() < 0.4 else word)
    return words


@functools.cache
def zipf_vocabulary() -> tuple[list[str], list[float]]:
    """The words and their cumulative weights, built on first use: a parse worker
    that feedhub spawns from the benchmark's child process imports this module
    again (as ``__mp_main__``) and must not pay for what only the server uses."""
    vocab = vocabulary()
    return vocab, list(itertools.accumulate(1 / (rank + 1) for rank in range(len(vocab))))


def words(rng: random.Random, n: int) -> list[str]:
    vocab, weights = zipf_vocabulary()
    out = rng.choices(vocab, cum_weights=weights, k=n)
    for i in range(0, n, 4):  # function words between content words, as in German prose
        out[i] = rng.choice(FUNCTION_WORDS)
    return out


def make_item(feed: int, n: int, rng: random.Random, base: datetime) -> str:
    cat = CATEGORIES[(feed + n) % len(CATEGORIES)]
    place = PLACES[(feed * 7 + n) % len(PLACES)]
    title = f"{place}: " + " ".join(words(rng, rng.randint(6, 10)))
    body = " ".join(words(rng, 90))
    when = base - timedelta(minutes=37 * n + feed)
    slug = place.lower().replace(" ", "-")
    link = f"https://quelle{feed}.example/artikel/{n}-{slug}?utm_source=rss"
    html = f'<p>{place}. {body}</p><p><a href="{link}">mehr</a></p>'
    return (
        f"<item><title>{escape(title)}</title><link>{escape(link)}</link>"
        f'<guid isPermaLink="false">q{feed}-{n}</guid>'
        f"<pubDate>{format_datetime(when)}</pubDate><category>{cat}</category>"
        f"<description>{escape(html)}</description>"
        "</item>"
    )


def make_feed(feed: int, entries: int, extra: int, base: datetime) -> bytes:
    rng = random.Random(feed)
    items = [make_item(feed, n, rng, base) for n in range(-extra, entries)]
    head = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Quelle {feed}</title><link>https://quelle{feed}.example/</link>"
        f"<description>Nachrichten aus der Region {feed}</description>"
    )
    return (head + "".join(items) + "</channel></rss>").encode()


# -- the feed server (its own process) -----------------------------------------
def serve(port_file: Path, feeds: int, entries: int) -> None:
    base = datetime.now(UTC).replace(microsecond=0)
    bodies = {i: make_feed(i, entries, 0, base) for i in range(feeds)}
    state = {"mode": "normal"}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            mode = self.path.rsplit("=", 1)[-1]
            if mode == "update":
                for i in range(0, feeds, 10):
                    bodies[i] = make_feed(i, entries, 5, base + timedelta(hours=1))
            state["mode"] = mode
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            try:
                n = int(self.path.split("/")[-1].split(".")[0].split("-")[1])
                body = bodies[n]
            except (ValueError, IndexError, KeyError):
                self.send_error(404)
                return
            etag = '"' + hashlib.md5(body).hexdigest() + '"'
            if state["mode"] != "ignore" and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    # feeds live on HOSTS loopback addresses, as 500 real feeds live on many hosts
    # (the poller allows only 2 concurrent requests per host)
    first = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = first.server_address[1]
    servers = [first] + [
        ThreadingHTTPServer((f"127.0.0.{i}", port), Handler) for i in range(2, HOSTS + 1)
    ]
    for httpd in servers:
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
    port_file.write_text(str(port))
    threading.Event().wait()


class Server:
    def __init__(self, feeds: int, entries: int) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="fh-bench-"))
        port_file = self.dir / "port"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--serve",
                str(port_file),
                "--feeds",
                str(feeds),
                "--entries",
                str(entries),
            ]
        )
        for _ in range(600):
            if port_file.exists() and port_file.read_text():
                break
            time.sleep(0.05)
        self.port = int(port_file.read_text())
        self.urls = [
            f"http://127.0.0.{i % HOSTS + 1}:{self.port}/feed-{i}.xml" for i in range(feeds)
        ]

    def mode(self, mode: str) -> None:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.port)
        conn.request("POST", f"/_mode?m={mode}")
        conn.getresponse().read()
        conn.close()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


# -- the systems under test (each in its own process) -------------------------
def cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


class ChildPeak:
    """The largest VmHWM of this process's children (the parse workers), sampled.

    ru_maxrss of RUSAGE_CHILDREN is no use here: a spawned worker is forked from
    this process before it execs Python, and Linux keeps that moment's RSS (this
    whole process) as the child's peak. For the same reason a child is counted
    only once it runs the spawned worker (its command line names multiprocessing):
    sampled between fork and exec, its VmHWM is still this process's.
    """

    def __init__(self) -> None:
        self.mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        tasks = Path(f"/proc/{os.getpid()}/task")
        while not self._stop.wait(0.1):
            try:  # children of any thread: the pool's manager thread starts the workers
                pids = {p for t in tasks.iterdir() for p in (t / "children").read_text().split()}
            except OSError:
                continue
            for pid in pids:
                try:
                    # a child not yet past exec still shows this process's peak
                    if b"multiprocessing" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                        continue
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        self.mb = max(self.mb, int(line.split()[1]) / 1024)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.mb


def run_feedhub(urls: list[str], workdir: Path, phase: str) -> dict[str, Any]:
    from feedhub.config import Settings
    from feedhub.db import Database, upgrade
    from feedhub.ingest.poller import poll_once
    from feedhub.ingest.sources import add_source
    from feedhub.stories.categories import ensure_default_categories

    settings = Settings(
        instance_path=workdir,
        allow_private_networks=True,
        load_sample_sources=False,
        secret_key="bench",
    )
    db = Database(settings.effective_database_url)
    if phase == "cold":
        upgrade(db)
        with db.session() as s:
            ensure_default_categories(s, settings.fallback_category)
            for url in urls:
                add_source(s, settings, url)
    workers = ChildPeak()
    start_wall, start_cpu = time.perf_counter(), cpu()
    summary = poll_once(db, settings, all_sources=True)
    wall, used = time.perf_counter() - start_wall, cpu() - start_cpu
    return {
        "wall": wall,
        "cpu": used,
        "entries": summary.new_entries,
        "errors": summary.errors,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "child_rss_mb": workers.stop(),
    }


def run_reader(urls: list[str], workdir: Path, phase: str) -> dict[str, Any]:
    from reader import make_reader

    reader = make_reader(str(workdir / "reader.sqlite"))
    if phase == "cold":
        for url in urls:
            reader.add_feed(url, allow_invalid_url=True)
    before = reader.get_entry_counts().total
    start_wall, start_cpu = time.perf_counter(), cpu()
    reader.update_feeds(workers=16, scheduled=False)
    wall, used = time.perf_counter() - start_wall, cpu() - start_cpu
    return {
        "wall": wall,
        "cpu": used,
        "entries": reader.get_entry_counts().total - before,
        "errors": sum(1 for f in reader.get_feeds() if f.last_exception),
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "child_rss_mb": 0.0,
    }


def child(system: str, phase: str, workdir: str, urls_file: str) -> None:
    urls = json.loads(Path(urls_file).read_text())
    fn = run_feedhub if system == "feedhub" else run_reader
    print(json.dumps(fn(urls, Path(workdir), phase)))


PHASES = [
    ("cold", "normal"),
    ("warm_304", "normal"),
    ("ignored_validators", "ignore"),
    ("ten_percent_new", "update"),
]


def one_run(feeds: int, entries: int) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {"feedhub": {}, "reader": {}}
    servers = {name: Server(feeds, entries) for name in out}
    dirs = {name: Path(tempfile.mkdtemp(prefix=f"fh-{name}-")) for name in out}
    try:
        for phase, mode in PHASES:
            for name in ("feedhub", "reader"):
                server = servers[name]
                server.mode(mode)
                urls_file = dirs[name] / "urls.json"
                urls_file.write_text(json.dumps(server.urls))
                env = dict(os.environ)
                proc = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--child",
                        name,
                        phase,
                        str(dirs[name]),
                        str(urls_file),
                    ],
                    capture_output=True,
                    text=True,
                    env=env,
                    check=False,
                )
                if proc.returncode != 0:
                    raise SystemExit(f"{name} {phase} failed:\n{proc.stderr[-3000:]}")
                out[name][phase] = json.loads(proc.stdout.strip().splitlines()[-1])
                print(f"  {name:8} {phase:20} {out[name][phase]}", file=sys.stderr)
    finally:
        for server in servers.values():
            server.stop()
        for d in dirs.values():
            shutil.rmtree(d, ignore_errors=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--feeds", type=int, default=500)
    ap.add_argument("--entries", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--serve", metavar="PORT_FILE")
    ap.add_argument("--child", nargs=4, metavar=("SYSTEM", "PHASE", "DIR", "URLS"))
    args = ap.parse_args()
    if args.serve:
        serve(Path(args.serve), args.feeds, args.entries)
        return
    if args.child:
        child(*args.child)
        return
    runs = []
    for i in range(args.repeat):
        print(f"run {i + 1}/{args.repeat}", file=sys.stderr)
        runs.append(one_run(args.feeds, args.entries))

    def med(system: str, phase: str, key: str) -> float:
        return statistics.median(r[system][phase][key] for r in runs)

    def ratio(phase: str, key: str) -> float:
        return statistics.median(r["feedhub"][phase][key] / r["reader"][phase][key] for r in runs)

    print(f"\n{args.feeds} feeds x {args.entries} entries, median of {args.repeat} runs\n")
    print("| phase | system | wall s | CPU s | entries | entries/s | peak RSS MB (main / worker) |")
    print("|---|---|---|---|---|---|---|")
    for phase, _ in PHASES:
        for system in ("feedhub", "reader"):
            wall = med(system, phase, "wall")
            ents = med(system, phase, "entries")
            print(
                f"| {phase} | {system} | {wall:.2f} | {med(system, phase, 'cpu'):.2f} | "
                f"{ents:.0f} | {ents / wall if wall else 0:.0f} | "
                f"{med(system, phase, 'rss_mb'):.0f} / "
                f"{med(system, phase, 'child_rss_mb'):.0f} |"
            )
    cold = med("feedhub", "cold", "wall")
    print("\n| target | value | goal |")
    print("|---|---|---|")
    print(f"| cold poll, feedhub / reader (wall) | {ratio('cold', 'wall'):.2f} | <= 0.5 |")
    print(
        f"| warm all-304 poll, feedhub / reader (wall) | {ratio('warm_304', 'wall'):.2f} | <= 1.0 |"
    )
    print(
        f"| ignored validators / feedhub cold (wall) | "
        f"{med('feedhub', 'ignored_validators', 'wall') / cold:.3f} | <= 0.15 |"
    )
    print(f"| 10% new, feedhub / reader (wall) | {ratio('ten_percent_new', 'wall'):.2f} | - |")
    peak = max(r["feedhub"][p]["rss_mb"] for r in runs for p, _ in PHASES)
    child_peak = max(r["feedhub"][p]["child_rss_mb"] for r in runs for p, _ in PHASES)
    print(f"| feedhub peak RSS, main process (MB) | {peak:.0f} | <= 150 |")
    print(f"| feedhub peak RSS, one parse worker (MB) | {child_peak:.0f} | - |")


if __name__ == "__main__":
    main()
