"""`feedhub rules …` and `feedhub stories …`: rule management and story corrections."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from feedhub.app import runtime
from feedhub.models import Category, Entry, Story, StoryMerge
from feedhub.stories.admin import StoryError, merge_stories, split_entries
from feedhub.stories.rule_store import add_rule, list_rules, remove_rule
from feedhub.stories.rules import ACTIONS, FIELDS, MATCH_TYPES, RuleError, RuleSpec


@click.group("rules")
def rules_cli() -> None:
    """Admin rules: keywords or regex on a field → category, sponsored flag or hide."""


@rules_cli.command("add")
@click.option("--name", required=True, help="Shown in reasons, e.g. 'rule: <name>'.")
@click.option("--field", "field_", type=click.Choice(FIELDS), default="any", show_default=True)
@click.option("--match", "match_type", type=click.Choice(MATCH_TYPES), default="keywords")
@click.option("--pattern", required=True, help="Comma-separated keywords or a regex.")
@click.option("--action", type=click.Choice(ACTIONS), required=True)
@click.option("--category", "category", default=None, help="Category name (set_category).")
@with_appcontext
def rules_add(
    name: str, field_: str, match_type: str, pattern: str, action: str, category: str | None
) -> None:
    """Add a rule at the end of the list."""
    if action == "set_category" and not category:
        raise click.ClickException("--category is required with --action set_category")
    spec = RuleSpec(name=name, field=field_, match_type=match_type, pattern=pattern, action=action)
    try:
        with runtime().db.session() as session:
            rule = add_rule(session, spec, category_name=category)
            rule_id = rule.id
    except RuleError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"added rule {rule_id}: {name}")


@rules_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array instead of a table.")
@with_appcontext
def rules_list(as_json: bool) -> None:
    """List rules in the order they are applied."""
    with runtime().db.session() as session:
        names = {c.id: c.name for c in session.scalars(select(Category))}
        rows = [
            {
                "id": r.id,
                "name": r.name,
                "enabled": r.enabled,
                "field": r.field,
                "match": r.match_type,
                "pattern": r.pattern,
                "action": r.action,
                "category": names.get(r.category_id) if r.category_id else None,
            }
            for r in list_rules(session)
        ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        click.echo("no rules")
    for row in rows:
        target = f" → {row['category']}" if row["category"] else ""
        state = "" if row["enabled"] else " (disabled)"
        click.echo(
            f"{row['id']:>4}  {row['name']}{state}: {row['field']} {row['match']} "
            f"{row['pattern']!r} → {row['action']}{target}"
        )


@rules_cli.command("remove")
@click.argument("rule_id", type=int)
@with_appcontext
def rules_remove(rule_id: int) -> None:
    """Delete a rule."""
    try:
        with runtime().db.session() as session:
            remove_rule(session, rule_id)
    except RuleError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"removed rule {rule_id}")


@click.group("stories")
def stories_cli() -> None:
    """Inspect stories; split or merge them when clustering got it wrong."""


@stories_cli.command("show")
@click.argument("story_id", type=int)
@with_appcontext
def stories_show(story_id: int) -> None:
    """A story with its entries and why each one joined."""
    with runtime().db.session() as session:
        story = session.get(Story, story_id)
        if story is None:
            raise click.ClickException(f"story {story_id} does not exist")
        category = story.category.name if story.category else "-"
        click.echo(f"story {story.id}: {story.title}")
        click.echo(f"  category: {category} ({story.category_reason})")
        click.echo(f"  sort_at: {story.sort_at.isoformat()}  version: {story.version}")
        click.echo(f"  entries: {story.entry_count}  sources: {story.source_count}")
        if story.places:
            click.echo(f"  places: {', '.join(story.places)}")
        if story.sponsored:
            click.echo(f"  sponsored: {story.sponsored_reason}")
        if story.hidden:
            click.echo("  hidden by a rule")
        why = {
            m.entry_id: m
            for m in session.scalars(
                select(StoryMerge).where(StoryMerge.story_id == story.id).order_by(StoryMerge.id)
            )
        }
        for entry in session.scalars(
            select(Entry).where(Entry.story_id == story.id).order_by(Entry.id)
        ):
            merge = why.get(entry.id)
            reason = merge.reason if merge else "?"
            if merge and merge.similarity is not None:
                reason += f" {merge.similarity:.2f}"
            if merge and merge.key:
                reason += f" ({merge.key})"
            rep = "*" if entry.id == story.representative_entry_id else " "
            pin = " pinned" if entry.story_pinned else ""
            click.echo(
                f" {rep}{entry.id:>7}  [{entry.source.display_title}] {entry.title}"
                f"  — {reason}{pin}"
            )


@stories_cli.command("split")
@click.argument("story_id", type=int)
@click.argument("entry_ids", type=int, nargs=-1, required=True)
@with_appcontext
def stories_split(story_id: int, entry_ids: tuple[int, ...]) -> None:
    """Move ENTRY_IDS out of STORY_ID into a new story."""
    try:
        with runtime().db.session() as session:
            new_id = split_entries(session, story_id, list(entry_ids)).id
    except StoryError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"split {len(entry_ids)} entr{'y' if len(entry_ids) == 1 else 'ies'} into story {new_id}"
    )


@stories_cli.command("merge")
@click.argument("target_id", type=int)
@click.argument("other_id", type=int)
@with_appcontext
def stories_merge(target_id: int, other_id: int) -> None:
    """Move every entry of OTHER_ID into TARGET_ID."""
    try:
        with runtime().db.session() as session:
            merge_stories(session, target_id, other_id)
    except StoryError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"merged story {other_id} into {target_id}")
