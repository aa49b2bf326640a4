"""Blueprints and app-wide web plumbing."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register extensions first (security, i18n, login), then the blueprints."""
    from feedhub.web import admin, api, auth, feeds, i18n, outputs_admin, reader, security

    security.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    reader.init_app(app)
    feeds.init_app(app)
    outputs_admin.init_app(app)
    admin.init_app(app)
    api.init_app(app)
