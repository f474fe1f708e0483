"""bench/newssite.py: the generated news site for the throughput benchmark, and its server.

A small site (4 outlets, one per language and template style, 40 articles each) is enough to check
what the benchmark relies on: the same seed gives the same bytes, article pages are 60-150 KB, the
ground truth is what the pages say, feeds and sitemaps list every article, conditional GET and gzip
work, and mutations change exactly what they should.
"""

from __future__ import annotations

import gzip
import http.client
import importlib.util
import json
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest
from lxml import html as lxml_html

from crawlers.discovery import parse_feed, parse_sitemap
from monitor.config import load_config

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
BASES = {"harbour-post": "http://127.0.0.51:8001", "quotidien-rhone": "http://127.0.0.52:8002",
         "diario-sur": "http://127.0.0.53:8003", "rheinische-rundschau": "http://127.0.0.54:8004"}


def _load() -> ModuleType:
    # bench/ is not a package; load the module by path, as the benchmark scripts do.
    spec = importlib.util.spec_from_file_location("newsmon_bench_newssite", ROOT / "bench" / "newssite.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


newssite = _load()


def _site(seed: int = 3, articles: int = 40) -> Any:
    site = newssite.NewsSite.generate(outlets=4, articles=articles, seed=seed, now=NOW)
    site.bind(BASES)
    return site


@pytest.fixture(scope="module")
def site() -> Any:
    return _site()


@pytest.fixture()
def served() -> Iterator[Any]:
    server = newssite.NewsSiteServer(newssite.NewsSite.generate(outlets=4, articles=20, seed=5, now=NOW))
    with server:
        yield server


def _get(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.netloc, timeout=10)
    try:
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def test_same_seed_same_bytes_other_seed_other_site(site: Any) -> None:
    again = _site()
    assert [sorted(r) for r in again.resources] == [sorted(r) for r in site.resources]
    for mine, theirs in zip(site.resources, again.resources, strict=True):
        assert all(mine[path].body == theirs[path].body and mine[path].etag == theirs[path].etag for path in mine)
    assert again.truth() == site.truth()
    other = _site(seed=4)
    assert other.truth()[0]["body"] != site.truth()[0]["body"]


def test_outlets_languages_styles_and_syndicated_copies() -> None:
    site = newssite.NewsSite.generate(outlets=8, articles=40, seed=3, now=NOW)
    site.bind({o.id: f"http://127.0.0.{51 + o.index}:80" for o in site.outlets})
    assert [o.language for o in site.outlets] == ["en", "fr", "es", "de"] * 2
    assert len({o.style for o in site.outlets}) == 4
    # The two outlets of a language never share a style.
    assert all(site.outlets[i].style != site.outlets[i + 4].style for i in range(4))
    truth = site.truth()
    by_url = {t["url"]: t for t in truth}
    copies = [t for t in truth if t["syndicated_from"]]
    assert 0.06 * len(truth) <= len(copies) <= 0.11 * len(truth)
    for copy in copies:
        original = by_url[copy["syndicated_from"]]
        assert original["outlet"] != copy["outlet"] and original["language"] == copy["language"]
        assert original["syndicated_from"] is None
        assert original["published"] < copy["published"]
        assert copy["cluster"] == original["cluster"] == original["url"]
        # The same paragraphs, give or take a dateline and an added sentence.
        assert original["body"].split("\n")[1:] == copy["body"].split("\n")[1:len(original["body"].split("\n"))]


def test_article_pages_are_60_to_150_kb(site: Any) -> None:
    sizes = [r.body.__len__() for res in site.resources for r in res.values() if r.kind == "article"]
    assert len(sizes) == 160
    assert min(sizes) >= 60_000 and max(sizes) <= 150_000
    assert 85_000 < sum(sizes) / len(sizes) < 125_000


def test_truth_is_what_the_pages_say(site: Any) -> None:
    for row in site.truth():
        assert row["published"].endswith("Z") and datetime.fromisoformat(row["published"]) <= NOW
        outlet = next(o for o in site.outlets if row["url"].startswith(o.base))
        page = site.resources[outlet.index][urlsplit(row["url"]).path].body.decode()
        tree = lxml_html.fromstring(page)
        texts = {p.text_content() for p in tree.iter("p")}
        paragraphs = row["body"].split("\n")
        assert 6 <= len(paragraphs) <= 21
        assert all(p in texts for p in paragraphs), row["url"]
        assert all(40 <= len(p.split()) <= 125 for p in paragraphs if p)
        assert [h.text_content() for h in tree.iter("h1")] == [row["title"]]
        assert row["author"] in page and row["lead"] in page
        (ld,) = [json.loads(s.text) for s in tree.iter("script")
                 if s.get("type") == "application/ld+json" and '"NewsArticle"' in s.text]
        assert ld["headline"] == row["title"] and ld["author"][0]["name"] == row["author"]
        assert datetime.fromisoformat(ld["datePublished"]) == datetime.fromisoformat(row["published"])
        assert tree.find(".//time").get("datetime") == ld["datePublished"]
        assert f'<html lang="{row["language"]}"' in page


def test_feeds_and_sitemaps_list_every_article(site: Any) -> None:
    truth_urls = {t["url"] for t in site.truth()}
    for o in site.outlets:
        res = site.resources[o.index]
        feed = parse_feed(res[o.feed_path].body, o.url(o.feed_path), res[o.feed_path].content_type)
        assert feed.malformed is None and feed.damaged is None
        newest = sorted(o.articles, key=lambda a: a.published)[-newssite.FEED_ITEMS:]
        assert [link.url for link in feed.links] == [o.url(a.path) for a in reversed(newest)]
        assert all(link.hints.get("title") and link.hints.get("feed_published_at") for link in feed.links)
        index = parse_sitemap(res[o.sitemap_path].body, o.url(o.sitemap_path))
        assert index.kind == "sitemapindex" and o.url(o.news_sitemap_path) in index.sitemaps
        listed: set[str] = set()
        for url in index.sitemaps:
            sm = parse_sitemap(res[urlsplit(url).path].body, url)
            assert sm.kind == "urlset"
            if url == o.url(o.news_sitemap_path):
                assert sm.links and all(link.channel == "news-sitemap" for link in sm.links)
                assert all(datetime.fromisoformat(link.hints["news_published_at"]) >= NOW - timedelta(days=2)
                           for link in sm.links)
            else:
                listed |= {link.url for link in sm.links}
        assert listed == {o.url(a.path) for a in o.articles}
        assert listed <= truth_urls
        robots = res["/robots.txt"].body.decode()
        assert f"Sitemap: {o.url(o.sitemap_path)}" in robots and "Disallow:\n" in robots
        home = res["/"].body.decode()
        assert all(f'href="{o.section_path(s)}"' in home for s, _ in o.sections)
        assert f'href="{o.articles[-1].path}"' in home


def test_config_for_the_site_is_valid(site: Any, tmp_path: Path) -> None:
    path = tmp_path / "bench.toml"
    path.write_text(site.config_toml(str(tmp_path / "bench.db")), encoding="utf-8")
    config = load_config(path)
    assert [o.id for o in config.outlets] == list(BASES)
    assert config.crawl.per_host_concurrency == 8 and config.storage.keep_html is False
    for outlet, o in zip(config.outlets, site.outlets, strict=True):
        assert all(outlet.article_regex.search(o.url(a.path)) for a in o.articles)
        assert not any(outlet.article_regex.search(o.url(p)) for p in site.resources[o.index]
                       if site.resources[o.index][p].kind != "article")


def test_server_conditional_get_gzip_head_and_404(served: Any) -> None:
    o = served.site.outlets[1]
    url = served.bases[o.id] + o.articles[-1].path
    status, headers, body = _get(url)
    assert status == 200 and headers["content-type"].startswith("text/html") and len(body) > 60_000
    etag, modified = headers["etag"], headers["last-modified"]
    assert _get(url, {"If-None-Match": etag})[0] == 304
    assert _get(url, {"If-None-Match": '"other"'})[0] == 200
    assert _get(url, {"If-Modified-Since": modified})[0] == 304
    assert _get(url, {"If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"})[0] == 200
    status, headers, zipped = _get(url, {"Accept-Encoding": "gzip, deflate"})
    assert status == 200 and headers["content-encoding"] == "gzip" and gzip.decompress(zipped) == body
    assert headers["etag"] != etag and len(zipped) < len(body) / 3
    assert _get(url, {"Accept-Encoding": "gzip", "If-None-Match": headers["etag"]})[0] == 304
    status, headers, nothing = _get(url, method="HEAD")
    assert status == 200 and nothing == b"" and int(headers["content-length"]) == len(body)
    assert _get(served.bases[o.id] + "/no/such/page")[0] == 404
    stats = json.loads(_get(served.bases[o.id] + "/__stats")[2])
    assert stats["by_status"] == {"200": 5, "304": 3, "404": 1}
    assert stats["by_kind"] == {"article": 8, "missing": 1} and stats["by_outlet"] == {o.id: 9}


def test_keep_alive_serves_many_requests_on_one_connection(served: Any) -> None:
    o = served.site.outlets[0]
    conn = http.client.HTTPConnection(urlsplit(served.bases[o.id]).netloc, timeout=10)
    try:
        for a in o.articles:
            conn.request("GET", a.path, headers={"Accept-Encoding": "gzip"})
            resp = conn.getresponse()
            assert resp.status == 200 and resp.getheader("Connection") == "keep-alive"
            resp.read()
    finally:
        conn.close()
    assert served.stats()["connections"] == 1


def test_mutation_adds_and_edits_articles_and_keeps_validators_of_the_rest(served: Any) -> None:
    site = served.site
    before = {t["url"]: t for t in site.truth()}
    etags = {}
    for o in site.outlets:
        for path in (o.feed_path, "/robots.txt", *(a.path for a in o.articles)):
            etags[served.bases[o.id] + path] = _get(served.bases[o.id] + path)[1]["etag"]
    result = json.loads(_get(served.bases[site.outlets[0].id] + "/__mutate?add=4&edit=3", method="POST")[2])
    assert len(result["added"]) == 4 and len(result["edited"]) == 3
    after = {t["url"]: t for t in site.truth()}
    assert set(after) == set(before) | {t["url"] for t in result["added"]}
    for row in result["added"]:
        status, _, body = _get(row["url"])
        assert status == 200 and row["body"].split("\n")[0][:40] in body.decode()
        assert row["published"] > max(t["published"] for t in before.values())
        outlet = next(o for o in site.outlets if row["url"].startswith(served.bases[o.id]))
        feed = parse_feed(_get(served.bases[outlet.id] + outlet.feed_path)[2], row["url"])
        assert row["url"] in [link.url for link in feed.links]
    for row in result["edited"]:
        old = before[row["url"]]
        assert row["version"] == 2 and row["modified"] and row["body"] != old["body"]
        assert sum(a != b for a, b in zip(row["body"].split("\n"), old["body"].split("\n"), strict=True)) == 1
        assert _get(row["url"], {"If-None-Match": etags[row["url"]]})[0] == 200
    edited = {row["url"] for row in result["edited"]}
    unchanged = [u for u in etags if u in before and u not in edited]
    assert all(_get(u, {"If-None-Match": etags[u]})[0] == 304 for u in unchanged)
    for o in site.outlets:
        assert _get(served.bases[o.id] + "/robots.txt", {"If-None-Match": etags[served.bases[o.id] + "/robots.txt"]})[0] == 304
    touched = {next(o.id for o in site.outlets if r["url"].startswith(served.bases[o.id]))
               for r in result["added"]}
    for o in site.outlets:
        feed_url = served.bases[o.id] + o.feed_path
        assert _get(feed_url, {"If-None-Match": etags[feed_url]})[0] == (200 if o.id in touched else 304)


def test_command_line_serves_writes_truth_config_and_stats(tmp_path: Path) -> None:
    truth, config, stats = tmp_path / "truth.jsonl", tmp_path / "site.toml", tmp_path / "stats.json"
    proc, info = newssite.start_subprocess(
        2, 12, 7, extra=["--truth", str(truth), "--config", str(config), "--database", str(tmp_path / "x.db"),
                         "--stats", str(stats)])
    try:
        assert len(info["outlets"]) == 2 and info["articles"] == 24
        rows = [json.loads(line) for line in truth.read_text(encoding="utf-8").splitlines()]
        assert len(rows) == 24 and _get(rows[0]["url"])[0] == 200
        assert json.loads(_get(info["stats"])[2])["by_kind"] == {"article": 1}
        assert [o.id for o in load_config(config).outlets] == list(info["outlets"])
    finally:
        assert newssite.stop_subprocess(proc) == 0
    assert json.loads(stats.read_text())["requests"] == 1


def test_every_link_of_the_pages_is_served(site: Any) -> None:
    for o in site.outlets:
        res = site.resources[o.index]
        for path in ("/", o.section_path(o.sections[0][0]), *(a.path for a in o.articles[-5:])):
            page = res[path].body.decode()
            links = {h.split("#")[0].split("?")[0] for h in re.findall(r'<a [^>]*href="([^"]+)"', page)}
            local = {h for h in links if h.startswith("/")}
            assert local and all(h in res for h in local), sorted(h for h in local if h not in res)
            assert not any(h.startswith("http") and not h.startswith(o.base) for h in links)


def test_a_section_front_without_its_slash_is_redirected(served: Any) -> None:
    o = served.site.outlets[0]
    section = next(p for p in served.site.resources[0] if p.endswith("/") and p.count("/") == 2)
    status, headers, _ = _get(served.bases[o.id] + section.rstrip("/"))
    assert (status, headers["location"]) == (301, section)
