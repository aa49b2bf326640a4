"""feedhub: feed aggregator and reader server."""

__version__ = "0.1.0"

from feedhub.app import create_app

__all__ = ["__version__", "create_app"]
