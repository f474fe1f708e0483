"""The bundled demo site, its ground truth (expected.json) and the demo server, on real loopback."""

from __future__ import annotations

import gzip
import http.client
import json
import re
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import lxml.html
import pytest

from monitor.demo.server import (
    OFFHOST_DIR,
    SITE_DIR,
    DemoServer,
    load_expected,
    outlet_names,
    render_config,
    start_subprocess,
    stop_subprocess,
    substitute,
)

EXPECTED = load_expected()
OUTLETS: dict[str, Any] = EXPECTED["outlets"]
ARTICLES = [(oid, a) for oid, o in sorted(OUTLETS.items()) for a in o["articles"]]
ARTICLE_IDS = [f"{oid}:{a['path'].strip('/').rsplit('/', 1)[-1][:40]}" for oid, a in ARTICLES]
DATE_SOURCES = ("json-ld", "meta", "text", "news-sitemap", "feed", "url")
FAKE_BASES = {name: f"http://127.0.0.{11 + i}:8000" for i, name in enumerate(outlet_names())}
FAKE_BASES["offhost"] = "http://127.0.0.19:8000"


def site_file(outlet: str, path: str) -> Path:
    """The file the server serves for `path` (no redirects, no routes)."""
    rel = path.split("?", 1)[0].lstrip("/")
    p = SITE_DIR / outlet / rel
    return p / "index.html" if path.endswith("/") else p


def page(outlet: str, path: str) -> str:
    return substitute(site_file(outlet, path).read_text(encoding="utf-8"), FAKE_BASES)


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def html_text(html: str) -> str:
    doc = lxml.html.fromstring(html)
    for bad in doc.xpath("//script|//style"):
        bad.drop_tree()
    return norm(doc.text_content())


