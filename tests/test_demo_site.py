"""The bundled demo site, its ground truth (expected.json) and the demo server, on real loopback."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import re
import shutil
import socket
import threading
import time
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
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
    TRICKLE_BODY,
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


# -- route kinds for hostile-web and background-service tests, and live edits --------------------


def _one_outlet_site(
    tmp_path: Path, files: dict[str, str], routes: dict[str, Any] | None = None
) -> Path:
    """A site with one outlet, ``alpha``, holding `files` (relative path -> text) and `routes`."""
    site = tmp_path / "site"
    for rel, text in files.items():
        (site / "alpha" / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / "alpha" / rel).write_text(text, "utf-8")
    (site / "alpha").mkdir(parents=True, exist_ok=True)
    if routes is not None:
        _write_routes(site / "alpha", routes)
    return site


def _write_routes(outlet_dir: Path, routes: dict[str, Any]) -> None:
    (outlet_dir / "_routes.json").write_text(json.dumps(routes), "utf-8")


def _raw_get(base: str, path: str, timeout: float) -> socket.socket:
    """A connected socket that has sent ``GET path``; the caller reads and closes it."""
    parts = urlsplit(base)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
    request = f"GET {path} HTTP/1.0\r\nHost: {parts.netloc}\r\nUser-Agent: raw-test/1\r\n\r\n"
    sock.sendall(request.encode("ascii"))
    return sock


def _log_records(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def _wait_for(predicate: Callable[[], object], timeout: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return bool(predicate())


def _request_threads() -> set[threading.Thread]:
    """The live threads of the demo servers' request handlers in this process."""
    return {t for t in threading.enumerate() if "process_request_thread" in t.name}


def test_hang_route_holds_the_connection_until_the_server_stops(tmp_path: Path) -> None:
    site = _one_outlet_site(tmp_path, {"page.html": "<p>ok</p>"}, {"/hang": {"hang": True}})
    log = tmp_path / "requests.jsonl"
    demo = DemoServer(site, log_path=log)
    demo.start()
    try:
        before = _request_threads()
        with _raw_get(demo.bases["alpha"], "/hang?x=1", timeout=1.0) as sock:
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                sock.recv(1)
            assert time.monotonic() - started >= 0.9
            held = _request_threads() - before
            assert len(held) == 1
            # Logged once the request is read, with status 0: no answer was sent.
            assert [(r["path"], r["query"], r["status"]) for r in _log_records(log)] == [
                ("/hang", "x=1", 0)
            ]
            assert get(demo.bases["alpha"], "/page.html")[0] == 200  # others are still served
            started = time.monotonic()
            demo.stop()
            assert time.monotonic() - started < 1.5
            sock.settimeout(2.0)
            assert sock.recv(1) == b""  # the handler ended and closed the connection
        for thread in held:
            thread.join(1.0)
            assert not thread.is_alive()
    finally:
        demo.stop()


def test_hang_route_ends_when_the_client_hangs_up(tmp_path: Path) -> None:
    site = _one_outlet_site(tmp_path, {}, {"/hang": {"hang": True}})
    log = tmp_path / "requests.jsonl"
    with DemoServer(site, log_path=log) as demo:
        before = _request_threads()
        sock = _raw_get(demo.bases["alpha"], "/hang", timeout=1.0)
        try:
            assert _wait_for(lambda: _log_records(log))
            (thread,) = _request_threads() - before
            sock.sendall(b"more bytes from a chatty client")  # read and dropped, not a hang-up
            cpu = time.process_time()
            thread.join(0.3)
            assert thread.is_alive()
            assert time.process_time() - cpu < 0.15  # waiting, not spinning
        finally:
            sock.close()
        thread.join(1.0)
        assert not thread.is_alive()
        assert [r["status"] for r in _log_records(log)] == [0]


def test_trickle_route_paces_a_file_and_keeps_its_validators(tmp_path: Path) -> None:
    site = _one_outlet_site(
        tmp_path, {"slow.txt": "ok!\n"}, {"/slow": {"trickle": 0.2, "file": "slow.txt"}}
    )
    with DemoServer(site) as demo:
        base = demo.bases["alpha"]
        parts = urlsplit(base)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=2)
        try:
            started = time.monotonic()
            conn.request("GET", "/slow")
            resp = conn.getresponse()
            headers_after = time.monotonic() - started
            body = resp.read()
            elapsed = time.monotonic() - started
        finally:
            conn.close()
        assert resp.status == 200 and body == b"ok!\n"
        assert resp.getheader("Content-Length") == "4"
        assert resp.getheader("Content-Type") == "text/plain; charset=utf-8"
        assert headers_after < 0.5 and elapsed >= 0.7  # 4 bytes, one every 0.2 s
        _, plain, _ = get(base, "/slow.txt")
        assert resp.getheader("ETag") == plain["etag"]
        assert resp.getheader("Last-Modified") == plain["last-modified"]
        assert get(base, "/slow", headers={"If-None-Match": plain["etag"]})[0] == 304


