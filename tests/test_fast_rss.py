"""The fast RSS path on handwritten edge cases: each feed gives the same FeedData with
and without it, and each test says whether the fast path must take the feed or bail
out to feedparser."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feedhub.ingest import fast_rss
from feedhub.ingest.fast_rss import parse_rss
from feedhub.ingest.parse import _prepare_headers, _process_feed
from feedhub.ingest.records import EntryData, FeedData

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)
URL = "https://news.example/feeds/all.rss"
UTF8 = {"content-type": "application/rss+xml; charset=utf-8"}
NAMESPACES = (
    'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:atom="http://www.w3.org/2005/Atom" '
    'xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0" '
    'xmlns:wfw="http://wellformedweb.org/CommentAPI/" '
    'xmlns:slash="http://purl.org/rss/1.0/modules/slash/" '
    'xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"'
)


def rss(items: str = "", channel: str = "<title>News</title>", version: str = "2.0") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="{version}" {NAMESPACES}>'
        f"<channel>{channel}{items}</channel></rss>"
    ).encode()


def item(*children: str) -> str:
    return "<item>" + "".join(children) + "</item>"


def both_paths(body: bytes, headers: dict[str, str], url: str) -> FeedData:
    fast = _process_feed(body, headers, url, fast=True, now=NOW)
    slow = _process_feed(body, headers, url, fast=False, now=NOW)
    assert fast == slow
    return fast


def taken(body: bytes, headers: dict[str, str] = UTF8, url: str = URL) -> FeedData:
    """The feed data, after checking the fast path takes the feed and agrees."""
    prepared, _ = _prepare_headers(body, headers, url)
    assert parse_rss(body, prepared) is not None
    return both_paths(body, headers, url)


def bails(body: bytes, headers: dict[str, str] = UTF8, url: str = URL) -> FeedData:
    """The feed data, after checking the fast path leaves the feed to feedparser."""
    prepared, _ = _prepare_headers(body, headers, url)
    assert parse_rss(body, prepared) is None
    return both_paths(body, headers, url)


def only_entry(feed: FeedData) -> EntryData:
    assert len(feed.entries) == 1
    return feed.entries[0]


# -- guid and link ---------------------------------------------------------------
def test_permalink_guid_without_link_is_the_url() -> None:
    entry = only_entry(taken(rss(item("<guid>https://news.example/a/1</guid>"))))
    assert (entry.guid, entry.url) == ("https://news.example/a/1", "https://news.example/a/1")


def test_guid_marked_permalink_true_is_the_url() -> None:
    body = rss(item('<guid isPermaLink="true">https://news.example/a/1</guid>'))
    assert only_entry(taken(body)).url == "https://news.example/a/1"


def test_guid_not_a_permalink_is_no_url() -> None:
    body = rss(item('<guid isPermaLink="false">https://news.example/a/1</guid>'))
    entry = only_entry(taken(body))
    assert (entry.guid, entry.url) == ("https://news.example/a/1", "")


def test_guid_permalink_value_other_than_true_is_no_permalink() -> None:
    body = rss(item('<guid isPermaLink="True">https://news.example/a/1</guid>'))
    assert only_entry(taken(body)).url == ""


@pytest.mark.parametrize("permalink", ["", ' isPermaLink="true"', ' isPermaLink="false"'])
def test_link_wins_over_a_guid_before_it(permalink: str) -> None:
    guid = f"<guid{permalink}>https://news.example/guid</guid>"
    body = rss(item(guid, "<link>https://news.example/link</link>"))
    assert only_entry(taken(body)).url == "https://news.example/link"


@pytest.mark.parametrize("permalink", ["", ' isPermaLink="false"'])
def test_link_wins_over_a_guid_after_it(permalink: str) -> None:
    guid = f"<guid{permalink}>https://news.example/guid</guid>"
    body = rss(item("<link>https://news.example/link</link>", guid))
    assert only_entry(taken(body)).url == "https://news.example/link"


def test_last_of_two_links_wins() -> None:
    body = rss(item("<link>https://news.example/1</link><link>https://news.example/2</link>"))
    assert only_entry(taken(body)).url == "https://news.example/2"


def test_relative_link_and_guid_resolve_against_the_feed_url() -> None:
    body = rss(item("<link>/a/1</link>") + item("<guid>../a/2</guid>"))
    urls = [e.url for e in taken(body).entries]
    assert urls == ["https://news.example/a/1", "https://news.example/a/2"]


def test_relative_link_without_an_http_url_stays_unresolved() -> None:
    body = rss(item("<link>/a/1</link>", "<guid>a/2</guid>"))
    entry = only_entry(taken(body, url="feedhub-sample:news.xml"))
    assert (entry.url, entry.guid) == ("", "a/2")


def test_double_escaped_ampersand_in_a_link_is_unescaped() -> None:
    body = rss(item("<link>https://news.example/a?x=1&amp;amp;y=2&amp;z=3</link>"))
    assert only_entry(taken(body)).url == "https://news.example/a?x=1&y=2&z=3"


def test_feedburner_origlink_is_the_original() -> None:
    body = rss(
        item(
            "<link>https://feeds.example/~r/x/1</link>",
            "<feedburner:origLink>https://news.example/a/1</feedburner:origLink>",
        )
    )
    assert only_entry(taken(body)).original_url == "https://news.example/a/1"


# -- enclosures ----------------------------------------------------------------
def test_relative_enclosure_resolves_against_the_feed_url() -> None:
    enclosure = '<enclosure url="/audio/1.mp3" length="1234" type="Audio/MPEG"/>'
    entry = only_entry(taken(rss(item("<guid>g</guid>", enclosure))))
    assert entry.enclosures == [
        {"url": "https://news.example/audio/1.mp3", "type": "audio/mpeg", "length": 1234}
    ]


def test_enclosure_without_url_is_dropped() -> None:
    body = rss(item("<guid>g</guid>", '<enclosure type="audio/mpeg" length="1"/>'))
    assert only_entry(taken(body)).enclosures == []


def test_enclosure_with_another_attribute_bails() -> None:
    bails(rss(item('<enclosure url="https://news.example/1.mp3" rel="x"/>')))


# -- description and content ---------------------------------------------------
def test_cdata_description_is_html() -> None:
    body = rss(item("<description><![CDATA[<p>One <b>two</b></p>]]></description>"))
    assert only_entry(taken(body)).summary == "<p>One <b>two</b></p>"


def test_escaped_html_description_is_html() -> None:
    body = rss(item("<description>&lt;p&gt;One &amp;amp; two&lt;/p&gt;</description>"))
    assert only_entry(taken(body)).summary == "<p>One &amp; two</p>"


def test_relative_urls_in_html_resolve_against_the_feed_url() -> None:
    body = rss(item('<description><![CDATA[<a href="/x">x</a>]]></description>'))
    assert 'href="https://news.example/x"' in only_entry(taken(body)).summary


def test_content_encoded_is_content_and_description_summary() -> None:
    body = rss(
        item(
            "<description>Short.</description>",
            "<content:encoded><![CDATA[<p>Long text.</p>]]></content:encoded>",
        )
    )
    entry = only_entry(taken(body))
    assert (entry.summary, entry.content) == ("Short.", "<p>Long text.</p>")


def test_content_encoded_alone_is_also_the_summary() -> None:
    body = rss(item("<content:encoded><![CDATA[<p>Long.</p>]]></content:encoded>"))
    entry = only_entry(taken(body))
    assert (entry.summary, entry.content) == ("<p>Long.</p>", "<p>Long.</p>")


def test_description_after_content_encoded_is_the_summary() -> None:
    body = rss(item("<content:encoded>Long.</content:encoded><description>Short.</description>"))
    assert only_entry(taken(body)).summary == "Short."


def test_second_description_bails() -> None:
    body = rss(item("<description>One.</description><description>Two.</description>"))
    bails(body)


def test_inline_xhtml_in_description_bails() -> None:
    body = rss(item("<description>One <b>bold</b> word</description>"))
    bails(body)


def test_inline_xhtml_in_title_bails() -> None:
    bails(rss(item("<title>One <em>two</em></title>")))


# -- authors -------------------------------------------------------------------
def test_dc_creator_is_the_author() -> None:
    body = rss(item("<dc:creator>Jana Beispiel</dc:creator>"))
    assert only_entry(taken(body)).author == "Jana Beispiel"


@pytest.mark.parametrize(
    "raw",
    [
        "jana@news.example (Jana Beispiel)",
        "Jana Beispiel &lt;jana@news.example&gt;",
        "jana@news.example",
        "jana.beispiel@verlag.example.museum (Jana Beispiel)",
    ],
)
def test_author_with_an_email_address(raw: str) -> None:
    taken(rss(item(f"<author>{raw}</author>")))


def test_two_creators_are_both_named() -> None:
    body = rss(item("<dc:creator>Jana</dc:creator><dc:creator>Tom</dc:creator>"))
    assert only_entry(taken(body)).author == "Jana, Tom"


def test_empty_author_is_no_author() -> None:
    assert only_entry(taken(rss(item("<author> </author>")))).author == ""


# -- categories ----------------------------------------------------------------
def test_two_categories_with_domains() -> None:
    body = rss(
        item(
            '<category domain="https://news.example/c">Politik</category>',
            '<category domain="https://news.example/t">Kreis Neuwied</category>',
        )
    )
    assert only_entry(taken(body)).feed_categories == ["Politik", "Kreis Neuwied"]


def test_empty_category_with_domain_takes_the_next_term() -> None:
    body = rss(item('<category domain="d"></category><category>Sport</category>'))
    assert only_entry(taken(body)).feed_categories == ["Sport"]


def test_dc_subject_is_a_category() -> None:
    body = rss(item("<category>Sport</category><dc:subject>Fußball</dc:subject>"))
    assert only_entry(taken(body)).feed_categories == ["Sport", "Fußball"]


# -- dates ---------------------------------------------------------------------
def test_missing_pubdate_is_no_date() -> None:
    entry = only_entry(taken(rss(item("<title>No date</title>"))))
    assert (entry.published_at, entry.updated_at) == (None, None)


def test_pubdate_is_the_published_date() -> None:
    body = rss(item("<pubDate>Mon, 02 Jun 2025 08:15:00 +0200</pubDate>"))
    assert only_entry(taken(body)).published_at == datetime(2025, 6, 2, 6, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw",
    [
        "2025-06-01T10:00:00Z",
        "Sun, 1 Jun 25 10:00:00 GMT",
        "01 Jun 2025 10:00 CEST",
        "Sonntag, 1. Juni 2025",
        "Thu, 01 Jan 1970 00:00:00 GMT",
        "Fri, 01 Jan 2100 00:00:00 GMT",
        "",
    ],
)
def test_odd_pubdate(raw: str) -> None:
    taken(rss(item(f"<pubDate>{raw}</pubDate>")))


def test_dc_date_is_the_updated_date() -> None:
    body = rss(item("<dc:date>2025-06-01T10:00:00Z</dc:date>"))
    entry = only_entry(taken(body))
    assert entry.updated_at == entry.published_at == datetime(2025, 6, 1, 10, tzinfo=UTC)


# -- text ----------------------------------------------------------------------
def test_entities_in_titles_are_decoded() -> None:
    body = rss(item("<title>Haus &amp; Hof &#x27;24 &#8211; neu</title>"))
    assert only_entry(taken(body)).title == "Haus & Hof '24 – neu"


def test_whitespace_around_values_is_stripped() -> None:
    body = rss(
        item(
            "<title>\n  Title  \n</title>",
            "<link>\n  https://news.example/a/1  \n</link>",
            '<guid isPermaLink="false">  g-1\n</guid>',
            "<category>  Sport </category>",
        )
    )
    entry = only_entry(taken(body))
    assert (entry.title, entry.url, entry.guid) == ("Title", "https://news.example/a/1", "g-1")


def test_first_non_empty_title_wins() -> None:
    body = rss(item("<title></title><title>First</title><title>Second</title>"))
    assert only_entry(taken(body)).title == "First"


def test_utf8_read_as_latin1_is_repaired_as_feedparser_does() -> None:
    body = rss(item("<title>M\u00c3\u00bcnchen</title>"))
    assert only_entry(taken(body)).title == "München"


def test_c1_controls_become_cp1252_characters_as_feedparser_does() -> None:
    body = rss(item("<title>\u0093quoted\u0094</title>"))
    assert only_entry(taken(body)).title == "“quoted”"


# -- channel -------------------------------------------------------------------
def test_empty_channel_is_a_feed_without_entries() -> None:
    feed = taken(rss(channel=""))
    assert (feed.is_feed, feed.title, feed.entries, feed.problem) == (True, "", [], None)


def test_rss_without_channel_is_a_feed_without_entries() -> None:
    feed = taken(b'<rss version="2.0"></rss>')
    assert (feed.is_feed, feed.entries) == (True, [])


def test_channel_ttl_and_link() -> None:
    channel = "<title>News</title><link>/</link><ttl> 45 </ttl>"
    feed = taken(rss(channel=channel))
    assert (feed.site_url, feed.ttl_minutes) == ("https://news.example/", 45)


@pytest.mark.parametrize("logo", ["Logo", ""])
def test_channel_title_after_an_image_wins(logo: str) -> None:
    channel = f"<title>First</title><image><title>{logo}</title></image><title>Second</title>"
    assert taken(rss(channel=channel)).title == "Second"


def test_atom_self_link_keeps_the_channel_link() -> None:
    channel = (
        "<link>https://news.example/</link>"
        '<atom:link rel="self" href="https://news.example/feed" type="application/rss+xml"/>'
    )
    assert taken(rss(channel=channel)).site_url == "https://news.example/"


def test_atom_alternate_link_bails() -> None:
    bails(rss(channel='<atom:link href="https://other.example/"/>'))


@pytest.mark.parametrize("version", ["0.91", "0.92"])
def test_rss_091_and_092_take_the_fast_path(version: str) -> None:
    taken(rss(item("<title>x</title>"), version=version))


@pytest.mark.parametrize("version", ["0.90", "1.0", "3.0", ""])
def test_other_rss_versions_bail(version: str) -> None:
    bails(rss(item("<title>x</title>"), version=version))


def test_wordpress_feed_takes_the_fast_path() -> None:
    channel = (
        "<title>Blog</title>"
        '<atom:link href="https://blog.example/feed/" rel="self" type="application/rss+xml"/>'
        "<link>https://blog.example</link><description>d</description>"
        "<lastBuildDate>Mon, 02 Jun 2025 08:00:00 +0000</lastBuildDate><language>de-DE</language>"
        "<sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>1</sy:updateFrequency>"
        "<generator>https://wordpress.org/?v=6.5</generator>"
        "<image><url>https://blog.example/icon.png</url><title>Blog</title>"
        "<link>https://blog.example</link><width>32</width><height>32</height></image>"
    )
    post = item(
        "<title>Post</title><link>https://blog.example/post/</link>",
        "<comments>https://blog.example/post/#respond</comments>",
        "<dc:creator><![CDATA[Jana]]></dc:creator>",
        "<pubDate>Mon, 02 Jun 2025 07:00:00 +0000</pubDate>",
        "<category><![CDATA[Allgemein]]></category>",
        '<guid isPermaLink="false">https://blog.example/?p=1</guid>',
        "<description><![CDATA[Teaser [&#8230;]]]></description>",
        "<content:encoded><![CDATA[<p>Text.</p>]]></content:encoded>",
        "<wfw:commentRss>https://blog.example/post/feed/</wfw:commentRss>",
        "<slash:comments>0</slash:comments>",
    )
    feed = taken(rss(post, channel=channel))
    assert (feed.title, feed.site_url, only_entry(feed).author) == (
        "Blog",
        "https://blog.example",
        "Jana",
    )


# -- what must bail ------------------------------------------------------------
def test_doctype_bails() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY who "Jana">]>'
        b'<rss version="2.0"><channel><item><title>&who;</title></item></channel></rss>'
    )
    bails(body)


def test_entity_expansion_is_never_attempted(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_parsing(*args: object) -> None:
        raise AssertionError("parsed a body with a DTD")

    monkeypatch.setattr(fast_rss.ET, "fromstring", no_parsing)
    lol = b"".join(
        b'<!ENTITY l%d "&l%d;&l%d;&l%d;&l%d;">' % (i, i - 1, i - 1, i - 1, i - 1)
        for i in range(1, 9)
    )
    body = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY l0 "lol">' + lol + b"]>"
        b'<rss version="2.0"><channel><title>&l8;</title></channel></rss>'
    )
    assert parse_rss(body, {"content-type": "application/xml"}) is None


def test_unknown_namespace_element_bails() -> None:
    body = rss(item('<x:rating xmlns:x="https://vendor.example/ns">5</x:rating>'))
    bails(body)


def test_media_element_bails() -> None:
    media = '<media:content xmlns:media="http://search.yahoo.com/mrss/" url="/i.jpg"/>'
    bails(rss(item(media)))


def test_unknown_element_bails() -> None:
    bails(rss(item("<origLink>https://news.example/a</origLink>")))


def test_prefix_bound_to_another_known_namespace_bails() -> None:
    """With ``dc`` bound to DCMI terms, feedparser names Dublin Core's creator
    ``dcterms:creator`` and finds no author; ElementTree still sees dc:creator."""
    body = rss(
        '<item xmlns:dc="http://purl.org/dc/terms/"><title>Titel</title>'
        '<dce:creator xmlns:dce="http://purl.org/dc/elements/1.1/">Jana</dce:creator></item>'
    )
    assert only_entry(bails(body)).author == ""


def test_xml_base_bails() -> None:
    body = rss(item('<link xml:base="https://other.example/">a/1</link>'))
    bails(body)


def test_xml_lang_bails() -> None:
    bails(rss(item('<title xml:lang="de">Titel</title>')))


def test_item_attribute_bails() -> None:
    bails(rss('<item rdf:about="x" xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>'))


def test_ill_formed_xml_bails() -> None:
    feed = bails(rss(item("<title>Fish &chips</title>")))
    assert feed.problem is not None


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ("<?xml version='1.0' encoding='iso-8859-1'?>", {"content-type": "application/xml"}),
        ("<?xml version='1.0'?>", {"content-type": "text/xml; charset=windows-1252"}),
        ("<?xml version='1.0' encoding='windows-1251'?>", {"content-type": "application/xml"}),
    ],
)
def test_non_utf8_body_bails(body: str, headers: dict[str, str]) -> None:
    text = "<rss version='2.0'><channel><item><title>Grüße</title></item></channel></rss>"
    data = (body + text).encode("cp1252")
    assert only_entry(bails(data, headers)).title


def test_utf16_body_bails() -> None:
    text = "<?xml version='1.0' encoding='utf-16'?><rss version='2.0'><channel/></rss>"
    bails(text.encode("utf-16"), {"content-type": "application/xml"})


def test_text_xml_without_charset_and_non_ascii_bails() -> None:
    # RFC 3023: us-ascii, so feedparser reports an encoding override
    body = rss(item("<title>Grüße</title>")).decode().encode("cp1252")
    assert bails(body, {"content-type": "text/xml"}).problem


def test_ascii_body_without_content_type_takes_the_fast_path() -> None:
    # feedparser assumes iso-8859-1, which reads ASCII as ASCII
    taken(rss(item("<title>x</title>")), {})


def test_feed_served_as_text_html_takes_the_fast_path_without_a_problem() -> None:
    feed = taken(rss(item("<title>Grüße</title>")), {"content-type": "text/html; charset=utf-8"})
    assert feed.problem is None


def test_utf8_declared_latin1_keeps_the_encoding_problem() -> None:
    body = rss(item("<title>Grüße</title>")).replace(b"utf-8", b"iso-8859-1", 1)
    feed = taken(body, {"content-type": "application/rss+xml"})
    assert (only_entry(feed).title, feed.problem) == (
        "Grüße",
        "wrong encoding: declared as iso-8859-1, but the body is UTF-8; read as UTF-8",
    )


def test_any_exception_inside_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(value: str) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(fast_rss, "_parse_date", broken)
    body = rss(item("<pubDate>Mon, 02 Jun 2025 08:15:00 +0200</pubDate>"))
    bails(body)


@pytest.mark.parametrize(
    "base",
    ["http://neuwied.example/feed.xml", "https://x.example/a/", "", "http://[x/feed"],  # unparsable
)
@pytest.mark.parametrize(
    "url",
    [
        "https://news.example/a/1",
        "http://news.example/wirtschaft/1?utm=x#top",
        "http://a/b?",  # urljoin drops an empty query …
        "http://a/b#",  # … and an empty fragment
        "http://a/b?#f",
        "http:///x",  # feedparser strips the extra slash
        "http://a/b;",  # empty params are dropped
        "https://a/b?x=1;y=2#f#g",
        "http://[::1]/x",
        "http://a/b c",
        "http://a/b\t",
        "HTTP://a/b",
        "http://ä.example/",
        "http://a",
        "http://a/../b",
        "https://user:pw@host:99/p?q=a#frag",
        "/relative/path",
    ],
)
def test_absolute_links_join_as_feedparser_joins_them(base: str, url: str) -> None:
    assert fast_rss._join(base, url) == fast_rss._urljoin(base, url)