def get(
    base: str, path: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        conn.close()


@pytest.fixture(scope="module")
def request_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo") / "requests.jsonl"


@pytest.fixture(scope="module")
def demo(request_log: Path) -> Iterator[DemoServer]:
    with DemoServer(log_path=request_log) as server:
        yield server


# -- expected.json against the files -----------------------------------------------------------


def test_expected_lists_every_outlet_folder() -> None:
    assert sorted(OUTLETS) == outlet_names()
    for oid, o in OUTLETS.items():
        assert o["name"] and o["language"] and o["homepage"].startswith("/"), oid
        assert 4 <= len(o["articles"]) <= 8, oid


@pytest.mark.parametrize("oid", sorted(OUTLETS))
def test_expected_paths_exist(oid: str) -> None:
    o = OUTLETS[oid]
    paths = [o["homepage"], *o["feeds"], *o["sitemaps"], *o["not_articles"], *o["disallowed"]]
    for a in o["articles"]:
        paths.append(a["path"])
        if a.get("amp_path"):
            paths.append(a["amp_path"])
    for path in paths:
        assert site_file(oid, path).is_file(), f"{oid}{path}"
    for path in o["offhost"]:
        assert (SITE_DIR / OFFHOST_DIR / path.lstrip("/")).is_file(), path
    seen = [a["path"] for a in o["articles"]]
    assert len(seen) == len(set(seen))


def test_disallowed_paths_are_disallowed_by_robots() -> None:
    for oid, o in OUTLETS.items():
        robots = (SITE_DIR / oid / "robots.txt").read_text(encoding="utf-8")
        rules = [
            line.split(":", 1)[1].strip()
            for line in robots.splitlines()
            if line.lower().startswith("disallow:")
        ]
        for path in o["disallowed"]:
            assert any(path.startswith(r) for r in rules if r), f"{oid}{path}"
            # ...and a careless crawler would find it on the homepage.
            assert f'href="{path}"' in page(oid, o["homepage"])
        for path in o["offhost"]:
            assert f'href="{FAKE_BASES["offhost"]}{path}"' in page(oid, o["homepage"])


@pytest.mark.parametrize(("oid", "article"), ARTICLES, ids=ARTICLE_IDS)
def test_article_page_matches_expected(oid: str, article: dict[str, Any]) -> None:
    html = page(oid, article["path"])
    doc = lxml.html.fromstring(html)
    text = html_text(html)
    for sentence in article["must_contain"]:
        assert sentence in text
    assert norm(doc.xpath("string(//h1)")) == article["title"]
    assert doc.xpath("string(//title)").startswith(article["title"])
    assert doc.xpath('string(//meta[@property="og:title"]/@content)') == article["title"]
    canonical = FAKE_BASES[oid] + article["path"]
    assert doc.xpath('string(//link[@rel="canonical"]/@href)') == canonical
    assert doc.xpath('string(//meta[@property="og:url"]/@content)') == canonical
    assert article["author"] in text
    assert article["language"] == OUTLETS[oid]["language"]
    assert doc.xpath("//article|//*[contains(@class, 'article')]")
    words = len(
        " ".join(
            doc.xpath("//article//p//text()|//div[contains(@class,'cuerpo')]//p//text()")
        ).split()
    )
    assert words >= 150
    for boiler in article["must_not_contain"]:
        assert boiler in text or boiler in html, (
            f"must_not_contain {boiler!r} is not on the page at all"
        )
        assert not any(boiler in s for s in article["must_contain"])
    if article.get("amp_path"):
        amp = page(oid, article["amp_path"])
        amp_doc = lxml.html.fromstring(amp)
        assert amp_doc.xpath('string(//link[@rel="canonical"]/@href)') == canonical
        assert all(s in html_text(amp) for s in article["must_contain"])
        assert f'<link rel="amphtml" href="{FAKE_BASES[oid]}{article["amp_path"]}">' in html


def _utc(value: str, tz: str | None) -> str:
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=ZoneInfo(tz or "UTC"))
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _page_dates(html: str) -> dict[str, str]:
    """Date candidates a page offers, by source (first of each)."""
    doc = lxml.html.fromstring(html)
    found: dict[str, str] = {}
    for raw in doc.xpath('//script[@type="application/ld+json"]/text()'):
        data = json.loads(raw)
        for item in data if isinstance(data, list) else [data]:
            if item.get("datePublished"):
                found.setdefault("json-ld", item["datePublished"])
    for value in doc.xpath(
        '//meta[@property="article:published_time" or @name="pubdate" or @name="date"'
        ' or @itemprop="datePublished"]/@content'
    ):
        found.setdefault("meta", value)
    for value in doc.xpath("//time/@datetime"):
        found.setdefault("text", value)
    m = re.search(r"\b(\d{1,2})[/.](\d{1,2})[/.](20\d\d)\D{1,6}(\d{1,2}):(\d\d)", html_text(html))
    if m:
        d, mo, y, h, mi = (int(g) for g in m.groups())
        found.setdefault("text", datetime(y, mo, d, h, mi).isoformat())
    return found


def _feed_dates(oid: str) -> dict[str, str]:
    """Article path -> feed date (RSS pubDate or Atom published) over the outlet's parseable feeds."""
    out: dict[str, str] = {}
    for feed in OUTLETS[oid]["feeds"]:
        try:
            root = ET.fromstring(page(oid, feed))
        except ET.ParseError:
            continue
        for item in root.iter("item"):
            path = urlsplit(item.findtext("link", "")).path
            out[path] = parsedate_to_datetime(item.findtext("pubDate", "")).isoformat()
        ns = {"a": "http://www.w3.org/2005/Atom"}
        for entry in root.iterfind("a:entry", ns):
            link = entry.find("a:link[@rel='alternate']", ns)
            assert link is not None
            out[urlsplit(link.get("href", "")).path] = entry.findtext("a:published", "", ns)
    return out


def _news_sitemap_dates(oid: str) -> dict[str, str]:
    out: dict[str, str] = {}
    ns = {
        "s": "http://www.sitemaps.org/schemas/sitemap/0.9",
        "n": "http://www.google.com/schemas/sitemap-news/0.9",
    }
    for p in (SITE_DIR / oid).rglob("*.xml"):
        text = substitute(p.read_text(encoding="utf-8"), FAKE_BASES)
        if "sitemap-news" not in text:
            continue
        for url in ET.fromstring(text).iterfind("s:url", ns):
            out[urlsplit(url.findtext("s:loc", "", ns)).path] = url.findtext(
                "n:news/n:publication_date", "", ns
            )
    return out


