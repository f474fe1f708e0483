"""Incremental recrawl with real crawls of an editable site: conditional GET, body hashes, rechecks,
versions, removed articles, the frontier. Real server on loopback, `newsmon crawl` in subprocesses."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import newsmon, query_rows
from tests.minisite import MiniSite, config_text, paragraphs


class Env:
    def __init__(self, tmp_path: Path, server: Any, site: MiniSite, log: Path):
        self.tmp_path = tmp_path
        self.server = server
        self.site = site
        self.log = log
        self.db = tmp_path / "news.db"
        self.config = tmp_path / "newsmon.toml"
        self.config.write_text(config_text(server.bases, self.db, outlets=sorted(site.articles)), encoding="utf-8")

    def crawl(self, *outlets: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        before = len(self.requests())
        result = newsmon("--config", str(self.config), "crawl", "--json", *outlets)
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout), self.requests()[before:]

    def requests(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]

    def query(self, sql: str, params: list[Any] | None = None) -> list[sqlite3.Row]:
        return query_rows(self.db, sql, params or [])

    def article(self, slug: str) -> sqlite3.Row:
        return self.query("SELECT * FROM articles WHERE url LIKE ?", [f"%/news/{slug}.html"])[0]


@pytest.fixture
def env(tmp_path: Path) -> Any:
    from monitor.demo.server import DemoServer

    site = MiniSite(tmp_path / "site")
    site.add_outlet("alpha", 3)
    log = tmp_path / "requests.jsonl"
    with DemoServer(site.root, log_path=log) as server:
        yield Env(tmp_path, server, site, log)


def outlet_row(summary: dict[str, Any], outlet: str = "alpha") -> dict[str, Any]:
    return next(r for r in summary["outlets"] if r["outlet_id"] == outlet)


def wait_for_recheck() -> None:
    time.sleep(1.1)  # the test config rechecks every second


def test_unchanged_site_second_run_fetches_feed_and_due_rechecks_only_all_304(env: Env) -> None:
    first, _ = env.crawl()
    assert outlet_row(first)["articles_new"] == 3
    wait_for_recheck()
    second, requests = env.crawl()
    paths = sorted(r["path"] for r in requests if r["path"] != "/robots.txt")
    assert paths == sorted(["/rss.xml", "/news/story-0.html", "/news/story-1.html", "/news/story-2.html"])
    assert all(r["status"] == 304 for r in requests if r["path"] != "/robots.txt")
    assert all(r["if_none_match"] for r in requests if r["path"] != "/robots.txt")
    row = outlet_row(second)
    assert (row["not_modified"], row["rechecked"], row["articles_new"], row["versions_new"]) == (4, 3, 0, 0)


def test_new_article_is_found_through_a_changed_feed(env: Env) -> None:
    env.crawl()
    env.site.add_article("alpha", "fresh", "A fresh story about the ferry", seed=40)
    summary, requests = env.crawl()
    assert outlet_row(summary)["articles_new"] == 1
    feed = [r for r in requests if r["path"] == "/rss.xml"]
    assert feed and feed[0]["status"] == 200  # a conditional GET that found a change
    assert env.article("fresh")["title"] == "A fresh story about the ferry"


def test_edited_article_becomes_version_2_with_a_diff(env: Env) -> None:
    env.crawl()
    old = env.article("story-1")
    paras = paragraphs(1)
    paras[2] = "The mayor resigned on Tuesday evening after the council voted against the budget."
    env.site.write_article("alpha", "story-1", "Story one: the mayor resigns", paras)
    wait_for_recheck()
    summary, _ = env.crawl()
    assert outlet_row(summary)["versions_new"] == 1
    new = env.article("story-1")
    assert (new["version"], new["title"]) == (2, "Story one: the mayor resigns")
    assert "mayor resigned" in new["text"] and new["changed_at"]
    versions = env.query("SELECT * FROM article_versions WHERE article_id = ?", [new["id"]])
    assert [(v["version"], v["title"], v["text"], v["content_hash"]) for v in versions] == [
        (1, old["title"], old["text"], old["content_hash"])
    ]
    assert env.query("SELECT count(*) AS n FROM articles")[0]["n"] == 3  # still one row per story
    diff = newsmon("--config", str(env.config), "show", str(new["id"]), "--diff")
    assert diff.returncode == 0, diff.stderr
    assert "-# Alpha story number 1" in diff.stdout and "+# Story one: the mayor resigns" in diff.stdout
    assert "+The mayor resigned on Tuesday evening" in diff.stdout
    export = newsmon("--config", str(env.config), "export")
    versions_by_title = {json.loads(line)["title"]: json.loads(line)["version"] for line in export.stdout.splitlines()}
    assert versions_by_title["Story one: the mayor resigns"] == 2
    # The FTS index follows the new text.
    found = newsmon("--config", str(env.config), "search", "--json", "resigned")
    assert [r["id"] for r in json.loads(found.stdout)] == [new["id"]]


def test_an_edit_the_feed_announces_is_checked_at_once(env: Env) -> None:
    # No age-based recheck falls due for 30 days: only the feed's <atom:updated> makes the
    # crawl fetch the page again.
    env.config.write_text(env.config.read_text().replace('every = "1s"', 'every = "30d"'), encoding="utf-8")
    env.crawl()
    env.site.write_article("alpha", "story-1", "Story one: the bridge reopens", paragraphs(11))
    time.sleep(1.1)  # stored times have whole seconds: the edit is dated after the fetch
    env.site.articles["alpha"]["story-1"]["updated"] = datetime.now(UTC).isoformat(timespec="seconds")
    env.site.write_feed("alpha")
    summary, requests = env.crawl()
    assert sorted(r["path"] for r in requests if r["path"] != "/robots.txt") == ["/news/story-1.html", "/rss.xml"]
    row = outlet_row(summary)
    assert (row["rechecked"], row["versions_new"]) == (1, 1)
    assert env.article("story-1")["version"] == 2
    # Announced once: the next run sees an update older than its last fetch and does not refetch.
    _, requests = env.crawl()
    assert [r["path"] for r in requests if r["path"] != "/robots.txt"] == ["/rss.xml"]


def test_an_edit_announced_by_a_second_feed_is_checked_even_if_the_first_listed_the_page(env: Env) -> None:
    # The page is listed by rss.xml without a date and by updates.xml with its update time: either
    # feed may be read first, and the announcement must count in both orders.
    updates = env.site.root / "alpha" / "updates.xml"
    updates.write_text('<?xml version="1.0"?><rss version="2.0"><channel><title>u</title></channel></rss>',
                       encoding="utf-8")
    text = env.config.read_text().replace('every = "1s"', 'every = "30d"')
    feed = next(line for line in text.splitlines() if line.startswith("feeds = "))
    env.config.write_text(text.replace(feed, feed.replace('/rss.xml"]', '/rss.xml", "' + feed.split('"')[1].replace(
        "/rss.xml", "/updates.xml") + '"]')), encoding="utf-8")
    env.crawl()
    env.site.write_article("alpha", "story-2", "Story two: the harbour reopens", paragraphs(12))
    time.sleep(1.1)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    updates.write_text(
        '<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>u</title>'
        f"<item><title>Story two</title><link>{env.server.bases['alpha']}/news/story-2.html</link>"
        f"<atom:updated>{now}</atom:updated></item></channel></rss>", encoding="utf-8")
    env.site.articles["alpha"]["story-2"]["title"] = "Story two: the harbour reopens"
    env.site.write_feed("alpha")  # rss.xml changes too (it is read again), still without dates
    summary, requests = env.crawl()
    assert [r["path"] for r in requests].count("/news/story-2.html") == 1
    assert (outlet_row(summary)["rechecked"], outlet_row(summary)["versions_new"]) == (1, 1)


def test_an_unchanged_page_the_feed_calls_updated_is_a_304(env: Env) -> None:
    env.config.write_text(env.config.read_text().replace('every = "1s"', 'every = "30d"'), encoding="utf-8")
    env.crawl()
    time.sleep(1.1)
    env.site.articles["alpha"]["story-0"]["updated"] = datetime.now(UTC).isoformat(timespec="seconds")
    env.site.write_feed("alpha")
    summary, requests = env.crawl()
    page = [r for r in requests if r["path"] == "/news/story-0.html"]
    assert [r["status"] for r in page] == [304]
    assert (outlet_row(summary)["rechecked"], outlet_row(summary)["versions_new"]) == (1, 0)


def test_robots_txt_kept_from_the_last_run_applies_on_a_304(env: Env) -> None:
    robots = env.site.root / "alpha" / "robots.txt"
    robots.write_text("User-agent: *\nDisallow: /news/secret\n", encoding="utf-8")
    env.crawl()
    env.site.add_article("alpha", "secret-plan", "A page robots.txt forbids", seed=41)
    _, requests = env.crawl()
    asked = [r for r in requests if r["path"] == "/robots.txt"]
    assert [(r["status"], bool(r["if_none_match"])) for r in asked] == [(304, True)]
    assert "/news/secret-plan.html" not in {r["path"] for r in requests}
    # A changed robots.txt is downloaded again and its new rules apply (to the links of the
    # feed, which changed too: a denied link is dropped, and found again when the feed is read).
    robots.write_text("User-agent: *\nDisallow: /private/\n", encoding="utf-8")
    env.site.add_article("alpha", "open-plan", "A page anyone may fetch", seed=42)
    summary, requests = env.crawl()
    assert [r["status"] for r in requests if r["path"] == "/robots.txt"] == [200]
    assert "/news/secret-plan.html" in {r["path"] for r in requests}
    assert outlet_row(summary)["articles_new"] == 2


def test_boilerplate_only_change_is_not_a_version(env: Env) -> None:
    env.crawl()
    env.site.write_article("alpha", "story-2", "Alpha story number 2", paragraphs(2),
                           related="<li><a href='/news/other.html'>A brand new related story</a></li>")
    wait_for_recheck()
    summary, requests = env.crawl()
    page = [r for r in requests if r["path"] == "/news/story-2.html"]
    assert page and page[0]["status"] == 200  # the HTML changed and was extracted again
    row = outlet_row(summary)
    assert row["versions_new"] == 0 and row["rechecked"] == 3
    assert env.article("story-2")["version"] == 1
    assert env.query("SELECT count(*) AS n FROM article_versions")[0]["n"] == 0


def test_deleted_article_is_marked_removed_not_deleted(env: Env) -> None:
    env.crawl()
    env.site.delete_article("alpha", "story-0")
    wait_for_recheck()
    summary, _ = env.crawl()
    assert outlet_row(summary)["removed"] == 1
    row = env.article("story-0")
    assert row["removed_at"] and row["next_check_at"] is None and row["text"]
    wait_for_recheck()
    _, requests = env.crawl()
    assert "/news/story-0.html" not in {r["path"] for r in requests}  # never rechecked again


def test_same_etag_with_new_content_counts_as_changed(env: Env) -> None:
    """A server that keeps its ETag and Last-Modified when the feed changes, and 304s them: the body
    hash is only seen on a 200, so it answers 200 here (conditional false) with a constant ETag."""
    env.site.routes("alpha", {"/rss.xml": {"file": "rss.xml", "etag": '"constant"',
                                           "last_modified": "Mon, 01 Jan 2024 00:00:00 GMT", "conditional": False}})
    env.crawl()
    env.site.add_article("alpha", "sneaky", "A story the validators hide", seed=50)
    summary, _ = env.crawl()
    assert outlet_row(summary)["articles_new"] == 1


def test_new_validators_with_the_same_content_count_as_unchanged(env: Env) -> None:
    """A server that stamps every response with a fresh Last-Modified and no ETag."""
    env.site.routes("alpha", {"/rss.xml": {"file": "rss.xml", "etag": False, "last_modified": "now",
                                           "conditional": False}})
    env.crawl()
    summary, requests = env.crawl()
    assert [r["status"] for r in requests if r["path"] == "/rss.xml"] == [200]
    stats = outlet_row(summary)["stats"]
    assert stats.get("not_modified/same_body") == 1 and outlet_row(summary)["articles_new"] == 0


def test_links_of_an_interrupted_run_are_fetched_next_time(env: Env) -> None:
    """The feed's new state is saved with its links in the frontier: when the articles could not be
    fetched, the next run fetches them even though the feed now answers 304."""
    env.site.routes("alpha", {f"/news/story-{i}.html": {"status": 503} for i in range(3)})
    summary, _ = env.crawl()
    assert outlet_row(summary)["articles_new"] == 0
    assert env.query("SELECT count(*) AS n FROM frontier WHERE attempts = 1")[0]["n"] == 3
    env.site.routes("alpha", {})
    summary, requests = env.crawl()
    assert [r["status"] for r in requests if r["path"] == "/rss.xml"] == [304]
    assert outlet_row(summary)["articles_new"] == 3
    assert env.query("SELECT count(*) AS n FROM frontier")[0]["n"] == 0


def test_frontier_links_the_config_no_longer_wants_are_dropped(env: Env) -> None:
    from storage.db import open_database, write_transaction
    from storage.frontier import add_links

    env.crawl()
    db = open_database(env.db)
    with write_transaction(db):
        add_links(db, "alpha", [("https://elsewhere.example/news/x.html", "feed", {}),
                                (f"{env.server.bases['alpha']}/about/team.html", "feed", {})])
    db.close()
    env.crawl()
    assert env.query("SELECT count(*) AS n FROM frontier")[0]["n"] == 0
