"""Dateline places: regional leads that open with a place, and sentences that do not."""

from __future__ import annotations

import pytest

from feedhub.stories.places import extract_dateline, split_places

POSITIVES = [
    ("Neuwied. Die Stadt hat den Haushalt beschlossen.", "Neuwied"),
    ("Rengsdorf/Puderbach. Die beiden Verbandsgemeinden …", "Rengsdorf/Puderbach"),
    ("Kreis Neuwied. Der Kreistag tagt am Montag.", "Kreis Neuwied"),
    ("Koblenz. Sie beteiligt sich an der Aktion …", "Koblenz"),
    ("Bad Hönningen. Am Wochenende wird gefeiert.", "Bad Hönningen"),
    ("Neuwied-Heimbach-Weis. Die Kirmes beginnt.", "Neuwied-Heimbach-Weis"),
    ("Mainz (dpa). Die Landesregierung hat …", "Mainz"),
    ("Berlin (dpa) - Der Bundestag hat …", "Berlin"),
    ("Hamburg (dpa/lno) – Ein Großbrand …", "Hamburg"),
    ("NEUWIED. Die Polizei sucht Zeugen.", "Neuwied"),
    ("Frankfurt am Main. Die Börse schloss fester.", "Frankfurt am Main"),
    ("Mülheim an der Ruhr. Der Rat entscheidet.", "Mülheim an der Ruhr"),
    ("St. Goar. Die Loreley zieht Besucher an.", "St. Goar"),
    ("  Linz. „Wir sind zufrieden“, sagte der Bürgermeister.", "Linz"),
]
NEGATIVES = [
    "Gestern. Da war noch alles gut.",
    "Heute beginnt das Stadtfest in Neuwied.",
    "Nein. Das hat der Rat abgelehnt.",
    "Das war's. Nach zwölf Jahren hört er auf.",
    "Dr. Müller übernimmt die Praxis.",
    "Nr. 5 der Reihe ist erschienen.",
    "Die Stadt Neuwied hat den Haushalt beschlossen.",
    "Unbekannte brachen in ein Gartenhaus ein.",
    "Am Montag. Die Sitzung fällt aus.",
    "Achtung. Die Straße ist gesperrt.",
    "Polizei. Die Beamten suchen Zeugen.",
    "Berlin – die Hauptstadt – wächst weiter.",
    "Neuwied hat einen neuen Bürgermeister.",
    "",
]


@pytest.mark.parametrize(("lead", "place"), POSITIVES, ids=[p for _l, p in POSITIVES])
def test_dateline_is_found(lead: str, place: str) -> None:
    assert extract_dateline(lead) == place


@pytest.mark.parametrize("lead", NEGATIVES, ids=[n[:25] or "empty" for n in NEGATIVES])
def test_ordinary_first_sentence_is_no_dateline(lead: str) -> None:
    assert extract_dateline(lead) is None


def test_slash_names_two_places_and_hyphen_one() -> None:
    assert split_places("Rengsdorf/Puderbach") == ["Rengsdorf", "Puderbach"]
    assert split_places("Neuwied-Heimbach-Weis") == ["Neuwied-Heimbach-Weis"]
    assert split_places("Kreis Neuwied") == ["Kreis Neuwied"]
