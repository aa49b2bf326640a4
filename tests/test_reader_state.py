"""Read marks, stars, "mark all read" and the unread/starred views; CSRF on each form."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select

from feedhub.db import Database
from feedhub.models import ReadMark, Star

from .reader_seed import Seeder, csrf_token, login

pytest_plugins = ("tests.reader_fixtures",)


def _titles(html: str) -> list[str]:
    return re.findall(r'<h3 class="story-title"[^>]*><a [^>]*>([^<]*)</a>', html)


def test_star_form_stars_the_story_and_redirects_back(
    client: FlaskClient, seed: Seeder, db: Database
) -> None:
    user = seed.user()
    story = seed.story("Merkenswert")
    seed.session.commit()
    login(client)

    response = client.post(
        f"/story/{story.id}/star",
        data={"csrf_token": csrf_token(client, "/"), "starred": "1", "next": "/latest"},
    )

    assert response.status_code == 302 and response.headers["Location"] == "/latest"
    with db.session() as s:
        assert s.scalars(select(Star.story_id).where(Star.user_id == user.id)).all() == [story.id]


def test_star_without_csrf_token_is_rejected(
    client: FlaskClient, seed: Seeder, db: Database
) -> None:
    seed.user()
    story = seed.story("Merkenswert")
    seed.session.commit()
    login(client)

    response = client.post(f"/story/{story.id}/star", data={"starred": "1"})

    assert response.status_code == 400
    with db.session() as s:
        assert s.scalars(select(Star)).all() == []


def test_read_toggle_answers_json_for_scripts(client: FlaskClient, seed: Seeder) -> None:
    seed.user()
    story = seed.story("Lesenswert")
    seed.session.commit()
    login(client)
    token = csrf_token(client, "/")

    marked = client.post(
        f"/story/{story.id}/read",
        data={"csrf_token": token, "read": "1"},
        headers={"Accept": "application/json"},
    )
    unmarked = client.post(
        f"/story/{story.id}/read",
        data={"csrf_token": token, "read": "0"},
        headers={"Accept": "application/json"},
    )

    assert marked.get_json() == {"id": story.id, "read": True}
    assert unmarked.get_json() == {"id": story.id, "read": False}


def test_anonymous_star_goes_to_login(client: FlaskClient, seed: Seeder) -> None:
    story = seed.story("Merkenswert")
    seed.session.commit()
    token = csrf_token(client)

    response = client.post(f"/story/{story.id}/star", data={"csrf_token": token})

    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_star_of_missing_story_is_404(client: FlaskClient, seed: Seeder) -> None:
    seed.user()
    seed.session.commit()
    login(client)

    response = client.post("/story/4242/star", data={"csrf_token": csrf_token(client, "/")})

    assert response.status_code == 404


def test_starred_page_lists_starred_stories(client: FlaskClient, seed: Seeder) -> None:
    seed.user()
    wanted = seed.story("Gemerkt")
    seed.story("Nicht gemerkt")
    seed.session.commit()
    login(client)
    client.post(
        f"/story/{wanted.id}/star", data={"csrf_token": csrf_token(client, "/"), "starred": "1"}
    )

    html = client.get("/starred").get_data(as_text=True)

    assert _titles(html) == ["Gemerkt"]


def test_opening_a_story_marks_it_read_and_unread_view_drops_it(
    client: FlaskClient, seed: Seeder
) -> None:
    seed.user()
    opened = seed.story("Geöffnet")
    seed.story("Nicht geöffnet")
    seed.session.commit()
    login(client)

    client.get(f"/story/{opened.id}")
    html = client.get("/unread").get_data(as_text=True)

    assert _titles(html) == ["Nicht geöffnet"]


def test_mark_all_read_marks_the_shown_stories(
    client: FlaskClient, seed: Seeder, db: Database
) -> None:
    user = seed.user()
    stories = [seed.story(f"Meldung {i}") for i in range(3)]
    seed.session.commit()
    login(client)
    page = client.get("/latest").get_data(as_text=True)
    ids = re.search(r'name="ids" value="([^"]+)"', page)
    assert ids

    response = client.post(
        "/mark-read",
        data={"csrf_token": csrf_token(client, "/"), "ids": ids.group(1), "next": "/latest"},
    )

    assert response.status_code == 302
    with db.session() as s:
        marked = set(s.scalars(select(ReadMark.story_id).where(ReadMark.user_id == user.id)))
    assert marked == {s.id for s in stories}
    assert _titles(client.get("/unread").get_data(as_text=True)) == []


def test_mark_all_read_without_csrf_token_is_rejected(client: FlaskClient, seed: Seeder) -> None:
    seed.user()
    story = seed.story("Meldung")
    seed.session.commit()
    login(client)

    response = client.post("/mark-read", data={"ids": str(story.id)})

    assert response.status_code == 400


def test_read_state_is_per_user(
    client: FlaskClient, second_client: FlaskClient, seed: Seeder
) -> None:
    seed.user("anna")
    seed.user("bert")
    story = seed.story("Meldung")
    seed.session.commit()
    login(client, "anna")
    login(second_client, "bert")

    client.get(f"/story/{story.id}")

    assert _titles(second_client.get("/unread").get_data(as_text=True)) == ["Meldung"]


def test_state_shows_on_another_device_of_the_same_user(
    client: FlaskClient, second_client: FlaskClient, seed: Seeder
) -> None:
    seed.user()
    story = seed.story("Meldung")
    seed.session.commit()
    login(client)
    login(second_client)

    client.post(
        f"/story/{story.id}/star", data={"csrf_token": csrf_token(client, "/"), "starred": "1"}
    )

    html = second_client.get("/latest").get_data(as_text=True)
    assert 'data-action="star" aria-pressed="true"' in html


def test_unread_and_starred_need_login(client: FlaskClient) -> None:
    for path in ("/unread", "/starred"):
        response = client.get(path)
        assert response.status_code == 302 and "/login?next=" in response.headers["Location"]
