"""Crawl behaviours on purpose-built sites: outlet-specific spiders, retries with backoff, the page
size cap, a database that cannot be opened. Real servers on loopback, real crawls in subprocesses."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Site, newsmon, write_config

ARTICLE = """<html><head><title>{title}</title></head><body><article><h1>{title}</h1>
<p>{body}</p></article></body></html>"""
BODY = ("The harbour authority said on Thursday that the new pier would open in spring, after two years of "
        "works delayed by storms and by a dispute over the cost of the foundations. ") * 4


@pytest.fixture
def custom_site(tmp_path: Path) -> Any:
    """Two outlets: 'flaky' whose feed always answers 503 with Retry-After, 'big' with one page
    over the size cap and one normal article."""
    from monitor.demo.server import DemoServer

    root = tmp_path / "site"
    flaky = root / "flaky"
    flaky.mkdir(parents=True)
    (flaky / "_routes.json").write_text(json.dumps({"/rss.xml": {"status": 503, "headers": {"Retry-After": "1"}}}))
    big = root / "big" / "news"
    big.mkdir(parents=True)
    (big / "2026-11-20-harbour-pier-opens-in-spring.html").write_text(ARTICLE.format(title="Pier", body=BODY))
    (big / "2026-11-20-an-enormous-page-over-the-cap.html").write_text(
        ARTICLE.format(title="Huge", body=BODY * 1500)  # ~1.2 MB
    )
    (root / "big" / "index.html").write_text(
        '<a href="/news/2026-11-20-harbour-pier-opens-in-spring.html">a</a>'
        '<a href="/news/2026-11-20-an-enormous-page-over-the-cap.html">b</a>'
    )
    blocked = root / "blocked"
    blocked.mkdir()
    (blocked / "robots.txt").write_text("User-agent: *\nDisallow: /rss.xml\n")
    (blocked / "rss.xml").write_text("<rss version='2.0'><channel><title>t</title></channel></rss>")
    (blocked / "_routes.json").write_text(json.dumps({"/": {"redirect": "{{base:offhost}}/", "status": 302}}))
    log = tmp_path / "requests.jsonl"
    with DemoServer(root, log_path=log) as server:
        yield server, log


def test_retries_with_backoff_then_fails_alone(custom_site: Any, tmp_path: Path) -> None:
    server, log = custom_site
    db = tmp_path / "x.db"
    config = tmp_path / "c.toml"
    config.write_text(f"""
