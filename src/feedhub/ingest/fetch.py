"""feedhub's HTTP client: fetch one feed's bytes, politely and defensively.

Built on http.client rather than requests/urllib3 because the SSRF guard must
own the connect step: names are resolved here, every candidate address is
checked by :mod:`feedhub.ingest.netguard`, and the socket is connected to exactly
that address (TLS still verifies the original host name). Every fetch is bounded
by a total deadline that a watchdog enforces even against servers that drip
headers or bodies a byte at a time, by caps on wire and decompressed size, and
by a per-host concurrency limit. ``Fetcher.fetch`` never raises: every failure
becomes a one-line English message on the :class:`FetchResult`.
"""

from __future__ import annotations

import base64
import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from urllib.parse import quote, unquote, urljoin

from feedhub.config import Settings, user_agent
from feedhub.ingest import netguard
from feedhub.ingest.fetch_codecs import DecodeError, decoder_for, human_size
from feedhub.ingest.fetch_transport import (
    WATCHDOG,
    ConnectionPool,
    Connector,
    FetchError,
    GuardedHTTPConnection,
    GuardedHTTPSConnection,
    HostLimiter,
)
from feedhub.ingest.records import FetchRequest, FetchResult

__all__ = ["Fetcher", "HostLimiter", "parse_retry_after", "status_line"]


ACCEPT = (
    "application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, "
    "application/feed+json;q=0.9, application/xml;q=0.8, text/xml;q=0.8, "
    "application/json;q=0.5, */*;q=0.1"
)
ACCEPT_ENCODING = "gzip, deflate, br"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
RETRY_AFTER_STATUSES = frozenset({429, 503})

_READ_CHUNK = 64 * 1024
# error and redirect bodies up to this size are read so the connection can be reused
_DRAIN_LIMIT = 64 * 1024
_PATH_SAFE = "/%?=&;:@!$'()*+,[]~"
# Linux only; resets itself after each ACK, so it is set before every read
_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)


