"""Blueprints and app-wide web plumbing."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register extensions and blueprints (each module adds its own)."""
