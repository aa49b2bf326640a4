"""feedhub: feed aggregator and reader server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from feedhub.app import create_app

__all__ = ["__version__", "create_app"]


def __getattr__(name: str) -> Any:
    """``create_app`` on first use: importing a submodule (a parse worker imports
    ``feedhub.ingest.parse_worker``) must not load Flask and SQLAlchemy."""
    if name == "create_app":
        from feedhub.app import create_app

        globals()["create_app"] = create_app  # later lookups skip this function
        return create_app
    raise AttributeError(f"module 'feedhub' has no attribute {name!r}")
