"""The fetcher against real HTTP(S) servers on 127.0.0.1 (no database)."""

from __future__ import annotations

import contextlib
import socket
import ssl
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import brotli
import pytest

from feedhub.config import Settings, user_agent
from feedhub.ingest.fetch import Fetcher, HostLimiter, parse_retry_after
from feedhub.ingest.netguard import check_address
from feedhub.ingest.records import FetchRequest, FetchResult

from .feedserver import FeedServer, Response, SeenRequest, rss

DATA = Path(__file__).parent / "data" / "fetch"
FEED = rss([{"title": "Hochwasser am Neckar", "link": "https://example.org/a", "guid": "a1"}])

MakeFetcher = Callable[..., Fetcher]


@pytest.fixture
def fetch_settings(tmp_path: Path) -> Settings:
    return Settings(
        instance_path=tmp_path,
        allow_private_networks=True,
        connect_timeout=1.0,
        total_timeout=3.0,
    )


def quiet_about_aborted_downloads(server: FeedServer) -> FeedServer:
    """Tests that stop reading on purpose (caps, deadlines) make the server see resets."""
    report = server.httpd.handle_error

    def handle_error(request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionResetError | BrokenPipeError):
            report(request, client_address)

    server.httpd.handle_error = handle_error  # type: ignore[method-assign]
    return server


@pytest.fixture(scope="module")
def shared_server() -> Iterator[FeedServer]:
    # one server for the module: stopping a FeedServer waits out its 0.5 s poll interval
    server = quiet_about_aborted_downloads(FeedServer()).start()
    yield server
    server.stop()


@pytest.fixture
def feed_server(shared_server: FeedServer) -> FeedServer:
    """The module's feed server with no routes and no recorded requests."""
    with shared_server.lock:
        shared_server.routes.clear()
        shared_server.requests.clear()
        shared_server.max_active = shared_server.active
    return shared_server


@pytest.fixture
def fresh_server() -> Iterator[FeedServer]:
    """A server of its own, for tests that count concurrent requests or change the socket."""
    server = quiet_about_aborted_downloads(FeedServer()).start()
    yield server
    server.stop()


@pytest.fixture
def make_fetcher(fetch_settings: Settings) -> Iterator[MakeFetcher]:
    """Build Fetchers with settings overrides; all are closed at the end."""
    made: list[Fetcher] = []

    def make(*, address_check: Any = check_address, **overrides: Any) -> Fetcher:
        fetcher = Fetcher(replace(fetch_settings, **overrides), address_check=address_check)
        made.append(fetcher)
        return fetcher

    yield make
    for fetcher in made:
        fetcher.close()


@pytest.fixture
def fetcher(make_fetcher: MakeFetcher) -> Fetcher:
    return make_fetcher()


def get(fetcher: Fetcher, url: str, **kwargs: Any) -> FetchResult:
    return fetcher.fetch(FetchRequest(url, **kwargs))


class RawServer:
    """A TCP server on 127.0.0.1 that hands each connection to ``handle`` (misbehaving HTTP)."""

    def __init__(self, handle: Callable[[socket.socket], None]) -> None:
        self.handle = handle
        self.accepted = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def url(self, path: str = "/feed") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            self.handle(conn)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def raw_server() -> Iterator[Callable[[Callable[[socket.socket], None]], RawServer]]:
    servers: list[RawServer] = []

    def start(handle: Callable[[socket.socket], None]) -> RawServer:
        server = RawServer(handle)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """100 MB of zeros, gzipped (about 100 KB on the wire)."""
    zeros = bytes(1 << 20)
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    return b"".join(comp.compress(zeros) for _ in range(100)) + comp.flush()


@pytest.fixture(scope="module")
def brotli_bomb() -> bytes:
    zeros = bytes(1 << 20)
    comp = brotli.Compressor(quality=5)
    parts: list[bytes] = [comp.process(zeros) for _ in range(100)]
    parts.append(comp.finish())
    return b"".join(parts)


# --- plain success and validators -------------------------------------------------------