[storage]
database = "{db}"
[crawl]
user_agent = "newsmon-test"
max_page_bytes = 1000000
[[outlets]]
id = "flaky"
feeds = ["{server.bases['flaky']}/rss.xml"]
[[outlets]]
id = "big"
homepage = "{server.bases['big']}/"
[[outlets]]
id = "blocked"
feeds = ["{server.bases['blocked']}/rss.xml"]
homepage = "{server.bases['blocked']}/"
""")
    result = newsmon("--config", str(config), "crawl", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    runs = {r["outlet_id"]: r for r in json.loads(result.stdout)["outlets"]}

    attempts = [json.loads(line) for line in log.read_text().splitlines() if '"/rss.xml"' in line]
    assert [a["status"] for a in attempts] == [503, 503, 503]  # RETRY_TIMES = 2
    gaps = [b["ts"] - a["ts"] for a, b in zip(attempts, attempts[1:], strict=False)]
    assert gaps[0] >= 0.9 and gaps[1] >= 1.9, gaps  # max(Retry-After 1 s, 1 s backoff), then 2 s
    assert runs["flaky"]["status"] == "failed" and runs["flaky"]["errors"] == {"http_503": 1}

    assert runs["big"]["errors"] == {"too_large": 1}
    assert runs["big"]["articles_new"] == 1 and runs["big"]["status"] == "partial"

    # A feed forbidden by robots.txt and a homepage redirecting off the outlet: both seeds fail.
    assert runs["blocked"]["status"] == "failed"
    assert runs["blocked"]["errors"] == {"robots_denied": 1, "offsite_redirect": 1}
    requests = [json.loads(line) for line in log.read_text().splitlines()]
    assert not [r for r in requests if r["site"] == "blocked" and r["path"] == "/rss.xml"]
    assert not [r for r in requests if r["host"] == server.offhost.split("://", 1)[1]]


def test_outlet_specific_spider_by_import_path(site: Site, tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    config = write_config(tmp_path / "c.toml", site, db)
    text = config.read_text().replace('id = "zeitung"', 'id = "zeitung"\nspider = "tests.outlet_spiders.OnlyHydrogenSpider"')
    config.write_text(text)
    result = newsmon("--config", str(config), "crawl", "zeitung", "wire", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    conn = sqlite3.connect(db)
    counts = dict(conn.execute("SELECT outlet_id, count(*) FROM articles GROUP BY outlet_id").fetchall())
    urls = [u for (u,) in conn.execute("SELECT url FROM articles WHERE outlet_id = 'zeitung'")]
    conn.close()
    assert counts == {"zeitung": 1, "wire": len(site.expected["outlets"]["wire"]["articles"])}
    assert "wasserstoff" in urls[0]


def test_a_bug_in_a_spider_callback_is_counted_not_hidden(site: Site, tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.toml", site, tmp_path / "b.db")
    text = config.read_text().replace('id = "zeitung"', 'id = "zeitung"\nspider = "tests.outlet_spiders.BrokenListingSpider"')
    config.write_text(text)
    result = newsmon("--config", str(config), "crawl", "zeitung", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    run = json.loads(result.stdout)["outlets"][0]
    assert run["status"] == "partial" and run["errors"] == {"spider_error": 1}
    assert "this layout changed" in run["last_error"]


def test_unknown_spider_is_a_clear_error(site: Site, tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.toml", site, tmp_path / "s.db")
    config.write_text(config.read_text().replace('id = "wire"', 'id = "wire"\nspider = "nosuchspider"'))
    result = newsmon("--config", str(config), "crawl", "wire")
    assert result.returncode == 1
    assert "cannot load spider 'nosuchspider'" in result.stderr and "Traceback" not in result.stderr


def test_unusable_database_fails_before_any_request(site: Site, tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.toml", site, tmp_path / "s.db")
    before = len(site.requests())
    result = newsmon("--config", str(config), "--db", "/proc/newsmon/x.db", "crawl")
    assert result.returncode == 1
    assert "cannot open database /proc/newsmon/x.db" in result.stderr and "Traceback" not in result.stderr
    assert len(site.requests()) == before


def test_crawl_settings_carry_the_config(site: Site, tmp_path: Path) -> None:
    from monitor.config import load_config
    from monitor.runner import crawl_settings

    config = load_config(write_config(tmp_path / "c.toml", site, tmp_path / "s.db", download_delay=0.5,
                                      per_host_concurrency=2, timeout=7, max_page_bytes=123456))
    s = crawl_settings(config, config.outlets, "run-1")
    assert (s["DOWNLOAD_DELAY"], s["CONCURRENT_REQUESTS_PER_DOMAIN"], s["DOWNLOAD_TIMEOUT"], s["DOWNLOAD_MAXSIZE"]) == (
        0.5, 2, 7, 123456)
    assert s["USER_AGENT"] == "newsmon-demo/0.1" and s["ROBOTSTXT_OBEY"] is True
    assert [o["id"] for o in s["NEWSMON_OUTLETS"]] == sorted(site.bases)
    json.dumps(s)  # plain values only: a crawl can be fed these in a child process


def test_two_crawls_at_once_never_store_an_article_twice(site: Site, tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT

    db = tmp_path / "shared.db"
    config = write_config(tmp_path / "c.toml", site, db)
    procs = [
        subprocess.Popen([sys.executable, "-m", "monitor", "-q", "--config", str(config), "crawl", "--json"],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-2000:] for _, err in outputs]
    conn = sqlite3.connect(db)
    total = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    doubled = conn.execute("SELECT count(*) FROM (SELECT outlet_id, content_hash FROM articles "
                           "GROUP BY 1, 2 HAVING count(*) > 1)").fetchone()[0]
    conn.close()
    expected = sum(len(o["articles"]) for o in site.expected["outlets"].values())
    assert (total, doubled) == (expected, 0)
    new = [sum(o["articles_new"] for o in json.loads(out)["outlets"]) for out, _ in outputs]
    assert sum(new) == expected  # each article counted new by exactly one of the two crawls


def test_robots_txt_holds_for_requests_waiting_on_it(site: Site, tmp_path: Path) -> None:
    """Requests that wait together for a host's robots.txt are each checked against it.

    Scrapy 2.19 let every waiter but the first through unchecked (crawlers/middlewares/robots.py):
    frontier links are requested at the start, all waiting for robots.txt at once.
    """
    from storage.db import open_database, write_transaction
    from storage.frontier import add_links

    db_path = tmp_path / "robots.db"
    config = write_config(tmp_path / "c.toml", site, db_path)
    base = site.bases["lumiere"]
    db = open_database(db_path)
    with write_transaction(db):
        db.execute("INSERT INTO outlets (id, name, added_at, updated_at) VALUES ('lumiere', 'l', 'x', 'x')")
        add_links(db, "lumiere", [(f"{base}/fr/prive/2026111{n}-article-interdit", "feed", {}) for n in range(6)])
    db.close()
    before = len(site.requests())
    result = newsmon("--config", str(config), "crawl", "--json", "lumiere")
    assert result.returncode == 0, result.stderr[-2000:]
    fetched = [r["path"] for r in site.requests()[before:] if r["path"].startswith("/fr/prive/")]
    assert fetched == []
    summary = json.loads(result.stdout)["outlets"][0]
    assert summary["stats"]["robots_denied"] >= 6
    conn = sqlite3.connect(db_path)
    left = conn.execute("SELECT count(*) FROM frontier WHERE url LIKE '%/fr/prive/%'").fetchone()[0]
    conn.close()
    assert left == 0  # forbidden is final: not tried again


def test_a_meta_refresh_is_followed_and_article_pages_are_not_decoded_for_it(tmp_path: Path) -> None:
    """A moved article answers 200 with `<meta http-equiv="refresh">` (in any case, after 5 KB of
    UTF-8 head): the crawl follows it and stores the target. A page that mentions "refresh" only in
    its text goes through Scrapy's check and is stored as itself."""
    from monitor.demo.server import DemoServer

    root = tmp_path / "site"
    news = root / "moved" / "news"
    news.mkdir(parents=True)
    # Within Scrapy's 4,096 characters, but beyond 4,096 bytes: accented keywords.
    padding = "<meta charset='utf-8'><meta name='keywords' content='" + "ééé, " * 600 + "'>"
    (news / "2026-11-20-old-address.html").write_text(
        f"<html><head>{padding}<META HTTP-EQUIV='Refresh' CONTENT='0; URL=/news/2026-11-20-new-address.html'>"
        "</head><body><p>Moved.</p></body></html>")
    (news / "2026-11-20-new-address.html").write_text(ARTICLE.format(title="Pier", body=BODY))
    (news / "2026-11-20-refresh-of-the-quay.html").write_text(
        ARTICLE.format(title="Quay", body="The refresh of the quay begins in March. " + BODY))
    (root / "moved" / "index.html").write_text(
        '<a href="/news/2026-11-20-old-address.html">a</a><a href="/news/2026-11-20-refresh-of-the-quay.html">b</a>')
    with DemoServer(root) as server:
        db = tmp_path / "m.db"
        config = tmp_path / "c.toml"
        config.write_text(f'[storage]\ndatabase = "{db}"\n[crawl]\nuser_agent = "newsmon-test"\n'
                          f'[[outlets]]\nid = "moved"\nhomepage = "{server.bases["moved"]}/"\n')
        result = newsmon("--config", str(config), "crawl", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    conn = sqlite3.connect(db)
    stored = sorted(u.rsplit("/", 1)[1] for (u,) in conn.execute("SELECT url FROM articles"))
    conn.close()
    assert stored == ["2026-11-20-new-address.html", "2026-11-20-refresh-of-the-quay.html"]
