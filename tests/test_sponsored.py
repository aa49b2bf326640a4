"""Sponsored markers, each with its reason; news about advertising is not flagged."""

from __future__ import annotations

import pytest

from feedhub.stories.sponsored import detect_sponsored

TITLE_CASES = [
    ("Anzeige: Neue Küchen bei Möbel Müller", "title label 'Anzeige'"),
    ("Werbung | Sommerschlussverkauf im Outlet", "title label 'Werbung'"),
    ("Neue Küchen zum Sonderpreis (Anzeige)", "title label '(Anzeige)'"),
    ("[Sponsored] Das neue Smartphone im Test", "title label '(Sponsored)'"),
    ("Sommer-Aktion – Advertorial", "title label 'Advertorial'"),
    ("Sponsored Post: Urlaub an der Mosel", "title label 'Sponsored Post'"),
    ("Bezahlte Partnerschaft: Die besten Weine", "title label 'Bezahlte Partnerschaft'"),
    ("Ferienwohnungen im Westerwald | Promotion", "title label 'Promotion'"),
]
NEWS_TITLES = [
    "Werbung für den Tourismus im Westerwald",
    "Promotion an der Uni Koblenz abgeschlossen",
    "Doktorandin feiert - Promotion",
    "Anzeigenblatt stellt Erscheinen ein",
    "Polizei: Anzeige wegen Sachbeschädigung erstattet",
    "Werbeverbot für Süßigkeiten beschlossen",
    "Sponsoren für das Stadtfest gesucht",
]


@pytest.mark.parametrize(("title", "reason"), TITLE_CASES, ids=[t for t, _r in TITLE_CASES])
def test_title_labels_are_flagged_with_reason(title: str, reason: str) -> None:
    assert detect_sponsored(title=title, lead="") == reason


@pytest.mark.parametrize("title", NEWS_TITLES)
def test_news_about_advertising_is_not_flagged(title: str) -> None:
    assert detect_sponsored(title=title, lead="Der Stadtrat hat am Montag beraten.") is None


def test_cooperation_label_at_lead_start() -> None:
    reason = detect_sponsored(title="Neue Küche", lead="In Kooperation mit Möbel Müller: Die …")
    assert reason == "lead label 'In Kooperation mit Möbel Müller:'"


def test_cooperation_inside_a_sentence_is_news() -> None:
    lead = "Die Stadt bietet in Kooperation mit dem DRK einen Erste-Hilfe-Kurs an."
    assert detect_sponsored(title="Kurs", lead=lead) is None


@pytest.mark.parametrize("marker", ["prm", "djd", "akz-o", "spp-o"])
def test_agency_marker_at_lead_start(marker: str) -> None:
    reason = detect_sponsored(title="Gesund durch den Winter", lead=f"({marker}) Wenn die Tage …")
    assert reason == f"lead marker '({marker})'"


def test_agency_marker_at_lead_end() -> None:
    reason = detect_sponsored(title="Gartentipps", lead="So gelingt der Rasen im Frühjahr. (djd)")
    assert reason == "lead marker '(djd)'"


def test_agency_byline() -> None:
    assert (
        detect_sponsored(title="x", lead="y", author="Redaktion (prm)") == "byline marker '(prm)'"
    )
    assert (
        detect_sponsored(title="x", lead="y", author="Advertorial-Team")
        == "byline 'Advertorial-Team'"
    )


@pytest.mark.parametrize("segment", ["anzeige", "sponsored", "advertorial", "promotion"])
def test_url_path_segment(segment: str) -> None:
    url = f"https://www.example.org/{segment}/neue-kuechen-123.html"
    assert detect_sponsored(title="Neue Küchen", lead="", url=url) == f"URL path /{segment}/"


def test_url_segment_must_be_whole() -> None:
    url = "https://www.example.org/anzeigenblatt/neue-kuechen.html"
    assert detect_sponsored(title="Neue Küchen", lead="", url=url) is None


def test_scheme_less_canonical_key_is_understood() -> None:
    assert (
        detect_sponsored(title="x", lead="", url="example.org/sponsored/x")
        == "URL path /sponsored/"
    )


def test_rel_sponsored_link() -> None:
    assert detect_sponsored(title="x", lead="", rel_sponsored=True) == 'rel="sponsored" link'


