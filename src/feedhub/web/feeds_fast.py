"""A WSGI fast path in front of Flask for output feeds that were checked a moment ago.

Feed apps poll in storms. Once a process has rendered a feed and checked it
against the database, requests for the same feed within
``OUTPUT_REVALIDATE_SECONDS`` (default 1 s) are answered here: a dict lookup,
the precompressed bytes or a 304, and the same headers the full Flask stack
produced for that feed (captured from its last response, cookies excluded).
Everything else — first requests, expired checks, wrong tokens, unknown feeds,
other paths — goes to Flask unchanged. The cost of this shortcut is that a
change reaches a process's cached copy up to that many seconds late, which is
far below the ``max-age`` feed apps are told anyway; 0 turns it off.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from flask import Flask
from werkzeug.http import parse_date
from werkzeug.wsgi import get_current_url

from feedhub.publish.cache import reply
from feedhub.web.feeds import max_age, outputs_state, revalidate_seconds, token_allows

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

FEED_PATH = re.compile(r"^/feeds/((?:category/)?[^/]+)\.(atom|rss|json)$")
# headers that belong to one response, not to the feed: never replayed
_NOT_REPLAYED = frozenset(
    {
        "content-length",
        "content-type",
        "content-encoding",
        "etag",
        "last-modified",
        "cache-control",
        "vary",
        "access-control-allow-origin",
        "x-robots-tag",
        "set-cookie",
        "date",
        "server",
    }
)
_STATUS = {200: "200 OK", 304: "304 Not Modified"}


class FeedFastPath:
    def __init__(self, wsgi_app: WSGIApp, app: Flask) -> None:
        self.wsgi_app = wsgi_app
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        match = FEED_PATH.match(environ.get("PATH_INFO", ""))
        if match is None or method not in {"GET", "HEAD"}:
            return self.wsgi_app(environ, start_response)
        key = (match.group(1), match.group(2), self._root(environ))
        answered = self._answer(key, environ, start_response)
        if answered is not None:
            return answered
        return self._through_flask(key, environ, start_response)

    def _root(self, environ: dict[str, Any]) -> str:
        configured = self.app.config.get("PUBLIC_URL")
        root = str(configured) if configured else get_current_url(environ, root_only=True)
        return root if root.endswith("/") else root + "/"

    def _answer(
        self, key: tuple[str, str, str], environ: dict[str, Any], start_response: StartResponse
    ) -> list[bytes] | None:
        ttl = revalidate_seconds(self.app)
        fresh = outputs_state(self.app).fresh.get(key)
        if ttl <= 0 or fresh is None or fresh.replay is None:
            return None
        if time.monotonic() - fresh.checked_at >= ttl:
            return None
        if not fresh.public:
            given = parse_qs(environ.get("QUERY_STRING", "")).get("token", [""])[0]
            if not token_allows(fresh.public, fresh.token, given):
                return None  # Flask answers 404
        status, headers, body = reply(
            fresh.entry.rendered,
            public=fresh.public,
            max_age=max_age(self.app),
            accept_encoding=environ.get("HTTP_ACCEPT_ENCODING"),
            if_none_match=environ.get("HTTP_IF_NONE_MATCH"),
            if_modified_since=parse_date(environ.get("HTTP_IF_MODIFIED_SINCE")),
        )
        headers = [*headers, *fresh.replay]
        if status == 200:
            headers.append(("Content-Length", str(len(body))))
        start_response(_STATUS[status], headers)
        return [b""] if environ.get("REQUEST_METHOD") == "HEAD" else [body]

    def _through_flask(
        self, key: tuple[str, str, str], environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        """Let Flask answer, and keep the headers it added on top of ours for replay."""

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            fresh = outputs_state(self.app).fresh.get(key)
            if fresh is not None and status.startswith(("200", "304")):
                fresh.replay = tuple(
                    (name, value) for name, value in headers if name.lower() not in _NOT_REPLAYED
                )
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, capture)
