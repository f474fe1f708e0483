"""Tests of crawlers/discovery.py: feeds, sitemaps and the "is this an article?" heuristics."""

from __future__ import annotations

import time
import warnings

import pytest

from crawlers.discovery import (
    FEED,
    HOMEPAGE,
    NEWS_SITEMAP,
    SITEMAP,
    is_article_url,
    is_listing,
    looks_like_article,
    parse_feed,
    parse_sitemap,
)
from crawlers.outlets import Outlet

# feedparser warns (DeprecationWarning, "issue 310") whenever `updated_parsed` is read on an entry
# that only has a published date; parse_feed must not do that (test_parse_feed_rss_emits_no_warning),
# and pytest's filterwarnings=error makes every RSS test here check it too.

FEED_URL = "https://x.org/feeds/rss.xml"

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>X</title><link>https://x.org/</link><description>d</description>
<item><title>First story</title><link>/2024/03/01/first-story</link>
<pubDate>Fri, 01 Mar 2024 10:30:00 +0100</pubDate><dc:creator>Jane Doe</dc:creator></item>
<item><title>Second story</title><link>https://x.org/world/second-story-here</link>
<pubDate>Sat, 02 Mar 2024 08:00:00 GMT</pubDate><author>bob@x.org (Bob Smith)</author></item>
<item><title>Relative to the feed</title><link>third-story.html</link></item>
<item><title>No link at all</title><description>nothing to fetch</description></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><id>urn:x</id>
<updated>2024-03-02T00:00:00Z</updated>
<entry><title>Atom one</title><id>urn:1</id>
<link rel="self" href="https://x.org/api/entries/1"/>
<link rel="alternate" type="text/html" href="https://x.org/world/atom-one-story"/>
<published>2024-03-01T12:00:00+02:00</published><updated>2024-03-01T15:00:00Z</updated>
<author><name>Ann Author</name></author></entry>
<entry><title>Atom two</title><id>urn:2</id><link href="https://x.org/world/atom-two-story"/>
<updated>2024-03-02T09:00:00Z</updated></entry>
</feed>"""


def _links(result) -> dict[str, dict]:
    return {link.url: link.hints for link in result.links}


# --- RSS -----------------------------------------------------------------------------------------


def test_parse_feed_rss_links_in_order_with_feed_channel() -> None:
    result = parse_feed(RSS, FEED_URL, "application/rss+xml")
    assert [link.url for link in result.links] == [
        "https://x.org/2024/03/01/first-story",
        "https://x.org/world/second-story-here",
        "https://x.org/feeds/third-story.html",
    ]
    assert {link.channel for link in result.links} == {FEED}
    assert result.malformed is None


@pytest.mark.parametrize(
    ("url", "key", "expected"),
    [
        pytest.param("https://x.org/2024/03/01/first-story", "feed_published_at", "2024-03-01T09:30:00Z",
                     id="pubDate-offset-to-utc"),
        pytest.param("https://x.org/world/second-story-here", "feed_published_at", "2024-03-02T08:00:00Z",
                     id="pubDate-gmt"),
        pytest.param("https://x.org/2024/03/01/first-story", "author", "Jane Doe", id="dc-creator"),
        pytest.param("https://x.org/world/second-story-here", "author", "bob@x.org (Bob Smith)", id="author"),
        pytest.param("https://x.org/2024/03/01/first-story", "title", "First story", id="title"),
    ],
)
def test_parse_feed_rss_hints(url: str, key: str, expected: str) -> None:
    assert _links(parse_feed(RSS, FEED_URL, "application/rss+xml"))[url][key] == expected


def test_parse_feed_rss_item_without_date_has_no_date_hints() -> None:
    hints = _links(parse_feed(RSS, FEED_URL, "application/rss+xml"))["https://x.org/feeds/third-story.html"]
    assert hints == {"title": "Relative to the feed"}


def test_parse_feed_rss_emits_no_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parse_feed(RSS, FEED_URL, "application/rss+xml")


def test_parse_feed_rss_pubdate_only_has_no_updated_hint() -> None:
    hints = _links(parse_feed(RSS, FEED_URL, "application/rss+xml"))["https://x.org/2024/03/01/first-story"]
    assert "feed_updated_at" not in hints


# --- Atom ----------------------------------------------------------------------------------------


def test_parse_feed_atom_uses_alternate_link_not_self() -> None:
    result = parse_feed(ATOM, "https://x.org/atom.xml", "application/atom+xml")
    assert [link.url for link in result.links] == [
        "https://x.org/world/atom-one-story",
        "https://x.org/world/atom-two-story",
    ]
    assert result.malformed is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(
            "https://x.org/world/atom-one-story",
            {"title": "Atom one", "author": "Ann Author", "feed_published_at": "2024-03-01T10:00:00Z",
             "feed_updated_at": "2024-03-01T15:00:00Z"},
            id="published-and-updated",
        ),
        pytest.param(
            "https://x.org/world/atom-two-story",
            {"title": "Atom two", "feed_updated_at": "2024-03-02T09:00:00Z"},
            id="updated-only-no-published",
        ),
    ],
)
def test_parse_feed_atom_hints(url: str, expected: dict) -> None:
    assert _links(parse_feed(ATOM, "https://x.org/atom.xml", "application/atom+xml"))[url] == expected


# --- broken and non-feeds ------------------------------------------------------------------------


def test_parse_feed_truncated_keeps_complete_items() -> None:
    body = RSS[: RSS.index(b"<item><title>Second story")] + b"<item><title>Sec"
    result = parse_feed(body, FEED_URL, "application/rss+xml")
    assert [link.url for link in result.links] == ["https://x.org/2024/03/01/first-story"]


def test_parse_feed_truncated_before_any_item_reports_malformed() -> None:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><item><title>a</ti'
    result = parse_feed(body, FEED_URL, "application/rss+xml")
    assert result.links == []
    assert result.malformed


@pytest.mark.parametrize("content_type", [pytest.param("text/html; charset=utf-8", id="html-type"),
                                          pytest.param(None, id="no-type")])
def test_parse_feed_html_page_is_not_a_feed(content_type: str | None) -> None:
    page = (b"<!DOCTYPE html><html><head><title>Home</title></head><body>"
            b'<a href="/world/a-long-story-about-things">story</a></body></html>')
    result = parse_feed(page, "https://x.org/", content_type)
    assert result.links == []
    assert result.malformed


@pytest.mark.parametrize("body", [pytest.param(b"", id="empty"), pytest.param(b"\x00\xff\xfe", id="binary"),
                                  pytest.param(b'{"items": []}', id="json")])
def test_parse_feed_non_feed_bodies_report_malformed(body: bytes) -> None:
    result = parse_feed(body, FEED_URL)
    assert result.links == []
    assert result.malformed


def test_parse_feed_valid_empty_feed_is_not_malformed() -> None:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>'
    assert parse_feed(body, FEED_URL, "application/rss+xml").malformed is None


def test_parse_feed_external_entity_is_not_read(tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-MARKER-7731")
    body = f"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>
<rss version="2.0"><channel><title>&xxe;</title><item><title>T &xxe;</title>
<link>https://x.org/world/a-long-story?&xxe;</link><author>&xxe;</author></item></channel></rss>""".encode()
    result = parse_feed(body, FEED_URL, "application/rss+xml")
    assert "SECRET-MARKER" not in repr(result)


