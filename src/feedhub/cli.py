"""`feedhub …` commands, also reachable as `flask --app feedhub …`.

User mistakes (a bad URL, an unreadable OPML file, a busy SQLite poller) end
in one clear line and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import ScriptInfo, with_appcontext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from feedhub.app import runtime
from feedhub.config import Settings


@contextmanager
def _session() -> Iterator[Session]:
    with runtime().db.session() as s:
        yield s


def _settings() -> Settings:
    return runtime().settings


class Reporter:
    """A progress bar on a terminal, plain lines otherwise."""

    def __init__(self, label: str, total: int | None) -> None:
        self.tty = sys.stderr.isatty()
        self.label = label
        self.total = total
        self.done = 0
        self._bar: Any = None
        if self.tty and total:
            self._bar = click.progressbar(length=total, label=label, file=sys.stderr)
            self._bar.__enter__()

    def step(self, item: str, status: str = "") -> None:
        self.done += 1
        if self._bar is not None:
            self._bar.update(1)
        else:
            total = f"/{self.total}" if self.total else ""
            click.echo(f"{self.label} {self.done}{total}: {item} {status}".rstrip(), err=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


# -- init ---------------------------------------------------------------------
@click.command("init")
@click.option("--no-samples", is_flag=True, help="Do not add the sample sources.")
@with_appcontext
def init_command(no_samples: bool) -> None:
    """Create the database or upgrade it in place; add default categories."""
    from feedhub.db import upgrade
    from feedhub.ingest.samples import ensure_sample_sources
    from feedhub.models import Source
    from feedhub.stories.categories import ensure_default_categories

    rt = runtime()
    upgrade(rt.db)
    with _session() as s:
        ensure_default_categories(s, rt.settings.fallback_category)
        added = 0
        fresh = s.scalar(select(func.count()).select_from(Source)) == 0
        if fresh and rt.settings.load_sample_sources and not no_samples:
            added = ensure_sample_sources(s, rt.settings)
    where = rt.db.url if rt.db.dialect != "sqlite" else str(rt.settings.sqlite_path)
    click.echo(f"database ready: {where}")
    if added:
        click.echo(f"added {added} sample sources (marked as samples; remove them any time)")


# -- sources --------------------------------------------------------------------
@click.group("sources")
def sources_group() -> None:
    """Add, import, export and list sources."""


@sources_group.command("add")
@click.argument("url")
@click.option("--category", default=None, help="Default category of the source.")
@click.option("--title", default=None)
@with_appcontext
def sources_add(url: str, category: str | None, title: str | None) -> None:
    """Subscribe to a feed URL."""
    from feedhub.ingest.sources import SourceError, add_source

    try:
        with _session() as s:
            src = add_source(s, _settings(), url, category=category, title=title)
            click.echo(f"added source {src.id}: {src.url}")
    except SourceError as exc:
        raise click.ClickException(str(exc)) from None


@sources_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def sources_import(file: Path) -> None:
    """Import an OPML 1.0/2.0 file; nested outlines become categories."""
    from feedhub.ingest.opml import OpmlError, parse_opml
    from feedhub.ingest.sources import import_feeds

    try:
        data = file.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"cannot read {file}: {exc.strerror or exc}") from None
    try:
        feeds = parse_opml(data)
    except OpmlError as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    reporter = Reporter("importing", len(feeds))
    with _session() as s:
        summary = import_feeds(s, _settings(), feeds, progress=lambda f: reporter.step(f.url))
    reporter.close()
    click.echo(
        f"{len(summary.added)} added, {len(summary.skipped)} skipped (already there), "
        f"{len(summary.invalid)} invalid"
    )
    for url, reason in summary.invalid:
        click.echo(f"  invalid: {url}: {reason}", err=True)


@sources_group.command("export")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def sources_export(file: Path | None) -> None:
    """Write all sources as OPML 2.0 (to FILE or standard output)."""
    from feedhub.ingest.sources import export_sources_opml

    with _session() as s:
        data = export_sources_opml(s)
    if file is None:
        sys.stdout.buffer.write(data)
    else:
        try:
            file.write_bytes(data)
        except OSError as exc:
            raise click.ClickException(f"cannot write {file}: {exc.strerror or exc}") from None
        click.echo(f"wrote {file}")


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


@sources_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def sources_list(as_json: bool) -> None:
    """List sources with their health."""
    from feedhub.models import Entry, Source

    with _session() as s:
        counts = {
            sid: n
            for sid, n in s.execute(select(Entry.source_id, func.count()).group_by(Entry.source_id))
        }
        rows = [
            {
                "id": src.id,
                "url": src.url,
                "title": src.title,
                "category": src.category.name if src.category else None,
                "enabled": src.enabled,
                "sample": src.is_sample,
                "entries": counts.get(src.id, 0),
                "error_count": src.error_count,
                "last_error": src.last_error,
                "last_success_at": _iso(src.last_success_at),
                "next_poll_at": _iso(src.next_poll_at),
                "disabled_reason": src.disabled_reason,
            }
            for src in s.scalars(select(Source).order_by(Source.id)).unique()
        ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        state = "disabled" if not r["enabled"] else ("failing" if r["error_count"] else "ok")
        line = f"{r['id']:>5}  {state:<8} {r['entries']:>6}  {r['title'] or '-'}  <{r['url']}>"
        if r["last_error"]:
            line += f"  [{r['last_error']}]"
        click.echo(line)


# -- poll -------------------------------------------------------------------------
@click.command("poll")
@click.option("--once", is_flag=True, help="Poll once, print a summary and exit.")
@click.option("--all", "all_sources", is_flag=True, help="Poll every source, due or not.")
@click.option("--workers", type=click.IntRange(1, 256), default=None, help="Fetch threads.")
@with_appcontext
def poll_command(once: bool, all_sources: bool, workers: int | None) -> None:
    """Poll sources: once, or forever (what the service runs in the background)."""
    import logging

    from feedhub.ingest.poller import PollerBusy, poll_once, run_forever

    rt = runtime()
    if once:
        from feedhub.models import Source

        with _session() as s:
            total = s.scalar(select(func.count()).select_from(Source).where(Source.enabled))
        reporter = Reporter("polling", total or None)
        try:
            summary = poll_once(
                rt.db,
                rt.settings,
                all_sources=all_sources,
                workers=workers,
                progress=lambda url, status: reporter.step(url, status),
            )
        except PollerBusy as exc:
            raise click.ClickException(str(exc)) from None
        finally:
            reporter.close()
        click.echo(summary.line())
        for url, error in summary.failures:
            click.echo(f"  failed: {url}: {error}")
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s poller %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    run_forever(rt.db, rt.settings, stop, workers=workers)


# -- stats / entries ------------------------------------------------------------
@click.command("stats")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def stats_command(as_json: bool) -> None:
    """Counts of sources, entries, stories and stories per category."""
    from feedhub.models import Category, Entry, Source, Story

    with _session() as s:
        out: dict[str, Any] = {
            "sources": s.scalar(select(func.count()).select_from(Source)),
            "entries": s.scalar(select(func.count()).select_from(Entry)),
            "stories": s.scalar(select(func.count()).select_from(Story)),
            "categories": {
                name: n
                for name, n in s.execute(
                    select(Category.name, func.count(Story.id))
                    .join(Story, Story.category_id == Category.id, isouter=True)
                    .group_by(Category.id, Category.name, Category.position)
                    .order_by(Category.position, Category.name)
                )
            },
        }
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False))
    else:
        click.echo(f"{out['sources']} sources, {out['entries']} entries, {out['stories']} stories")
        for name, n in out["categories"].items():
            click.echo(f"  {name}: {n}")


@click.command("entries")
@click.option("--jsonl", is_flag=True, required=True, help="One JSON object per line.")
@with_appcontext
def entries_command(jsonl: bool) -> None:
    """Dump entries with their story, category and sponsored flag."""
    from feedhub.models import Category, Entry, Source, Story

    q = (
        select(
            Entry.id,
            Source.url,
            Entry.guid,
            Entry.url,
            Entry.title,
            Entry.published_at,
            Category.name,
            Entry.story_id,
            Story.sponsored,
            Entry.sponsored,
        )
        .join(Source, Source.id == Entry.source_id)
        .join(Story, Story.id == Entry.story_id, isouter=True)
        .join(Category, Category.id == Story.category_id, isouter=True)
        .order_by(Entry.id)
        .execution_options(yield_per=1000)
    )
    out = sys.stdout
    with _session() as s:
        for row in s.execute(q):
            out.write(
                json.dumps(
                    {
                        "id": row[0],
                        "source_url": row[1],
                        "guid": row[2],
                        "url": row[3],
                        "title": row[4],
                        "published": _iso(row[5]),
                        "category": row[6],
                        "story_id": row[7],
                        "sponsored": bool(row[8] or row[9]),
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )


# -- serve -------------------------------------------------------------------------------
@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, type=int, show_default=True)
@click.option("--workers", default=2, type=int, show_default=True, help="Web processes.")
@click.option("--no-poller", is_flag=True, help="Do not start the background poller.")
@with_appcontext
def serve_command(host: str, port: int, workers: int, no_poller: bool) -> None:
    """Serve the web reader (gunicorn) and run the background poller."""
    from feedhub.db import upgrade

    rt = runtime()
    upgrade(rt.db)
    poller: subprocess.Popen[bytes] | None = None
    if not no_poller:
        env = dict(os.environ, FEEDHUB_INSTANCE_PATH=str(rt.settings.instance_path))
        poller = subprocess.Popen([sys.executable, "-m", "feedhub", "poll"], env=env)
    click.echo(f"feedhub on http://{host}:{port}/ (poller: {'off' if no_poller else 'on'})")
    try:
        _gunicorn(str(rt.settings.instance_path), host, port, workers)
    finally:
        if poller is not None:
            poller.terminate()
            try:
                poller.wait(timeout=15)
            except subprocess.TimeoutExpired:
                poller.kill()


def _gunicorn(instance: str, host: str, port: int, workers: int) -> None:
    from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

    class App(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", 4)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("accesslog", "-")
            self.cfg.set("graceful_timeout", 10)

        def load(self) -> Flask:
            from feedhub import create_app

            return create_app(instance_path=instance)

    App().run()


COMMANDS: list[click.Command] = [
    init_command,
    sources_group,
    poll_command,
    stats_command,
    entries_command,
    serve_command,
]


def _extra_commands() -> list[click.Command]:
    from feedhub.publish.cli import outputs_cli
    from feedhub.stories.cli import rules_cli, stories_cli
    from feedhub.users_cli import users_cli

    return [rules_cli, stories_cli, outputs_cli, users_cli]


def register_commands(app: Flask) -> None:
    for command in COMMANDS + _extra_commands():
        app.cli.add_command(command)


def _set_instance(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value:
        os.environ["FEEDHUB_INSTANCE_PATH"] = str(Path(value).resolve())


def _create_app() -> Flask:
    from feedhub import create_app
    from feedhub.db import SQLiteTooOld

    try:
        return create_app()
    except SQLiteTooOld as exc:
        raise click.ClickException(str(exc)) from None


@click.group(name="feedhub", help="feedhub: feed aggregator and reader server.")
@click.option(
    "--instance",
    metavar="DIR",
    help="Instance folder (default: $FEEDHUB_INSTANCE_PATH or ./instance).",
    expose_value=False,
    is_eager=True,
    callback=_set_instance,
)
@click.pass_context
def main(ctx: click.Context) -> None:
    # the same commands as `flask --app feedhub …`, without Flask's own options
    ctx.obj = ScriptInfo(create_app=_create_app, set_debug_flag=False, load_dotenv_defaults=False)


for _command in COMMANDS + _extra_commands():
    main.add_command(_command)

if __name__ == "__main__":
    main()
