"""Connections for the fetcher: SSRF-guarded connect, deadline watchdog, keep-alive pool.

The guard must own the connect step: names are resolved here, every candidate
address is checked by :mod:`feedhub.ingest.netguard`, and the socket is
connected to exactly that address, so no second DNS answer can slip in between
check and use. TLS still verifies the certificate for the URL's host name.
"""

from __future__ import annotations

import heapq
import http.client
import itertools
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from feedhub.ingest import netguard

# idle keep-alive connections older than this are closed rather than reused
IDLE_SECONDS = 15.0
MAX_IDLE_TOTAL = 128


class FetchError(Exception):
    """A fetch failure already phrased for the admin; ``kind`` is FetchResult.error_kind."""

    def __init__(self, kind: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status


class HostLimiter:
    """At most ``per_host`` concurrent requests per host name, across threads."""

    def __init__(self, per_host: int) -> None:
        self.per_host = max(1, per_host)
        self._cond = threading.Condition()
        self._active: dict[str, int] = {}

    def acquire(self, host: str, timeout: float | None = None) -> bool:
        """Take a slot for ``host``; False when none came free within ``timeout``."""
        with self._cond:
            ok = self._cond.wait_for(
                lambda: self._active.get(host, 0) < self.per_host, timeout=timeout
            )
            if ok:
                self._active[host] = self._active.get(host, 0) + 1
            return ok

    def release(self, host: str) -> None:
        with self._cond:
            left = self._active.get(host, 0) - 1
            if left > 0:
                self._active[host] = left
            else:
                self._active.pop(host, None)
            self._cond.notify_all()

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        self.acquire(host)
        try:
            yield
        finally:
            self.release(host)

    def active(self, host: str) -> int:
        with self._cond:
            return self._active.get(host, 0)


class _Alarm:
    __slots__ = ("deadline", "done", "fired", "sock")

    def __init__(self, deadline: float, sock: socket.socket) -> None:
        self.deadline = deadline
        self.sock = sock
        self.fired = False
        self.done = False


class Watchdog:
    """Shuts down sockets whose request outlived its deadline.

    Socket timeouts bound each single read, not their sum: a server that sends
    one header byte per second would otherwise hold a worker for ever. One
    daemon thread serves every Fetcher in the process.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Alarm]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, deadline: float, sock: socket.socket) -> _Alarm:
        alarm = _Alarm(deadline, sock)
        with self._cond:
            heapq.heappush(self._heap, (deadline, next(self._seq), alarm))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="feedhub-fetch-watchdog", daemon=True
                )
                self._thread.start()
            if self._heap[0][2] is alarm:
                self._cond.notify()
        return alarm

    def disarm(self, alarm: _Alarm) -> bool:
        """Stop watching; True when the alarm had already fired."""
        with self._cond:
            alarm.done = True
            return alarm.fired

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                alarm = heapq.heappop(self._heap)[2]
                alarm.fired = alarm.done = True
                # the base-class method: SSLSocket.shutdown would drop its TLS state
                # under the feet of the thread that is reading
                with suppress(OSError):
                    socket.socket.shutdown(alarm.sock, socket.SHUT_RDWR)


WATCHDOG = Watchdog()


class Connector:
    """Opens guarded sockets: resolve, check each address, connect to the checked one."""

    def __init__(
        self,
        *,
        allow_private: bool,
        check: netguard.AddressCheck,
        connect_timeout: float,
        total_timeout: float,
        ssl_context: ssl.SSLContext,
    ) -> None:
        self.allow_private = allow_private
        self.check = check
        self.connect_timeout = connect_timeout
        self.total_timeout = total_timeout
        self.ssl_context = ssl_context

    def open(self, host: str, port: int, deadline: float) -> socket.socket:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchError("timeout", f"timed out after {self.total_timeout:g} s")
        candidates = netguard.allowed_candidates(
            host,
            port,
            allow_private=self.allow_private,
            timeout=min(self.connect_timeout, remaining),
            check=self.check,
        )
        error: BaseException | None = None
        for family, sockaddr in candidates:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            limit = min(self.connect_timeout, remaining)
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(limit)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.connect(sockaddr)
                return sock
            except TimeoutError:
                sock.close()
                if limit < self.connect_timeout:
                    error = FetchError("timeout", f"timed out after {self.total_timeout:g} s")
                else:
                    error = FetchError("timeout", f"connect timed out after {limit:g} s")
            except OSError as exc:
                sock.close()
                error = exc
        if error is None:
            error = FetchError("timeout", f"timed out after {self.total_timeout:g} s")
        raise error


class GuardedHTTPConnection(http.client.HTTPConnection):
    """An HTTPConnection whose connect() goes through the SSRF guard and the watchdog."""

    def __init__(self, host: str, port: int, connector: Connector) -> None:
        super().__init__(host, port)
        self.connector = connector
        self.deadline = 0.0
        self.alarm: _Alarm | None = None

    def connect(self) -> None:
        sock = self.connector.open(self.host, self.port, self.deadline)
        self.sock = sock
        self.alarm = WATCHDOG.arm(self.deadline, sock)


class GuardedHTTPSConnection(GuardedHTTPConnection):
    """TLS to the checked address, with SNI and certificate check for the URL's host."""

    default_port = http.client.HTTPS_PORT

    def connect(self) -> None:
        raw = self.connector.open(self.host, self.port, self.deadline)
        try:
            tls = self.connector.ssl_context.wrap_socket(
                raw, server_hostname=self.host, do_handshake_on_connect=False
            )
        except Exception:
            raw.close()
            raise
        self.sock = tls
        self.alarm = WATCHDOG.arm(self.deadline, tls)
        tls.do_handshake()


PoolKey = tuple[str, str, int]


class ConnectionPool:
    """Idle keep-alive connections per (scheme, host, port)."""

    def __init__(self, per_key: int) -> None:
        self.per_key = per_key
        self._lock = threading.Lock()
        self._idle: dict[PoolKey, list[tuple[float, GuardedHTTPConnection]]] = {}
        self._count = 0

    def checkout(self, key: PoolKey) -> GuardedHTTPConnection | None:
        now = time.monotonic()
        stale: list[GuardedHTTPConnection] = []
        found: GuardedHTTPConnection | None = None
        with self._lock:
            idle = self._idle.get(key)
            while idle:
                since, conn = idle.pop()
                self._count -= 1
                if now - since < IDLE_SECONDS:
                    found = conn
                    break
                stale.append(conn)
            if idle is not None and not idle:
                del self._idle[key]
        for conn in stale:
            conn.close()
        return found

    def checkin(self, key: PoolKey, conn: GuardedHTTPConnection) -> None:
        now = time.monotonic()
        stale: list[GuardedHTTPConnection] = []
        with self._lock:
            if self._count >= MAX_IDLE_TOTAL:
                stale = self._sweep(now)
            idle = self._idle.setdefault(key, [])
            pooled = self._count < MAX_IDLE_TOTAL and len(idle) < self.per_key
            if pooled:
                idle.append((now, conn))
                self._count += 1
            elif not idle:
                del self._idle[key]
        if not pooled:
            stale.append(conn)
        for old in stale:
            old.close()

    def _sweep(self, now: float) -> list[GuardedHTTPConnection]:
        stale: list[GuardedHTTPConnection] = []
        for key in list(self._idle):
            keep = [(t, c) for t, c in self._idle[key] if now - t < IDLE_SECONDS]
            stale.extend(c for t, c in self._idle[key] if now - t >= IDLE_SECONDS)
            if keep:
                self._idle[key] = keep
            else:
                del self._idle[key]
        self._count -= len(stale)
        return stale

    def close_all(self) -> None:
        with self._lock:
            conns = [c for idle in self._idle.values() for _, c in idle]
            self._idle.clear()
            self._count = 0
        for conn in conns:
            conn.close()
