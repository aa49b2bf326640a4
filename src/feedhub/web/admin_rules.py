"""Rules: create and edit with a preview of matching recent entries; order; enable/disable.

The preview runs the rule exactly as the classifier would (``preview_rule``
compiles the same :class:`RuleSpec`) against the newest entries, before
anything is saved: the "Preview" button re-renders the form with the
matches, and static/admin.js refreshes the same preview while the admin types.
Saved rules apply to entries that arrive from then on.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from feedhub.app import db_session
from feedhub.models import Entry, Rule
from feedhub.stories.classify import invalidate_context
from feedhub.stories.rule_store import preview_rule
from feedhub.stories.rules import RuleError, RuleSpec, compile_rule
from feedhub.web.admin import bp
from feedhub.web.admin_forms import RuleForm
from feedhub.web.admin_paging import keyset_page
from feedhub.web.admin_util import add_error, category_choices, get_or_404

PREVIEW_LIMIT = 20


def _spec(form: RuleForm, rule_id: int | None = None) -> RuleSpec:
    action = form.action.data
    return RuleSpec(
        name=(form.name.data or "").strip(),
        field=form.field.data,
        match_type=form.match_type.data,
        pattern=form.pattern.data or "",
        action=action,
        category_id=form.category_id.data if action == "set_category" else None,
        rule_id=rule_id,
    )


def _check(form: RuleForm, spec: RuleSpec) -> bool:
    """Compile the rule the way the classifier will; put its complaint next to the field."""
    try:
        compile_rule(spec)
    except RuleError as exc:
        message = str(exc)
        add_error(form, "category_id" if "category" in message else "pattern", message)
        return False
    return True


def _preview(spec: RuleSpec) -> list[Entry]:
    return preview_rule(db_session(), spec, PREVIEW_LIMIT)


def _form_page(form: RuleForm, rule: Rule | None) -> Any:
    """Handle a posted rule form: preview it, or validate and save it."""
    form.category_id.choices = category_choices(_("No category"))
    preview: list[Entry] | None = None
    if form.validate_on_submit():
        spec = _spec(form, rule.id if rule else None)
        if _check(form, spec):
            if "preview" in request.form:
                preview = _preview(spec)
            else:
                return _save(form, spec, rule)
    status = 400 if form.errors else 200
    return render_template("admin/rule_form.html", form=form, rule=rule, preview=preview), status


def _save(form: RuleForm, spec: RuleSpec, rule: Rule | None) -> Any:
    db = db_session()
    if rule is None:
        last = db.scalar(select(func.max(Rule.position))) or 0
        rule = Rule(position=last + 10)
        db.add(rule)
    rule.name = spec.name
    rule.field = spec.field
    rule.match_type = spec.match_type
    rule.pattern = spec.pattern
    rule.action = spec.action
    rule.category_id = spec.category_id
    rule.enabled = bool(form.enabled.data)
    db.flush()
    invalidate_context(db)
    db.commit()
    flash(
        _("Rule %(name)s saved. It applies to entries that arrive from now on.", name=rule.name),
        "ok",
    )
    return redirect(url_for("admin.rules"))


@bp.route("/rules")
def rules() -> Any:
    page = keyset_page(
        db_session(),
        select(Rule),
        [(Rule.position, False), (Rule.id, False)],
        lambda r: [r.position, r.id],
        request.args.get("cursor"),
    )
    return render_template("admin/rules.html", page=page)


@bp.route("/rules/new", methods=["GET", "POST"])
def rule_new() -> Any:
    return _form_page(RuleForm(), None)


@bp.route("/rules/<int:rule_id>/edit", methods=["GET", "POST"])
def rule_edit(rule_id: int) -> Any:
    rule = get_or_404(Rule, rule_id)
    return _form_page(RuleForm(obj=rule), rule)


@bp.route("/rules/preview")
def rule_preview() -> Any:
    """The preview fragment for the live preview in admin.js (read-only, so GET)."""
    form = RuleForm(formdata=request.args, meta={"csrf": False})
    form.category_id.choices = category_choices("")
    matches: list[Entry] | None = None
    error = None
    if form.validate():
        spec = _spec(form)
        try:
            matches = _preview(spec)
        except RuleError as exc:
            error = str(exc)
    else:
        error = "; ".join(str(e) for errors in form.errors.values() for e in errors)
    return render_template("admin/_rule_preview.html", preview=matches, error=error)


@bp.route("/rules/<int:rule_id>/toggle", methods=["POST"])
def rule_toggle(rule_id: int) -> Any:
    db = db_session()
    rule = get_or_404(Rule, rule_id)
    rule.enabled = not rule.enabled
    invalidate_context(db)
    db.commit()
    flash(_("Rule enabled.") if rule.enabled else _("Rule disabled."), "ok")
    return redirect(url_for("admin.rules"))


@bp.route("/rules/<int:rule_id>/move", methods=["POST"])
def rule_move(rule_id: int) -> Any:
    db = db_session()
    get_or_404(Rule, rule_id)
    ordered = list(db.scalars(select(Rule).order_by(Rule.position, Rule.id)))
    index = next(i for i, r in enumerate(ordered) if r.id == rule_id)
    other = index - 1 if request.form.get("direction") == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, rule in enumerate(ordered):
        rule.position = (position + 1) * 10
    invalidate_context(db)
    db.commit()
    return redirect(url_for("admin.rules"))


@bp.route("/rules/<int:rule_id>/delete", methods=["GET", "POST"])
def rule_delete(rule_id: int) -> Any:
    db = db_session()
    rule = get_or_404(Rule, rule_id)
    if request.method == "GET":
        return render_template("admin/rule_delete.html", rule=rule)
    name = rule.name
    db.delete(rule)
    invalidate_context(db)
    db.commit()
    flash(_("Rule %(name)s deleted.", name=name), "ok")
    return redirect(url_for("admin.rules"))
