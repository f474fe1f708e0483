"""Real crawls of the loopback fixture site (monitor/demo/site) into real SQLite files."""

from __future__ import annotations

import sqlite3
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import Crawl, Site, newsmon, query_rows, run_crawl, write_config


def rows(db: Any, sql: str, *params: Any) -> list[sqlite3.Row]:
    return query_rows(db, sql, params)


def expected_articles(site: Site) -> list[tuple[str, dict[str, Any]]]:
    return [(oid, a) for oid, o in site.expected["outlets"].items() for a in o["articles"]]


def article_row(crawl: Crawl, site: Site, outlet_id: str, path: str) -> sqlite3.Row:
    url = site.bases[outlet_id] + path
    found = rows(
        crawl.db,
        "SELECT a.* FROM articles a JOIN article_urls u ON u.article_id = a.id WHERE u.url = ?",
        url,
    )
    assert len(found) == 1, f"{url}: expected one stored article, found {len(found)}"
    return found[0]


@pytest.fixture(scope="module")
def first(crawled: tuple[Crawl, Crawl]) -> Crawl:
    return crawled[0]


def test_every_expected_article_stored_exactly_once(first: Crawl, site: Site) -> None:
    expected = expected_articles(site)
    stored = rows(first.db, "SELECT outlet_id, count(*) AS n FROM articles GROUP BY outlet_id")
    per_outlet = {r["outlet_id"]: r["n"] for r in stored}
    for oid, outlet in site.expected["outlets"].items():
        assert per_outlet.get(oid, 0) == len(outlet["articles"]), oid
    assert sum(per_outlet.values()) == len(expected)
    for oid, article in expected:
        article_row(first, site, oid, article["path"])


def _fixture_articles() -> list[tuple[str, dict[str, Any]]]:
    from monitor.demo.server import load_expected

    return [(oid, a) for oid, o in load_expected()["outlets"].items() for a in o["articles"]]


@pytest.mark.parametrize(("oid", "want"), _fixture_articles(), ids=lambda v: v if isinstance(v, str) else v["path"][-40:])
def test_article_fields(first: Crawl, site: Site, oid: str, want: dict[str, Any]) -> None:
    row = article_row(first, site, oid, want["path"])
    assert row["title"] == want["title"]
    assert row["author"] == want["author"]
    assert row["published_at"] == want["published_at"]
    assert row["date_source"] == want["date_source"]
    assert row["language"] == want["language"]
    assert row["language_source"] == "detected"
    for sentence in want["must_contain"]:
        assert sentence in row["text"], f"missing body sentence: {sentence!r}"
    for boilerplate in want["must_not_contain"]:
        assert boilerplate not in row["text"], f"boilerplate leaked: {boilerplate!r}"
    assert not row["text"].startswith(want["title"]), "title repeated as the first line of the text"


def test_amp_copy_is_the_same_article(first: Crawl, site: Site) -> None:
    amp = [(oid, a) for oid, a in expected_articles(site) if a.get("amp_path")]
    assert amp, "the fixture site has an AMP copy"
    for oid, a in amp:
        main = article_row(first, site, oid, a["path"])
        copy = article_row(first, site, oid, a["amp_path"])
        assert main["id"] == copy["id"]


def test_tracking_variant_is_the_same_article(first: Crawl) -> None:
    tracked = rows(first.db, "SELECT url FROM article_urls WHERE url LIKE '%utm_%' OR url LIKE '%xtor%'")
    assert tracked == []
    requested = [r["path"] for r in first.requests if "xtor" in r["path"] or "utm_" in r["path"]]
    assert requested == [], "tracking parameters are dropped before fetching"


def test_found_via_records_each_channel(first: Crawl) -> None:
    # found_via is the channel that found the article first; every channel's finds are counted.
    channels = {r["found_via"] for r in rows(first.db, "SELECT DISTINCT found_via FROM articles")}
    assert {"feed", "homepage"} <= channels
    assert channels <= {"feed", "sitemap", "news-sitemap", "homepage"}
    discovered = first.outlet("lumiere")["discovered"]
    assert discovered.get("feed") and discovered.get("news-sitemap") and discovered.get("homepage")
    assert first.outlet("diario")["discovered"].get("sitemap")


