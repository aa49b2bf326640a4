"""Login rate limiting kept in the database, so every gunicorn process and host agrees.

Failed attempts are counted per (client address, username) inside a sliding window,
with a looser ceiling per address so one client cannot spray many usernames.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from feedhub.models import LoginAttempt

WINDOW = timedelta(minutes=15)
MAX_PER_USERNAME = 5
MAX_PER_ADDRESS = 30


def _key(ip: str, username: str) -> tuple[str, str]:
    return ip[:64], username.strip().lower()[:100]


def retry_after(session: Session, ip: str, username: str, now: datetime) -> int | None:
    """Seconds until another attempt is allowed, or None when one is allowed now."""
    ip, username = _key(ip, username)
    since = now - WINDOW
    per_user = session.execute(
        select(func.count(), func.min(LoginAttempt.at)).where(
            LoginAttempt.ip == ip, LoginAttempt.username == username, LoginAttempt.at >= since
        )
    ).one()
    per_ip = session.execute(
        select(func.count(), func.min(LoginAttempt.at)).where(
            LoginAttempt.ip == ip, LoginAttempt.at >= since
        )
    ).one()
    for (count, oldest), limit in ((per_user, MAX_PER_USERNAME), (per_ip, MAX_PER_ADDRESS)):
        if count >= limit and oldest is not None:
            return max(1, int((oldest + WINDOW - now).total_seconds()) + 1)
    return None


def record_failure(session: Session, ip: str, username: str, now: datetime) -> None:
    """Remember one failure and drop attempts that fell out of every window."""
    ip, username = _key(ip, username)
    session.add(LoginAttempt(ip=ip, username=username, at=now))
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - WINDOW))


def clear_failures(session: Session, ip: str, username: str) -> None:
    ip, username = _key(ip, username)
    session.execute(
        delete(LoginAttempt).where(LoginAttempt.ip == ip, LoginAttempt.username == username)
    )
