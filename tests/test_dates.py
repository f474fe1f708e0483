"""Tests of crawlers/dates.py: date parsing to UTC and the choice of the most trusted date."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import lxml.html
import pytest

from crawlers.dates import iso, resolve_dates, to_utc, url_date

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
URL = "https://x.org/2024/03/06/story"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- to_utc --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "tz", "expected"),
    [
        pytest.param("2024-03-01T10:00:00+02:00", None, utc(2024, 3, 1, 8), id="positive-offset"),
        pytest.param("2024-03-01T10:00:00-05:00", None, utc(2024, 3, 1, 15), id="negative-offset"),
        pytest.param("2024-03-01T10:00:00Z", None, utc(2024, 3, 1, 10), id="zulu"),
        pytest.param("2024-03-01T10:00:00+02:00", "America/New_York", utc(2024, 3, 1, 8), id="offset-beats-tz"),
        pytest.param("2024-03-01T10:00:00Z", "Europe/Paris", utc(2024, 3, 1, 10), id="zulu-beats-tz"),
        pytest.param("2024-01-15T10:00:00", "Europe/Paris", utc(2024, 1, 15, 9), id="naive-paris-winter"),
        pytest.param("2024-07-15T10:00:00", "Europe/Paris", utc(2024, 7, 15, 8), id="naive-paris-summer"),
        pytest.param("2024-03-01 10:00:00", "America/New_York", utc(2024, 3, 1, 15), id="naive-new-york"),
        pytest.param("2024-01-15T10:00:00", None, utc(2024, 1, 15, 10), id="naive-no-tz-is-utc"),
        pytest.param("2024-03-01", None, utc(2024, 3, 1), id="date-only"),
        pytest.param("2024-03-01", "Europe/Paris", utc(2024, 3, 1), id="date-only-paris-same-day"),
        pytest.param("2024-03-01", "Pacific/Auckland", utc(2024, 3, 1), id="date-only-auckland-same-day"),
        pytest.param("  2024-03-01T10:00:00Z \n", None, utc(2024, 3, 1, 10), id="surrounding-space"),
        pytest.param("Fri, 01 Mar 2024 10:30:00 GMT", None, utc(2024, 3, 1, 10, 30), id="rfc822-gmt"),
        pytest.param("1 March 2024 10:30", None, utc(2024, 3, 1, 10, 30), id="english-words"),
        pytest.param("1 March 2024 10:30", "Europe/Paris", utc(2024, 3, 1, 9, 30), id="english-words-paris"),
        pytest.param("1er mars 2024", None, utc(2024, 3, 1), id="french-date"),
        pytest.param("3 mars 2024 à 14h05", "Europe/Paris", utc(2024, 3, 3, 13, 5), id="french-datetime-paris"),
        pytest.param("01/03/2024", None, utc(2024, 3, 1), id="slashes-day-first"),
        pytest.param(datetime(2024, 3, 1, 10, tzinfo=timezone(timedelta(hours=1))), None, utc(2024, 3, 1, 9),
                     id="aware-datetime"),
        pytest.param(datetime(2024, 1, 15, 10), "Europe/Paris", utc(2024, 1, 15, 9), id="naive-datetime"),
    ],
)
def test_to_utc(value: str | datetime, tz: str | None, expected: datetime) -> None:
    result = to_utc(value, tz)
    assert result == expected
    assert result.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("value", "tz", "expected"),
    [
        pytest.param("Fri, 01 Mar 2024 10:30:00 +0100", None, utc(2024, 3, 1, 9, 30), id="rfc822-plus-0100"),
        pytest.param("Fri, 01 Mar 2024 10:30:00 -0500", None, utc(2024, 3, 1, 15, 30), id="rfc822-minus-0500"),
        pytest.param("Fri, 01 Mar 2024 10:30:00 GMT", "Europe/Paris", utc(2024, 3, 1, 10, 30),
                     id="rfc822-gmt-with-outlet-tz"),
    ],
)
def test_to_utc_rfc822_keeps_its_offset(value: str, tz: str | None, expected: datetime) -> None:
    assert to_utc(value, tz) == expected


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="none"),
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("not a date at all", id="words"),
    ],
)
def test_to_utc_unreadable_is_none(value: str | None) -> None:
    assert to_utc(value) is None


def test_iso_format_is_utc_zulu_seconds() -> None:
    moment = datetime(2024, 3, 1, 10, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert iso(moment) == "2024-03-01T08:00:00Z"


# --- url_date ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("https://x.org/2024/03/01/story", "2024-03-01", id="segments"),
        pytest.param("https://x.org/monde/2024/3/1/story", "2024-03-01", id="single-digit-segments"),
        pytest.param("https://x.org/2024-03-01/story", "2024-03-01", id="dashes-segment"),
        pytest.param("https://x.org/a/2024-03-01-quake", "2024-03-01", id="dashes-slug-prefix"),
        pytest.param("https://x.org/a/2024/03/01", "2024-03-01", id="at-end"),
        pytest.param("https://x.org/a-20240301-b", "2024-03-01", id="compact-in-slug"),
        pytest.param("https://x.org/fr/afrique/20240301-mali", "2024-03-01", id="compact-slug-prefix"),
        pytest.param("https://x.org/a/20240301.html", "2024-03-01", id="compact-before-extension"),
        pytest.param("https://x.org/1999/12/31/x", "1999-12-31", id="nineties"),
        pytest.param("https://x.org/2024/13/01/x", None, id="month-13"),
        pytest.param("https://x.org/2024/02/30/x", None, id="february-30"),
        pytest.param("https://x.org/a/20241301-b", None, id="compact-invalid"),
        pytest.param("https://x.org/2024/03/story", None, id="no-day"),
        pytest.param("https://x.org/story-12345678", None, id="numeric-id"),
        pytest.param("https://x.org/1889/01/01/x", None, id="nineteenth-century"),
        pytest.param("https://x.org/world/story", None, id="no-date"),
    ],
)
def test_url_date(url: str, expected: str | None) -> None:
    assert url_date(url) == expected


# --- resolve_dates -------------------------------------------------------------------------------


def page(
    *,
    ld: str | None = None,
    meta: str | None = None,
    time: str | None = None,
    visible: str | None = None,
    ld_modified: str | None = None,
    meta_modified: str | None = None,
) -> lxml.html.HtmlElement:
    head = ""
    if ld or ld_modified:
        obj = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "h"}
        if ld:
            obj["datePublished"] = ld
        if ld_modified:
            obj["dateModified"] = ld_modified
        head += f'<script type="application/ld+json">{json.dumps(obj)}</script>'
    if meta:
        head += f'<meta property="article:published_time" content="{meta}">'
    if meta_modified:
        head += f'<meta property="article:modified_time" content="{meta_modified}">'
    body = "<p>x</p>"
    if time:
        body += f'<article><time datetime="{time}">le jour</time></article>'
    if visible:
        body += visible
    return lxml.html.fromstring(f"<html><head>{head}</head><body>{body}</body></html>")


HINTS = {
    "news_published_at": "2024-03-04T10:00:00Z",
    "feed_published_at": "2024-03-05T10:00:00Z",
}
ALL = {"ld": "2024-03-01T10:00:00Z", "meta": "2024-03-02T10:00:00Z", "time": "2024-03-03T10:00:00Z"}


@pytest.mark.parametrize(
    ("page_dates", "hints", "url", "expected", "source"),
    [
        pytest.param(ALL, HINTS, URL, "2024-03-01T10:00:00Z", "json-ld", id="json-ld-beats-all"),
        pytest.param({"meta": ALL["meta"], "time": ALL["time"]}, HINTS, URL, "2024-03-02T10:00:00Z", "meta",
                     id="meta-beats-time"),
        pytest.param({"time": ALL["time"]}, HINTS, URL, "2024-03-03T10:00:00Z", "text", id="time-beats-hints"),
        pytest.param({}, HINTS, URL, "2024-03-04T10:00:00Z", "news-sitemap", id="news-sitemap-beats-feed"),
        pytest.param({}, {"feed_published_at": HINTS["feed_published_at"]}, URL, "2024-03-05T10:00:00Z", "feed",
                     id="feed-beats-url"),
        pytest.param({}, {}, URL, "2024-03-06T00:00:00Z", "url", id="url-last"),
        pytest.param({}, {}, "https://x.org/story", None, None, id="nothing"),
    ],
)
def test_resolve_dates_priority(page_dates: dict, hints: dict, url: str, expected: str | None,
                                source: str | None) -> None:
    result = resolve_dates(page(**page_dates), url, hints=hints, now=NOW)
    assert (result.published_at, result.date_source) == (expected, source)
    assert result.flags == []


def test_resolve_dates_extractor_date_is_the_last_resort() -> None:
    result = resolve_dates(None, "https://x.org/story", extractor_date="2024-03-08", now=NOW)
    assert result.published_at == "2024-03-08T00:00:00Z"


def test_resolve_dates_url_beats_extractor_date() -> None:
    result = resolve_dates(None, URL, extractor_date="2024-03-08", now=NOW)
    assert (result.published_at, result.date_source) == ("2024-03-06T00:00:00Z", "url")


def test_resolve_dates_extractor_date_source_is_text() -> None:
    # trafilatura's (htmldate's) date comes from the page's visible text: recorded as "text".
    result = resolve_dates(None, "https://x.org/story", extractor_date="2024-03-08", now=NOW)
    assert result.date_source == "text"


@pytest.mark.parametrize(
    ("visible", "tz", "expected"),
    [
        pytest.param('<span class="date">Publié le 3 mars 2024 à 14h05</span>', "Europe/Paris",
                     "2024-03-03T13:05:00Z", id="french-label"),
        pytest.param('<div class="article-date">Published 5 March 2024</div>', None, "2024-03-05T00:00:00Z",
                     id="english-label"),
        pytest.param('<p class="fecha">Publicado: 7 de marzo de 2024</p>', None, "2024-03-07T00:00:00Z",
                     id="spanish-label"),
    ],
)
def test_resolve_dates_visible_date_element(visible: str, tz: str | None, expected: str) -> None:
    result = resolve_dates(page(visible=visible), "https://x.org/story", tz=tz, now=NOW)
    assert (result.published_at, result.date_source) == (expected, "text")


def test_resolve_dates_visible_update_label_is_ignored() -> None:
    visible = '<span class="date-update">Mis à jour le 9 mars 2024</span>'
    result = resolve_dates(page(visible=visible), "https://x.org/story", now=NOW)
    assert result.published_at is None


@pytest.mark.parametrize(
    ("page_dates", "expected", "source", "flags"),
    [
        pytest.param({"ld": "2030-01-01T00:00:00Z", "meta": "2024-03-02T10:00:00Z"}, "2024-03-02T10:00:00Z",
                     "meta", ["json-ld:2030-01-01T00:00:00Z:future"], id="future-skipped"),
        pytest.param({"ld": "1970-01-01T00:00:00Z", "meta": "2024-03-02T10:00:00Z"}, "2024-03-02T10:00:00Z",
                     "meta", ["json-ld:1970-01-01T00:00:00Z:before-1990"], id="epoch-skipped"),
        pytest.param({"ld": "1989-12-31T23:59:59Z"}, "2024-03-06T00:00:00Z", "url",
                     ["json-ld:1989-12-31T23:59:59Z:before-1990"], id="just-before-1990-falls-to-url"),
        pytest.param({"ld": "2030-01-01T00:00:00Z", "meta": "1970-01-01T00:00:00Z", "time": ALL["time"]},
                     ALL["time"], "text",
                     ["json-ld:2030-01-01T00:00:00Z:future", "meta:1970-01-01T00:00:00Z:before-1990"],
                     id="two-flags-then-time"),
        pytest.param({"ld": "1990-01-01T00:00:00Z"}, "1990-01-01T00:00:00Z", "json-ld", [], id="1990-accepted"),
        pytest.param({"ld": "2024-06-02T13:00:00Z"}, "2024-06-02T13:00:00Z", "json-ld", [],
                     id="within-26h-slack-accepted"),
        pytest.param({"ld": "2024-06-02T15:00:00Z"}, "2024-03-06T00:00:00Z", "url",
                     ["json-ld:2024-06-02T15:00:00Z:future"], id="beyond-26h-slack-flagged"),
        pytest.param({"ld": "garbage", "meta": "2024-03-02T10:00:00Z"}, "2024-03-02T10:00:00Z", "meta", [],
                     id="unreadable-skipped-unflagged"),
    ],
)
def test_resolve_dates_untrusted_dates_flagged_and_skipped(page_dates: dict, expected: str, source: str,
                                                          flags: list[str]) -> None:
    result = resolve_dates(page(**page_dates), URL, now=NOW)
    assert (result.published_at, result.date_source, result.flags) == (expected, source, flags)


def test_resolve_dates_future_hint_flagged_with_its_source() -> None:
    result = resolve_dates(None, URL, hints={"feed_published_at": "2031-01-01T00:00:00Z"}, now=NOW)
    assert (result.date_source, result.flags) == ("url", ["feed:2031-01-01T00:00:00Z:future"])


def test_resolve_dates_naive_page_date_takes_outlet_timezone() -> None:
    result = resolve_dates(page(ld="2024-01-15T10:00:00"), URL, tz="Europe/Paris", now=NOW)
    assert result.published_at == "2024-01-15T09:00:00Z"


@pytest.mark.parametrize(
    ("page_dates", "hints", "expected"),
    [
        pytest.param({"ld_modified": "2024-03-09T00:00:00Z", "meta_modified": "2024-03-10T00:00:00Z"},
                     {"feed_updated_at": "2024-03-11T00:00:00Z"}, "2024-03-09T00:00:00Z", id="json-ld"),
        pytest.param({"meta_modified": "2024-03-10T00:00:00Z"}, {"feed_updated_at": "2024-03-11T00:00:00Z"},
                     "2024-03-10T00:00:00Z", id="meta-beats-feed"),
        pytest.param({}, {"feed_updated_at": "2024-03-11T00:00:00Z"}, "2024-03-11T00:00:00Z", id="feed"),
        pytest.param({"meta_modified": "2035-01-01T00:00:00Z"}, {"feed_updated_at": "2024-03-11T00:00:00Z"},
                     "2024-03-11T00:00:00Z", id="future-modified-skipped"),
        pytest.param({}, {}, None, id="none"),
    ],
)
def test_resolve_dates_modified_at(page_dates: dict, hints: dict, expected: str | None) -> None:
    assert resolve_dates(page(**page_dates), URL, hints=hints, now=NOW).modified_at == expected


def test_resolve_dates_json_ld_in_graph() -> None:
    graph = {"@context": "https://schema.org", "@graph": [
        {"@type": "WebSite", "name": "X"},
        {"@type": ["NewsArticle"], "datePublished": "2024-03-01T10:00:00+01:00"},
    ]}
    tree = lxml.html.fromstring(
        f'<html><head><script type="application/ld+json">{json.dumps(graph)}</script></head><body></body></html>'
    )
    result = resolve_dates(tree, "https://x.org/story", now=NOW)
    assert (result.published_at, result.date_source) == ("2024-03-01T09:00:00Z", "json-ld")
