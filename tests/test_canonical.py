"""canonical_url: copies of one article meet on one key; different articles do not."""

from __future__ import annotations

import pytest

from feedhub.ingest.canonical import canonical_url, unwrap_redirect_url


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://example.org/a/b", "example.org/a/b"),
        ("HTTP://EXAMPLE.ORG/A/b", "example.org/A/b"),
        ("https://www.example.org/a", "example.org/a"),
        ("https://m.example.org/a", "example.org/a"),
        ("https://mobil.example.org/a", "example.org/a"),
        ("https://mobile.example.org/a", "example.org/a"),
        ("https://amp.example.org/a", "example.org/a"),
        ("http://example.org:80/a", "example.org/a"),
        ("https://example.org:443/a", "example.org/a"),
        ("https://example.org:8443/a", "example.org:8443/a"),
        ("https://example.org/a/", "example.org/a"),
        ("https://example.org/", "example.org"),
        ("https://example.org/a#comments", "example.org/a"),
        ("https://user:secret@example.org/a", "example.org/a"),
        ("https://example.org./a", "example.org/a"),
        ("https://example.org/a/./b/../c", "example.org/a/c"),
        ("https://example.org/%7Euser/%41%2F", "example.org/~user/A%2F"),
        ("https://example.org/stra%c3%9fe", "example.org/stra%C3%9Fe"),
        ("https://example.org/straße", "example.org/stra%C3%9Fe"),
        ("https://münchen.example/a", "xn--mnchen-3ya.example/a"),
        ("  https://example.org/a\n", "example.org/a"),
        ("//example.org/a", "example.org/a"),
        ("http://[2001:db8::1]:8080/a", "[2001:db8::1]:8080/a"),
    ],
)
def test_url_parts_are_normalized(url: str, key: str) -> None:
    assert canonical_url(url) == key


@pytest.mark.parametrize(
    "query",
    [
        "utm_source=rss&utm_medium=feed&utm_campaign=x&utm_content=y&utm_term=z",
        "fbclid=IwAR0abc",
        "gclid=abc&dclid=def&msclkid=ghi&yclid=jkl",
        "mc_cid=abc&mc_eid=def",
        "_ga=2.1234&_gl=1*abc",
        "igshid=abc",
        "ref_src=twsrc%5Etfw",
        "wt_mc=rss.red.ho.ho.atom.beitrag.beitrag",
        "WT.mc_id=newsletter",
        "at_medium=RSS&at_campaign=RSS",
        "pk_campaign=rss&mtm_source=feed",
        "xtor=RSS-3208",
        "ref=rss",
        "source=twitter",
        "amp=1",
        "outputType=amp",
    ],
)
def test_tracking_parameters_are_dropped(query: str) -> None:
    assert canonical_url(f"https://example.org/a?{query}") == "example.org/a"


@pytest.mark.parametrize(
    "query",
    ["id=42", "p=123", "page=2", "article=abc", "ref=12", "source=dpa", "amp=0", "q=gclid"],
)
def test_functional_parameters_are_kept(query: str) -> None:
    assert canonical_url(f"https://example.org/a?{query}") == f"example.org/a?{query}"


def test_query_is_sorted_and_uniformly_escaped() -> None:
    assert canonical_url("https://example.org/a?b=2&a=x+y&c=%2b&a=1") == (
        "example.org/a?a=1&a=x%20y&b=2&c=%2B"
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/story/amp",
        "https://example.org/story/amp/",
        "https://example.org/amp/story",
        "https://example.org/story.amp",
        "https://example.org/story?amp",
        "https://www.google.com/amp/s/www.example.org/story",
        "https://www-example-org.cdn.ampproject.org/c/s/www.example.org/story",
    ],
)
def test_amp_variants_meet_the_article(url: str) -> None:
    assert canonical_url(url) == "example.org/story"


def test_amp_html_suffix_keeps_the_html_extension() -> None:
    assert canonical_url("https://example.org/story.amp.html") == "example.org/story.html"