def test_not_articles_never_stored(first: Crawl, site: Site) -> None:
    for oid, outlet in site.expected["outlets"].items():
        for path in outlet.get("not_articles", []):
            url = site.bases[oid] + path
            assert rows(first.db, "SELECT 1 FROM article_urls WHERE url = ?", url) == [], url


def test_page_without_text_is_counted_not_stored(first: Crawl) -> None:
    assert first.outlet("lumiere")["no_text"] >= 1


def test_robots_disallow_respected(first: Crawl, site: Site) -> None:
    disallowed = {p for o in site.expected["outlets"].values() for p in o.get("disallowed", [])}
    assert disallowed
    fetched = {r["path"] for r in first.requests}
    assert not disallowed & fetched
    assert "/robots.txt" in fetched


def test_offhost_links_not_fetched(first: Crawl, site: Site) -> None:
    offhost = urlsplit(site.offhost).netloc
    assert [r for r in first.requests if r["host"] == offhost] == []
    assert first.outlet("lumiere")["stats"].get("links/offsite", 0) >= 1


def test_user_agent_is_the_configured_one(first: Crawl) -> None:
    agents = {r["user_agent"] for r in first.requests}
    assert agents == {"newsmon-demo/0.1"}


def test_down_outlet_fails_alone(first: Crawl) -> None:
    down = first.outlet("down")
    assert down["status"] == "failed"
    assert down["errors"] == {"refused": 2}  # the feed and the homepage
    assert down["last_error"]
    for other in first.summary["outlets"]:
        if other["outlet_id"] != "down":
            assert other["status"] in ("ok", "partial") and other["articles_new"] > 0, other


def test_malformed_feed_is_logged_not_fatal(first: Crawl) -> None:
    wire = first.outlet("wire")
    assert wire["errors"].get("malformed_feed") == 1
    assert wire["articles_new"] > 0
    assert "unusable feed outlet=wire" in first.result.stderr


def test_crawl_runs_rows(first: Crawl) -> None:
    runs = rows(first.db, "SELECT * FROM crawl_runs WHERE run_id = ?", first.summary["run_id"])
    assert len(runs) == len(first.summary["outlets"])
    for run in runs:
        assert run["finished_at"] and run["duration"] is not None and run["status"] != "running"
        assert run["pages"] >= 0


def test_raw_html_kept_compressed(first: Crawl) -> None:
    fetches = rows(first.db, "SELECT count(*) AS n, sum(html_gz IS NOT NULL) AS kept FROM article_fetches")[0]
    articles = rows(first.db, "SELECT count(*) AS n FROM articles")[0]["n"]
    assert fetches["n"] == articles == fetches["kept"]


def test_second_crawl_adds_nothing_and_refetches_no_article(crawled: tuple[Crawl, Crawl], site: Site) -> None:
    first, second = crawled
    assert sum(o["articles_new"] for o in second.summary["outlets"]) == 0
    assert rows(second.db, "SELECT count(*) AS n FROM articles")[0]["n"] == len(expected_articles(site))
    article_paths = {a["path"] for _, a in expected_articles(site)}
    assert not article_paths & {r["path"] for r in second.requests}
    # Feeds, sitemaps and listing pages went out with validators and came back 304, unparsed.
    conditional = [r for r in second.requests if r["if_none_match"] and r["path"] != "/robots.txt"]
    assert conditional and all(r["status"] == 304 for r in conditional)
    assert sum(o["not_modified"] for o in second.summary["outlets"]) == len(conditional)
    others = [r for r in second.requests if not r["if_none_match"]]
    assert all(r["status"] in (301, 302) for r in others), others  # a section front's redirect


def test_second_crawl_asks_for_robots_txt_conditionally_and_keeps_its_rules(
    crawled: tuple[Crawl, Crawl], site: Site
) -> None:
    first, second = crawled
    robots = [r for r in second.requests if r["path"] == "/robots.txt"]
    assert robots and all(r["status"] == 304 and r["if_none_match"] for r in robots)
    assert {r["host"] for r in robots} == {r["host"] for r in first.requests if r["path"] == "/robots.txt"}
    # The kept copy's rules still apply: no disallowed page was fetched on the 304.
    disallowed = {p for o in site.expected["outlets"].values() for p in o.get("disallowed", [])}
    assert not disallowed & {r["path"] for r in second.requests}


