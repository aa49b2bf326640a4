"""The admin in headless Chromium: add a source, watch it poll, failing source, rules, split."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from feedhub.config import Settings
from feedhub.db import Database
from feedhub.ingest.sources import add_source
from feedhub.models import Entry, Source, Story, StoryMerge

from ..admin_seed import PASSWORD, make_user
from ..feedserver import FeedServer, rss
from .conftest import Problems

pytestmark = pytest.mark.browser

ITEMS = [
    {
        "title": "Stadtrat beschließt Haushalt",
        "link": "https://example.org/a",
        "guid": "a",
        "description": "Der Rat hat den Haushalt beschlossen.",
    },
    {
        "title": "Neue Radwege im Süden",
        "link": "https://example.org/b",
        "guid": "b",
        "description": "Die Stadt baut drei neue Radwege.",
    },
]


@pytest.fixture
def admin_page(page: Page, live_server: str, db: Database) -> Page:
    make_user(db, "admin", admin=True)
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()
    return page


def no_problems(problems: Problems) -> None:
    assert problems.console == [] and problems.page_errors == []


def test_add_a_source_by_page_url_and_see_it_poll(
    admin_page: Page, live_server: str, feed_server: FeedServer, problems: Problems
) -> None:
    feed_server.add("/nachrichten.rss", body=rss(ITEMS, title="Stadtanzeiger"))
    home = feed_server.add(
        "/",
        body=b'<html><head><link rel="alternate" type="application/rss+xml" '
        b'title="Nachrichten" href="/nachrichten.rss"></head><body>Start</body></html>',
        headers={"Content-Type": "text/html"},
    )
    admin_page.goto(f"{live_server}/admin/sources/add")
    admin_page.fill("#url", home)
    admin_page.locator("form[action$='/admin/sources/add'] button[type=submit]").click()
    expect(admin_page).to_have_url(re.compile(r"/admin/sources/\d+$"))
    # the page reloads itself until the background fetch has landed
    expect(admin_page.locator("#preview")).to_contain_text(
        "Stadtrat beschließt Haushalt", timeout=20_000
    )
    expect(admin_page.locator("#source-status")).to_have_attribute("class", "badge badge-ok")
    expect(admin_page.locator(".timeline tbody tr")).to_have_count(1)
    no_problems(problems)


def test_a_failing_source_shows_its_reason(
    admin_page: Page,
    live_server: str,
    feed_server: FeedServer,
    db: Database,
    settings: Settings,
    problems: Problems,
) -> None:
    url = feed_server.add("/weg.xml", status=404, body=b"not here")
    with db.session() as session:
        source_id = add_source(session, settings, url, title="Verschwundene Quelle").id
    admin_page.goto(f"{live_server}/admin/sources/{source_id}")
    admin_page.locator("form[action$='/poll'] button").click()
    for _attempt in range(50):
        if admin_page.locator("#source-error").count():
            break
        admin_page.wait_for_timeout(200)
        admin_page.reload()
    expect(admin_page.locator("#source-error")).to_contain_text("404 Not Found")
    admin_page.goto(f"{live_server}/admin/health?status=failing")
    row = admin_page.locator(f"tr[data-source-id='{source_id}']")
    expect(row).to_contain_text("Verschwundene Quelle")
    expect(row.locator(".error-text")).to_contain_text("404 Not Found")
    no_problems(problems)


def seed_entries(db: Database, titles: list[str]) -> list[int]:
    with db.session() as session:
        source = Source(url="https://zeitung.example/rss", title="Zeitung")
        session.add(source)
        session.flush()
        ids = []
        for n, title in enumerate(titles):
            story = Story(title=title, sort_at=datetime(2024, 5, 1, 8, n, tzinfo=UTC))
            session.add(story)
            session.flush()
            entry = Entry(
                source_id=source.id,
                identity=f"guid:{n}",
                title=title,
                story_id=story.id,
                published_at=story.sort_at,
            )
            session.add(entry)
            session.flush()
            story.representative_entry_id = entry.id
            story.entry_count = story.source_count = 1
            ids.append(entry.id)
        return ids


def test_create_a_rule_with_its_live_preview(
    admin_page: Page, live_server: str, db: Database, problems: Problems
) -> None:
    seed_entries(db, ["Bundesliga: Mainz gewinnt", "Haushalt beschlossen"])
    admin_page.goto(f"{live_server}/admin/rules/new")
    admin_page.fill("#name", "Fußball ausblenden")
    admin_page.select_option("#action", "hide")
    admin_page.fill("#pattern", "Bundesliga")
    preview = admin_page.locator("#rule-preview")
    expect(preview).to_contain_text("Bundesliga: Mainz gewinnt")
    expect(preview).not_to_contain_text("Haushalt")
    admin_page.locator("button[name=save]").click()
    expect(admin_page).to_have_url(re.compile(r"/admin/rules$"))
    expect(admin_page.locator("table.list")).to_contain_text("Fußball ausblenden")
    no_problems(problems)


def test_split_a_story(
    admin_page: Page, live_server: str, db: Database, problems: Problems
) -> None:
    ids = seed_entries(db, ["Brand in der Altstadt", "Feuer in der Altstadt"])
    with db.session() as session:
        first, second = (session.get(Entry, i) for i in ids)
        assert first and second
        old = second.story_id
        second.story_id = first.story_id
        session.flush()
        session.delete(session.get(Story, old))
        session.add(
            StoryMerge(
                story_id=first.story_id, entry_id=second.id, reason="near_duplicate", similarity=0.8
            )
        )
        story_id = first.story_id
    admin_page.goto(f"{live_server}/admin/stories/{story_id}")
    expect(admin_page.locator(".story-entries tbody tr")).to_have_count(2)
    admin_page.check(f"#split-{ids[1]}")
    admin_page.locator("#split-form button[type=submit]").click()
    expect(admin_page).not_to_have_url(re.compile(rf"/admin/stories/{story_id}$"))
    expect(admin_page.locator(".story-entries tbody tr")).to_have_count(1)
    expect(admin_page.locator(".story-entries")).to_contain_text("Feuer in der Altstadt")
    with db.session() as session:
        moved = session.scalar(select(Entry.story_id).where(Entry.id == ids[1]))
        assert moved not in (None, story_id)
    no_problems(problems)
