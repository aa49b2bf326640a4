"""Category, hide and sponsored decisions for entries and stories.

Order of precedence for a story's category: an admin rule on any of its
entries; the feed's own category tags (through the synonym table); the
source's default category; the fallback category. What the database holds
(rules, categories) is loaded once per session and cached in ``session.info``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from feedhub.models import Category, Entry, Rule, Setting
from feedhub.stories.categories import (
    DEFAULT_FALLBACK,
    ensure_fallback_category,
    map_feed_categories,
)
from feedhub.stories.rules import (
    CompiledRule,
    EntryFields,
    RuleError,
    RuleSpec,
    compile_rule,
    evaluate,
)
from feedhub.stories.text import fold

_CACHE_KEY = "feedhub.stories.classify"
FALLBACK_SETTING = "fallback_category"


@dataclass(frozen=True)
class ClassifyContext:
    rules: tuple[CompiledRule, ...]
    # folded name or slug → category name
    known: dict[str, str]
    ids: dict[str, int]  # category name → id
    fallback_id: int
    # feed tags → (category name, deciding tag): a feed repeats its tags on every item
    tag_cache: dict[tuple[str, ...], tuple[str, str] | None] = field(default_factory=dict)


@dataclass(frozen=True)
class EntryDecision:
    """What the rules and markers say about one entry."""

    rule_category_id: int | None
    rule_category_reason: str
    tag_category_id: int | None
    tag_category_reason: str
    hidden_by: str
    sponsored_rule_reason: str


def fallback_name(session: Session) -> str:
    """The fallback's name: a settings row, else the app settings, else the default."""
    row = session.get(Setting, FALLBACK_SETTING)
    if row is not None and isinstance(row.value, str) and row.value.strip():
        return row.value.strip()
    if has_app_context():
        runtime = current_app.extensions.get("feedhub")
        name = getattr(getattr(runtime, "settings", None), "fallback_category", "")
        if isinstance(name, str) and name.strip():
            return name.strip()
    return DEFAULT_FALLBACK


def compiled_rules(session: Session) -> tuple[CompiledRule, ...]:
    """Enabled rules in order; a stored rule that no longer compiles is skipped."""
    compiled = []
    for rule in session.scalars(
        select(Rule).where(Rule.enabled.is_(True)).order_by(Rule.position, Rule.id)
    ):
        try:
            compiled.append(compile_rule(rule_spec(rule)))
        except RuleError:
            continue
    return tuple(compiled)


def rule_spec(rule: Rule) -> RuleSpec:
    return RuleSpec(
        name=rule.name or f"#{rule.id}",
        field=rule.field,
        match_type=rule.match_type,
        pattern=rule.pattern,
        action=rule.action,
        category_id=rule.category_id,
        rule_id=rule.id,
    )


def _create_fallback(session: Session) -> Category:
    """Create the fallback category; a concurrent poller may create it at the same time."""
    name = fallback_name(session)
    try:
        with session.begin_nested():
            return ensure_fallback_category(session, name)
    except IntegrityError:
        # the other transaction committed it first: use theirs
        return ensure_fallback_category(session, name)


def load_context(session: Session) -> ClassifyContext:
    cached = session.info.get(_CACHE_KEY)
    if isinstance(cached, ClassifyContext):
        return cached
    categories = list(session.scalars(select(Category).order_by(Category.position, Category.id)))
    fallback = next((c for c in categories if c.is_fallback), None)
    if fallback is None:
        fallback = _create_fallback(session)
        categories.append(fallback)
    known: dict[str, str] = {}
    for category in categories:
        known.setdefault(fold(category.name), category.name)
        known.setdefault(fold(category.slug), category.name)
    context = ClassifyContext(
        rules=compiled_rules(session),
        known=known,
        ids={c.name: c.id for c in categories},
        fallback_id=fallback.id,
    )
    session.info[_CACHE_KEY] = context
    return context


def invalidate_context(session: Session) -> None:
    """Call after changing rules or categories within the same session."""
    session.info.pop(_CACHE_KEY, None)


def entry_fields(entry: Entry) -> EntryFields:
    source = entry.source
    return EntryFields(
        title=entry.title,
        lead=entry.lead,
        feed_categories=tuple(str(c) for c in entry.feed_categories or ()),
        author=entry.author,
        source=(source.title or source.url) if source is not None else "",
    )


def decide_entry(context: ClassifyContext, entry: Entry) -> EntryDecision:
    return decide_fields(context, entry_fields(entry))


def decide_fields(context: ClassifyContext, fields: EntryFields) -> EntryDecision:
    """Rules and feed tags for one entry (the tag mapping is cached per tag list)."""
    outcome = evaluate(context.rules, fields) if context.rules else None
    tags = tuple(fields.feed_categories)
    if tags in context.tag_cache:
        tag = context.tag_cache[tags]
    else:
        tag = context.tag_cache[tags] = map_feed_categories(tags, context.known)
    return EntryDecision(
        rule_category_id=outcome.category_id if outcome else None,
        rule_category_reason=(
            f"rule: {outcome.category_rule}" if outcome and outcome.category_rule else ""
        ),
        tag_category_id=context.ids.get(tag[0]) if tag else None,
        tag_category_reason=f"feed category '{tag[1]}'" if tag else "",
        hidden_by=outcome.hidden_by if outcome else "",
        sponsored_rule_reason=outcome.sponsored_reason if outcome else "",
    )


def sponsored_reason(marker: str, decision: EntryDecision) -> str:
    """Why an entry counts as sponsored: a marker in the entry, else a rule; "" for news."""
    return marker or decision.sponsored_rule_reason


def story_category_of(
    context: ClassifyContext,
    decisions: Sequence[EntryDecision],
    source_categories: Sequence[int | None],
) -> tuple[int, str]:
    """(category id, reason) from per-entry decisions and source defaults, representative first."""
    for decision in decisions:
        if decision.rule_category_id is not None:
            return decision.rule_category_id, decision.rule_category_reason
    for decision in decisions:
        if decision.tag_category_id is not None:
            return decision.tag_category_id, decision.tag_category_reason
    for category_id in source_categories:
        if category_id is not None:
            return category_id, "source default"
    return context.fallback_id, "fallback"


def story_category(
    context: ClassifyContext, ordered: Sequence[tuple[Entry, EntryDecision]]
) -> tuple[int, str]:
    """(category id, reason) for a story whose entries come representative-first."""
    return story_category_of(
        context,
        [decision for _entry, decision in ordered],
        [entry.source.category_id if entry.source is not None else None for entry, _d in ordered],
    )