def test_max_articles_per_run(site: Site, tmp_path: Any) -> None:
    db = tmp_path / "capped.db"
    config = write_config(tmp_path / "c.toml", site, db, max_articles_per_run=3)
    crawl = run_crawl(config, db, site, "lumiere")
    assert crawl.outlet("lumiere")["articles_new"] <= 3
    assert crawl.outlet("lumiere")["stats"].get("articles/capped", 0) >= 1
    assert [o["outlet_id"] for o in crawl.summary["outlets"]] == ["lumiere"]
    # What the cap left is in the frontier; the next runs take it although the feed answers 304.
    left = rows(db, "SELECT count(*) AS n FROM frontier WHERE outlet_id = 'lumiere'")[0]["n"]
    assert left >= 1
    stored = crawl.outlet("lumiere")["articles_new"]
    for _ in range(-(-left // 3)):
        stored += run_crawl(config, db, site, "lumiere").outlet("lumiere")["articles_new"]
    assert rows(db, "SELECT count(*) AS n FROM frontier")[0]["n"] == 0
    assert stored == rows(db, "SELECT count(*) AS n FROM articles")[0]["n"]
    assert stored == len([a for o, a in expected_articles(site) if o == "lumiere"])


def test_unknown_outlet_argument_is_a_config_error(site: Site, tmp_path: Any) -> None:
    config = write_config(tmp_path / "c.toml", site, tmp_path / "x.db")
    result = newsmon("--config", str(config), "crawl", "nosuch")
    assert result.returncode == 2
    assert "nosuch" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "x.db").exists(), "nothing happens before the config is valid"


def test_no_page_is_requested_twice_in_a_run(crawled: tuple[Crawl, Crawl]) -> None:
    """Seeds skip Scrapy's duplicate filter, so a section page linking back to the homepage used
    to fetch the homepage a second time (lumiere's /fr/)."""
    first, _ = crawled
    seen = Counter((r["site"], r["path"]) for r in first.requests)
    assert [key for key, n in seen.items() if n > 1] == []


def test_pages_are_analysed_in_worker_processes(first: Crawl) -> None:
    from crawlers.workers import default_workers

    stats = first.summary["crawl_stats"]
    assert stats["newsmon/workers/count"] == default_workers()
    assert stats["newsmon/workers/restarts"] == 0
    assert stats["newsmon/time/extract"] > 0 and stats["newsmon/time/language"] > 0


def test_zero_workers_store_the_same_articles(first: Crawl, site: Site, tmp_path: Any) -> None:
    db = tmp_path / "inline.db"
    config = write_config(tmp_path / "c.toml", site, db)
    config.write_text(config.read_text().replace("[crawl]\n", "[crawl]\nworkers = 0\n", 1), encoding="utf-8")
    inline = run_crawl(config, db, site)
    assert inline.summary["crawl_stats"]["newsmon/workers/count"] == 0
    # By canonical_url, not url: which of an article's URLs (its AMP copy, a tracking variant) is
    # fetched first, and so becomes `url`, depends on the order responses arrive in; so does the
    # page its text comes from (an AMP copy's text can differ a little): the text's hash and
    # signature are compared when both crawls extracted the same page.
    sql = ("SELECT a.canonical_url, a.title, a.author, a.published_at, a.language, a.url, a.content_hash,"
           " s.signature FROM articles a LEFT JOIN article_signatures s ON s.article_id = a.id"
           " ORDER BY a.canonical_url")
    inline_rows, pool_rows = rows(db, sql), rows(first.db, sql)
    assert [tuple(r)[:5] for r in inline_rows] == [tuple(r)[:5] for r in pool_rows]
    same_page = [(tuple(a)[5:], tuple(b)[5:]) for a, b in zip(inline_rows, pool_rows, strict=True) if a["url"] == b["url"]]
    assert len(same_page) >= len(pool_rows) - 2
    assert [a for a, _ in same_page] == [b for _, b in same_page]
