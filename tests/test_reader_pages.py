"""The reader's pages through the Flask test client, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from flask.testing import FlaskClient

from .reader_seed import BASE_TIME, Seeder

pytest_plugins = ("tests.reader_fixtures",)


def _titles(html: str) -> list[str]:
    return re.findall(r'<h3 class="story-title"[^>]*><a [^>]*>([^<]*)</a>', html)


def test_front_page_groups_sections_in_admin_order(client: FlaskClient, seed: Seeder) -> None:
    other = seed.category("Weitere Artikel", slug="weitere", position=9, fallback=True)
    sport = seed.category("Sport", slug="sport", position=2, heading="Aktuelles aus dem Sport")
    wirtschaft = seed.category(
        "Wirtschaft", slug="wirtschaft", position=1, heading="Aktuelle Artikel aus der Wirtschaft"
    )
    seed.story("Tor in der Nachspielzeit", category=sport)
    seed.story("Bäckerei eröffnet", category=wirtschaft)
    seed.story("Unsortiert", category=other)
    seed.session.commit()

    html = client.get("/").get_data(as_text=True)

    headings = re.findall(r'<h2 id="section-\d+">([^<]*)</h2>', html)
    assert headings == [
        "Aktuelle Artikel aus der Wirtschaft",
        "Aktuelles aus dem Sport",
        "Weitere Artikel",
    ]


def test_front_page_puts_uncategorized_stories_under_the_fallback(
    client: FlaskClient, seed: Seeder
) -> None:
    seed.category("Weitere Artikel", slug="weitere", position=9, fallback=True)
    seed.story("Ohne Kategorie")
    seed.session.commit()

    html = client.get("/").get_data(as_text=True)

    assert re.search(r"Weitere Artikel</h2>.*Ohne Kategorie", html, re.S)


def test_front_page_lists_newest_first_with_place_time_sources_and_teaser(
    client: FlaskClient, seed: Seeder
) -> None:
    cat = seed.category("Wirtschaft", slug="wirtschaft", position=1)
    ulm = seed.place("Ulm", "ulm")
    seed.story("Älter", category=cat, at=BASE_TIME)
    seed.story(
        "Neuer",
        category=cat,
        at=BASE_TIME + timedelta(hours=1),
        sources=["Tagblatt", "Südwest Presse"],
        places=[ulm],
        lead="Wort " * 100,
    )
    seed.session.commit()

    html = client.get("/").get_data(as_text=True)

    assert _titles(html) == ["Neuer", "Älter"]
    assert '<a class="place" href="/place/ulm">Ulm</a>' in html
    assert '>Tagblatt</a>, <a href="/source/' in html and "Südwest Presse" in html
    assert '<time datetime="2022-06-23T11:00:00+00:00">' in html
    teaser = re.search(r'<p class="teaser">([^<]*)</p>', html)
    assert teaser and teaser.group(1).endswith("Wort …")


def test_front_page_links_more_when_a_section_overflows(client: FlaskClient, seed: Seeder) -> None:
    cat = seed.category("Wirtschaft", slug="wirtschaft", position=1)
    for i in range(7):
        seed.story(f"Meldung {i}", category=cat)
    seed.session.commit()

    html = client.get("/").get_data(as_text=True)

    assert len(_titles(html)) == 6
    assert 'href="/category/wirtschaft"' in html.split('class="more"')[1]


def test_category_page_paginates_by_keyset_without_overlap(
    client: FlaskClient, seed: Seeder
) -> None:
    cat = seed.category("Wirtschaft", slug="wirtschaft", position=1)
    same_time = BASE_TIME + timedelta(days=1)
    for i in range(45):
        # ties on sort_at: the id breaks them, so no story is skipped or repeated
        seed.story(f"Meldung {i:02d}", category=cat, at=same_time if i % 3 == 0 else None)
    seed.session.commit()

    first = client.get("/category/wirtschaft").get_data(as_text=True)
    more = re.search(r'<a href="([^"]+)" rel="next" data-more>', first)
    assert more
    second = client.get(more.group(1).replace("&amp;", "&")).get_data(as_text=True)

    shown = _titles(first) + _titles(second)
    assert len(_titles(first)) == 30
    assert sorted(shown) == sorted(f"Meldung {i:02d}" for i in range(45))
    assert "data-more" not in second


def test_category_page_of_unknown_slug_is_404(client: FlaskClient) -> None:
    assert client.get("/category/nope").status_code == 404


def test_malformed_cursor_starts_at_the_first_page(client: FlaskClient, seed: Seeder) -> None:
    cat = seed.category("Wirtschaft", slug="wirtschaft", position=1)
    seed.story("Einzige", category=cat)
    seed.session.commit()

    html = client.get("/category/wirtschaft?before=x'--").get_data(as_text=True)

    assert _titles(html) == ["Einzige"]


def test_place_page_lists_stories_of_the_place(client: FlaskClient, seed: Seeder) -> None:
    ulm = seed.place("Ulm", "ulm")
    seed.story("In Ulm", places=[ulm])
    seed.story("Anderswo")
    seed.session.commit()

    html = client.get("/place/ulm").get_data(as_text=True)

    assert _titles(html) == ["In Ulm"]
    assert "Ulm" in html.split("<h1>")[1].split("</h1>")[0]


def test_source_page_lists_the_sources_stories(client: FlaskClient, seed: Seeder) -> None:
    seed.story("Vom Tagblatt", sources=["Tagblatt"])
    seed.story("Von beiden", sources=["Kurier", "Tagblatt"])
    seed.story("Vom Kurier", sources=["Kurier"])
    seed.session.commit()
    tagblatt = seed.sources["Tagblatt"].id

    html = client.get(f"/source/{tagblatt}").get_data(as_text=True)

    assert _titles(html) == ["Von beiden", "Vom Tagblatt"]


def test_latest_page_lists_every_visible_story(client: FlaskClient, seed: Seeder) -> None:
    seed.story("Sichtbar")
    seed.story("Versteckt", hidden=True)
    seed.session.commit()

    html = client.get("/latest").get_data(as_text=True)

    assert _titles(html) == ["Sichtbar"]


def test_hidden_story_page_is_404(client: FlaskClient, seed: Seeder) -> None:
    story = seed.story("Versteckt", hidden=True)
    seed.session.commit()

    assert client.get(f"/story/{story.id}").status_code == 404


def test_story_page_shows_content_date_originals_and_other_sources(
    client: FlaskClient, seed: Seeder
) -> None:
    story = seed.story(
        "Rathaus saniert",
        sources=["Tagblatt", "Kurier"],
        content="<p>Die <strong>Sanierung</strong> beginnt.</p>",
        author="Erika Muster",
    )
    seed.session.commit()

    html = client.get(f"/story/{story.id}", headers={"Accept-Language": "de"}).get_data(
        as_text=True
    )

    assert "<p>Die <strong>Sanierung</strong> beginnt.</p>" in html
    assert "Nachricht vom 23.06.2022" in html
    assert "Erika Muster" in html
    assert html.count('rel="noopener noreferrer nofollow"') >= 2
    also = html.split("Auch berichtet von")[1]
    assert "Kurier" in also and "Tagblatt" not in also


def test_story_page_date_in_english(client: FlaskClient, seed: Seeder) -> None:
    story = seed.story("Town hall", at=BASE_TIME)
    seed.session.commit()

    html = client.get(f"/story/{story.id}", headers={"Accept-Language": "en-GB"}).get_data(
        as_text=True
    )

    assert "Published 23 Jun 2022" in html or "Published Jun 23, 2022" in html


def test_story_page_shows_sponsored_label_and_reason(client: FlaskClient, seed: Seeder) -> None:
    story = seed.story("Rabattaktion", sponsored_reason="Link mit rel=sponsored")
    seed.session.commit()

    html = client.get(f"/story/{story.id}", headers={"Accept-Language": "de"}).get_data(
        as_text=True
    )

    assert re.search(r'class="badge sponsored">Anzeige</span>\s*Link mit rel=sponsored', html)


def test_story_page_links_newer_and_older_story_of_its_category(
    client: FlaskClient, seed: Seeder
) -> None:
    cat = seed.category("Wirtschaft", slug="wirtschaft", position=1)
    older = seed.story("Älter", category=cat)
    seed.story("Andere Kategorie")
    middle = seed.story("Mitte", category=cat)
    newer = seed.story("Neuer", category=cat)
    seed.session.commit()

    html = client.get(f"/story/{middle.id}").get_data(as_text=True)

    assert f'href="/story/{newer.id}" rel="prev"' in html
    assert f'href="/story/{older.id}" rel="next"' in html


def test_missing_story_is_404(client: FlaskClient) -> None:
    assert client.get("/story/999999").status_code == 404


def test_front_page_links_the_all_stories_feed(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)

    assert (
        '<link rel="alternate" type="application/atom+xml" title="All stories" '
        'href="/feeds/all.atom">'
        in html
        or 'href="/feeds/all.atom"' in html
    )


def test_category_page_links_its_atom_rss_and_json_feeds(client: FlaskClient, seed: Seeder) -> None:
    seed.category("Wirtschaft", slug="wirtschaft", position=1)
    seed.session.commit()

    html = client.get("/category/wirtschaft").get_data(as_text=True)

    for ext, mime in (
        ("atom", "application/atom+xml"),
        ("rss", "application/rss+xml"),
        ("json", "application/feed+json"),
    ):
        assert re.search(
            rf'<link rel="alternate" type="{re.escape(mime)}" [^>]*'
            rf'href="/feeds/category/wirtschaft\.{ext}">',
            html,
        )


def test_manifest_is_json_with_png_and_svg_icons(client: FlaskClient) -> None:
    response = client.get("/manifest.webmanifest")

    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data(as_text=True))
    types = {icon["type"] for icon in manifest["icons"]}
    assert types == {"image/png", "image/svg+xml"}
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200


def test_shortcuts_page_lists_every_key(client: FlaskClient) -> None:
    html = client.get("/shortcuts").get_data(as_text=True)

    for key in ("j", "k", "o", "Enter", "v", "s", "m", "Shift", "/", "?"):
        assert f"<kbd>{key}</kbd>" in html


def test_pages_load_only_the_static_script(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)

    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts == ['<script src="/static/reader.js" defer>']
    assert not re.search(r"\son[a-z]+=", html)


def test_saved_output_feeds_are_linked_where_their_filter_matches(
    client: FlaskClient, seed: Seeder
) -> None:
    from feedhub.models import OutputFeed

    cat = seed.category("Wirtschaft", slug="wirtschaft", position=1)
    seed.category("Sport", slug="sport", position=2)
    seed.session.add_all(
        [
            OutputFeed(slug="wirtschaft-kompakt", title="Wirtschaft kompakt",
                       filters={"categories": [cat.id]}),
            OutputFeed(slug="alles", title="Alles", filters={}),
            OutputFeed(slug="geheim", title="Geheim", filters={}, public=False),
        ]
    )  # fmt: skip
    seed.session.commit()

    category_page = client.get("/category/wirtschaft").get_data(as_text=True)
    other_category = client.get("/category/sport").get_data(as_text=True)
    front = client.get("/").get_data(as_text=True)

    assert 'href="/feeds/wirtschaft-kompakt.atom"' in category_page
    assert 'href="/feeds/wirtschaft-kompakt.atom"' not in other_category
    assert (
        'href="/feeds/alles.atom"' in front and 'href="/feeds/wirtschaft-kompakt.atom"' not in front
    )
    assert "geheim" not in front
