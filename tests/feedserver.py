"""A real HTTP server on 127.0.0.1 for tests: routes map paths to canned or scripted responses."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # honour If-None-Match / If-Modified-Since with a 304
    conditional: bool = True
    gzip: bool = False
    # seconds to sleep before answering, and between body chunks (slow drip)
    delay: float = 0.0
    drip: float = 0.0
    drip_chunk: int = 16


@dataclass
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]
    at: float
    body: bytes = b""


Handler = Callable[["SeenRequest"], Response]


class FeedServer:
    """Serves feeds for the poller tests; ``add`` a path, read ``requests`` afterwards."""

    def __init__(self) -> None:
        self.routes: dict[str, Response | Handler] = {}
        self.requests: list[SeenRequest] = []
        self.lock = threading.Lock()
        self.active = 0
        self.max_active = 0
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_HEAD(self) -> None:
                self._serve(head=True)

            def do_GET(self) -> None:
                self._serve(head=False)

            def do_POST(self) -> None:
                self._serve(head=False)

            def _serve(self, head: bool) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                seen = SeenRequest(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    time.monotonic(),
                    self.rfile.read(length) if length else b"",
                )
                with server.lock:
                    server.requests.append(seen)
                    server.active += 1
                    server.max_active = max(server.max_active, server.active)
                try:
                    route = server.routes.get(self.path) or server.routes.get(
                        self.path.split("?", 1)[0]
                    )
                    if route is None:
                        resp = Response(status=404, body=b"not found")
                    elif callable(route):
                        resp = route(seen)
                    else:
                        resp = route
                    self._send(resp, seen, head)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with server.lock:
                        server.active -= 1

            def _send(self, resp: Response, seen: SeenRequest, head: bool) -> None:
                if resp.delay:
                    time.sleep(resp.delay)
                headers = dict(resp.headers)
                etag = headers.get("ETag")
                lm = headers.get("Last-Modified")
                if (
                    resp.conditional
                    and resp.status == 200
                    and (
                        (etag and seen.headers.get("if-none-match") == etag)
                        or (lm and not etag and seen.headers.get("if-modified-since") == lm)
                    )
                ):
                    self.send_response(304)
                    for k, v in headers.items():
                        if k.lower() in {"etag", "last-modified", "cache-control"}:
                            self.send_header(k, v)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = resp.body
                if resp.gzip:
                    body = gzip.compress(body)
                    headers["Content-Encoding"] = "gzip"
                self.send_response(resp.status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if head:
                    return
                if resp.drip:
                    for i in range(0, len(body), resp.drip_chunk):
                        self.wfile.write(body[i : i + resp.drip_chunk])
                        self.wfile.flush()
                        time.sleep(resp.drip)
                else:
                    self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, route: Response | Handler | None = None, **kwargs: Any) -> str:
        self.routes[path] = route if route is not None else Response(**kwargs)
        return self.url(path)

    def hits(self, path: str) -> list[SeenRequest]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def start(self) -> FeedServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def rss(items: list[dict[str, str]], title: str = "Testquelle", ttl: int | None = None) -> bytes:
    """A small RSS 2.0 document; items take title, link, guid, description, pubDate, category."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0"><channel>',
        f"<title>{title}</title><link>https://example.org/</link><description>t</description>",
    ]
    if ttl is not None:
        parts.append(f"<ttl>{ttl}</ttl>")
    for it in items:
        parts.append("<item>")
        for key in ("title", "link", "guid", "description", "pubDate", "category", "author"):
            if key in it:
                parts.append(f"<{key}>{it[key]}</{key}>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")