def test_trickle_route_default_body_ends_when_the_client_hangs_up(tmp_path: Path) -> None:
    site = _one_outlet_site(tmp_path, {}, {"/slow": {"trickle": 0.2}})
    with DemoServer(site) as demo:
        parts = urlsplit(demo.bases["alpha"])
        before = _request_threads()
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=2)
        try:
            conn.request("GET", "/slow")
            resp = conn.getresponse()
            assert resp.status == 200
            assert resp.getheader("Content-Type") == "text/html; charset=utf-8"
            assert resp.getheader("Content-Length") == str(len(TRICKLE_BODY))
            assert 150 <= len(TRICKLE_BODY) <= 300
            assert resp.read(2) == TRICKLE_BODY[:2]
            (thread,) = _request_threads() - before
            resp.close()  # an HTTP/1.0 response owns the socket: this is the hang-up
        finally:
            conn.close()
        thread.join(1.0)
        assert not thread.is_alive()
        status, headers, body = get(demo.bases["alpha"], "/slow", method="HEAD")
        assert status == 200 and body == b"" and "etag" not in headers


def test_trickle_route_stops_when_the_server_stops(tmp_path: Path) -> None:
    site = _one_outlet_site(tmp_path, {}, {"/slow": {"trickle": 0.2}})
    demo = DemoServer(site)
    demo.start()
    try:
        parts = urlsplit(demo.bases["alpha"])
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=2)
        try:
            conn.request("GET", "/slow")
            resp = conn.getresponse()
            assert resp.read(1) == TRICKLE_BODY[:1]
            started = time.monotonic()
            demo.stop()
            assert time.monotonic() - started < 1.5
            with pytest.raises(http.client.IncompleteRead):
                resp.read()
        finally:
            conn.close()
    finally:
        demo.stop()


def test_file_routes_with_broken_validators(tmp_path: Path) -> None:
    jan_2024 = "Mon, 01 Jan 2024 00:00:00 GMT"
    site = _one_outlet_site(
        tmp_path,
        {"rss.xml": "<rss><channel><link>{{base:alpha}}/</link></channel></rss>\n"},
        {
            "/fixed.xml": {
                "file": "rss.xml",
                "etag": '"constant"',
                "last_modified": jan_2024,
                "conditional": False,
            },
            "/pinned.xml": {"file": "/rss.xml", "etag": '"v1"'},
            "/dated.xml": {"file": "rss.xml", "last_modified": jan_2024},
            "/now.xml": {"file": "rss.xml", "last_modified": "now", "etag": False},
            "/gone.xml": {"file": "missing.xml"},
            "/escape.xml": {"file": "../outside.xml"},
        },
    )
    (site / "outside.xml").write_text("<secret/>", "utf-8")
    with DemoServer(site) as demo:
        base = demo.bases["alpha"]
        _, plain, plain_body = get(base, "/rss.xml")
        assert f"<link>{base}/</link>".encode() in plain_body

        # A server without conditional GET and with validators that never change.
        status, headers, body = get(base, "/fixed.xml")
        assert status == 200 and body == plain_body
        assert headers["etag"] == '"constant"' and headers["last-modified"] == jan_2024
        assert headers["content-type"] == "application/xml"
        for cond in ({"If-None-Match": '"constant"'}, {"If-Modified-Since": jan_2024}):
            status, headers, body = get(base, "/fixed.xml", headers=cond)
            assert status == 200 and body == plain_body and headers["etag"] == '"constant"'
        status, headers, body = get(base, "/fixed.xml", method="HEAD")
        assert status == 200 and body == b"" and headers["content-length"] == str(len(plain_body))

        # A fixed ETag with conditional GET: 304 for it, whatever the file holds.
        status, headers, _ = get(base, "/pinned.xml")
        assert headers["etag"] == '"v1"' and headers["last-modified"] == plain["last-modified"]
        status, headers, body = get(base, "/pinned.xml", headers={"If-None-Match": '"v1"'})
        assert status == 304 and body == b"" and headers["etag"] == '"v1"'
        assert get(base, "/pinned.xml", headers={"If-None-Match": plain["etag"]})[0] == 200

        # A fixed Last-Modified; the ETag is still the content hash.
        status, headers, _ = get(base, "/dated.xml")
        assert headers["etag"] == plain["etag"] and headers["last-modified"] == jan_2024
        assert get(base, "/dated.xml", headers={"If-Modified-Since": jan_2024})[0] == 304
        dec_2023 = {"If-Modified-Since": "Sun, 31 Dec 2023 23:59:59 GMT"}
        assert get(base, "/dated.xml", headers=dec_2023)[0] == 200

        # Last-Modified: now, no ETag.
        status, headers, body = get(base, "/now.xml")
        assert status == 200 and body == plain_body and "etag" not in headers
        sent = parsedate_to_datetime(headers["last-modified"]).timestamp()
        assert abs(sent - time.time()) < 5
        assert get(base, "/now.xml", headers={"If-Modified-Since": jan_2024})[0] == 200

        assert get(base, "/gone.xml")[0] == 404
        assert get(base, "/escape.xml")[0] == 404

        # The file changes; the broken validators do not.
        (site / "alpha" / "rss.xml").write_text("<rss><channel/></rss>\n", "utf-8")
        status, headers, body = get(base, "/fixed.xml", headers={"If-None-Match": '"constant"'})
        assert status == 200 and body == b"<rss><channel/></rss>\n"
        assert headers["etag"] == '"constant"'
        assert get(base, "/pinned.xml", headers={"If-None-Match": '"v1"'})[0] == 304


