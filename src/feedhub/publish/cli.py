"""``feedhub outputs …``: manage output feeds from the shell.

Mistakes (unknown category, bad regex, taken slug) end as one-line
:class:`click.ClickException` messages, never tracebacks.
"""

from __future__ import annotations

import json
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from feedhub.app import runtime
from feedhub.models import OutputFeed
from feedhub.publish.outputs import (
    OutputError,
    OutputSpec,
    category_ids,
    create_output,
    delete_output,
    describe_filter,
    feed_path,
    find_output,
    rotate_token,
    source_ids,
)
from feedhub.publish.query import FeedFilter, FilterError


@click.group("outputs")
def outputs_cli() -> None:
    """Output feeds: saved filters over stories, published as Atom, RSS and JSON Feed."""


@outputs_cli.command("add")
@click.argument("slug")
@click.option("--title", required=True, help="Feed title.")
@click.option("--subtitle", default="", help="Feed subtitle / description.")
@click.option("--category", "categories", multiple=True, help="Category name or slug.")
@click.option("--place", "places", multiple=True, help="Place name or slug.")
@click.option("--source", "sources", multiple=True, help="Source feed URL (or id).")
@click.option("--include", "include", multiple=True, help="Keyword that must appear.")
@click.option("--exclude", "exclude", multiple=True, help="Keyword that must not appear.")
@click.option("--regex", default="", help="Regular expression (title and lead, ignoring case).")
@click.option("--include-sponsored", is_flag=True, help="Also show sponsored stories.")
@click.option("--min-sources", type=click.IntRange(min=1), default=1)
@click.option("--max-age-hours", type=click.FloatRange(min=0, min_open=True), default=None)
@click.option("--max-items", type=click.IntRange(min=1), default=50)
@click.option("--per-source-cap", type=click.IntRange(min=1), default=None)
@click.option("--private", is_flag=True, help="Only reachable with a secret token.")
@with_appcontext
def add(
    slug: str,
    title: str,
    subtitle: str,
    categories: tuple[str, ...],
    places: tuple[str, ...],
    sources: tuple[str, ...],
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    regex: str,
    include_sponsored: bool,
    min_sources: int,
    max_age_hours: float | None,
    max_items: int,
    per_source_cap: int | None,
    private: bool,
) -> None:
    """Create the output feed SLUG."""
    try:
        with runtime().db.session() as session:
            flt = FeedFilter(
                categories=category_ids(session, list(categories)),
                places=tuple(dict.fromkeys(" ".join(p.split()) for p in places if p.strip())),
                sources=source_ids(session, list(sources)),
                include=tuple(k for k in include if k.strip()),
                exclude=tuple(k for k in exclude if k.strip()),
                regex=regex,
                include_sponsored=include_sponsored,
                min_sources=min_sources,
                max_age_hours=max_age_hours,
                max_items=max_items,
                per_source_cap=per_source_cap,
            )
            spec = OutputSpec(
                slug=slug, title=title, subtitle=subtitle, public=not private, filter=flt
            )
            feed = create_output(session, spec)
            path = feed_path(feed)
    except (OutputError, FilterError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {slug}: {path}")


@outputs_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@with_appcontext
def list_outputs(as_json: bool) -> None:
    """List output feeds with their filters and URL paths."""
    with runtime().db.session() as session:
        feeds = session.scalars(select(OutputFeed).order_by(OutputFeed.slug)).all()
        rows: list[dict[str, Any]] = [
            {
                "slug": f.slug,
                "title": f.title,
                "subtitle": f.subtitle,
                "public": f.public,
                "token": f.token,
                "paths": {fmt: feed_path(f, fmt) for fmt in ("atom", "rss", "json")},
                "filters": FeedFilter.from_json(f.filters).to_json(),
                "description": describe_filter(session, FeedFilter.from_json(f.filters)),
            }
            for f in feeds
        ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        visibility = "public" if row["public"] else "private"
        click.echo(f"{row['slug']}\t{row['title']}\t{visibility}\t{row['paths']['atom']}")
        for line in row["description"]:
            click.echo(f"\t{line}")


@outputs_cli.command("remove")
@click.argument("slug")
@with_appcontext
def remove(slug: str) -> None:
    """Delete the output feed SLUG (its URLs answer 404 afterwards)."""
    try:
        with runtime().db.session() as session:
            delete_output(session, slug)
    except OutputError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"removed {slug}")


@outputs_cli.command("rotate-token")
@click.argument("slug")
@with_appcontext
def rotate(slug: str) -> None:
    """Give the private output feed SLUG a new token; the old URL stops working."""
    try:
        with runtime().db.session() as session:
            feed = find_output(session, slug)
            rotate_token(session, feed)
            path = feed_path(feed)
    except OutputError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"new URL for {slug}: {path}")