def _url_date(path: str) -> str | None:
    for pattern in (
        r"/(20\d\d)/(\d\d)/(\d\d)/",
        r"/(20\d\d)(\d\d)(\d\d)-",
        r"-(20\d\d)-(\d\d)-(\d\d)/?$",
    ):
        m = re.search(pattern, path)
        if m:
            return "{}-{}-{}T00:00:00".format(*m.groups())
    return None


@pytest.mark.parametrize(("oid", "article"), ARTICLES, ids=ARTICLE_IDS)
def test_published_at_and_date_source_are_consistent(oid: str, article: dict[str, Any]) -> None:
    html = page(oid, article["path"])
    candidates = _page_dates(html)
    path = article["path"]
    if path in _news_sitemap_dates(oid):
        candidates.setdefault("news-sitemap", _news_sitemap_dates(oid)[path])
    if path in _feed_dates(oid):
        candidates.setdefault("feed", _feed_dates(oid)[path])
    url_date = _url_date(path)
    if url_date:
        candidates.setdefault("url", url_date)
    assert article["date_source"] in DATE_SOURCES
    best = next(s for s in DATE_SOURCES if s in candidates)
    assert best == article["date_source"], candidates
    # A date-only value (from the URL) keeps its calendar day: midnight UTC, no zone shift.
    tz = None if best == "url" else OUTLETS[oid].get("timezone")
    assert _utc(candidates[best], tz) == article["published_at"]
    # Every other source that is present agrees.
    for source, value in candidates.items():
        if source != "url":
            assert _utc(value, tz) == article["published_at"], (source, value)
    if best in ("news-sitemap", "feed"):
        assert not re.search(r"\b20[0-3]\d\b", html), (
            "a feed/news-sitemap dated page must carry no date at all"
        )


def test_feed_lists_an_article_with_tracking_query() -> None:
    rss = page("lumiere", "/fr/rss.xml")
    tracked = [a for a in OUTLETS["lumiere"]["articles"] if a.get("feed_query")]
    assert len(tracked) == 1
    assert f"{FAKE_BASES['lumiere']}{tracked[0]['path']}?xtor=RSS-1&amp;utm_source=rss" in rss


def test_video_page_has_no_article_text() -> None:
    video = next(p for p in OUTLETS["lumiere"]["not_articles"] if "/video/" in p)
    doc = lxml.html.fromstring(page("lumiere", video))
    assert not doc.xpath("//article")
    assert len(norm(doc.xpath("string(//*[contains(@class,'video-page__caption')])")).split()) < 15
    assert video.split("/")[-1] in page("lumiere", "/fr/rss.xml")


def test_broken_feed_is_malformed() -> None:
    with pytest.raises(ET.ParseError):
        ET.fromstring(page("wire", "/rss/broken.xml"))


# -- the server ---------------------------------------------------------------------------------


def test_each_outlet_on_its_own_loopback_address(demo: DemoServer) -> None:
    assert sorted(demo.bases) == sorted(OUTLETS)
    hosts = [urlsplit(b).hostname for b in demo.bases.values()]
    off = urlsplit(demo.offhost).hostname
    assert len(set(hosts)) == len(hosts) and off not in hosts
    assert all(h and h.startswith("127.0.0.") for h in [*hosts, off])
    assert off == "127.0.0.19"
    assert demo.info() == {"outlets": demo.bases, "offhost": demo.offhost}


@pytest.mark.parametrize(
    ("oid", "path", "ctype"),
    [
        ("lumiere", "/fr/rss.xml", "application/xml"),
        ("lumiere", "/sitemap-index.xml", "application/xml"),
        ("lumiere", "/sitemaps/news.xml", "application/xml"),
        ("lumiere", "/robots.txt", "text/plain; charset=utf-8"),
        ("lumiere", "/fr/", "text/html; charset=utf-8"),
        ("wire", "/rss/world.xml", "application/xml"),
        ("diario", "/sitemap.xml", "application/xml"),
        ("zeitung", "/feed.atom", "application/atom+xml"),
    ],
)
def test_placeholders_substituted(demo: DemoServer, oid: str, path: str, ctype: str) -> None:
    status, headers, body = get(demo.bases[oid], path)
    assert status == 200 and headers["content-type"] == ctype
    text = body.decode("utf-8")
    assert "{{" not in text
    assert demo.bases[oid] + "/" in text