# --- sitemaps ------------------------------------------------------------------------------------

URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://x.org/2024/03/01/a-story</loc><lastmod>2024-03-01T10:00:00+00:00</lastmod></url>
<url><loc> /world/relative-story-here </loc></url>
<url><lastmod>2024-01-01</lastmod></url>
</urlset>"""

SITEMAPINDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://x.org/sitemap-1.xml</loc><lastmod>2024-03-01</lastmod></sitemap>
<sitemap><loc>/sitemap-2.xml</loc></sitemap>
</sitemapindex>"""

NEWS = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://x.org/world/big-news-story</loc>
<news:news><news:publication><news:name>X</news:name><news:language>fr</news:language></news:publication>
<news:publication_date>2024-03-01T10:00:00+01:00</news:publication_date>
<news:title>Big news story</news:title></news:news></url>
<url><loc>https://x.org/world/plain-entry-story</loc></url>
</urlset>"""


def test_parse_sitemap_urlset_links_with_lastmod() -> None:
    result = parse_sitemap(URLSET, "https://x.org/sitemap.xml")
    assert result.kind == "urlset"
    assert result.sitemaps == []
    assert [(link.url, link.channel, link.hints) for link in result.links] == [
        ("https://x.org/2024/03/01/a-story", SITEMAP, {"lastmod": "2024-03-01T10:00:00+00:00"}),
        ("https://x.org/world/relative-story-here", SITEMAP, {}),
    ]


def test_parse_sitemap_index_lists_child_sitemaps() -> None:
    result = parse_sitemap(SITEMAPINDEX, "https://x.org/sitemap.xml")
    assert result.kind == "sitemapindex"
    assert result.sitemaps == ["https://x.org/sitemap-1.xml", "https://x.org/sitemap-2.xml"]
    assert result.links == []


def test_parse_sitemap_google_news_entry_hints() -> None:
    links = parse_sitemap(NEWS, "https://x.org/news.xml").links
    assert (links[0].url, links[0].channel, links[0].hints) == (
        "https://x.org/world/big-news-story",
        NEWS_SITEMAP,
        {"title": "Big news story", "news_published_at": "2024-03-01T10:00:00+01:00"},
    )


def test_parse_sitemap_news_file_plain_entry_stays_sitemap_channel() -> None:
    links = parse_sitemap(NEWS, "https://x.org/news.xml").links
    assert (links[1].url, links[1].channel) == ("https://x.org/world/plain-entry-story", SITEMAP)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"garbage, not xml", id="text"),
        pytest.param(b"<html><body><a href='/a'>a</a></body></html>", id="html"),
        pytest.param(b'{"urls": ["https://x.org/a"]}', id="json"),
        pytest.param(b"\x00\xff\xfe\x01", id="binary"),
        pytest.param(b"<rss version='2.0'><channel/></rss>", id="rss-root"),
    ],
)
def test_parse_sitemap_garbage_is_unknown(body: bytes) -> None:
    result = parse_sitemap(body, "https://x.org/sitemap.xml")
    assert (result.kind, result.sitemaps, result.links) == ("unknown", [], [])


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://x.org/story-&lol9;</loc><lastmod>&lol9;</lastmod></url>
</urlset>"""


