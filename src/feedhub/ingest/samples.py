"""Sample sources shipped with feedhub, so a fresh install without internet shows news.

Sample feeds are templates whose dates are relative to the moment the sample
source was added; they are "fetched" from the package instead of the network
(URL scheme ``feedhub-sample:``) and then go through the normal pipeline.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from datetime import datetime, timedelta
from email.utils import format_datetime
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedhub.config import Settings
from feedhub.ingest.records import FetchRequest, FetchResult
from feedhub.ingest.sources import SAMPLE_SCHEME, add_source
from feedhub.models import Source

_PLACEHOLDER = re.compile(r"\{\{\s*minutes_ago\s*:\s*(\d+)\s*\}\}")


def _samples_dir() -> Any:
    return resources.files("feedhub").joinpath("samples")


def sample_manifest() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(
        _samples_dir().joinpath("sources.json").read_text("utf-8")
    )
    return data


def render_sample(name: str, anchor: datetime, fmt: str = "rss") -> bytes:
    """The sample feed with its relative dates made absolute against ``anchor``."""
    if "/" in name or "\\" in name or name.startswith("."):
        raise FileNotFoundError(name)
    text = _samples_dir().joinpath(name).read_text("utf-8")

    def repl(match: re.Match[str]) -> str:
        when = anchor - timedelta(minutes=int(match.group(1)))
        return when.isoformat().replace("+00:00", "Z") if fmt == "atom" else format_datetime(when)

    return _PLACEHOLDER.sub(repl, text).encode("utf-8")


def fetch_sample(req: FetchRequest, anchor: datetime) -> FetchResult:
    """Serve a sample source like an HTTP server would, ETag and 304 included."""
    started = time.monotonic()
    name = req.url.split(":", 1)[1]
    fmt = next((m.get("format", "rss") for m in sample_manifest() if m["file"] == name), "rss")
    try:
        body = render_sample(name, anchor, fmt)
    except (FileNotFoundError, OSError):
        return FetchResult(
            request_url=req.url,
            final_url=req.url,
            status=404,
            error="404 Not Found: no such sample feed",
            error_kind="http",
        )
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"etag": etag, "content-type": "application/xml; charset=utf-8"}
    if req.conditional and req.etag == etag:
        return FetchResult(req.url, req.url, 304, headers, None, elapsed=time.monotonic() - started)
    return FetchResult(
        req.url,
        req.url,
        200,
        headers,
        body,
        elapsed=time.monotonic() - started,
        bytes_received=len(body),
    )


def ensure_sample_sources(session: Session, settings: Settings) -> int:
    """Add the sample sources once (an admin may delete them; they do not come back)."""
    from feedhub.models import Setting

    if session.get(Setting, "samples_loaded") is not None:
        return 0
    added = 0
    for item in sample_manifest():
        url = f"{SAMPLE_SCHEME}:{item['file']}"
        if session.scalar(select(Source.id).where(Source.url == url)) is None:
            add_source(
                session,
                settings,
                url,
                category=item.get("category"),
                title=item.get("title"),
                is_sample=True,
                priority=int(item.get("priority", 0)),
                site_url=item.get("site_url", ""),
            )
            added += 1
    session.add(Setting(key="samples_loaded", value=True))
    return added
