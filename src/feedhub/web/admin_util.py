"""Small helpers shared by the admin views: settings, lookups, form errors."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import abort
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from feedhub.app import db_session, runtime
from feedhub.config import Settings
from feedhub.models import Base, Category

M = TypeVar("M", bound=Base)


def settings() -> Settings:
    return runtime().settings


def get_or_404(model: type[M], ident: int) -> M:
    obj = db_session().get(model, ident)
    if obj is None:
        abort(404)
    return obj


def add_error(form: Any, field_name: str, message: str) -> None:
    """Attach a message to a field (or to the whole form) after validation ran."""
    field = getattr(form, field_name, None) if field_name else None
    if field is not None:
        field.errors = [*field.errors, message]
    else:
        form.form_errors.append(message)


def category_choices(empty_label: str) -> list[SelectChoice]:
    """Choices for a category select, in display order, with an empty first option."""
    rows = (
        db_session()
        .execute(select(Category.id, Category.name).order_by(Category.position, Category.id))
        .all()
    )
    return [SelectChoice("", empty_label), *[SelectChoice(str(row.id), row.name) for row in rows]]
