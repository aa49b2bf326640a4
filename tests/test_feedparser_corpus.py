"""feedparser's own test corpus (~2,200 odd and broken feeds) through process_feed."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "feedparser_corpus.py"


def load_benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("feedparser_corpus", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_every_corpus_file_is_processed_without_an_error(
    corpus: ModuleType, corpus_root: Path
) -> None:
    files = corpus.corpus_files(corpus_root)
    assert len(files) > 2000
    report = corpus.run_corpus(files)
    assert (report.exceptions, report.internal_errors, report.failures) == (0, 0, [])
    assert report.entries > 1000


def test_corpus_headers_come_from_the_header_comments(corpus: ModuleType) -> None:
    body = b"""<!--
Header:   Content-type: text/xml; charset=iso-8859-1
Header: Content-Location: http://example.com/
Description: x
-->
<rss/>"""
    assert corpus.corpus_headers(body) == {
        "content-type": "text/xml; charset=iso-8859-1",
        "content-location": "http://example.com/",
    }


def test_corpus_files_finds_feeds_from_any_root(corpus: ModuleType, tmp_path: Path) -> None:
    tests = tmp_path / "feedparser-9.9" / "tests"
    (tests / "wellformed").mkdir(parents=True)
    for name in ("wellformed/a.xml", "b.gz", "runtests.py", "c.z"):
        (tests / name).write_bytes(b"x")
    expected = [tests / "b.gz", tests / "c.z", tests / "wellformed" / "a.xml"]
    for root in (tmp_path, tmp_path / "feedparser-9.9", tests):
        assert corpus.corpus_files(root) == expected