def status_line(status: int, reason: str = "") -> str:
    """'410 Gone': the standard phrase when known, else the server's reason."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = reason.strip()
    return f"{status} {phrase}".rstrip()


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or HTTP-date)."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass
class _Reply:
    status: int
    reason: str
    headers: dict[str, str]
    body: bytes | None
    wire_bytes: int
    # the whole body was read, so the connection can carry the next request
    complete: bool


_STALE_CONNECTION = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


def _describe(exc: BaseException, host: str, total_timeout: float) -> FetchError:
    """Turn a low-level exception into the one-line message an admin reads."""
    if isinstance(exc, FetchError):
        return exc
    if isinstance(exc, netguard.GuardError):
        return FetchError(exc.kind, exc.message)
    if isinstance(exc, TimeoutError):
        return FetchError("timeout", f"timed out after {total_timeout:g} s")
    if isinstance(exc, ssl.SSLCertVerificationError):
        detail = exc.verify_message or exc.reason or str(exc)
        return FetchError("tls", f"TLS certificate of {host} not accepted: {detail}")
    if isinstance(exc, ssl.SSLError):
        return FetchError("tls", f"TLS error: {exc.reason or exc}")
    if isinstance(exc, ConnectionRefusedError):
        return FetchError("connect", "connection refused")
    if isinstance(exc, http.client.RemoteDisconnected):
        return FetchError("protocol", "server closed the connection without a response")
    if isinstance(exc, http.client.IncompleteRead):
        return FetchError("protocol", "connection closed before the body was complete")
    if isinstance(exc, ConnectionResetError):
        return FetchError("protocol", "connection reset by the server")
    if isinstance(exc, http.client.HTTPException):
        return FetchError("protocol", f"invalid HTTP response ({type(exc).__name__})")
    if isinstance(exc, OSError):
        return FetchError("connect", f"network error: {exc.strerror or exc}")
    return FetchError("protocol", f"unexpected error: {type(exc).__name__}: {exc}")


def _header_map(resp: http.client.HTTPResponse) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in resp.getheaders():
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


class Fetcher:
    """Fetches feed bytes; share one instance between the poller's threads.

    ``address_check`` decides which addresses are forbidden when private networks
    are not allowed (tests substitute one that treats the loopback test server as
    public); ``ssl_context`` defaults to the system's trust store.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        limiter: HostLimiter | None = None,
        ssl_context: ssl.SSLContext | None = None,
        address_check: netguard.AddressCheck = netguard.check_address,
    ) -> None:
        self.settings = settings
        self.limiter = limiter or HostLimiter(settings.max_per_host)
        context = ssl_context or ssl.create_default_context()
        context.set_alpn_protocols(["http/1.1"])
        self._connector = Connector(
            allow_private=settings.allow_private_networks,
            check=address_check,
            connect_timeout=settings.connect_timeout,
            total_timeout=settings.total_timeout,
            ssl_context=context,
        )
        self._pool = ConnectionPool(per_key=max(2, settings.max_per_host))
        self._base_headers = {
            "User-Agent": user_agent(settings),
            "Accept": ACCEPT,
            "Accept-Encoding": ACCEPT_ENCODING,
        }

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close idle keep-alive connections."""
        self._pool.close_all()

    def fetch(self, req: FetchRequest) -> FetchResult:
        """Fetch ``req.url`` following redirects; never raises."""
        started = time.monotonic()
        try:
            return self._fetch(req, started)
        except Exception as exc:  # the contract: a fetch never raises
            fail = _describe(exc, "", self.settings.total_timeout)
            return FetchResult(
                request_url=req.url,
                final_url=req.url,
                status=None,
                error=fail.message,
                error_kind=fail.kind,
                elapsed=time.monotonic() - started,
            )

    def _request_headers(self, req: FetchRequest, target: netguard.Target) -> dict[str, str]:
        headers = dict(self._base_headers)
        if req.conditional:
            if req.etag:
                headers["If-None-Match"] = req.etag
            if req.last_modified:
                headers["If-Modified-Since"] = req.last_modified
        if target.userinfo:
            credentials = unquote(target.userinfo).encode("utf-8")
            headers["Authorization"] = "Basic " + base64.b64encode(credentials).decode("ascii")
        return headers

    def _fetch(self, req: FetchRequest, started: float) -> FetchResult:
        settings = self.settings
        url = req.url
        hops = 0
        all_permanent = True
        deadline: float | None = None

        def failed(fail: FetchError, status: int | None = None) -> FetchResult:
            message = fail.message if hops == 0 else f"{fail.message} (redirected to {url})"
            return FetchResult(
                request_url=req.url,
                final_url=url,
                status=fail.status if fail.status is not None else status,
                error=message,
                error_kind=fail.kind,
                elapsed=time.monotonic() - started,
            )

        while True:
            try:
                target = netguard.split_url(url)
            except netguard.GuardError as exc:
                return failed(FetchError(exc.kind, exc.message))
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self.limiter.acquire(target.host, wait):
                return failed(
                    FetchError("timeout", f"timed out after {settings.total_timeout:g} s")
                )
            try:
                if deadline is None:
                    deadline = time.monotonic() + settings.total_timeout
                reply = self._exchange(target, self._request_headers(req, target), deadline)
            except FetchError as fail:
                return failed(fail)
            finally:
                self.limiter.release(target.host)

            if reply.status not in REDIRECT_STATUSES or "location" not in reply.headers:
                break
            if hops >= settings.max_redirects:
                return failed(
                    FetchError(
                        "redirects", f"too many redirects (more than {settings.max_redirects})"
                    ),
                    reply.status,
                )
            hops += 1
            all_permanent = all_permanent and reply.status in PERMANENT_REDIRECTS
            url = urljoin(url, reply.headers["location"].strip())

        return self._result(req, url, reply, hops > 0 and all_permanent, started)

    def _result(
        self, req: FetchRequest, url: str, reply: _Reply, moved_permanently: bool, started: float
    ) -> FetchResult:
        """The FetchResult of the last hop's reply (2xx, 304, or an HTTP error)."""
        status = reply.status
        usable = 200 <= status < 300 or status == 304
        error: str | None = None
        kind: str | None = None
        if status in REDIRECT_STATUSES:
            error = f"{status_line(status, reply.reason)} without a Location header"
            kind = "protocol"
        elif not usable:
            error, kind = status_line(status, reply.reason), "http"
        retry_after = None
        if status in RETRY_AFTER_STATUSES:
            retry_after = parse_retry_after(reply.headers.get("retry-after"))
        return FetchResult(
            request_url=req.url,
            final_url=url,
            status=status,
            headers=reply.headers,
            body=reply.body if usable and status != 304 else None,
            error=error,
            error_kind=kind,
            # only a move that ends somewhere usable is worth following on the next poll
            permanent_redirect=url if moved_permanently and usable else None,
            retry_after=retry_after,
            elapsed=time.monotonic() - started,
            bytes_received=reply.wire_bytes,
        )

    def _exchange(
        self, target: netguard.Target, headers: dict[str, str], deadline: float
    ) -> _Reply:
        """One request/response on a pooled or new connection; raises FetchError."""
        key = (target.scheme, target.host, target.port)
        path = quote(target.path, safe=_PATH_SAFE)
        for attempt in (0, 1):
            conn = self._pool.checkout(key) if attempt == 0 else None
            reused = conn is not None
            if conn is None:
                cls = GuardedHTTPSConnection if target.scheme == "https" else GuardedHTTPConnection
                conn = cls(target.host, target.port, self._connector)
            conn.deadline = deadline
            try:
                if conn.sock is None:
                    conn.connect()
                else:
                    conn.alarm = WATCHDOG.arm(deadline, conn.sock)
                sock = conn.sock
                assert sock is not None
                self._set_timeout(sock, deadline)
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
            except _STALE_CONNECTION as exc:
                self._discard(conn)
                if reused and not self._fired(conn):
                    continue  # the server closed an idle connection: retry on a fresh one
                raise self._failure(conn, exc, target) from None
            except Exception as exc:
                self._discard(conn)
                raise self._failure(conn, exc, target) from None
            try:
                reply = self._read(resp, sock, deadline)
            except Exception as exc:
                self._discard(conn)
                raise self._failure(conn, exc, target) from None
            fired = conn.alarm is not None and WATCHDOG.disarm(conn.alarm)
            if fired or not reply.complete or resp.will_close or conn.sock is None:
                conn.close()
            else:
                self._pool.checkin(key, conn)
            return reply
        raise AssertionError("unreachable: the second attempt never continues")

    def _fired(self, conn: GuardedHTTPConnection) -> bool:
        return conn.alarm is not None and conn.alarm.fired

    def _discard(self, conn: GuardedHTTPConnection) -> None:
        if conn.alarm is not None:
            WATCHDOG.disarm(conn.alarm)
        conn.close()

    def _failure(
        self, conn: GuardedHTTPConnection, exc: BaseException, target: netguard.Target
    ) -> FetchError:
        total = self.settings.total_timeout
        if self._fired(conn) and not isinstance(exc, FetchError | netguard.GuardError):
            # whatever broke, it broke because the watchdog closed the socket
            return FetchError("timeout", f"timed out after {total:g} s")
        return _describe(exc, target.host, total)

    def _set_timeout(self, sock: socket.socket, deadline: float) -> None:
        """Bound the next read by the deadline, and ask for an immediate ACK of it.

        Without the quick ACK, a server that writes headers and body in two sends
        with Nagle on (Python's http.server does) waits for our delayed ACK: 40 ms
        per request on a reused connection instead of well under one.
        """
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        sock.settimeout(remaining)
        if _QUICKACK is not None:
            sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)

    def _read(self, resp: http.client.HTTPResponse, sock: socket.socket, deadline: float) -> _Reply:
        status = resp.status
        headers = _header_map(resp)
        if not 200 <= status < 300:
            wire, complete = self._drain(resp, sock, deadline)
            return _Reply(status, resp.reason, headers, None, wire, complete)
        max_body = self.settings.max_body_bytes
        too_large = FetchError("too_large", f"body larger than {human_size(max_body)}", status)
        if resp.length is not None and resp.length > max_body:
            raise too_large
        chunks: list[bytes] = []
        wire = 0
        try:
            decoder = decoder_for(
                headers.get("content-encoding"), self.settings.max_decompressed_bytes
            )
            while data := self._read1(resp, sock, deadline):
                wire += len(data)
                if wire > max_body:
                    raise too_large
                chunks.append(decoder.feed(data))
            chunks.append(decoder.finish())
        except DecodeError as exc:
            raise FetchError(exc.kind, exc.message, status) from None
        return _Reply(status, resp.reason, headers, b"".join(chunks), wire, True)

    def _drain(
        self, resp: http.client.HTTPResponse, sock: socket.socket, deadline: float
    ) -> tuple[int, bool]:
        """Read a small unwanted body so the connection stays reusable; stop at _DRAIN_LIMIT."""
        if resp.length is not None and resp.length > _DRAIN_LIMIT:
            return 0, False
        wire = 0
        while data := self._read1(resp, sock, deadline):
            wire += len(data)
            if wire > _DRAIN_LIMIT:
                return wire, False
        return wire, True

    def _read1(self, resp: http.client.HTTPResponse, sock: socket.socket, deadline: float) -> bytes:
        """The next piece of the body, b"" at its end; each read waits at most until the deadline.

        HTTPResponse.read1 neither closes a length-delimited response at its end nor
        notices a connection closed before Content-Length bytes arrived; both are done here.
        """
        self._set_timeout(sock, deadline)
        data = resp.read1(_READ_CHUNK)
        if data:
            return data
        if not resp.chunked and resp.length:
            raise http.client.IncompleteRead(b"", resp.length)
        resp.close()
        return b""