def test_article_served_as_html_with_offhost_link(demo: DemoServer) -> None:
    status, headers, body = get(demo.bases["lumiere"], "/fr/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert f'href="{demo.offhost}/fr/externe/20261118-article-ailleurs"'.encode() in body


def test_gzipped_sitemap(demo: DemoServer) -> None:
    base = demo.bases["lumiere"]
    status, headers, body = get(base, "/sitemaps/articles.xml.gz")
    assert status == 200 and headers["content-type"] == "application/x-gzip"
    assert "content-encoding" not in headers
    root = ET.fromstring(gzip.decompress(body))
    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}urlset"
    locs = [e.text or "" for e in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert len(locs) >= 4 and all(loc.startswith(base + "/") for loc in locs)
    _, _, index = get(base, "/sitemap-index.xml")
    assert f"{base}/sitemaps/articles.xml.gz".encode() in index


def test_conditional_requests(demo: DemoServer) -> None:
    base = demo.bases["wire"]
    status, headers, body = get(base, "/rss/world.xml")
    etag, last_modified = headers["etag"], headers["last-modified"]
    assert status == 200 and etag.startswith('"') and body
    status, headers304, body304 = get(base, "/rss/world.xml", headers={"If-None-Match": etag})
    assert status == 304 and body304 == b"" and headers304["etag"] == etag
    assert get(base, "/rss/world.xml", headers={"If-None-Match": '"other"'})[0] == 200
    assert get(base, "/rss/world.xml", headers={"If-Modified-Since": last_modified})[0] == 304
    old = {"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}
    assert get(base, "/rss/world.xml", headers=old)[0] == 200
    status, headers, body = get(base, "/rss/world.xml", method="HEAD")
    assert status == 200 and body == b"" and headers["etag"] == etag


def test_not_found_hidden_and_traversal(demo: DemoServer) -> None:
    base = demo.bases["diario"]
    assert get(base, "/2026/11/20/no-such-article.html")[0] == 404
    assert get(base, "/../lumiere/robots.txt")[0] == 400
    assert get(base, "/2026/%2e%2e/%2e%2e/%2e%2e/expected.json")[0] == 400
    assert get(demo.bases["lumiere"], "/_routes.json")[0] == 404
    status, headers, _ = get(demo.bases["lumiere"], "/fr/afrique")
    assert status == 301 and headers["location"] == demo.bases["lumiere"] + "/fr/afrique/"


def test_routes(demo: DemoServer) -> None:
    status, headers, body = get(demo.bases["wire"], "/markets/")
    assert status == 503 and headers["retry-after"] == "1" and body == b""
    status, headers, _ = get(demo.bases["lumiere"], "/fr/a-la-une")
    assert status == 301 and headers["location"] == demo.bases["lumiere"] + "/fr/"
    status, headers, _ = get(demo.bases["lumiere"], "/fr/partenaires/huile-d-olive-de-sfax")
    assert status == 302 and headers["location"] == demo.offhost + OUTLETS["lumiere"]["offhost"][0]
    assert get(demo.offhost, OUTLETS["lumiere"]["offhost"][0])[0] == 200


def test_request_log(demo: DemoServer, request_log: Path) -> None:
    get(
        demo.bases["zeitung"],
        "/feed.atom?x=1",
        headers={"User-Agent": "log-test/1", "If-None-Match": '"abc"'},
    )
    get(demo.bases["zeitung"], "/missing", headers={"User-Agent": "log-test/1"})
    lines = [json.loads(line) for line in request_log.read_text(encoding="utf-8").splitlines()]
    mine = [r for r in lines if r["user_agent"] == "log-test/1"]
    assert [(r["path"], r["status"]) for r in mine] == [("/feed.atom", 200), ("/missing", 404)]
    first = mine[0]
    assert first["host"] == urlsplit(demo.bases["zeitung"]).netloc
    assert (
        first["method"] == "GET" and first["query"] == "x=1" and first["if_none_match"] == '"abc"'
    )


def test_routes_and_placeholders_in_a_custom_site(tmp_path: Path) -> None:
    (tmp_path / "alpha" / "news").mkdir(parents=True)
    (tmp_path / "alpha" / "news" / "a.html").write_text(
        "<a href='{{base:beta}}/x'>{{base:offhost}}</a>", "utf-8"
    )
    (tmp_path / "alpha" / "_routes.json").write_text(
        json.dumps({"/go": {"redirect": "{{base:beta}}/y", "status": 307}}), "utf-8"
    )
    (tmp_path / "beta").mkdir()
    with DemoServer(tmp_path) as demo:
        assert sorted(demo.bases) == ["alpha", "beta"]
        _, _, body = get(demo.bases["alpha"], "/news/a.html")
        assert body.decode() == f"<a href='{demo.bases['beta']}/x'>{demo.offhost}</a>"
        status, headers, _ = get(demo.bases["alpha"], "/go")
        assert status == 307 and headers["location"] == demo.bases["beta"] + "/y"
        assert get(demo.offhost, "/anything")[0] == 404


def test_subprocess_serves_and_exits(tmp_path: Path) -> None:
    log = tmp_path / "sub.jsonl"
    proc, info = start_subprocess(log_path=log)
    try:
        assert sorted(info["outlets"]) == sorted(OUTLETS)
        assert urlsplit(info["offhost"]).hostname == "127.0.0.19"
        status, _, body = get(info["outlets"]["lumiere"], "/robots.txt")
        assert status == 200 and b"Disallow: /fr/prive/" in body
    finally:
        code = stop_subprocess(proc)
    assert code == 0
    assert json.loads(log.read_text(encoding="utf-8").splitlines()[0])["path"] == "/robots.txt"


def test_subprocess_exits_when_stdin_closes() -> None:
    proc, info = start_subprocess()
    try:
        assert proc.stdin is not None
        proc.stdin.close()
        assert proc.wait(timeout=5) == 0
    finally:
        stop_subprocess(proc)


# -- the generated configuration ----------------------------------------------------------------


def test_render_config(demo: DemoServer) -> None:
    text = render_config(demo.bases, 'data/demo "x".db')
    config = tomllib.loads(text)
    assert config["storage"] == {"database": 'data/demo "x".db', "keep_html": True}
    assert (
        config["crawl"]["user_agent"] == "newsmon-demo/0.1"
        and config["crawl"]["obey_robots"] is True
    )
    assert config["crawl"]["max_articles_per_run"] == 0
    assert config["schedule"]["default_interval"] == "30m"
    by_id = {o["id"]: o for o in config["outlets"]}
    assert sorted(by_id) == sorted(OUTLETS)
    for oid, outlet in by_id.items():
        base = demo.bases[oid]
        assert outlet["name"] == OUTLETS[oid]["name"]
        assert outlet["homepage"] == base + OUTLETS[oid]["homepage"]
        assert all(u.startswith(base + "/") for u in [*outlet["feeds"], *outlet["sitemaps"]])
        assert outlet.get("timezone") == OUTLETS[oid].get("timezone")
        assert outlet["max_depth"] == OUTLETS[oid]["max_depth"]
    assert by_id["diario"]["feeds"] == [] and "timezone" not in by_id["wire"]


# -- what trafilatura and langdetect make of the markup --------------------------------------------


@pytest.fixture(scope="module")
def extract() -> Any:
    trafilatura = pytest.importorskip("trafilatura")

    def _extract(html: str, url: str) -> dict[str, Any]:
        doc = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            favor_precision=True,
            include_comments=False,
            deduplicate=False,
        )
        assert doc is not None
        # Not as_dict=True: deprecated in trafilatura 2.x, a DeprecationWarning (an error here).
        result: dict[str, Any] = doc.as_dict()
        return result

    return _extract


@pytest.mark.parametrize(("oid", "article"), ARTICLES, ids=ARTICLE_IDS)
def test_trafilatura_keeps_body_and_langdetect_agrees(
    demo: DemoServer, extract: Any, oid: str, article: dict[str, Any]
) -> None:
    from langdetect import DetectorFactory, detect

    DetectorFactory.seed = 0
    for path in filter(None, [article["path"], article.get("amp_path")]):
        url = demo.bases[oid] + path
        status, _, body = get(demo.bases[oid], path)
        assert status == 200
        result = extract(body.decode("utf-8"), url)
        text = result["text"] or ""
        for sentence in article["must_contain"]:
            assert sentence in text, path
        assert result["title"] == article["title"]
        assert detect(text) == article["language"]