def test_a_path_that_is_only_amp_stays() -> None:
    assert canonical_url("https://example.org/amp") == "example.org/amp"


def test_hashbang_routes_are_content_and_stay() -> None:
    assert canonical_url("https://example.org/#!/story/7") == "example.org#!/story/7"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("https://example.org/a", "https://example.org/b"),
        ("https://example.org/a?id=1", "https://example.org/a?id=2"),
        ("https://example.org/a", "https://example.com/a"),
        ("https://news.example.org/a", "https://example.org/a"),
        ("https://example.org/A", "https://example.org/a"),
        ("https://example.org:8080/a", "https://example.org/a"),
        ("https://example.org/a%2Fb", "https://example.org/a/b"),
    ],
)
def test_different_articles_keep_different_keys(first: str, second: str) -> None:
    assert canonical_url(first) != canonical_url(second)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        "mailto:news@example.org",
        "javascript:alert(1)",
        "tag:example.org,2024:1",
        "urn:uuid:7f0c3b5e-1a2b-4c3d-9e8f-0a1b2c3d4e5f",
        "ftp://example.org/file",
        "https://",
        "http://exa mple.org/",
        "https://example.org:99999/a",
        "not a url",
        "/relative/path",
    ],
)
def test_invalid_or_non_web_urls_give_empty_key(url: str) -> None:
    assert canonical_url(url) == ""


@pytest.mark.parametrize(
    "url",
    [
        "https://www.Example.org:443/a/b/?utm_source=rss&id=3#top",
        "http://[::1]:8080/x?b=1&a=2",
        "http://localhost:8080/x",
        "https://example.org/stra%C3%9Fe?q=a+b",
        "https://example.org/#!/story/7",
    ],
)
def test_a_key_is_its_own_key(url: str) -> None:
    key = canonical_url(url)
    assert key
    assert canonical_url(key) == key


@pytest.mark.parametrize(
    ("wrapped", "target"),
    [
        (
            "https://www.google.com/url?sa=t&url=https%3A%2F%2Fexample.org%2Fa%3Fx%3D1&usg=abc",
            "https://example.org/a?x=1",
        ),
        (
            "http://news.google.com/news/url?sa=t&fd=R&url=http://example.org/story&usg=x",
            "http://example.org/story",
        ),
        (
            "https://l.facebook.com/l.php?u=https%3A%2F%2Fexample.org%2Fa&h=AT0",
            "https://example.org/a",
        ),
        ("https://www.google.com/amp/s/example.org/story", "https://example.org/story"),
        (
            "https://www.google.com/url?q=https://l.facebook.com/l.php?u%3Dhttps://example.org/x",
            "https://example.org/x",
        ),
        # hosts are case-insensitive: the quick check for wrapper hosts must be too
        ("HTTPS://WWW.Google.COM/url?q=https://example.org/x", "https://example.org/x"),
        ("https://abc.CDN.AmpProject.org/c/s/example.org/story", "https://example.org/story"),
        # urlsplit drops tabs and line breaks inside the host too
        ("https://news.goo\tgle.com/news/url?url=https://example.org/a", "https://example.org/a"),
    ],
)
def test_redirect_wrappers_with_the_target_inside_are_unwrapped(wrapped: str, target: str) -> None:
    assert unwrap_redirect_url(wrapped) == target


@pytest.mark.parametrize(
    "url",
    [
        "http://feeds.feedburner.com/~r/example/~3/AbCdEf/story.html",
        "https://news.google.com/rss/articles/CBMiK2h0dHBzOi8vZXhhbXBsZS5vcmc?oc=5",
        "https://example.org/redirect?url=https://other.example/",
        "https://www.google.com/url?q=javascript:alert(1)",
    ],
)
def test_opaque_or_unknown_redirects_stay(url: str) -> None:
    assert unwrap_redirect_url(url) == url


def test_canonical_key_looks_through_wrappers() -> None:
    wrapped = "https://www.google.com/url?q=https://www.example.org/a/?utm_source=x"
    assert canonical_url(wrapped) == "example.org/a"
