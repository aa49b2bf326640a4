"""Stable ``tag:`` URIs (RFC 4151) for feeds and items.

An item's id must never change, or every feed app shows the story again as
new. It is built from the story id and a tagging authority ("host,date").
The authority comes from the ``TAG_AUTHORITY`` config key when the admin sets
one; otherwise it is fixed on first use (the host the first feed request came
to, and that day's date) and stored in the settings table, so moving the
server to another host name later keeps every id.
"""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from feedhub.models import Setting

SETTING_KEY = "output_tag_authority"
_AUTHORITY = re.compile(r"^[a-z0-9.-]+,\d{4}(-\d{2}(-\d{2})?)?$")


def valid_authority(value: str) -> bool:
    return bool(_AUTHORITY.match(value))


def authority_from_host(host: str, today: date) -> str:
    """``Example.org:8080`` on 2024-05-01 → ``example.org,2024-05-01``."""
    name = host.strip().lower()
    if name.startswith("["):  # IPv6 literal: not a DNS name, keep it recognisable
        name = name[1:].split("]", 1)[0].replace(":", "-")
    else:
        name = name.split(":", 1)[0]
    name = re.sub(r"[^a-z0-9.-]", "-", name) or "localhost"
    return f"{name},{today.isoformat()}"


def tag_authority(session: Session, configured: str | None, host: str, today: date) -> str:
    """The configured authority, else the stored one, else store one made from ``host``."""
    if configured:
        if not valid_authority(configured):
            raise ValueError(
                f"TAG_AUTHORITY must look like 'example.org,2024-01-01': {configured!r}"
            )
        return configured
    stored = session.scalar(select(Setting.value).where(Setting.key == SETTING_KEY))
    if isinstance(stored, str) and stored:
        return stored
    value = authority_from_host(host, today)
    try:
        session.add(Setting(key=SETTING_KEY, value=value))
        session.commit()
    except IntegrityError:  # another process stored one first: use theirs
        session.rollback()
        stored = session.scalar(select(Setting.value).where(Setting.key == SETTING_KEY))
        if isinstance(stored, str) and stored:
            return stored
        raise
    return value


def story_tag(authority: str, story_id: int) -> str:
    return f"tag:{authority}:story/{story_id}"


def feed_tag(authority: str, key: str) -> str:
    return f"tag:{authority}:feed/{key}"
