"""Dateline places from the start of a regional news lead.

Regional papers open their leads with the place: "Neuwied. Die Stadt …",
"Rengsdorf/Puderbach. …", "Kreis Neuwied. …", "Mainz (dpa). …",
"Berlin (dpa) - …". An ordinary first sentence ("Gestern.", "Nein.",
"Das war's.") or an abbreviation ("Dr.", "Nr. 5") is not a dateline, so a
place needs a capitalized name, a known non-place word list is refused, and
the dateline must be followed by a new sentence.
"""

from __future__ import annotations

import re

from feedhub.stories.text import wordset

_UPPER = "A-ZÄÖÜ"
_NAME = rf"[{_UPPER}][\wäöüßÄÖÜéèáàç'’]*(?:\.(?=[\wÄÖÜ-]))?"  # allows "St.Goar"-style joins
_CONNECTOR = r"(?:am|an|der|im|in|ob|bei|vor|auf|unter|ob\sder|an\sder|am\sder)"
_WORD = rf"{_NAME}(?:-{_NAME}|-(?:{_CONNECTOR})-{_NAME})*"
_PLACE = (
    rf"(?:St\.\s)?{_WORD}(?:\s(?:{_CONNECTOR}\s)?{_WORD}){{0,3}}"
    rf"(?:\s?/\s?{_WORD}(?:\s{_WORD})?){{0,3}}"
)
_AGENCY = r"\((?:[A-Za-z]{2,6}(?:/[A-Za-z]{2,6})*)\)"
_SENTENCE_START = rf"(?=[\"„“‚'«»(\[{_UPPER}0-9])"
# "Neuwied. Die …": a bare place needs the full stop and a new sentence after it
_DATELINE = re.compile(rf"^\s*(?P<place>{_PLACE})\.\s+{_SENTENCE_START}")
# "Mainz (dpa). …", "Berlin (dpa) - …": the agency marks the dateline, dashes are fine
_WIRE = re.compile(rf"^\s*(?P<place>{_PLACE})\s*{_AGENCY}\s*[.:–—-]?\s+{_SENTENCE_START}")

# first words that end a sentence on their own but are no places
NOT_PLACES = wordset(
    """
    gestern heute morgen vorgestern übermorgen nein ja doch danke bitte achtung endlich
    vorbei schluss ende aus update eilmeldung hinweis wichtig gut klar aha schade genau
    richtig falsch stimmt warum wieso weshalb wann wo wer was wie also trotzdem dennoch
    immerhin tatsächlich vielleicht sicher natürlich leider zuerst zunächst erstens
    zweitens drittens fazit korrektur nachtrag ergänzung anzeige werbung sponsored
    montag dienstag mittwoch donnerstag freitag samstag sonntag sonnabend wochenende
    januar februar märz april mai juni juli august september oktober november dezember
    dr nr prof st str co inc ltd jr sr abs bd hr fr frau herr mio mrd tel ca vgl bzw
    evtl ggf inkl usw etc zb uhr min max ab bzw nachts abends morgens mittags
    yes no today yesterday tomorrow update breaking note thanks finally
    polizei feuerwehr mehr weiter weitere wetter sport politik wirtschaft kultur
    """
)
_PREFIXES = frozenset({"kreis", "landkreis", "stadt", "gemeinde", "verbandsgemeinde", "vg", "bad"})


def _plausible(place: str) -> bool:
    words = re.split(r"[\s/-]+", re.sub(r"^St\.\s", "", place))
    first = words[0].rstrip(".").casefold()
    if first in NOT_PLACES:
        return False
    if len(words) == 1 and len(first) < 3:
        return False
    # "Die Stadt Neuwied" or "Der Kreis" start a sentence, not a dateline
    if first in {"die", "der", "das", "ein", "eine", "the", "a", "an", "im", "am", "in"}:
        return False
    return not (len(words) == 1 and first in _PREFIXES)


def _display(place: str) -> str:
    """All-caps datelines ("NEUWIED.") read better as "Neuwied"."""
    if place.isupper() and len(place) > 3:
        return "-".join(part.capitalize() for part in place.split("-"))
    return re.sub(r"\s+", " ", place.strip())


def extract_dateline(lead: str) -> str | None:
    """The place a lead opens with, or None when the lead opens with a sentence."""
    text = lead.lstrip()[:160]
    match = _DATELINE.match(text) or _WIRE.match(text)
    if not match:
        return None
    place = match.group("place")
    if not _plausible(place):
        return None
    return _display(place)


def split_places(dateline: str) -> list[str]:
    """ "Rengsdorf/Puderbach" names two places; "Kreis Neuwied" and "Neuwied-Heimbach-Weis" one."""
    return [p.strip() for p in re.split(r"\s?/\s?", dateline) if p.strip()]
