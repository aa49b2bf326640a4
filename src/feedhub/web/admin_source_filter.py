"""The filter behind the source list and its bulk actions (failing, disabled, category, host).

The same :class:`SourceFilter` builds the list query and, for a bulk action on
"all matching sources", the set the action applies to, so what the admin saw
is what gets changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Select, or_, select

from feedhub.models import Source

STATUSES = ("all", "failing", "disabled", "ok", "new")


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class SourceFilter:
    status: str = "all"
    category: str = ""  # "", "none" or a category id
    host: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> SourceFilter:
        status = args.get("status", "all")
        category = args.get("category", "").strip()
        if category not in ("", "none") and not category.isdigit():
            category = ""
        host = args.get("host", "").strip().lower()[:253]
        return cls(status=status if status in STATUSES else "all", category=category, host=host)

    def as_args(self) -> dict[str, str]:
        """Query-string arguments that reproduce this filter (empty ones left out)."""
        out = {"status": self.status, "category": self.category, "host": self.host}
        return {k: v for k, v in out.items() if v and not (k == "status" and v == "all")}

    def apply(self, stmt: Select[Source]) -> Select[Source]:
        if self.status == "failing":
            stmt = stmt.where(Source.enabled, Source.error_count > 0)
        elif self.status == "disabled":
            stmt = stmt.where(Source.enabled.is_(False))
        elif self.status == "ok":
            stmt = stmt.where(
                Source.enabled, Source.error_count == 0, Source.last_polled_at.is_not(None)
            )
        elif self.status == "new":
            stmt = stmt.where(Source.last_polled_at.is_(None))
        if self.category == "none":
            stmt = stmt.where(Source.category_id.is_(None))
        elif self.category:
            stmt = stmt.where(Source.category_id == int(self.category))
        if self.host:
            host = _like_escape(self.host)
            stmt = stmt.where(
                or_(
                    *[
                        Source.url.ilike(f"%://{prefix}{host}{end}", escape="\\")
                        for prefix in ("", "%.")
                        for end in ("", "/%", ":%", "?%")
                    ]
                )
            )
        return stmt

    def query(self) -> Select[Source]:
        return self.apply(select(Source))
