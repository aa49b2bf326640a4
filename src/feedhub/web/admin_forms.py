"""Admin forms: validation rules live here, next to the fields they belong to.

Every form is a Flask-WTF form, so its errors are attached to the field that
caused them and the templates show them right there (``_macros.field``).
Labels are lazy msgids; they are translated when the page renders.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from feedhub.stories.rules import MAX_PATTERN_LENGTH
from feedhub.users import MIN_PASSWORD_LENGTH


def _http_url(form: Any, field: Any) -> None:
    value = (field.data or "").strip()
    if not re.match(r"^https?://[^/\s]+", value, re.IGNORECASE):
        raise ValidationError(_l("Enter a web address starting with http:// or https://."))


def _coerce_optional_int(value: Any) -> int | None:
    if value in (None, "", "None"):
        return None
    return int(value)


class SourceAddForm(FlaskForm):  # type: ignore[misc]
    url = StringField(
        _l("Feed or web page address"), validators=[DataRequired(), Length(max=2048), _http_url]
    )
    title = StringField(_l("Title (optional)"), validators=[Optional(), Length(max=500)])
    category_id = SelectField(_l("Category"), coerce=_coerce_optional_int, validate_choice=True)


class SourcePickForm(FlaskForm):  # type: ignore[misc]
    """Several feeds were found on a page: the admin picks one."""

    feed_url = RadioField(_l("Feed"), validators=[InputRequired()], validate_choice=False)
    page_url = HiddenField()
    title = HiddenField()
    category_id = HiddenField()


class SourceEditForm(FlaskForm):  # type: ignore[misc]
    title = StringField(_l("Title"), validators=[Optional(), Length(max=500)])
    category_id = SelectField(_l("Category"), coerce=_coerce_optional_int, validate_choice=True)
    priority = IntegerField(
        _l("Priority"),
        validators=[InputRequired(), NumberRange(min=-100, max=100)],
        description=_l("Higher priority sources represent a story first (-100 to 100)."),
    )
    min_interval = IntegerField(
        _l("Shortest poll interval (minutes)"),
        validators=[Optional(), NumberRange(min=1, max=7 * 24 * 60)],
        description=_l("Empty: the instance default."),
    )
    max_interval = IntegerField(
        _l("Longest poll interval (minutes)"),
        validators=[Optional(), NumberRange(min=1, max=7 * 24 * 60)],
        description=_l("Empty: the instance default."),
    )
    enabled = BooleanField(_l("Enabled (polled)"))

    def validate_max_interval(self, field: Any) -> None:
        low, high = self.min_interval.data, field.data
        if low is not None and high is not None and high < low:
            raise ValidationError(_l("Must not be shorter than the shortest interval."))


class OpmlImportForm(FlaskForm):  # type: ignore[misc]
    file = FileField(_l("OPML file"), validators=[FileRequired()])


class CategoryForm(FlaskForm):  # type: ignore[misc]
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    heading = StringField(
        _l("Heading on the front page"),
        validators=[Optional(), Length(max=300)],
        description=_l("Empty: the name."),
    )


class RuleForm(FlaskForm):  # type: ignore[misc]
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    field = SelectField(
        _l("Look in"),
        choices=[
            SelectChoice("any", _l("Anywhere")),
            SelectChoice("title", _l("Title")),
            SelectChoice("lead", _l("Lead text")),
            SelectChoice("feed_category", _l("Feed category")),
            SelectChoice("author", _l("Author")),
            SelectChoice("source", _l("Source")),
        ],
    )
    match_type = SelectField(
        _l("Match"),
        choices=[
            SelectChoice("keywords", _l("Any of these words")),
            SelectChoice("regex", _l("Regular expression")),
        ],
    )
    pattern = TextAreaField(
        _l("Pattern"),
        validators=[DataRequired(), Length(max=MAX_PATTERN_LENGTH)],
        description=_l("Words separated by commas, or one regular expression."),
    )
    action = SelectField(
        _l("Then"),
        choices=[
            SelectChoice("set_category", _l("Put into category")),
            SelectChoice("flag_sponsored", _l("Flag as sponsored")),
            SelectChoice("hide", _l("Hide the story")),
        ],
    )
    category_id = SelectField(_l("Category"), coerce=_coerce_optional_int, validate_choice=True)
    enabled = BooleanField(_l("Enabled"), default=True)

    def validate_category_id(self, field: Any) -> None:
        if self.action.data == "set_category" and field.data is None:
            raise ValidationError(_l("Pick the category this rule puts stories into."))


class UserCreateForm(FlaskForm):  # type: ignore[misc]
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=100)])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=1024)]
    )
    is_admin = BooleanField(_l("Admin (may change everything)"))


class PasswordForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=1024)],
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class SetupForm(PasswordForm):
    username = StringField(_l("Admin username"), validators=[DataRequired(), Length(max=100)])


class SettingsForm(FlaskForm):  # type: ignore[misc]
    public_reading = BooleanField(_l("Anyone may read without logging in"))


class StoryMergeForm(FlaskForm):  # type: ignore[misc]
    other_id = IntegerField(
        _l("Number of the story to merge into this one"),
        validators=[InputRequired(), NumberRange(min=1)],
    )
