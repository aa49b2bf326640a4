"""Flask-Babel: which language a page is rendered in, and dates in the reader's locale.

The choice is, in order: the logged-in user's saved language, the ``lang`` cookie
(anonymous readers who picked a language), the browser's Accept-Language among the
languages we ship, and German, because feedhub is built for German regional news.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flask import Flask, g, has_request_context, request
from flask_babel import Babel, format_date, format_datetime, gettext
from flask_login import current_user

LANGUAGES: tuple[str, ...] = ("de", "en")
DEFAULT_LANGUAGE = "de"
LANG_COOKIE = "lang"
TRANSLATIONS_DIR = Path(__file__).resolve().parents[1] / "translations"

babel = Babel()


def normalize_language(value: str | None) -> str | None:
    """A supported language code, or None for anything else (cookie values are untrusted)."""
    if not value:
        return None
    code = value.strip().lower()[:2]
    return code if code in LANGUAGES else None


def select_locale() -> str:
    if not has_request_context():  # CLI and background jobs: the default language
        return DEFAULT_LANGUAGE
    user_lang = getattr(current_user, "language", None) if current_user else None
    lang = (
        normalize_language(user_lang)
        or normalize_language(request.cookies.get(LANG_COOKIE))
        or request.accept_languages.best_match(LANGUAGES)
        or DEFAULT_LANGUAGE
    )
    g.lang = lang
    return lang


def current_language() -> str:
    """The language of this request (computes it when nothing has asked Babel yet)."""
    lang = g.get("lang") if has_request_context() else None
    return lang if isinstance(lang, str) else select_locale()


def story_date(value: datetime) -> str:
    """'Nachricht vom 23.06.2022' / 'Published Jun 23, 2022'."""
    return str(gettext("Published %(date)s", date=format_date(value, "medium")))


def short_datetime(value: datetime) -> str:
    """Compact time for listings: '23.06.22, 14:05'."""
    return str(format_datetime(value, "short"))


def iso_datetime(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    # Regional German news: show local wall-clock time unless the admin says otherwise.
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Europe/Berlin")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters["story_date"] = story_date
    app.jinja_env.filters["short_datetime"] = short_datetime
    app.jinja_env.filters["iso_datetime"] = iso_datetime
    app.jinja_env.globals["current_language"] = current_language
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
