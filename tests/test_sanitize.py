"""sanitize_html, html_to_text, strip_control_chars, has_sponsored_link."""

from __future__ import annotations

import pytest

from feedhub.ingest.sanitize import (
    has_sponsored_link,
    html_to_text,
    sanitize_html,
    strip_control_chars,
    text_to_html,
)

BASE = "https://example.org/news/feed.xml"
REL = 'rel="noopener noreferrer nofollow"'


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        '<img src="x" onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        '<a href="&#106;avascript:alert(1)">x</a>',
        '<a href="java\tscript:alert(1)">x</a>',
        '<iframe src="https://evil.example/"></iframe>',
        "<style>p{background:url(javascript:alert(1))}</style>",
        '<p style="width:expression(alert(1))">x</p>',
        '<svg onload="alert(1)"><script>alert(2)</script></svg>',
        '<object data="javascript:alert(1)"></object>',
        '<embed src="javascript:alert(1)">',
        '<form action="javascript:alert(1)"><button>x</button></form>',
        '<math><a xlink:href="javascript:alert(1)">x</a></math>',
        '<video poster="javascript:alert(1)" onerror="alert(2)"></video>',
        '<base href="javascript:alert(1)//">',
        '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
        '<div onmouseover="alert(1)">x</div>',
        "<<script>script>alert(1)<</script>/script>",
        '<img src="x" srcset="javascript:alert(1) 1x">',
        '<a href="x" target="_blank">x</a><img src="x" onload="alert(1)">',
    ],
)
def test_nothing_executable_survives(payload: str) -> None:
    out = sanitize_html(payload, BASE).lower()
    for marker in (
        "<script",
        "javascript:",
        "alert(1)<",
        " on",
        "style=",
        "<iframe",
        "<svg",
        "target=",
    ):
        assert marker not in out, out


def test_allowed_structure_is_kept() -> None:
    html = (
        "<h2>T</h2><p><strong>a</strong> <em>b</em></p><blockquote>q</blockquote>"
        "<ul><li>1</li></ul><pre><code>x</code></pre>"
    )
    assert sanitize_html(html, BASE) == html


def test_links_get_rel_and_lose_target() -> None:
    out = sanitize_html('<a href="https://x.example/" target="_blank" rel="author">x</a>', BASE)
    assert out == f'<a href="https://x.example/" {REL}>x</a>'


def test_mailto_links_are_kept() -> None:
    out = sanitize_html('<a href="mailto:a@example.org">mail</a>', BASE)
    assert out == f'<a href="mailto:a@example.org" {REL}>mail</a>'


def test_relative_urls_resolve_against_the_base() -> None:
    out = sanitize_html('<a href="../a">a</a><img src="/i.png">', BASE)
    assert 'href="https://example.org/a"' in out
    assert 'src="https://example.org/i.png"' in out


def test_relative_urls_without_an_http_base_are_dropped() -> None:
    out = sanitize_html('<a href="a.html">a</a><img src="i.png">', "file:///etc/feed.xml")
    assert out == f"<a {REL}>a</a>"


@pytest.mark.parametrize(
    "src", ["data:image/png;base64,iVBORw0KGgo=", "mailto:a@example.org", "ftp://x.example/i.png"]
)
def test_images_need_http_sources(src: str) -> None:
    assert sanitize_html(f'<p>x<img src="{src}"></p>', BASE) == "<p>x</p>"


def test_srcset_keeps_only_http_candidates() -> None:
    out = sanitize_html('<img src="a.png" srcset="data:x 1x, b.png 2x, c.png bogus">', BASE)
    assert 'srcset="https://example.org/news/b.png 2x"' in out


def test_image_keeps_size_and_text_attributes() -> None:
    html = '<img src="https://x.example/i.png" alt="A" title="T" width="640" height="360">'
    assert sanitize_html(html, BASE) == html[:-1] + ' loading="lazy">'


def test_media_always_shows_controls() -> None:
    out = sanitize_html('<audio src="https://x.example/a.mp3" autoplay></audio>', BASE)
    assert out == '<audio src="https://x.example/a.mp3" controls=""></audio>'


def test_h1_becomes_h2() -> None:
    assert sanitize_html("<h1>Title</h1>", BASE) == "<h2>Title</h2>"


