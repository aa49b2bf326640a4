"""The search page over the stories' full-text index, with filters and highlights."""

from __future__ import annotations

import re
from datetime import timedelta

from flask.testing import FlaskClient

from .reader_seed import BASE_TIME, Seeder

pytest_plugins = ("tests.reader_fixtures",)


def _titles(html: str) -> list[str]:
    return [
        re.sub(r"</?mark>", "", t)
        for t in re.findall(r'<h3 class="story-title"[^>]*><a [^>]*>(.*?)</a></h3>', html)
    ]


def test_search_finds_matching_stories_newest_first(client: FlaskClient, seed: Seeder) -> None:
    seed.story("Rathaus wird saniert", at=BASE_TIME)
    seed.story("Neues Rathaus eröffnet", at=BASE_TIME + timedelta(days=1))
    seed.story("Freibad geschlossen")
    seed.session.commit()

    html = client.get("/search?q=rathaus").get_data(as_text=True)

    assert _titles(html) == ["Neues Rathaus eröffnet", "Rathaus wird saniert"]


def test_search_marks_the_matched_words(client: FlaskClient, seed: Seeder) -> None:
    seed.story("Rathaus wird saniert")
    seed.session.commit()

    html = client.get("/search?q=Rathaus").get_data(as_text=True)

    assert "<mark>Rathaus</mark> wird saniert" in html


def test_search_filters_by_category(client: FlaskClient, seed: Seeder) -> None:
    politik = seed.category("Politik", slug="politik", position=1)
    seed.story("Rathaus Politik", category=politik)
    seed.story("Rathaus Sonstiges")
    seed.session.commit()

    html = client.get("/search?q=rathaus&category=politik").get_data(as_text=True)

    assert _titles(html) == ["Rathaus Politik"]


def test_search_filters_by_place_and_source(client: FlaskClient, seed: Seeder) -> None:
    ulm = seed.place("Ulm", "ulm")
    seed.story("Rathaus Ulm", places=[ulm], sources=["Kurier"])
    seed.story("Rathaus Kurier", sources=["Kurier"])
    seed.story("Rathaus Tagblatt", sources=["Tagblatt"])
    seed.session.commit()
    kurier = seed.sources["Kurier"].id

    by_place = client.get("/search?q=rathaus&place=ulm").get_data(as_text=True)
    by_source = client.get(f"/search?q=rathaus&source={kurier}").get_data(as_text=True)

    assert _titles(by_place) == ["Rathaus Ulm"]
    assert sorted(_titles(by_source)) == ["Rathaus Kurier", "Rathaus Ulm"]


def test_search_filters_by_date_range(client: FlaskClient, seed: Seeder) -> None:
    seed.story("Rathaus früh", at=BASE_TIME - timedelta(days=10))
    seed.story("Rathaus mittendrin", at=BASE_TIME)
    seed.story("Rathaus spät", at=BASE_TIME + timedelta(days=10))
    seed.session.commit()

    html = client.get("/search?q=rathaus&since=2022-06-20&until=2022-06-25").get_data(as_text=True)

    assert _titles(html) == ["Rathaus mittendrin"]


def test_search_paginates_with_a_cursor(client: FlaskClient, seed: Seeder) -> None:
    for i in range(35):
        seed.story(f"Rathaus Meldung {i:02d}")
    seed.session.commit()

    first = client.get("/search?q=rathaus").get_data(as_text=True)
    more = re.search(r'<a href="([^"]+)" rel="next" data-more>', first)
    assert more
    second = client.get(more.group(1).replace("&amp;", "&")).get_data(as_text=True)

    shown = _titles(first) + _titles(second)
    assert sorted(shown) == sorted(f"Rathaus Meldung {i:02d}" for i in range(35))


def test_empty_search_shows_the_form_only(client: FlaskClient) -> None:
    html = client.get("/search").get_data(as_text=True)

    assert 'id="search-q"' in html and "story-title" not in html


def test_search_with_operator_syntax_does_not_fail(client: FlaskClient, seed: Seeder) -> None:
    seed.story("Rathaus")
    seed.session.commit()

    response = client.get('/search?q="rathaus" OR NEAR(x) *')

    assert response.status_code == 200


def test_search_marks_words_with_umlauts(client: FlaskClient, seed: Seeder) -> None:
    seed.story("Bürgermeister eröffnet Straßenfest")
    seed.session.commit()

    html = client.get("/search?q=Straßenfest").get_data(as_text=True)

    assert "<mark>Straßenfest</mark>" in html