def test_parse_sitemap_entity_expansion_is_not_performed() -> None:
    started = time.perf_counter()
    result = parse_sitemap(BILLION_LAUGHS, "https://x.org/sitemap.xml")
    assert time.perf_counter() - started < 2
    dumped = repr(result)
    assert "lol" not in dumped
    assert len(dumped) < 1000


@pytest.mark.parametrize(
    "template",
    [
        pytest.param(
            '<!DOCTYPE urlset [<!ENTITY xxe SYSTEM "{uri}">]>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            "<url><loc>https://x.org/&xxe;</loc><lastmod>&xxe;</lastmod></url>"
            "<url><loc>&xxe;</loc></url></urlset>",
            id="general-entity",
        ),
        pytest.param(
            '<!DOCTYPE urlset [<!ENTITY % p SYSTEM "{uri}"> %p;]>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            "<url><loc>https://x.org/a-b</loc></url></urlset>",
            id="parameter-entity",
        ),
        pytest.param(
            '<!DOCTYPE urlset SYSTEM "{uri}">'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            "<url><loc>https://x.org/a-b</loc></url></urlset>",
            id="external-dtd",
        ),
        pytest.param(
            '<!DOCTYPE sitemapindex [<!ENTITY xxe SYSTEM "{uri}">]>'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            "<sitemap><loc>https://x.org/s-&xxe;.xml</loc></sitemap></sitemapindex>",
            id="index-general-entity",
        ),
    ],
)
def test_parse_sitemap_external_entity_is_not_read(tmp_path, template: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-MARKER-7731")
    body = ('<?xml version="1.0"?>\n' + template.format(uri=secret.as_uri())).encode()
    result = parse_sitemap(body, "https://x.org/sitemap.xml")
    assert "SECRET-MARKER" not in repr(result)


# --- article / listing heuristics ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("https://x.org/2024/03/01/story", True, id="date-segments"),
        pytest.param("https://x.org/politique/2024/03/01/story", True, id="section-then-date"),
        pytest.param("https://x.org/a/2024/3/story", True, id="year-month-segments"),
        pytest.param("https://x.org/world/story-20240301", True, id="compact-date-in-slug"),
        pytest.param("https://www.rfi.fr/fr/afrique/20240301-mali", True, id="rfi-style-compact-date"),
        pytest.param("https://x.org/world/12345678", True, id="numeric-id"),
        pytest.param("https://x.org/world/story_1234567.html", True, id="numeric-id-in-slug"),
        pytest.param("https://x.org/world/a-long-story-about-things", True, id="long-slug"),
        pytest.param("https://x.org/world/a-long-story-about-things.html", True, id="long-slug-html"),
        pytest.param("https://x.org/a-long-story-about-things", True, id="long-slug-top-level"),
        pytest.param("https://x.org/monde/%C3%A9t%C3%A9-chaud-en-europe-du-sud", True, id="encoded-slug"),
        pytest.param("https://x.org/12345678", False, id="bare-numeric-top-level"),
        pytest.param("https://x.org/world/short-slug", False, id="short-slug"),
        pytest.param("https://x.org/tag/a-long-story-about-things", False, id="tag"),
        pytest.param("https://x.org/Tags/a-long-story-about-things", False, id="tags-case"),
        pytest.param("https://x.org/author/jane-doe-the-writer", False, id="author"),
        pytest.param("https://x.org/auteur/jean-dupont-le-journaliste", False, id="auteur"),
        pytest.param("https://x.org/video/a-long-story-about-things", False, id="video"),
        pytest.param("https://x.org/2024/03/01/video/a-long-story-about-things", False, id="dated-video"),
        pytest.param("https://x.org/img/a-long-story-about-things.jpg", False, id="jpg"),
        pytest.param("https://x.org/docs/a-long-story-about-things.PDF", False, id="pdf-upper"),
        pytest.param("https://x.org/world/a-long-story-about-things.mp4", False, id="mp4"),
        pytest.param("https://x.org/fr/afrique/", False, id="section-front"),
        pytest.param("https://x.org/sport", False, id="section-top"),
        pytest.param("https://x.org/", False, id="homepage"),
        pytest.param("https://x.org/page/2", False, id="pagination"),
        pytest.param("https://x.org/rss.xml", False, id="feed-file"),
        pytest.param("http://[::1", False, id="unparseable"),
    ],
)
def test_looks_like_article(url: str, expected: bool) -> None:
    assert looks_like_article(url) is expected