def test_200_returns_body_headers_and_sizes(fetcher: Fetcher, feed_server: FeedServer) -> None:
    url = feed_server.add("/feed", body=FEED, headers={"Content-Type": "application/rss+xml"})
    result = get(fetcher, url)
    assert result.ok
    assert (result.status, result.body, result.final_url) == (200, FEED, url)
    assert result.headers["content-type"] == "application/rss+xml"
    assert result.bytes_received == len(FEED)
    assert result.permanent_redirect is None


def test_honest_user_agent_is_sent(
    fetcher: Fetcher, fetch_settings: Settings, feed_server: FeedServer
) -> None:
    url = feed_server.add("/feed", body=FEED)
    get(fetcher, url)
    sent = feed_server.hits("/feed")[0].headers["user-agent"]
    assert sent == user_agent(fetch_settings)
    assert sent.startswith("feedhub/") and "https://" in sent


def test_compressed_encodings_are_offered(fetcher: Fetcher, feed_server: FeedServer) -> None:
    url = feed_server.add("/feed", body=FEED)
    get(fetcher, url)
    offered = {
        e.strip() for e in feed_server.hits("/feed")[0].headers["accept-encoding"].split(",")
    }
    assert offered == {"gzip", "deflate", "br"}


def test_matching_etag_gives_304_without_body(fetcher: Fetcher, feed_server: FeedServer) -> None:
    url = feed_server.add("/feed", body=FEED, headers={"ETag": '"v1"'})
    result = get(fetcher, url, etag='"v1"')
    assert result.not_modified
    assert result.body is None and result.error is None
    assert result.headers["etag"] == '"v1"'
    assert feed_server.hits("/feed")[0].headers["if-none-match"] == '"v1"'


def test_matching_last_modified_gives_304(fetcher: Fetcher, feed_server: FeedServer) -> None:
    stamp = "Tue, 03 Mar 2026 10:00:00 GMT"
    url = feed_server.add("/feed", body=FEED, headers={"Last-Modified": stamp})
    result = get(fetcher, url, last_modified=stamp)
    assert (result.status, result.body) == (304, None)
    assert feed_server.hits("/feed")[0].headers["if-modified-since"] == stamp


def test_unconditional_request_sends_no_validators(
    fetcher: Fetcher, feed_server: FeedServer
) -> None:
    stamp = "Tue, 03 Mar 2026 10:00:00 GMT"
    url = feed_server.add("/feed", body=FEED, headers={"ETag": '"v1"', "Last-Modified": stamp})
    result = get(fetcher, url, etag='"v1"', last_modified=stamp, conditional=False)
    assert (result.status, result.body) == (200, FEED)
    seen = feed_server.hits("/feed")[0].headers
    assert "if-none-match" not in seen and "if-modified-since" not in seen


# --- content encodings ------------------------------------------------------------------


def _raw_deflate(data: bytes) -> bytes:
    comp = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return comp.compress(data) + comp.flush()


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", lambda d: zlib.compress(d, wbits=31)),
        ("deflate", zlib.compress),
        ("deflate", _raw_deflate),
        ("br", brotli.compress),
    ],
    ids=["gzip", "deflate-zlib", "deflate-raw", "br"],
)
def test_compressed_body_is_decoded(
    fetcher: Fetcher,
    feed_server: FeedServer,
    encoding: str,
    encode: Callable[[bytes], bytes],
) -> None:
    wire = encode(FEED * 20)
    url = feed_server.add("/feed", body=wire, headers={"Content-Encoding": encoding})
    result = get(fetcher, url)
    assert result.body == FEED * 20
    assert result.bytes_received == len(wire)


def test_concatenated_gzip_members_are_all_decoded(
    fetcher: Fetcher, feed_server: FeedServer
) -> None:
    wire = zlib.compress(FEED, wbits=31) + zlib.compress(b"<!-- more -->", wbits=31)
    url = feed_server.add("/feed", body=wire, headers={"Content-Encoding": "gzip"})
    assert get(fetcher, url).body == FEED + b"<!-- more -->"


def test_corrupt_gzip_is_a_protocol_error(fetcher: Fetcher, feed_server: FeedServer) -> None:
    url = feed_server.add(
        "/feed", body=b"\x1f\x8bnot gzip at all", headers={"Content-Encoding": "gzip"}
    )
    result = get(fetcher, url)
    assert (result.status, result.error_kind, result.body) == (200, "protocol", None)
    assert result.error is not None and "gzip" in result.error


