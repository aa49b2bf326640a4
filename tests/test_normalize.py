"""normalize_entry on real feedparser output of small RSS/Atom snippets."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import feedparser
import pytest

from feedhub.ingest.normalize import (
    LEAD_LENGTH,
    MAX_GUID_LENGTH,
    clean_date,
    make_lead,
    normalize_entry,
)
from feedhub.ingest.records import EntryData

NOW = datetime(2024, 6, 10, 12, 0, tzinfo=UTC)
BASE = "https://example.org/feed.xml"


def rss_entry(item: str) -> Any:
    body = (
        '<rss version="2.0" xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0"'
        ' xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<channel><title>t</title><item>{item}</item></channel></rss>"
    )
    parsed = feedparser.parse(io.BytesIO(body.encode()), sanitize_html=False)
    return parsed.entries[0]


def normalize_rss(item: str) -> EntryData:
    return normalize_entry(rss_entry(item), BASE, NOW)


def normalize_atom(entry: str) -> EntryData:
    body = (
        f'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry>{entry}</entry></feed>'
    )
    parsed = feedparser.parse(io.BytesIO(body.encode()), sanitize_html=False)
    return normalize_entry(parsed.entries[0], BASE, NOW, text_types=True)


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("Mon, 10 Jun 2024 14:00:00 +0200", datetime(2024, 6, 10, 12, 0, tzinfo=UTC)),
        ("Wed, 12 Jun 2024 11:00:00 GMT", datetime(2024, 6, 12, 11, 0, tzinfo=UTC)),
        ("Fri, 14 Jun 2024 12:00:00 GMT", None),
        ("Sat, 01 Jan 2033 00:00:00 GMT", None),
        ("Thu, 01 Jan 1970 00:00:00 GMT", None),
        ("not a date", None),
    ],
)
def test_published_dates_are_utc_and_absurd_ones_dropped(date: str, expected: Any) -> None:
    assert normalize_rss(f"<title>x</title><pubDate>{date}</pubDate>").published_at == expected


def test_updated_is_not_invented_from_published() -> None:
    entry = normalize_rss("<title>x</title><pubDate>Mon, 10 Jun 2024 10:00:00 GMT</pubDate>")
    assert entry.updated_at is None


def test_published_falls_back_to_updated() -> None:
    entry = normalize_atom("<title>x</title><updated>2024-06-01T10:00:00Z</updated>")
    assert entry.published_at == entry.updated_at == datetime(2024, 6, 1, 10, 0, tzinfo=UTC)


def test_clean_date_rejects_non_struct_values() -> None:
    assert clean_date("2024-06-01", NOW) is None


def test_title_is_plain_text() -> None:
    entry = normalize_rss(
        "<title>  &lt;b&gt;Neu&lt;/b&gt;:\n Stra&amp;szlig;e &amp;amp; Platz </title>"
    )
    assert entry.title == "Neu: Straße & Platz"


def test_atom_plain_text_title_keeps_angle_brackets() -> None:
    assert normalize_atom('<title type="text">Use &lt;b&gt; tags</title>').title == "Use <b> tags"


def test_guid_is_kept_verbatim() -> None:
    assert normalize_rss('<guid isPermaLink="false"> abc-123 </guid>').guid == "abc-123"


def test_missing_guid_is_none() -> None:
    assert normalize_rss("<title>x</title><link>https://example.org/a</link>").guid is None


def test_overlong_guid_is_bounded_but_distinct() -> None:
    first = normalize_rss(f'<guid isPermaLink="false">{"g" * 3000}1</guid>').guid
    second = normalize_rss(f'<guid isPermaLink="false">{"g" * 3000}2</guid>').guid
    assert first is not None and second is not None
    assert len(first) == len(second) == MAX_GUID_LENGTH
    assert first != second


def test_non_http_links_are_dropped() -> None:
    entry = normalize_rss("<title>x</title><link>javascript:alert(1)</link>")
    assert (entry.url, entry.canonical_url) == ("", "")


def test_permalink_guid_serves_as_link() -> None:
    entry = normalize_rss("<guid>https://www.example.org/a/?utm_source=rss</guid>")
    assert entry.url == "https://www.example.org/a/?utm_source=rss"
    assert entry.canonical_url == "example.org/a"


def test_feedburner_origlink_is_the_original_and_the_url() -> None:
    entry = normalize_rss(
        "<link>http://feeds.feedburner.com/~r/x/~3/abc/</link>"
        "<feedburner:origLink>https://www.example.org/story?utm_medium=rss</feedburner:origLink>"
    )
    assert entry.original_url == "https://www.example.org/story?utm_medium=rss"
    assert entry.url == entry.original_url
    assert entry.canonical_url == "example.org/story"


def test_redirect_wrapped_link_yields_the_original() -> None:
    entry = normalize_rss(
        "<link>https://www.google.com/url?url=https%3A%2F%2Fexample.net%2Fstory&amp;usg=x</link>"
    )
    assert entry.original_url == "https://example.net/story"
    assert entry.canonical_url == "example.net/story"


def test_content_falls_back_to_summary() -> None:
    entry = normalize_rss("<description>&lt;p&gt;Nur Teaser&lt;/p&gt;</description>")
    assert entry.summary == entry.content == "<p>Nur Teaser</p>"


def test_content_encoded_is_the_content() -> None:
    entry = normalize_rss(
        "<description>Teaser</description>"
        "<content:encoded><![CDATA[<p>Voller Text</p>]]></content:encoded>"
    )
    assert (entry.summary, entry.content) == ("Teaser", "<p>Voller Text</p>")


def test_rss_description_with_a_script_is_still_html() -> None:
    entry = normalize_rss(
        "<description>&lt;p&gt;Text&lt;script&gt;x()&lt;/script&gt;&lt;/p&gt;</description>"
    )
    assert entry.summary == "<p>Text</p>"


def test_atom_text_summary_is_escaped() -> None:
    entry = normalize_atom('<title>x</title><summary type="text">a &lt;b&gt; c</summary>')
    assert entry.summary == "<p>a &lt;b&gt; c</p>"


def test_lead_is_plain_text_of_the_summary() -> None:
    entry = normalize_rss(
        "<description>&lt;p&gt;&lt;b&gt;Koblenz.&lt;/b&gt; Es geht los.&lt;/p&gt;</description>"
        "<content:encoded><![CDATA[<p>Anderer Text</p>]]></content:encoded>"
    )
    assert entry.lead == "Koblenz. Es geht los."


def test_content_text_is_the_whole_text_of_the_content() -> None:
    entry = normalize_rss(
        "<title>T</title>"
        "<description>&lt;p&gt;Koblenz. Es geht los.&lt;/p&gt;</description>"
        "<content:encoded><![CDATA[<p>Anderer <b>Text</b> &amp; mehr</p>]]></content:encoded>"
    )
    assert entry.lead == "Koblenz. Es geht los."
    assert entry.content_text == "Anderer Text & mehr"


def test_without_content_the_text_is_the_description_uncut() -> None:
    words = " ".join(f"Wort{i:03d}" for i in range(200))
    entry = normalize_rss(f"<title>T</title><description>&lt;p&gt;{words}&lt;/p&gt;</description>")
    assert entry.content_text == words
    assert entry.lead.endswith("…") and words.startswith(entry.lead[:-1])


def test_lead_is_cut_at_a_word_boundary() -> None:
    words = " ".join(f"Wort{i:03d}" for i in range(200))
    lead = make_lead(f"<p>{words}</p>", "")
    assert len(lead) <= LEAD_LENGTH + 1
    assert lead.endswith("…")
    assert words.startswith(lead[:-1])
    assert lead[:-1].split(" ")[-1] in words.split(" ")


def test_short_lead_is_not_cut() -> None:
    assert make_lead("", "<p>Kurz.</p>") == "Kurz."


def test_feed_categories_are_deduplicated_and_stripped() -> None:
    entry = normalize_rss(
        "<category> Wirtschaft </category><category>wirtschaft</category>"
        "<category></category><category>Politik &amp;amp; Recht</category>"
    )
    assert entry.feed_categories == ["Wirtschaft", "Politik & Recht"]


def test_atom_category_label_wins_over_term() -> None:
    entry = normalize_atom('<category term="biz" label="Wirtschaft"/><category term="sport"/>')
    assert entry.feed_categories == ["Wirtschaft", "sport"]


def test_enclosures_are_http_with_integer_length() -> None:
    entry = normalize_rss(
        '<enclosure url="https://cdn.example.org/a.mp3" length="123" type="audio/mpeg"/>'
        '<enclosure url="/b.ogg" length="abc" type="audio/ogg"/>'
        '<enclosure url="data:audio/mpeg;base64,AAAA" length="1" type="audio/mpeg"/>'
        '<enclosure url="https://cdn.example.org/a.mp3" length="123" type="audio/mpeg"/>'
    )
    assert entry.enclosures == [
        {"url": "https://cdn.example.org/a.mp3", "type": "audio/mpeg", "length": 123},
        {"url": "https://example.org/b.ogg", "type": "audio/ogg", "length": None},
    ]


def test_author_name_is_taken_from_the_email_form() -> None:
    assert (
        normalize_rss("<author>desk@zeitung.example (Eva Muster)</author>").author == "Eva Muster"
    )


def test_several_authors_are_joined() -> None:
    entry = normalize_rss("<dc:creator>Eva</dc:creator><dc:creator>Max</dc:creator>")
    assert entry.author == "Eva, Max"


def test_content_hash_changes_with_the_text() -> None:
    first = normalize_rss("<title>A</title><description>eins</description>")
    same = normalize_rss("<title>A</title><description>eins</description>")
    other = normalize_rss("<title>A</title><description>zwei</description>")
    assert first.content_hash == same.content_hash != other.content_hash
    assert len(first.content_hash) == 64


def test_fields_cannot_shift_into_each_other_in_the_hash() -> None:
    first = normalize_rss("<title>AB</title><description>C</description>")
    second = normalize_rss("<title>A</title><description>BC</description>")
    assert first.content_hash != second.content_hash


def test_rel_sponsored_in_content_is_flagged() -> None:
    entry = normalize_rss(
        '<content:encoded><![CDATA[<a href="https://ad.example" rel="sponsored">x</a>]]>'
        "</content:encoded>"
    )
    assert entry.rel_sponsored is True
    assert "sponsored" not in entry.content


def test_http_url_drops_whitespace_and_control_characters() -> None:
    from feedhub.ingest.normalize import _http_url

    assert _http_url(" https://example.org/a b\tc\n ") == "https://example.org/abc"
    assert _http_url("https://example.org/\u00a0x\u3000y\x00\x1cz") == "https://example.org/xyz"
    assert _http_url("https://example.org/a") == "https://example.org/a"
    assert _http_url("\x00 \t") == ""
    assert _http_url("https://") == ""
    assert _http_url(None) == ""
