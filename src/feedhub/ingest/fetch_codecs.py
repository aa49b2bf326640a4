"""Content-Encoding decoders (gzip, deflate, br) that stop at a cap on the decoded size.

A few kilobytes of gzip or brotli can expand to gigabytes (a decompression
bomb), so every stage decodes incrementally with an output limit instead of
inflating first and measuring afterwards.
"""

from __future__ import annotations

import zlib
from typing import Protocol

import brotli


class DecodeError(Exception):
    """A body that cannot be decoded; ``kind`` is "too_large" or "protocol"."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def human_size(n: int) -> str:
    """15728640 -> '15 MiB'; used in "body larger than …" messages."""
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.4g} MiB"
    if n >= 1024:
        return f"{n / 1024:.4g} KiB"
    return f"{n} bytes"


class Decoder(Protocol):
    def feed(self, data: bytes) -> bytes: ...
    def finish(self) -> bytes: ...


class _Budget:
    """Counts one decoding stage's output against the cap on decoded size."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.used = 0

    def left(self) -> int:
        """How much one call may produce: one byte over the cap proves the overflow."""
        return self.cap - self.used + 1

    def take(self, data: bytes) -> bytes:
        self.used += len(data)
        if self.used > self.cap:
            raise DecodeError("too_large", f"decompressed body larger than {human_size(self.cap)}")
        return data


class _ZlibDecoder:
    """gzip (including concatenated members) or deflate, zlib-wrapped or raw."""

    def __init__(self, encoding: str, budget: _Budget) -> None:
        self.encoding = encoding
        self.budget = budget
        self._d: zlib._Decompress | None = None

    def _start(self, first: bytes) -> zlib._Decompress:
        if self.encoding == "deflate":
            # RFC 9110 deflate is zlib-wrapped, but many servers send raw deflate
            zlib_header = (
                len(first) >= 2 and first[0] & 0x0F == 8 and ((first[0] << 8) | first[1]) % 31 == 0
            )
            return zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)
        return zlib.decompressobj(zlib.MAX_WBITS | 32)

    def feed(self, data: bytes) -> bytes:
        out: list[bytes] = []
        try:
            while data:
                if self._d is None:
                    self._d = self._start(data)
                out.append(self.budget.take(self._d.decompress(data, self.budget.left())))
                if self._d.eof:
                    data = self._d.unused_data
                    if self.encoding == "deflate" or not data.startswith(b"\x1f\x8b"):
                        break  # trailing garbage after the stream is ignored
                    self._d = None
                else:
                    data = self._d.unconsumed_tail
        except zlib.error as exc:
            raise DecodeError(
                "protocol", f"could not decompress {self.encoding} body: {exc}"
            ) from None
        return b"".join(out)

    def finish(self) -> bytes:
        if self._d is None:
            return b""
        try:
            return self.budget.take(self._d.flush(self.budget.left()))
        except zlib.error as exc:
            raise DecodeError(
                "protocol", f"could not decompress {self.encoding} body: {exc}"
            ) from None


class _BrotliDecoder:
    def __init__(self, budget: _Budget) -> None:
        self.budget = budget
        self._d = brotli.Decompressor()

    def feed(self, data: bytes) -> bytes:
        out: list[bytes] = []
        try:
            out.append(
                self.budget.take(self._d.process(data, output_buffer_limit=self.budget.left()))
            )
            while not self._d.can_accept_more_data():
                out.append(
                    self.budget.take(self._d.process(b"", output_buffer_limit=self.budget.left()))
                )
        except brotli.error as exc:
            raise DecodeError("protocol", f"could not decompress br body: {exc}") from None
        return b"".join(out)

    def finish(self) -> bytes:
        return b""


class _Identity:
    def __init__(self, budget: _Budget) -> None:
        self.budget = budget

    def feed(self, data: bytes) -> bytes:
        return self.budget.take(data)

    def finish(self) -> bytes:
        return b""


class _Chain:
    """Content-Encoding lists codings in the order applied; decode in reverse."""

    def __init__(self, decoders: list[Decoder]) -> None:
        self.decoders = decoders

    def feed(self, data: bytes) -> bytes:
        for decoder in self.decoders:
            data = decoder.feed(data)
        return data

    def finish(self) -> bytes:
        tail = b""
        for decoder in self.decoders:
            # what an outer stage still held goes through the inner stage before it finishes
            tail = decoder.feed(tail) + decoder.finish()
        return tail


def decoder_for(content_encoding: str | None, cap: int) -> Decoder:
    """The decoder for a Content-Encoding header; every stage's output is capped at ``cap``."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return _Identity(_Budget(cap))
    decoders: list[Decoder] = []
    for coding in reversed(codings):
        if coding in {"gzip", "x-gzip"}:
            decoders.append(_ZlibDecoder("gzip", _Budget(cap)))
        elif coding == "deflate":
            decoders.append(_ZlibDecoder("deflate", _Budget(cap)))
        elif coding == "br":
            decoders.append(_BrotliDecoder(_Budget(cap)))
        else:
            raise DecodeError("protocol", f"unsupported Content-Encoding {coding}")
    return decoders[0] if len(decoders) == 1 else _Chain(decoders)