@pytest.mark.parametrize("bomb_name", ["gzip_bomb", "brotli_bomb"])
def test_decompression_bomb_stops_at_the_cap(
    make_fetcher: MakeFetcher,
    feed_server: FeedServer,
    request: pytest.FixtureRequest,
    bomb_name: str,
) -> None:
    bomb: bytes = request.getfixturevalue(bomb_name)
    encoding = "gzip" if bomb_name == "gzip_bomb" else "br"
    url = feed_server.add("/feed", body=bomb, headers={"Content-Encoding": encoding})
    started = time.monotonic()
    result = get(make_fetcher(max_decompressed_bytes=1024 * 1024), url)
    assert result.error_kind == "too_large"
    assert result.error == "decompressed body larger than 1 MiB"
    assert result.body is None
    assert time.monotonic() - started < 2.0


# --- size caps --------------------------------------------------------------------------


def test_oversize_body_with_content_length_is_refused(
    make_fetcher: MakeFetcher, feed_server: FeedServer
) -> None:
    url = feed_server.add("/feed", body=b"x" * 5000)
    result = get(make_fetcher(max_body_bytes=1000), url)
    assert (result.status, result.error_kind, result.body) == (200, "too_large", None)
    assert result.error == "body larger than 1000 bytes"


def test_default_cap_is_reported_in_mib() -> None:
    from feedhub.ingest.fetch_codecs import human_size

    assert human_size(Settings(instance_path=Path(".")).max_body_bytes) == "15 MiB"


