"""The reader in headless Chromium: keyboard, toggles, search, language, phone width, safety."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from feedhub.ingest.parse import process_feed

from ..reader_seed import PASSWORD, Seeder
from .conftest import Problems

pytest_plugins = ("tests.reader_fixtures",)
pytestmark = pytest.mark.browser


def _log_in(page: Page, base: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", "reader")
    page.fill("#password", PASSWORD)
    page.click("form.stacked-form button[type=submit]")
    page.wait_for_url(f"{base}/")


def _three_stories(seed: Seeder) -> None:
    cat = seed.category("Wirtschaft", slug="wirtschaft", position=1)
    for title in ("Erste Meldung", "Zweite Meldung", "Dritte Meldung"):
        seed.story(title, category=cat, lead=f"{title}: ein Text über das Rathaus.")


def test_j_and_k_move_through_stories_and_o_opens(
    page: Page, live_server: str, seed: Seeder
) -> None:
    _three_stories(seed)
    seed.session.commit()
    page.goto(live_server + "/")
    stories = page.locator("[data-story-list] article.story")

    page.keyboard.press("j")
    expect(stories.nth(0)).to_have_class("story is-current")
    page.keyboard.press("j")
    expect(stories.nth(1)).to_have_class("story is-current")
    page.keyboard.press("k")
    expect(stories.nth(0)).to_have_class("story is-current")
    expect(stories.nth(0).locator("[data-open]")).to_be_focused()
    page.keyboard.press("o")

    expect(page.locator("h1#story-heading")).to_have_text("Dritte Meldung")


def test_question_mark_opens_the_shortcut_help_and_slash_focuses_search(
    page: Page, live_server: str
) -> None:
    page.goto(live_server + "/")

    page.keyboard.press("?")
    expect(page.locator("#shortcut-help")).to_be_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("/")

    expect(page.locator("#site-search")).to_be_focused()


def test_star_and_read_toggles_persist_across_a_reload(
    page: Page, live_server: str, seed: Seeder
) -> None:
    seed.user()
    _three_stories(seed)
    seed.session.commit()
    _log_in(page, live_server)
    first = page.locator("[data-story-list] article.story").first

    page.keyboard.press("j")
    page.keyboard.press("s")
    expect(first.locator('button[data-action="star"]')).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("m")
    expect(first.locator('button[data-action="read"]')).to_have_attribute("aria-pressed", "true")
    page.reload()

    first = page.locator("[data-story-list] article.story").first
    expect(first.locator('button[data-action="star"]')).to_have_attribute("aria-pressed", "true")
    expect(first.locator('button[data-action="read"]')).to_have_attribute("aria-pressed", "true")
    expect(first).to_have_class("story is-read")


def test_search_from_the_header_highlights_matches(
    page: Page, live_server: str, seed: Seeder
) -> None:
    _three_stories(seed)
    seed.story("Freibad öffnet", lead="Sommer.")
    seed.session.commit()
    page.goto(live_server + "/")

    page.keyboard.press("/")
    page.keyboard.type("Freibad")
    page.keyboard.press("Enter")

    expect(page.locator("[data-story-list] article.story")).to_have_count(1)
    expect(page.locator(".story-title mark")).to_have_text("Freibad")


def test_language_switch_changes_the_interface_and_sticks(page: Page, live_server: str) -> None:
    page.goto(live_server + "/")
    expect(page.locator("html")).to_have_attribute("lang", "de")

    page.click('button[name="language"][value="en"]')
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.reload()

    expect(page.locator(".section-nav")).to_contain_text("Front page")


def test_phone_width_has_no_horizontal_scroll(
    page: Page, live_server: str, seed: Seeder, tmp_path: Path
) -> None:
    cat = seed.category("Wirtschaft", slug="wirtschaft", position=1)
    seed.story(
        "Donaudampfschifffahrtsgesellschaftskapitänsmützenhersteller meldet Rekordumsatz",
        category=cat,
        lead="https://example.org/ein/sehr/langer/pfad/ohne/leerzeichen/" * 3,
        sources=["Tagblatt", "Südwest Presse", "Schwäbische Zeitung"],
    )
    seed.session.commit()
    page.set_viewport_size({"width": 360, "height": 740})

    for path in ("/", "/search?q=rekordumsatz", "/login"):
        page.goto(live_server + path)
        shot = tmp_path / f"360{path.replace('/', '_').replace('?', '_')}.png"
        page.screenshot(path=str(shot), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{path} is {width}px wide"
        assert shot.stat().st_size > 0


def test_pages_log_no_console_errors(
    page: Page, live_server: str, seed: Seeder, problems: Problems
) -> None:
    seed.user()
    _three_stories(seed)
    seed.session.commit()
    _log_in(page, live_server)

    paths = ("/", "/latest", "/category/wirtschaft", "/search?q=rathaus", "/unread", "/account")
    for path in paths:
        page.goto(live_server + path)
        page.keyboard.press("j")
    page.goto(live_server + "/story/1")

    assert problems.console == [] and problems.page_errors == []


HOSTILE_FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
<title>Evil &lt;img src=x onerror=alert(11)&gt; News</title>
<link>https://evil.example/</link>
<item>
  <title>Breaking &lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror="alert(2)"&gt;</title>
  <link>javascript:alert(3)</link>
  <guid>evil-1</guid>
  <author>mallory@example.org (&lt;svg onload=alert(4)&gt;)</author>
  <description><![CDATA[
    <p onclick="alert(5)">Hello<script>alert(6)</script></p>
    <img src="x" onerror="alert(7)">
    <a href="javascript:alert(8)">click</a>
    <iframe src="javascript:alert(9)"></iframe>
    <svg><script>alert(10)</script></svg>
    <style>body{display:none}</style>
    <form action="https://evil.example/"><button>Go</button></form>
  ]]></description>
  <pubDate>Thu, 23 Jun 2022 10:00:00 GMT</pubDate>
</item>
</channel></rss>"""


def test_hostile_feed_payloads_never_run(
    page: Page, live_server: str, seed: Seeder, problems: Problems
) -> None:
    feed = process_feed(
        HOSTILE_FEED, {"content-type": "application/rss+xml"}, "https://evil.example/rss"
    )
    item = feed.entries[0]
    story = seed.story(
        item.title,
        sources=[feed.title],
        author=item.author,
        lead=item.lead,
        content=item.content,
    )
    seed.session.commit()
    page.add_init_script("window.__alerts = []; window.alert = (m) => window.__alerts.push(m);")

    source_id = seed.sources[feed.title].id
    for path in ("/", f"/story/{story.id}", "/search?q=breaking", f"/source/{source_id}"):
        page.goto(live_server + path)
        page.wait_for_load_state("load")
        assert page.evaluate("window.__alerts") == [], path
        assert page.locator("script:not([src])").count() == 0, path

    assert problems.dialogs == []
    assert page.locator("body").is_visible()
