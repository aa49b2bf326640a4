"""Background work started from admin pages ("poll now", the first fetch of a new source).

A poll can take as long as the slowest feed server allows, so the request
only submits it to a small per-process thread pool and returns at once; the
page then shows the outcome when it lands in the database (Fetch rows, the
source's poll state). Nothing is kept in memory that another web process
would need: the database is the only shared state.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor

from flask import Flask, current_app

from feedhub.app import Runtime, runtime

EXTENSION = "feedhub_admin_jobs"
log = logging.getLogger(__name__)


def init_jobs(app: Flask) -> None:
    app.extensions[EXTENSION] = ThreadPoolExecutor(
        max_workers=2, thread_name_prefix="feedhub-admin-poll"
    )


def _executor() -> ThreadPoolExecutor:
    pool: ThreadPoolExecutor = current_app.extensions[EXTENSION]
    return pool


def _poll(rt: Runtime, source_id: int) -> None:
    from feedhub.ingest.poller import poll_source_now

    try:
        poll_source_now(rt.db, rt.settings, source_id)
    except Exception:  # the thread has no caller to report to: log it
        log.exception("background poll of source %s failed", source_id)


def poll_in_background(source_id: int) -> Future[None]:
    """Poll one source now, off the request thread."""
    return _executor().submit(_poll, runtime(), source_id)


def poll_many_in_background(source_ids: list[int]) -> list[Future[None]]:
    rt = runtime()
    pool = _executor()
    return [pool.submit(_poll, rt, source_id) for source_id in source_ids]
