"""feedparser's own corpus served over HTTP and polled end to end.

Every one of its ~2,200 odd and broken feeds becomes a source on a real
server on 127.0.0.1; one poll must complete with every source either stored
or marked failing with a reason, and nothing left leased.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import func, select

from feedhub.config import Settings
from feedhub.db import Database
from feedhub.ingest.poller import poll_once
from feedhub.ingest.sources import add_source
from feedhub.models import Entry, Fetch, Source

from .feedserver import FeedServer, Response


@pytest.mark.slow
def test_corpus_polls_to_completion(
    corpus: ModuleType,
    corpus_root: Path,
    db: Database,
    settings: Settings,
    feed_server: FeedServer,
) -> None:
    files = corpus.corpus_files(corpus_root)
    assert len(files) > 2000
    with db.session() as s:
        for i, path in enumerate(files):
            body = path.read_bytes()
            headers = {k.title(): v for k, v in corpus.corpus_headers(body).items()}
            headers.pop("Content-Length", None)
            headers.setdefault("Content-Type", "application/xml")
            url = feed_server.add(f"/c/{i}", Response(body=body, headers=headers))
            add_source(s, settings, url)
    summary = poll_once(db, settings, workers=16)
    assert summary.sources == len(files)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Fetch)) == len(files)
        assert (
            s.scalar(
                select(func.count()).select_from(Source).where(Source.lease_owner.is_not(None))
            )
            == 0
        )
        internal = s.scalars(select(Fetch.error).where(Fetch.error.like("internal error%"))).all()
        assert internal == []
        failing = s.scalars(select(Source).where(Source.error_count > 0)).all()
        assert all(src.last_error for src in failing)
        assert s.scalar(select(func.count()).select_from(Entry)) > 1000
