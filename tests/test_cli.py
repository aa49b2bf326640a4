"""The `feedhub` command line, on both databases, against a real feed server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from feedhub.cli import main

from .feedserver import FeedServer, rss

Run = Callable[..., Result]


@pytest.fixture
def run(instance_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("FEEDHUB_DATABASE_URL", db_url)
    monkeypatch.setenv("FEEDHUB_ALLOW_PRIVATE_NETWORKS", "1")
    monkeypatch.setenv("FEEDHUB_LOAD_SAMPLE_SOURCES", "0")
    monkeypatch.delenv("FEEDHUB_INSTANCE_PATH", raising=False)

    def _run(*args: str, ok: bool = True) -> Result:
        result = CliRunner().invoke(main, ["--instance", str(instance_path), *args])
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return _run


def feed(n: int, prefix: str) -> bytes:
    return rss(
        [
            {
                "title": f"{prefix} {i}",
                "link": f"https://{prefix}.example/{i}",
                "guid": f"{prefix}{i}",
                "pubDate": f"Wed, 25 Nov 2026 {10 + i}:00:00 +0000",
                "category": "Wirtschaft",
            }
            for i in range(n)
        ],
        title=f"Quelle {prefix}",
    )


def test_init_creates_database_and_categories(run: Run) -> None:
    result = run("init")
    assert "database ready" in result.output
    stats = json.loads(run("stats", "--json").output)
    assert stats["sources"] == 0
    assert {"Wirtschaft", "Weitere Artikel"} <= set(stats["categories"])


def test_add_poll_stats_and_entries(run: Run, feed_server: FeedServer) -> None:
    run("init")
    url = feed_server.add("/a.xml", body=feed(3, "a"))
    assert "added source" in run("sources", "add", url, "--category", "Wirtschaft").output
    out = run("poll", "--once").output
    assert "polled 1 sources" in out and "3 new entries" in out
    stats = json.loads(run("stats", "--json").output)
    assert (stats["sources"], stats["entries"]) == (1, 3)
    assert stats["stories"] == 3
    lines = [json.loads(line) for line in run("entries", "--jsonl").output.splitlines()]
    assert len(lines) == 3
    assert set(lines[0]) == {
        "id",
        "source_url",
        "guid",
        "url",
        "title",
        "published",
        "category",
        "story_id",
        "sponsored",
    }
    assert all(e["source_url"] == url and e["category"] == "Wirtschaft" for e in lines)
    assert all(e["story_id"] is not None and e["sponsored"] is False for e in lines)


def test_bad_url_is_one_clear_line(run: Run) -> None:
    run("init")
    result = run("sources", "add", "ftp://example.org/feed", ok=False)
    assert result.exit_code != 0
    assert "not an http(s) URL" in result.output
    assert "Traceback" not in result.output


def test_private_address_refused_when_not_allowed(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("init")
    monkeypatch.setenv("FEEDHUB_ALLOW_PRIVATE_NETWORKS", "0")
    result = run("sources", "add", "http://127.0.0.1:9/feed", ok=False)
    assert result.exit_code != 0 and "refused" in result.output and "loopback" in result.output


def test_duplicate_source_refused(run: Run) -> None:
    run("init")
    run("sources", "add", "http://127.0.0.1:9/feed")
    result = run("sources", "add", "http://127.0.0.1:9/feed", ok=False)
    assert result.exit_code != 0 and "already subscribed" in result.output


def test_opml_import_export_round_trip(run: Run, tmp_path: Path) -> None:
    run("init")
    opml = tmp_path / "in.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><body>'
        '<outline text="Regional"><outline text="A" xmlUrl="http://127.0.0.1:9/a"/>'
        '<outline text="B" xmlUrl="http://127.0.0.1:9/b"/></outline>'
        '<outline text="bad" xmlUrl="gopher://x/"/>'
        "</body></opml>"
    )
    out = run("sources", "import", str(opml)).output
    assert "2 added, 0 skipped (already there), 1 invalid" in out
    again = run("sources", "import", str(opml)).output
    assert "0 added, 2 skipped" in again
    exported = tmp_path / "out.opml"
    run("sources", "export", str(exported))
    listed = json.loads(run("sources", "list", "--json").output)
    assert {s["url"] for s in listed} == {"http://127.0.0.1:9/a", "http://127.0.0.1:9/b"}
    assert {s["category"] for s in listed} == {"Regional"}
    text = exported.read_text()
    assert 'xmlUrl="http://127.0.0.1:9/a"' in text and 'text="Regional"' in text


def test_unreadable_opml_is_one_clear_line(run: Run, tmp_path: Path) -> None:
    run("init")
    missing = run("sources", "import", str(tmp_path / "nope.opml"), ok=False)
    assert missing.exit_code != 0 and "cannot read" in missing.output
    broken = tmp_path / "broken.opml"
    broken.write_text("<opml><body>")
    result = run("sources", "import", str(broken), ok=False)
    assert result.exit_code != 0 and "not valid XML" in result.output
    assert "Traceback" not in result.output


def test_poll_reports_failures_and_exits_zero(run: Run, feed_server: FeedServer) -> None:
    run("init")
    run("sources", "add", feed_server.add("/gone", status=410))
    run("sources", "add", feed_server.add("/ok", body=feed(2, "ok")))
    out = run("poll", "--once").output
    assert "1 failed" in out and "410" in out


def test_samples_ingest_on_first_run(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEEDHUB_LOAD_SAMPLE_SOURCES", "1")
    assert "sample sources" in run("init").output
    run("poll", "--once")
    stats = json.loads(run("stats", "--json").output)
    assert stats["sources"] >= 5 and stats["entries"] >= 40
    listed = json.loads(run("sources", "list", "--json").output)
    assert all(s["sample"] and s["error_count"] == 0 for s in listed)
    # samples are added once: a second init adds nothing
    assert "sample sources" not in run("init").output


def test_console_script_and_flask_cli_agree(instance_path: Path, db_url: str) -> None:
    env = dict(
        os.environ,
        FEEDHUB_DATABASE_URL=db_url,
        FEEDHUB_LOAD_SAMPLE_SOURCES="0",
        FEEDHUB_INSTANCE_PATH=str(instance_path),
    )
    bindir = Path(sys.executable).parent
    subprocess.run([bindir / "feedhub", "init"], env=env, check=True, capture_output=True)
    direct = subprocess.run(
        [bindir / "feedhub", "stats", "--json"], env=env, check=True, capture_output=True, text=True
    )
    via_flask = subprocess.run(
        [bindir / "flask", "--app", "feedhub", "stats", "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    assert json.loads(direct.stdout) == json.loads(via_flask.stdout)
