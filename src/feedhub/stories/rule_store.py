"""Rules in the database: add (validated), list, remove, and the admin's live preview."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from feedhub.models import Category, Entry, Rule
from feedhub.stories.classify import entry_fields, invalidate_context
from feedhub.stories.rules import RuleError, RuleSpec, compile_rule

PREVIEW_SCAN = 5000  # newest entries a preview looks at
_BATCH = 500


def category_by_name(session: Session, name: str) -> Category:
    category = session.scalars(
        select(Category).where(
            (func.lower(Category.name) == name.strip().lower()) | (Category.slug == name.strip())
        )
    ).first()
    if category is None:
        raise RuleError(f"no category named {name!r}")
    return category


def add_rule(session: Session, spec: RuleSpec, *, category_name: str | None = None) -> Rule:
    """Validate and store a rule at the end of the rule list."""
    if category_name:
        spec = replace(spec, category_id=category_by_name(session, category_name).id)
    elif spec.action != "set_category":
        spec = replace(spec, category_id=None)
    compile_rule(spec)
    if not spec.name.strip():
        raise RuleError("the rule needs a name")
    position = session.scalar(select(func.max(Rule.position))) or 0
    rule = Rule(
        name=spec.name.strip(),
        field=spec.field,
        match_type=spec.match_type,
        pattern=spec.pattern,
        action=spec.action,
        category_id=spec.category_id if spec.action == "set_category" else None,
        position=position + 10,
        enabled=True,
    )
    session.add(rule)
    session.flush()
    invalidate_context(session)
    return rule


def remove_rule(session: Session, rule_id: int) -> None:
    rule = session.get(Rule, rule_id)
    if rule is None:
        raise RuleError(f"rule {rule_id} does not exist")
    session.delete(rule)
    session.flush()
    invalidate_context(session)


def list_rules(session: Session) -> list[Rule]:
    return list(session.scalars(select(Rule).order_by(Rule.position, Rule.id)))


def preview_rule(session: Session, rule_spec: RuleSpec, limit: int) -> list[Entry]:
    """Newest entries the rule would match (raises RuleError for an invalid rule)."""
    rule = compile_rule(rule_spec)
    matches: list[Entry] = []
    last_id: int | None = None
    scanned = 0
    while scanned < PREVIEW_SCAN and len(matches) < limit:
        stmt = select(Entry).order_by(Entry.id.desc()).limit(_BATCH)
        if last_id is not None:
            stmt = stmt.where(Entry.id < last_id)
        batch = list(session.scalars(stmt))
        if not batch:
            break
        for entry in batch:
            if rule.matches(entry_fields(entry)):
                matches.append(entry)
                if len(matches) >= limit:
                    break
        scanned += len(batch)
        last_id = batch[-1].id
    return matches