def test_routes_file_is_reloaded_while_serving(tmp_path: Path) -> None:
    site = _one_outlet_site(tmp_path, {"page.html": "<p>page</p>"})
    outlet = site / "alpha"
    with DemoServer(site) as demo:
        base = demo.bases["alpha"]
        assert get(base, "/x")[0] == 404
        _write_routes(outlet, {"/x": {"status": 418}})
        assert get(base, "/x")[0] == 418
        before = (outlet / "_routes.json").stat()
        _write_routes(outlet, {"/x": {"status": 429}})
        # Same size, inode and mtime, as on a filesystem with coarse timestamps.
        os.utime(outlet / "_routes.json", ns=(before.st_atime_ns, before.st_mtime_ns))
        assert get(base, "/x")[0] == 429
        _write_routes(outlet, {"/page.html": {"status": 503, "headers": {"Retry-After": "7"}}})
        status, headers, _ = get(base, "/page.html")
        assert status == 503 and headers["retry-after"] == "7"
        assert get(base, "/x")[0] == 404
        (outlet / "_routes.json").write_text('{"/page.html": ', "utf-8")  # half written
        assert get(base, "/page.html")[0] == 503  # the previous routes are kept
        _write_routes(outlet, {})
        assert get(base, "/page.html")[0] == 200
        _write_routes(outlet, {"/x": {"redirect": "/page.html", "status": 302}})
        assert get(base, "/x")[0] == 302
        (outlet / "_routes.json").unlink()
        assert get(base, "/x")[0] == 404


def test_invalid_routes_file_is_an_error_at_start(tmp_path: Path) -> None:
    site = _one_outlet_site(tmp_path, {})
    (site / "alpha" / "_routes.json").write_text('["/x"]', "utf-8")
    with pytest.raises(ValueError, match="_routes.json"):
        DemoServer(site).start()


def test_site_edits_are_served_live_by_the_subprocess(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(SITE_DIR, site)
    log = tmp_path / "requests.jsonl"
    proc, info = start_subprocess(site, log)
    try:
        base = info["outlets"]["wire"]
        extra = site / "wire" / "rss" / "extra.xml"
        assert get(base, "/rss/extra.xml")[0] == 404
        extra.write_text("<rss>{{base:wire}}</rss>\n", "utf-8")
        status, _, body = get(base, "/rss/extra.xml")
        assert status == 200 and body.decode() == f"<rss>{base}</rss>\n"

        world = site / "wire" / "rss" / "world.xml"
        _, headers, _ = get(base, "/rss/world.xml")
        old_etag = headers["etag"]
        world.write_text(world.read_text("utf-8") + "<!-- edited -->\n", "utf-8")
        status, headers, body = get(base, "/rss/world.xml", headers={"If-None-Match": old_etag})
        assert status == 200 and body.endswith(b"<!-- edited -->\n")
        assert headers["etag"] != old_etag
        new = {"If-None-Match": headers["etag"]}
        assert get(base, "/rss/world.xml", headers=new)[0] == 304
        world.unlink()
        assert get(base, "/rss/world.xml", headers=new)[0] == 404

        # Routes added while it runs, and a held connection does not delay its exit.
        routes = json.loads((site / "wire" / "_routes.json").read_text("utf-8"))
        routes["/hang"] = {"hang": True}
        _write_routes(site / "wire", routes)
        assert get(base, "/markets/")[0] == 503
        with _raw_get(base, "/hang", timeout=1.0) as sock:
            assert _wait_for(lambda: any(r["path"] == "/hang" for r in _log_records(log)))
            started = time.monotonic()
            assert stop_subprocess(proc) == 0
            assert time.monotonic() - started < 3
            sock.settimeout(2.0)
            assert sock.recv(1) == b""
    finally:
        stop_subprocess(proc)
