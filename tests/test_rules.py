"""Admin rules: validation, evaluation, storage, preview, and their effect on ingest."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from feedhub.db import Database
from feedhub.ingest.records import EntryData, FeedData
from feedhub.ingest.store import store_feed
from feedhub.models import Category, Source, Story
from feedhub.stories.categories import ensure_default_categories
from feedhub.stories.rule_store import add_rule, list_rules, preview_rule, remove_rule
from feedhub.stories.rules import EntryFields, RuleError, RuleSpec, compile_rule, evaluate

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)


def spec(**kw: object) -> RuleSpec:
    base: dict[str, object] = {
        "name": "r",
        "field": "title",
        "match_type": "keywords",
        "pattern": "Bundesliga",
        "action": "hide",
    }
    base.update(kw)
    return RuleSpec(**base)  # type: ignore[arg-type]


# -- pure evaluation ----------------------------------------------------------
def test_keywords_match_any_word_case_insensitively() -> None:
    rule = compile_rule(spec(pattern="Horoskop, Bundesliga"))
    assert rule.matches(EntryFields(title="Das BUNDESLIGA-Wochenende"))
    assert rule.matches(EntryFields(title="Ihr Horoskop für heute"))


def test_keywords_respect_word_boundaries() -> None:
    rule = compile_rule(spec(pattern="Rat"))
    assert rule.matches(EntryFields(title="Der Rat tagt"))
    assert not rule.matches(EntryFields(title="Beratung im Rathaus"))


def test_rule_looks_only_at_its_field() -> None:
    rule = compile_rule(spec(field="author", pattern="dpa"))
    assert not rule.matches(EntryFields(title="dpa meldet"))
    assert rule.matches(EntryFields(author="Von dpa"))


def test_any_field_includes_feed_categories_and_source() -> None:
    rule = compile_rule(spec(field="any", pattern="Blaulicht"))
    assert rule.matches(EntryFields(feed_categories=("Lokales", "Blaulicht")))
    assert compile_rule(spec(field="source", pattern="Kurier")).matches(
        EntryFields(source="Rhein-Kurier")
    )


def test_regex_rule_matches() -> None:
    rule = compile_rule(spec(match_type="regex", pattern=r"^Anzeige\s*[:|]"))
    assert rule.matches(EntryFields(title="Anzeige: Küchen"))
    assert not rule.matches(EntryFields(title="Die Anzeige: erstattet"))


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("(a+)+$", "nested quantifiers"),
        (r"(\w+\s?)*x", "nested quantifiers"),
        ("(?:ab*){2,}", "nested quantifiers"),
        (r"(a)\1", "back-references"),
        ("(?P<x>a)(?P=x)", "back-references"),
        ("[unclosed", "invalid regular expression"),
        ("a" * 301, "longer than 300"),
        ("   ", "pattern is empty"),
    ],
)
def test_dangerous_or_invalid_regex_is_refused_with_message(pattern: str, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        compile_rule(spec(match_type="regex", pattern=pattern))


def test_harmless_quantified_groups_are_accepted() -> None:
    for pattern in ["(foo|bar)+", "(?:ab){2,5}", "x{3}", r"\d+ Tote", "[(]+", "(?i)neuwied"]:
        compile_rule(spec(match_type="regex", pattern=pattern))


def test_unknown_field_action_and_missing_category_are_refused() -> None:
    with pytest.raises(RuleError, match="unknown field"):
        compile_rule(spec(field="body"))
    with pytest.raises(RuleError, match="unknown action"):
        compile_rule(spec(action="delete"))
    with pytest.raises(RuleError, match="needs a category"):
        compile_rule(spec(action="set_category"))


def test_first_category_wins_and_flags_accumulate() -> None:
    rules = [
        compile_rule(spec(name="a", pattern="Tor", action="set_category", category_id=1)),
        compile_rule(spec(name="b", pattern="Tor", action="set_category", category_id=2)),
        compile_rule(spec(name="c", pattern="Tor", action="flag_sponsored")),
        compile_rule(spec(name="d", pattern="Tor", action="hide")),
    ]
    outcome = evaluate(rules, EntryFields(title="Tor des Monats"))
    assert (outcome.category_id, outcome.category_rule) == (1, "a")
    assert outcome.sponsored_reason == "rule: c"
    assert outcome.hidden_by == "d"


# -- database -------------------------------------------------------------------
@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    with db.session() as s:
        ensure_default_categories(s, "Weitere Artikel")
        yield s


@pytest.fixture
def source(session: Session) -> Source:
    src = Source(url="https://kurier.example/feed", title="Rhein-Kurier")
    session.add(src)
    session.flush()
    return src


def item(n: int, title: str, lead: str = "Ein Bericht aus der Region.") -> EntryData:
    return EntryData(
        guid=f"g{n}",
        url=f"https://kurier.example/{n}",
        canonical_url=f"kurier.example/{n}",
        title=title,
        author="",
        summary=lead,
        content=lead,
        lead=lead,
        published_at=NOW,
        updated_at=None,
        content_hash=hashlib.sha256(f"{title}{lead}".encode()).hexdigest(),
    )


def test_add_rule_resolves_category_by_name(session: Session) -> None:
    rule = add_rule(session, spec(action="set_category", pattern="Tor"), category_name="sport")
    assert (
        rule.category_id
        == session.scalars(select(Category.id).where(Category.name == "Sport")).one()
    )


def test_add_rule_with_unknown_category_is_refused(session: Session) -> None:
    with pytest.raises(RuleError, match="no category named 'Astrologie'"):
        add_rule(session, spec(action="set_category"), category_name="Astrologie")


def test_rules_are_listed_in_order_and_removed(session: Session) -> None:
    first = add_rule(session, spec(name="first"))
    second = add_rule(session, spec(name="second"))
    assert [r.name for r in list_rules(session)] == ["first", "second"]
    remove_rule(session, first.id)
    assert [r.id for r in list_rules(session)] == [second.id]
    with pytest.raises(RuleError, match="does not exist"):
        remove_rule(session, first.id)


def test_preview_returns_newest_matching_entries(session: Session, source: Source) -> None:
    store_feed(
        session,
        source,
        FeedData(
            entries=[item(1, "Horoskop Montag"), item(2, "Stadtrat"), item(3, "Horoskop Dienstag")]
        ),
        NOW,
    )
    found = preview_rule(session, spec(pattern="Horoskop"), limit=5)
    assert [e.title for e in found] == ["Horoskop Dienstag", "Horoskop Montag"]
    assert len(preview_rule(session, spec(pattern="Horoskop"), limit=1)) == 1


def test_preview_of_invalid_rule_raises(session: Session) -> None:
    with pytest.raises(RuleError):
        preview_rule(session, spec(match_type="regex", pattern="(a+)+"), limit=5)


def _story_of(session: Session, title: str) -> Story:
    return session.scalars(select(Story).where(Story.title == title)).one()


def test_set_category_rule_beats_feed_tags(session: Session, source: Source) -> None:
    add_rule(
        session, spec(name="fussball", pattern="Tor", action="set_category"), category_name="Sport"
    )
    data = item(1, "Tor des Monats")
    data.feed_categories = ["Wirtschaft"]
    store_feed(session, source, FeedData(entries=[data]), NOW)
    story = _story_of(session, "Tor des Monats")
    assert story.category is not None and story.category.name == "Sport"
    assert story.category_reason == "rule: fussball"


def test_flag_and_hide_rules_apply_on_ingest(session: Session, source: Source) -> None:
    add_rule(session, spec(name="werbepartner", pattern="Autohaus", action="flag_sponsored"))
    add_rule(session, spec(name="astro", pattern="Horoskop", action="hide"))
    store_feed(
        session,
        source,
        FeedData(entries=[item(1, "Autohaus Schmitz lädt ein"), item(2, "Horoskop")]),
        NOW,
    )
    flagged = _story_of(session, "Autohaus Schmitz lädt ein")
    assert (flagged.sponsored, flagged.sponsored_reason) == (True, "rule: werbepartner")
    assert _story_of(session, "Horoskop").hidden
