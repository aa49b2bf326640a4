"""Categories, rules (with preview) and stories (why merged, split, merge) in the admin."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask.testing import FlaskClient
from sqlalchemy import select

from feedhub.db import Database
from feedhub.models import Category, Entry, Rule, Source, Story, StoryMerge

from . import admin_seed
from .admin_seed import token

# fixtures shared by the admin tests
admin_client = admin_seed.admin_client
admin_id = admin_seed.admin_id


def categories(db: Database) -> list[tuple[str, bool]]:
    with db.session() as session:
        rows = session.scalars(select(Category).order_by(Category.position, Category.id))
        return [(c.name, c.is_fallback) for c in rows]


def add_category(client: FlaskClient, name: str) -> None:
    response = client.post(
        "/admin/categories/new", data={"name": name, "csrf_token": token(client)}
    )
    assert response.status_code == 302


def category_id(db: Database, name: str) -> int:
    with db.session() as session:
        found = session.scalar(select(Category.id).where(Category.name == name))
        assert found is not None
        return found


def test_categories_are_created_renamed_reordered(admin_client: FlaskClient, db: Database) -> None:
    for name in ("Weitere Artikel", "Wirtschaft", "Sport"):
        add_category(admin_client, name)
    sport = category_id(db, "Sport")
    admin_client.post(
        f"/admin/categories/{sport}/move",
        data={"direction": "up", "csrf_token": token(admin_client)},
    )
    admin_client.post(
        f"/admin/categories/{sport}/edit",
        data={"name": "Sport & Freizeit", "heading": "", "csrf_token": token(admin_client)},
    )
    assert categories(db) == [
        ("Weitere Artikel", True),
        ("Sport & Freizeit", False),
        ("Wirtschaft", False),
    ]


def test_the_fallback_can_be_moved_and_is_not_deletable(
    admin_client: FlaskClient, db: Database
) -> None:
    add_category(admin_client, "Weitere Artikel")
    add_category(admin_client, "Wirtschaft")
    first = category_id(db, "Weitere Artikel")
    admin_client.post(
        f"/admin/categories/{category_id(db, 'Wirtschaft')}/fallback",
        data={"csrf_token": token(admin_client)},
    )
    assert categories(db) == [("Weitere Artikel", False), ("Wirtschaft", True)]
    admin_client.post(
        f"/admin/categories/{category_id(db, 'Wirtschaft')}/delete",
        data={"csrf_token": token(admin_client)},
    )
    assert len(categories(db)) == 2
    admin_client.post(f"/admin/categories/{first}/delete", data={"csrf_token": token(admin_client)})
    assert categories(db) == [("Wirtschaft", True)]


def test_a_duplicate_category_name_is_reported_next_to_the_field(admin_client: FlaskClient) -> None:
    add_category(admin_client, "Sport")
    response = admin_client.post(
        "/admin/categories/new", data={"name": "Sport", "csrf_token": token(admin_client)}
    )
    assert response.status_code == 400
    assert 'id="name-error"' in response.get_data(as_text=True)


# --- rules -------------------------------------------------------------------------


def seed_entries(db: Database, titles: list[str]) -> list[int]:
    """One source, one story per entry."""
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


RULE = {
    "name": "Fußball",
    "field": "title",
    "match_type": "keywords",
    "pattern": "Bundesliga, Pokal",
    "action": "set_category",
    "enabled": "y",
}


def test_the_preview_lists_matching_entries_without_saving(
    admin_client: FlaskClient, db: Database
) -> None:
    add_category(admin_client, "Sport")
    seed_entries(db, ["Bundesliga: Mainz gewinnt", "Haushalt beschlossen", "Pokal-Aus in Köln"])
    data = {
        **RULE,
        "category_id": str(category_id(db, "Sport")),
        "preview": "1",
        "csrf_token": token(admin_client),
    }
    html = admin_client.post("/admin/rules/new", data=data).get_data(as_text=True)
    matches = re.search(r'<ul class="preview rule-matches">(.*?)</ul>', html, re.S)
    assert matches
    assert "Bundesliga: Mainz gewinnt" in matches.group(1) and "Pokal-Aus in Köln" in matches.group(
        1
    )
    assert "Haushalt" not in matches.group(1)
    with db.session() as session:
        assert session.scalar(select(Rule)) is None


def test_the_live_preview_fragment(admin_client: FlaskClient, db: Database) -> None:
    seed_entries(db, ["Bundesliga: Mainz gewinnt", "Haushalt beschlossen"])
    args = {**RULE, "action": "hide"}
    html = admin_client.get("/admin/rules/preview", query_string=args).get_data(as_text=True)
    assert "Bundesliga: Mainz gewinnt" in html and "Haushalt" not in html


def test_saving_a_rule(admin_client: FlaskClient, db: Database) -> None:
    add_category(admin_client, "Sport")
    data = {
        **RULE,
        "category_id": str(category_id(db, "Sport")),
        "save": "1",
        "csrf_token": token(admin_client),
    }
    assert admin_client.post("/admin/rules/new", data=data).status_code == 302
    with db.session() as session:
        rule = session.scalar(select(Rule))
        assert rule is not None
        assert (rule.name, rule.pattern, rule.enabled) == ("Fußball", "Bundesliga, Pokal", True)


def test_a_set_category_rule_needs_a_category(admin_client: FlaskClient, db: Database) -> None:
    data = {**RULE, "category_id": "", "save": "1", "csrf_token": token(admin_client)}
    response = admin_client.post("/admin/rules/new", data=data)
    assert response.status_code == 400
    assert 'id="category_id-error"' in response.get_data(as_text=True)


def test_a_dangerous_regex_is_refused_next_to_the_pattern(
    admin_client: FlaskClient, db: Database
) -> None:
    data = {
        **RULE,
        "action": "hide",
        "match_type": "regex",
        "pattern": "(a+)+$",
        "save": "1",
        "csrf_token": token(admin_client),
    }
    response = admin_client.post("/admin/rules/new", data=data)
    assert response.status_code == 400
    assert 'id="pattern-error"' in response.get_data(as_text=True)
    with db.session() as session:
        assert session.scalar(select(Rule)) is None


def test_rules_are_reordered_and_toggled(admin_client: FlaskClient, db: Database) -> None:
    for name in ("eins", "zwei"):
        data = {
            **RULE,
            "name": name,
            "action": "hide",
            "save": "1",
            "csrf_token": token(admin_client),
        }
        admin_client.post("/admin/rules/new", data=data)
    with db.session() as session:
        second = session.scalar(select(Rule.id).where(Rule.name == "zwei"))
    admin_client.post(
        f"/admin/rules/{second}/move", data={"direction": "up", "csrf_token": token(admin_client)}
    )
    admin_client.post(f"/admin/rules/{second}/toggle", data={"csrf_token": token(admin_client)})
    with db.session() as session:
        rows = session.scalars(select(Rule).order_by(Rule.position)).all()
        assert [(r.name, r.enabled) for r in rows] == [("zwei", False), ("eins", True)]


# --- stories ---------------------------------------------------------------------


def merged_story(db: Database) -> tuple[int, list[int]]:
    ids = seed_entries(db, ["Brand in Altstadt", "Feuer in der Altstadt"])
    with db.session() as session:
        first, second = (session.get(Entry, i) for i in ids)
        assert first and second
        old_story = second.story_id
        second.story_id = first.story_id
        session.flush()
        session.delete(session.get(Story, old_story))
        session.add(
            StoryMerge(
                story_id=first.story_id,
                entry_id=second.id,
                reason="near_duplicate",
                matched_entry_id=first.id,
                similarity=0.83,
                key="lsh",
            )
        )
        story = session.get(Story, first.story_id)
        assert story
        story.entry_count = 2
        return story.id, ids


def test_the_story_page_says_why_entries_were_merged(
    admin_client: FlaskClient, db: Database
) -> None:
    story_id, ids = merged_story(db)
    html = admin_client.get(
        f"/admin/stories/{story_id}", headers={"Accept-Language": "en"}
    ).get_data(as_text=True)
    row = re.search(rf'data-entry-id="{ids[1]}".*?</tr>', html, re.S)
    assert row
    assert "near-duplicate text" in row.group(0) and "similarity 83 %" in row.group(0)
    assert f"matched entry #{ids[0]}" in row.group(0)


def test_splitting_moves_the_checked_entries_to_a_new_story(
    admin_client: FlaskClient, db: Database
) -> None:
    story_id, ids = merged_story(db)
    response = admin_client.post(
        f"/admin/stories/{story_id}/split",
        data={"entry_ids": str(ids[1]), "csrf_token": token(admin_client)},
    )
    assert response.status_code == 302
    with db.session() as session:
        first, second = (session.get(Entry, i) for i in ids)
        assert first and second
        assert first.story_id == story_id and second.story_id != story_id and second.story_pinned


def test_merging_asks_first_then_merges(admin_client: FlaskClient, db: Database) -> None:
    ids = seed_entries(db, ["Brand in Altstadt", "Feuer in der Altstadt"])
    with db.session() as session:
        target, other = (session.get(Entry, i).story_id for i in ids)  # type: ignore[union-attr]
    csrf = token(admin_client)
    confirm = admin_client.post(
        f"/admin/stories/{target}/merge", data={"other_id": str(other), "csrf_token": csrf}
    )
    assert confirm.status_code == 200 and 'name="confirmed"' in confirm.get_data(as_text=True)
    with db.session() as session:
        assert session.get(Story, other) is not None
    admin_client.post(
        f"/admin/stories/{target}/merge",
        data={"other_id": str(other), "confirmed": "1", "csrf_token": csrf},
    )
    with db.session() as session:
        assert session.get(Story, other) is None
        assert {session.get(Entry, i).story_id for i in ids} == {target}  # type: ignore[union-attr]


def test_merging_with_an_unknown_story_is_reported_next_to_the_field(
    admin_client: FlaskClient, db: Database
) -> None:
    story_id, _ids = merged_story(db)
    response = admin_client.post(
        f"/admin/stories/{story_id}/merge",
        data={"other_id": "99999", "csrf_token": token(admin_client)},
    )
    assert response.status_code == 400
    assert 'id="other_id-error"' in response.get_data(as_text=True)