def test_looks_like_article_iso_date_slug() -> None:
    assert looks_like_article("https://x.org/world/2024-03-01-quake") is True


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("https://x.org/", True, id="homepage"),
        pytest.param("https://x.org/fr/afrique/", True, id="section-front"),
        pytest.param("https://x.org/sport", True, id="section"),
        pytest.param("https://x.org/world/a-long-story-about-things", True, id="article-is-readable"),
        pytest.param("https://x.org/tag/economy", False, id="tag"),
        pytest.param("https://x.org/author/jane-doe", False, id="author"),
        pytest.param("https://x.org/auteur/jean-dupont", False, id="auteur"),
        pytest.param("https://x.org/video/", False, id="video"),
        pytest.param("https://x.org/newsletter", False, id="newsletter"),
        pytest.param("https://x.org/logo.png", False, id="media"),
        pytest.param("https://x.org/feed", False, id="feed"),
    ],
)
def test_is_listing(url: str, expected: bool) -> None:
    assert is_listing(url) is expected


GENERIC = Outlet(id="g", name="g", homepage="https://x.org/")
PATTERNED = Outlet(id="x", name="x", homepage="https://x.org/", article_url_pattern=r"/news/\d+")


@pytest.mark.parametrize(
    ("url", "channel", "expected"),
    [
        pytest.param("https://x.org/world/a-long-story-about-things", HOMEPAGE, True, id="homepage-article"),
        pytest.param("https://x.org/world/short", HOMEPAGE, False, id="homepage-short-slug"),
        pytest.param("https://x.org/world/short", SITEMAP, False, id="sitemap-short-slug"),
        pytest.param("https://x.org/world/short", FEED, True, id="feed-trusts-entry"),
        pytest.param("https://x.org/world/short", NEWS_SITEMAP, True, id="news-sitemap-trusts-entry"),
        pytest.param("https://x.org/video/short", FEED, True, id="feed-video-kept"),
        pytest.param("https://x.org/tag/short", NEWS_SITEMAP, True, id="news-sitemap-nav-path-kept"),
        pytest.param("https://x.org/a/b.jpg", FEED, False, id="feed-media-dropped"),
        pytest.param("https://x.org/a/b.pdf", NEWS_SITEMAP, False, id="news-sitemap-media-dropped"),
        pytest.param("https://x.org/video/a-long-story-about-things", HOMEPAGE, False, id="homepage-video-dropped"),
        pytest.param("https://x.org/tag/a-long-story-about-things", SITEMAP, False, id="sitemap-tag-dropped"),
        pytest.param("http://[::1", FEED, False, id="feed-unparseable"),
    ],
)
def test_is_article_url_heuristic(url: str, channel: str, expected: bool) -> None:
    assert is_article_url(url, GENERIC, channel) is expected


@pytest.mark.parametrize("channel", [FEED, SITEMAP, NEWS_SITEMAP, HOMEPAGE])
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("https://x.org/news/123", True, id="pattern-match-short-url"),
        pytest.param("https://x.org/tag/news/123", True, id="pattern-match-beats-nav-segment"),
        pytest.param("https://x.org/world/a-long-story-about-things", False, id="article-shaped-no-match"),
        pytest.param("https://x.org/2024/03/01/story", False, id="dated-no-match"),
    ],
)
def test_is_article_url_outlet_pattern_overrides(url: str, expected: bool, channel: str) -> None:
    assert is_article_url(url, PATTERNED, channel) is expected


def test_parse_feed_valid_but_empty_is_not_malformed() -> None:
    empty = b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title></channel></rss>"
    assert parse_feed(empty, FEED_URL, "application/rss+xml").malformed is None