def test_oversize_body_without_content_length_is_refused(
    make_fetcher: MakeFetcher, raw_server: Callable[..., RawServer]
) -> None:
    def endless(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        for _ in range(100):
            conn.sendall(b"y" * 1000)

    server = raw_server(endless)
    result = get(make_fetcher(max_body_bytes=10_000), server.url())
    assert result.error_kind == "too_large"
    assert result.error == "body larger than 9.766 KiB"


# --- redirects --------------------------------------------------------------------------


def redirect(status: int, location: str) -> Response:
    return Response(status=status, headers={"Location": location})


def test_all_permanent_chain_reports_permanent_redirect(
    fetcher: Fetcher, feed_server: FeedServer
) -> None:
    feed_server.add("/old", redirect(301, "/middle"))
    feed_server.add("/middle", redirect(308, "new/feed.xml"))  # relative to /middle
    final = feed_server.add("/new/feed.xml", body=FEED)
    result = get(fetcher, feed_server.url("/old"))
    assert (result.status, result.body) == (200, FEED)
    assert result.final_url == final
    assert result.permanent_redirect == final


def test_temporary_hop_means_no_permanent_redirect(
    fetcher: Fetcher, feed_server: FeedServer
) -> None:
    feed_server.add("/old", redirect(301, "/middle"))
    feed_server.add("/middle", redirect(302, feed_server.url("/feed")))
    final = feed_server.add("/feed", body=FEED)
    result = get(fetcher, feed_server.url("/old"))
    assert (result.status, result.final_url) == (200, final)
    assert result.permanent_redirect is None


@pytest.mark.parametrize("status", [302, 303, 307])
def test_temporary_redirect_is_followed(
    fetcher: Fetcher, feed_server: FeedServer, status: int
) -> None:
    feed_server.add("/old", redirect(status, "/feed"))
    feed_server.add("/feed", body=FEED)
    result = get(fetcher, feed_server.url("/old"))
    assert (result.status, result.body, result.permanent_redirect) == (200, FEED, None)


def test_permanent_redirect_to_an_error_is_not_reported(
    fetcher: Fetcher, feed_server: FeedServer
) -> None:
    feed_server.add("/old", redirect(301, "/gone"))
    result = get(fetcher, feed_server.url("/old"))
    assert (result.status, result.error) == (404, "404 Not Found")
    assert result.permanent_redirect is None


def _chain(server: FeedServer, hops: int) -> str:
    for i in range(hops):
        server.add(f"/hop{i}", redirect(301, f"/hop{i + 1}"))
    server.add(f"/hop{hops}", body=FEED)
    return server.url("/hop0")


def test_five_redirects_are_followed(make_fetcher: MakeFetcher, feed_server: FeedServer) -> None:
    result = get(make_fetcher(max_redirects=5), _chain(feed_server, 5))
    assert (result.status, result.final_url) == (200, feed_server.url("/hop5"))


def test_sixth_redirect_is_refused(make_fetcher: MakeFetcher, feed_server: FeedServer) -> None:
    result = get(make_fetcher(max_redirects=5), _chain(feed_server, 6))
    assert result.error_kind == "redirects"
    assert result.error is not None and result.error.startswith("too many redirects (more than 5)")
    assert feed_server.hits("/hop6") == []


def test_redirect_without_location_is_an_error(fetcher: Fetcher, feed_server: FeedServer) -> None:
    url = feed_server.add("/feed", status=302)
    result = get(fetcher, url)
    assert (result.status, result.error_kind) == (302, "protocol")
    assert result.error == "302 Found without a Location header"


def test_redirect_to_other_scheme_is_refused(fetcher: Fetcher, feed_server: FeedServer) -> None:
    feed_server.add("/old", redirect(302, "file:///etc/passwd"))
    result = get(fetcher, feed_server.url("/old"))
    assert result.error_kind == "scheme"
    assert result.final_url == "file:///etc/passwd"


# --- SSRF guard on the connection -------------------------------------------------------


def only_test_server_is_public(ip: str) -> str | None:
    """Treat 127.0.0.1 (the test server) as public; every other address as usual."""
    return None if ip == "127.0.0.1" else check_address(ip)


def test_loopback_is_refused_when_private_networks_are_not_allowed(
    make_fetcher: MakeFetcher, feed_server: FeedServer
) -> None:
    url = feed_server.add("/feed", body=FEED)
    result = get(make_fetcher(allow_private_networks=False), url)
    assert (result.status, result.error_kind) == (None, "ssrf")
    assert result.error == "refused: 127.0.0.1 is a loopback address"
    assert feed_server.requests == []


def test_name_resolving_to_loopback_is_refused(
    make_fetcher: MakeFetcher, feed_server: FeedServer
) -> None:
    feed_server.add("/feed", body=FEED)
    result = get(
        make_fetcher(allow_private_networks=False), f"http://localhost:{feed_server.port}/feed"
    )
    assert result.error_kind == "ssrf"
    assert result.error is not None and "loopback" in result.error
    assert feed_server.requests == []


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.0.0.2", "refused: 127.0.0.2 is a loopback address"),
        ("10.0.0.1", "refused: 10.0.0.1 is a private address"),
        ("169.254.169.254", "refused: 169.254.169.254 is a link-local address"),
        ("[::ffff:127.0.0.1]", "refused: ::ffff:127.0.0.1 maps to 127.0.0.1, a loopback address"),
        ("[fd00::1]", "refused: fd00::1 is a unique local address"),
    ],
)
def test_redirect_hop_to_private_address_is_refused(
    make_fetcher: MakeFetcher, feed_server: FeedServer, host: str, reason: str
) -> None:
    target = f"http://{host}:{feed_server.port}/feed"
    feed_server.add("/old", redirect(302, target))
    feed_server.add("/feed", body=FEED)
    fetcher = make_fetcher(allow_private_networks=False, address_check=only_test_server_is_public)
    result = get(fetcher, feed_server.url("/old"))
    assert result.error_kind == "ssrf"
    assert result.error == f"{reason} (redirected to {target})"
    assert result.final_url == target
    assert [r.path for r in feed_server.requests] == ["/old"]


def test_allowed_address_is_fetched_with_the_guard_on(
    make_fetcher: MakeFetcher, feed_server: FeedServer
) -> None:
    url = feed_server.add("/feed", body=FEED)
    fetcher = make_fetcher(allow_private_networks=False, address_check=only_test_server_is_public)
    assert get(fetcher, url).body == FEED


# --- HTTP errors and Retry-After --------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "message"),
    [(410, "410 Gone"), (404, "404 Not Found"), (500, "500 Internal Server Error")],
)
def test_error_status_is_reported(
    fetcher: Fetcher, feed_server: FeedServer, status: int, message: str
) -> None:
    url = feed_server.add("/feed", status=status, body=b"<html>nope</html>")
    result = get(fetcher, url)
    assert (result.status, result.error, result.error_kind) == (status, message, "http")
    assert result.body is None and result.retry_after is None