@pytest.mark.parametrize("category", ["Anzeige", "Sponsored", " advertorial ", "Promotion"])
def test_whole_feed_category(category: str) -> None:
    reason = detect_sponsored(title="x", lead="", feed_categories=["Lokales", category])
    assert reason == f"feed category '{category.strip()}'"


def test_feed_category_mentioning_a_label_is_not_enough() -> None:
    assert detect_sponsored(title="x", lead="", feed_categories=["Werbung und Medien"]) is None


def _text_label_by_search(text: str, where: str) -> str | None:
    """The definition: every pattern searched over the whole text."""
    from feedhub.stories import sponsored as s

    match = s._PREFIX.match(text)
    if match and not (
        match.group("label").casefold() in s._AMBIGUOUS and match.group("sep") not in {"|", ":"}
    ):
        return f"{where} label '{match.group('label')}'"
    match = s._BRACKETED.search(text)
    if match:
        return f"{where} label '({match.group('label') or match.group('label2')})'"
    match = s._SUFFIX.search(text)
    if match and not (
        match.group("label").casefold() in s._AMBIGUOUS and match.group("sep") != "|"
    ):
        return f"{where} label '{match.group('label')}'"
    match = s._COOPERATION.search(text)
    if match:
        return f"{where} label '{match.group(0).strip()[:60]}'"
    match = s._MARKER.search(text[:200]) or s._MARKER.search(text[-200:])
    if match:
        return f"{where} marker '({match.group('marker')})'"
    return None


LABEL_TEXTS = [
    *(title for title, _reason in TITLE_CASES),
    *NEWS_TITLES,
    "Neue Küchen (Anzeige)   ",
    "Neue Küchen [Werbung]\n",
    "Neue Küchen (Anzeige)\n\n",
    "(Anzeige)",
    "[Werbung]",
    "  (Verlagssonderveröffentlichung) Text",
    "Text (VERLAGSSONDERVERÖFFENTLICHUNG)",
    "Text (Sonderveröffentlichung) ",
    "Text (Anzeige) weiter",
    "Urlaub | Werbung",
    "Urlaub |Werbung",
    "Urlaub |      \t  Werbung  ",
    "Urlaub - Anzeige",
    "Urlaub -Anzeige",
    "Urlaub – Sponsored Content ",
    "Urlaub — Paid Partnership\u00a0",
    "Urlaub | Promotion",
    "Urlaub - Promotion",
    "Urlaub ſponſored",
    "Urlaub | ſponsored post",
    "Urlaub\u3000|\u3000Werbung\u3000",
    "| Werbung",
    "|Anzeige",
    " - Anzeige",
    "Werbung",
    "-Anzeige",
    "(prm) Neue Küchen",
    "Neue Küchen (djd).",
    "Neue Küchen (akz-o)",
    "Text (txn-p): mehr",
    "In Kooperation mit Möbel Müller: Küchen",
    "Küchen (präsentiert von Möbel Müller)",
    "Küchen [sponsored by ACME Corp]",
    "präsentiert von ACME | Konzert",
    "",
    "   ",
    "()",
    "(",
    "[]",
    "Text ()",
    # the longest label right after the separator: the bounded searches' edge
    "Wort Wort -Verlagssonderveröffentlichung",
    "Wort Wort -Verlagssonderveröffentlichung \n",
    "Wort Wort |Verlagssonderveröffentlichung",
    "Wort Wort \t—\t \tVerlagssonderveröffentlichung",
    "Wort Wort (Verlagssonderveröffentlichung)",
    "Wort Wort [VERLAGSSONDERVERÖFFENTLICHUNG]  ",
]


def test_text_label_checks_only_where_a_match_can_be() -> None:
    """The bounded searches find what searching the whole text finds."""
    import random

    from feedhub.stories.sponsored import _text_label

    rng = random.Random(13)
    pieces = [*LABEL_TEXTS, " ", "\t", "\n", "|", "-", "–", "(", ")", "[", "]", "x" * 40, "Wort"]
    texts = list(LABEL_TEXTS)
    for _ in range(5000):
        texts.append("".join(rng.choice(pieces) for _ in range(rng.randint(1, 6))))
    texts += [("Wort " * 100) + text for text in LABEL_TEXTS]
    for text in texts:
        for where, value in (("title", text), ("lead", text[:400])):
            assert _text_label(value, where) == _text_label_by_search(value, where), repr(value)
