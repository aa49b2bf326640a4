"""Fetch errors in plain words, in the admin's language.

The fetcher and the poller record one English line per failure ("timed out
after 20 s", "410 Gone", "could not resolve example.org"). Stored text stays
English (it is also what the logs say); this module recognises the known
shapes and says them as a sentence an admin understands, through gettext, so
a German admin reads "Zeitüberschreitung nach 20 s". Unknown text is shown
as recorded rather than hidden.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _

Describe = Callable[[re.Match[str]], str]


@dataclass(frozen=True)
class Health:
    """The state a source is in, for the status column."""

    key: str  # ok, failing, disabled, new
    label: str


def _http(status: int) -> str | None:
    known = {
        400: _("400 Bad Request: the server rejects the request"),
        401: _("401 Unauthorized: the feed needs a login"),
        403: _("403 Forbidden: the server refuses access"),
        404: _("404 Not Found: the feed address does not exist (any more)"),
        410: _("410 Gone: the publisher removed the feed; source disabled"),
        429: _("429 Too Many Requests: the server asks us to poll less often"),
        500: _("500 Internal Server Error: the feed server has a problem"),
        502: _("502 Bad Gateway: the feed server is unreachable behind its proxy"),
        503: _("503 Service Unavailable: the feed server is down or overloaded"),
        504: _("504 Gateway Timeout: the feed server answered too slowly"),
    }
    if status in known:
        return str(known[status])
    if 500 <= status < 600:
        return str(_("%(status)d: the feed server has a problem", status=status))
    if 400 <= status < 500:
        return str(_("%(status)d: the server refuses the request", status=status))
    return None


PATTERNS: tuple[tuple[re.Pattern[str], Describe], ...] = (
    (
        re.compile(r"^connect timed out after (?P<s>[\d.]+) s"),
        lambda m: _("No connection within %(s)s s", s=m["s"]),
    ),
    (
        re.compile(r"^DNS lookup of (?P<host>\S+) timed out"),
        lambda m: _("Looking up the host name %(host)s timed out", host=m["host"]),
    ),
    (
        re.compile(r"timed out after (?P<s>[\d.]+) s"),
        lambda m: _("Timed out after %(s)s s", s=m["s"]),
    ),
    (
        re.compile(r"^could not resolve (?P<host>\S+)"),
        lambda m: _("The host name %(host)s does not exist", host=m["host"]),
    ),
    (
        re.compile(r"^(?P<host>\S+) has no addresses"),
        lambda m: _("The host name %(host)s has no address", host=m["host"]),
    ),
    (re.compile(r"^connection refused"), lambda m: _("The server refused the connection")),
    (
        re.compile(r"^connection reset|^server closed the connection|^connection closed before"),
        lambda m: _("The server broke off the connection"),
    ),
    (
        re.compile(r"^TLS certificate of (?P<host>\S+) not accepted"),
        lambda m: _("The certificate of %(host)s is not valid", host=m["host"]),
    ),
    (re.compile(r"^TLS error"), lambda m: _("The secure connection failed")),
    (
        re.compile(r"^(?:decompressed )?body larger than (?P<size>.+?)(?: \(|$)"),
        lambda m: _("The feed is larger than the limit of %(size)s", size=m["size"]),
    ),
    (
        re.compile(r"^too many redirects \(more than (?P<n>\d+)\)"),
        lambda m: _("Too many redirects (more than %(n)s)", n=m["n"]),
    ),
    (
        re.compile(r"^refused: (?P<why>.+?)(?: \(|$)"),
        lambda m: _("Refused: the address is %(why)s", why=m["why"]),
    ),
    (re.compile(r"^not a feed"), lambda m: _("The address returns a web page, not a feed")),
    (
        re.compile(r"^network error: (?P<why>.+)"),
        lambda m: _("Network error: %(why)s", why=m["why"]),
    ),
    (
        re.compile(r"^(?P<status>[1-5]\d\d)\b"),
        lambda m: _http(int(m["status"])) or m.string,
    ),
)


def describe_error(error: str | None, status: int | None = None) -> str:
    """The recorded error as a plain sentence; empty when there is no error."""
    text = (error or "").strip()
    if not text:
        if status is not None and status >= 400:
            return _http(status) or str(status)
        return ""
    for pattern, describe in PATTERNS:
        match = pattern.search(text)
        if match:
            return describe(match)
    return text


def source_health(enabled: bool, error_count: int, last_polled: bool) -> Health:
    if not enabled:
        return Health("disabled", _("Disabled"))
    if error_count > 0:
        return Health("failing", _("Failing"))
    if not last_polled:
        return Health("new", _("Not polled yet"))
    return Health("ok", _("OK"))