def test_429_retry_after_seconds(fetcher: Fetcher, feed_server: FeedServer) -> None:
    url = feed_server.add("/feed", status=429, headers={"Retry-After": "120"})
    result = get(fetcher, url)
    assert (result.error, result.retry_after) == ("429 Too Many Requests", 120.0)


def test_503_retry_after_http_date(fetcher: Fetcher, feed_server: FeedServer) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    url = feed_server.add("/feed", status=503, headers={"Retry-After": when})
    result = get(fetcher, url)
    assert result.error == "503 Service Unavailable"
    assert result.retry_after is not None and 85 <= result.retry_after <= 90


def test_retry_after_parsing() -> None:
    now = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after("Tue, 03 Mar 2026 10:01:00 GMT", now) == 60.0
    assert parse_retry_after("Tue, 03 Mar 2026 09:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


# --- timeouts ---------------------------------------------------------------------------


def test_server_sleeping_past_the_deadline_times_out(
    make_fetcher: MakeFetcher, feed_server: FeedServer
) -> None:
    url = feed_server.add("/feed", body=FEED, delay=3.0)
    started = time.monotonic()
    result = get(make_fetcher(total_timeout=0.5), url)
    assert (result.error_kind, result.error) == ("timeout", "timed out after 0.5 s")
    assert time.monotonic() - started < 1.5


def test_slow_drip_body_stops_at_the_total_deadline(
    make_fetcher: MakeFetcher, feed_server: FeedServer
) -> None:
    # 4 KB at 16 bytes per 50 ms: every read succeeds, the whole takes 12 s
    url = feed_server.add("/feed", body=b"z" * 4096, drip=0.05)
    started = time.monotonic()
    result = get(make_fetcher(total_timeout=0.6), url)
    assert (result.error_kind, result.error) == ("timeout", "timed out after 0.6 s")
    assert time.monotonic() - started < 1.5


def test_deadline_covers_all_redirect_hops(
    make_fetcher: MakeFetcher, feed_server: FeedServer
) -> None:
    # each hop alone is well inside the deadline; together they are not
    for i in range(3):
        feed_server.add(
            f"/hop{i}", Response(status=302, headers={"Location": f"/hop{i + 1}"}, delay=0.3)
        )
    feed_server.add("/hop3", body=FEED, delay=0.3)
    started = time.monotonic()
    result = get(make_fetcher(total_timeout=0.7), feed_server.url("/hop0"))
    assert result.error_kind == "timeout"
    assert result.error is not None and result.error.startswith("timed out after 0.7 s")
    assert time.monotonic() - started < 1.2


def test_slow_drip_headers_stop_at_the_total_deadline(
    make_fetcher: MakeFetcher, raw_server: Callable[..., RawServer]
) -> None:
    def drip_headers(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        for _ in range(400):
            conn.sendall(b"X-Slow: y\r\n")
            time.sleep(0.02)

    server = raw_server(drip_headers)
    started = time.monotonic()
    result = get(make_fetcher(total_timeout=0.5), server.url())
    assert (result.error_kind, result.error) == ("timeout", "timed out after 0.5 s")
    assert time.monotonic() - started < 1.5


@pytest.fixture
def stalled_listener() -> Iterator[int]:
    """A port whose accept queue is full, so a new connect hangs until it times out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    time.sleep(0.05)
    yield port
    for filler in fillers:
        filler.close()
    listener.close()


def test_connect_timeout(make_fetcher: MakeFetcher, stalled_listener: int) -> None:
    started = time.monotonic()
    result = get(make_fetcher(connect_timeout=0.3), f"http://127.0.0.1:{stalled_listener}/feed")
    assert (result.error_kind, result.error) == ("timeout", "connect timed out after 0.3 s")
    assert time.monotonic() - started < 1.0


def test_connection_refused(fetcher: Fetcher) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = get(fetcher, f"http://127.0.0.1:{port}/feed")
    assert (result.status, result.error_kind, result.error) == (
        None,
        "connect",
        "connection refused",
    )


# --- schemes and malformed URLs ---------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("ftp://example.org/feed.xml", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://example.org/", "scheme"),
        ("http:///feed.xml", "url"),
        ("http://[::1/feed", "url"),
    ],
)
def test_unfetchable_url_is_an_error_not_an_exception(
    fetcher: Fetcher, url: str, kind: str
) -> None:
    result = get(fetcher, url)
    assert (result.status, result.error_kind) == (None, kind)
    assert result.error


# --- politeness and connection reuse ----------------------------------------------------


def test_at_most_max_per_host_requests_run_at_once(
    make_fetcher: MakeFetcher, fresh_server: FeedServer
) -> None:
    url = fresh_server.add("/feed", body=FEED, delay=0.25)
    fetcher = make_fetcher(max_per_host=2)
    results: list[FetchResult] = []
    threads = [threading.Thread(target=lambda: results.append(get(fetcher, url))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status for r in results] == [200] * 6
    assert fresh_server.max_active == 2


def test_host_limiter_blocks_beyond_the_limit() -> None:
    limiter = HostLimiter(2)
    assert limiter.acquire("example.org") and limiter.acquire("example.org")
    assert not limiter.acquire("example.org", timeout=0.05)
    assert limiter.acquire("other.example", timeout=0.05)
    limiter.release("example.org")
    assert limiter.acquire("example.org", timeout=0.05)


@pytest.mark.parametrize(
    ("response", "status"),
    [
        (Response(body=FEED), 200),
        (Response(body=FEED, headers={"ETag": '"v1"'}), 304),
        (Response(status=404, body=b"not here"), 404),
    ],
    ids=["200", "304", "404"],
)
def test_keep_alive_connection_is_reused(
    fetcher: Fetcher, feed_server: FeedServer, response: Response, status: int
) -> None:
    served_by: list[threading.Thread] = []

    def record(seen: SeenRequest) -> Response:
        served_by.append(threading.current_thread())  # one server thread per connection
        return response

    url = feed_server.add("/feed", record)
    statuses = [get(fetcher, url, etag='"v1"').status for _ in range(2)]
    assert statuses == [status, status]
    assert served_by[0] is served_by[1]


def test_connection_closed_by_the_server_while_idle_is_replaced(
    fetcher: Fetcher, raw_server: Callable[..., RawServer]
) -> None:
    def one_response_then_close(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfeed")

    server = raw_server(one_response_then_close)
    first = get(fetcher, server.url())
    time.sleep(0.05)  # let the server's close arrive
    second = get(fetcher, server.url())
    assert (first.body, second.body) == (b"feed", b"feed")
    assert server.accepted == 2


def test_body_cut_short_is_a_protocol_error(
    fetcher: Fetcher, raw_server: Callable[..., RawServer]
) -> None:
    def truncated(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part")

    result = get(fetcher, raw_server(truncated).url())
    assert (result.error_kind, result.error) == (
        "protocol",
        "connection closed before the body was complete",
    )


# --- TLS --------------------------------------------------------------------------------


@pytest.fixture
def tls_server(fresh_server: FeedServer) -> FeedServer:
    """A feed server speaking TLS with a certificate for "localhost" from a test CA."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(DATA / "localhost.pem", DATA / "localhost-key.pem")
    fresh_server.httpd.socket = context.wrap_socket(fresh_server.httpd.socket, server_side=True)
    return fresh_server


@pytest.fixture
def tls_fetcher(fetch_settings: Settings) -> Iterator[Fetcher]:
    context = ssl.create_default_context(cafile=str(DATA / "ca.pem"))
    fetcher = Fetcher(fetch_settings, ssl_context=context)
    yield fetcher
    fetcher.close()


def test_https_verifies_the_url_host_while_connecting_to_its_address(
    tls_fetcher: Fetcher, tls_server: FeedServer
) -> None:
    tls_server.add("/feed", body=FEED)
    result = get(tls_fetcher, f"https://localhost:{tls_server.port}/feed")
    assert (result.status, result.body) == (200, FEED)


def test_https_certificate_for_another_name_is_refused(
    tls_fetcher: Fetcher, tls_server: FeedServer
) -> None:
    tls_server.add("/feed", body=FEED)
    result = get(tls_fetcher, f"https://127.0.0.1:{tls_server.port}/feed")
    assert (result.status, result.error_kind) == (None, "tls")
    assert result.error is not None and "127.0.0.1" in result.error