def test_content_of_script_like_elements_is_removed() -> None:
    html = "<p>a</p><iframe><p>fallback</p></iframe><svg><text>t</text></svg><style>x</style>"
    assert sanitize_html(html, BASE) == "<p>a</p>"


def test_unknown_tags_are_unwrapped_not_dropped() -> None:
    assert sanitize_html("<section><font color=red>kept</font></section>", BASE) == "kept"


def test_plain_text_is_escaped_not_parsed() -> None:
    assert sanitize_html("a > b & c", BASE) == "a &gt; b &amp; c"


def test_sanitized_output_has_no_xml_illegal_characters() -> None:
    assert sanitize_html("<p>a\x01b&#1;c\x0bd</p>", BASE) == "<p>abcd</p>"


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("a\x00b", "ab"),
        ("tab\tlf\ncr\r", "tab\tlf\ncr\r"),
        ("\x01\x08\x0b\x0c\x0e\x1f", ""),
        ("x\ufffey\uffffz", "xyz"),
        ("lone \ud800 surrogate", "lone  surrogate"),
        ("emoji 😀 ok", "emoji 😀 ok"),
        ("\x7f\x85 C1 is legal XML", "\x7f\x85 C1 is legal XML"),
    ],
)
def test_strip_control_chars(text: str, clean: str) -> None:
    assert strip_control_chars(text) == clean


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p><strong>Neuwied.</strong> Sie beteiligt</p>", "Neuwied. Sie beteiligt"),
        ("<p>Erster</p><p>Zweiter</p>", "Erster Zweiter"),
        ("Zeile<br>Zeile", "Zeile Zeile"),
        ("<li>a</li><li>b</li>", "a b"),
        ("<b>Neu</b>wied", "Neuwied"),
        ("Caf&eacute; &amp; M&uuml;hle&nbsp;&#8211; &#x201E;x&#x201C;", "Café & Mühle – „x“"),
        ("<script>var x = 1;</script>Text<style>p{}</style>", "Text"),
        ("a < b and c > d", "a < b and c > d"),
        ("  viel   \n\t Raum  ", "viel Raum"),
        ("<!-- comment -->sichtbar", "sichtbar"),
        ("", ""),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_text_to_html_escapes_and_keeps_lines() -> None:
    assert text_to_html("a <b>\nzwei\n\nneu") == "<p>a &lt;b&gt;<br>zwei</p><p>neu</p>"


@pytest.mark.parametrize(
    "html",
    [
        '<a href="https://ad.example" rel="sponsored">x</a>',
        "<a rel='nofollow sponsored' href=x>x</a>",
        "<A REL=sponsored href=x>x</A>",
    ],
)
def test_sponsored_links_are_detected(html: str) -> None:
    assert has_sponsored_link(html)


@pytest.mark.parametrize(
    "html",
    [
        '<a href="https://x.example" rel="nofollow">x</a>',
        "<p>Sponsored by nobody</p>",
        '<link rel="sponsored">',
        '<a href="/sponsored-content">x</a>',
    ],
)
def test_other_links_are_not_sponsored(html: str) -> None:
    assert not has_sponsored_link(html)


def test_html_to_text_collapses_whitespace_as_the_pattern_did() -> None:
    """Whitespace runs become one space, by str.split; as re.sub(r"\\s+", " ") did."""
    import html as html_lib
    import random
    import re

    from feedhub.ingest import sanitize

    def by_pattern(html: str) -> str:
        if not html:
            return ""
        if "<" in html:
            html = sanitize._BLOCK_START_RE.sub(" <", html)
            html = sanitize._TEXT_CLEANER.clean(html)
        text = html_lib.unescape(html) if "&" in html else html
        return strip_control_chars(re.sub(r"\s+", " ", text)).strip()

    rng = random.Random(21)
    pieces = ["Wort", " ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\xa0"]
    pieces += ["\u2009", "\u3000", "\u2028", "\x00", "\x08", "\ufffe", "&nbsp;", "&#x1c;", "<p>"]
    pieces += ["</p>", "<br>", "<b>", "x", "&amp;", "\u200b"]
    for _ in range(3000):
        html = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 10)))
        assert html_to_text(html) == by_pattern(html), repr(html)
