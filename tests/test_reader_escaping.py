"""Hostile feed data (titles, authors, source names, places, links) never becomes markup."""

from __future__ import annotations

from flask.testing import FlaskClient

from .reader_seed import Seeder

pytest_plugins = ("tests.reader_fixtures",)

PAYLOAD = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


def test_hostile_title_lead_and_source_are_escaped_on_lists(
    client: FlaskClient, seed: Seeder
) -> None:
    place = seed.place(f"Ort {PAYLOAD}", "ort")
    seed.story(
        f"Titel {PAYLOAD}", lead=f"Lead {PAYLOAD}", sources=[f"Quelle {PAYLOAD}"], places=[place]
    )
    seed.session.commit()

    for path in ("/", "/latest", "/place/ort"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in html, path
        assert "<img src=x" not in html, path
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html, path


def test_hostile_author_and_source_are_escaped_on_the_story_page(
    client: FlaskClient, seed: Seeder
) -> None:
    story = seed.story(
        f"Titel {PAYLOAD}", author=f"Autor {PAYLOAD}", sources=[f"Quelle {PAYLOAD}", "Zweite"]
    )
    seed.session.commit()

    html = client.get(f"/story/{story.id}").get_data(as_text=True)

    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert html.count("&lt;script&gt;alert(2)&lt;/script&gt;") >= 3


def test_hostile_source_name_is_escaped_on_its_page(client: FlaskClient, seed: Seeder) -> None:
    seed.story("Meldung", sources=[f"Quelle {PAYLOAD}"])
    seed.session.commit()
    source_id = seed.sources[f"Quelle {PAYLOAD}"].id

    html = client.get(f"/source/{source_id}").get_data(as_text=True)

    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_javascript_links_never_reach_an_href(client: FlaskClient, seed: Seeder) -> None:
    story = seed.story("Meldung")
    seed.session.flush()
    entry = story.representative_entry_id
    from feedhub.models import Entry

    row = seed.session.get(Entry, entry)
    assert row is not None
    row.url = "javascript:alert(document.cookie)"
    seed.session.commit()

    for path in ("/latest", f"/story/{story.id}"):
        html = client.get(path).get_data(as_text=True)
        assert "javascript:" not in html, path


def test_search_highlight_escapes_before_marking(client: FlaskClient, seed: Seeder) -> None:
    seed.story("Rathaus <b>fett</b> & Co", lead="Rathaus <script>alert(1)</script>")
    seed.session.commit()

    html = client.get("/search?q=rathaus").get_data(as_text=True)

    assert "<mark>Rathaus</mark> &lt;b&gt;fett&lt;/b&gt; &amp; Co" in html
    assert "<script>alert" not in html
