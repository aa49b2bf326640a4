"""OPML parsing (nested outlines, hostile XML) and export."""

from __future__ import annotations

import pytest

from feedhub.ingest.opml import ExportedSource, OpmlError, export_opml, parse_opml

NESTED = b"""<?xml version="1.0"?>
<opml version="2.0"><head><title>x</title></head><body>
  <outline text="Regional">
    <outline text="Neuwied" title="Neuwied" type="rss" xmlUrl="https://a.example/feed"/>
    <outline text="Wirtschaft"><outline text="B" xmlUrl="https://b.example/rss"/></outline>
  </outline>
  <outline text="Top" xmlUrl="https://c.example/atom"/>
</body></opml>"""


def test_nested_outlines_become_categories() -> None:
    feeds = parse_opml(NESTED)
    assert [(f.url, f.category) for f in feeds] == [
        ("https://a.example/feed", "Regional"),
        ("https://b.example/rss", "Wirtschaft"),
        ("https://c.example/atom", None),
    ]
    assert feeds[0].title == "Neuwied"


def test_opml1_lowercase_attribute() -> None:
    doc = b'<opml version="1.0"><body><outline text="x" xmlurl="https://d.example/"/></body></opml>'
    assert parse_opml(doc)[0].url == "https://d.example/"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (b"", "empty"),
        (b"<opml><body>", "not valid XML"),
        (b"<rss/>", "not an OPML"),
        (b"<opml/>", "without <body>"),
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
            b'"&lol;&lol;&lol;">]><opml><body><outline text="&lol2;" xmlUrl="x"/></body></opml>',
            "DOCTYPE",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            b'<opml><body><outline text="&e;" xmlUrl="x"/></body></opml>',
            "DOCTYPE",
        ),
    ],
)
def test_unreadable_opml_is_a_clear_error(doc: bytes, message: str) -> None:
    with pytest.raises(OpmlError, match=message):
        parse_opml(doc)


def test_export_then_parse_round_trip() -> None:
    sources = [
        ExportedSource(
            "https://a.example/feed", "A & B <Nachrichten>", "https://a.example/", "Wirtschaft"
        ),
        ExportedSource("https://b.example/rss", "", "", None),
    ]
    feeds = parse_opml(export_opml(sources))
    assert [(f.url, f.category) for f in feeds] == [
        ("https://a.example/feed", "Wirtschaft"),
        ("https://b.example/rss", None),
    ]
    assert feeds[0].title == "A & B <Nachrichten>"
