"""Near-duplicate clusters end to end: the same story at three outlets (tests/clustersite.py) served
on loopback, real `newsmon crawl` subprocesses, the clusters read back from SQLite and through the
CLI (search, export, show, clusters).

The read-only checks share one crawl of the whole site (module fixture); the tests that grow or
edit the site get a site and a database of their own.
"""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.clustersite import UNRELATED, UNRELATED_TITLE, ClusterSite, build_site, config_text, iso
from tests.conftest import newsmon, query_rows

A = ("A_wire", "A_courier", "A_gazette")


class Env:
    def __init__(self, tmp_path: Path, server: Any, site: ClusterSite, log: Path):
        self.tmp_path = tmp_path
        self.server = server
        self.site = site
        self.log = log
        self.db = tmp_path / "news.db"
        self.config = tmp_path / "newsmon.toml"
        self.config.write_text(config_text(server.bases, self.db), encoding="utf-8")

    def crawl(self, *outlets: str) -> dict[str, Any]:
        result = newsmon("--config", str(self.config), "crawl", "--json", *outlets)
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout)

    def cli(self, *args: str) -> str:
        result = newsmon("--config", str(self.config), *args)
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    def cli_json(self, *args: str) -> Any:
        return json.loads(self.cli(*args, "--json"))

    def query(self, sql: str, params: list[Any] | None = None) -> list[sqlite3.Row]:
        return query_rows(self.db, sql, params or [])

    def rows_at(self, key: str) -> list[sqlite3.Row]:
        """The articles rows that any URL of page `key` belongs to (one, when all is well)."""
        page = self.site.pages[key]
        return self.query(
            "SELECT DISTINCT a.* FROM articles a JOIN article_urls u ON u.article_id = a.id "
            "WHERE a.outlet_id = ? AND u.url LIKE ?",
            [page.outlet, f"%{self.site.path(key)}"],
        )

    def row(self, key: str) -> sqlite3.Row:
        rows = self.rows_at(key)
        assert len(rows) == 1, f"{key}: {len(rows)} articles rows"
        return rows[0]

    def ids(self, *keys: str) -> list[int]:
        return [self.row(k)["id"] for k in keys]

    def members(self, cluster_id: int) -> set[int]:
        return {r["id"] for r in self.query("SELECT id FROM articles WHERE cluster_id = ?", [cluster_id])}


def start(tmp_path: Path) -> tuple[Any, ClusterSite, Path]:
    from monitor.demo.server import DemoServer

    site = build_site(tmp_path / "site")
    log = tmp_path / "requests.jsonl"
    return DemoServer(site.root, log_path=log), site, log


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The whole site, crawled once."""
    tmp_path = tmp_path_factory.mktemp("clusters")
    server, site, log = start(tmp_path)
    with server:
        env = Env(tmp_path, server, site, log)
        env.crawl()
        yield env


@pytest.fixture
def env(tmp_path: Path) -> Any:
    """The whole site, not crawled yet."""
    server, site, log = start(tmp_path)
    with server:
        yield Env(tmp_path, server, site, log)


def assert_cluster(env: Env, earliest: str, *copies: str) -> int:
    """`earliest` and `copies` are exactly one cluster, every copy pointing at `earliest`."""
    first = env.row(earliest)
    rows = [env.row(k) for k in copies]
    assert first["cluster_id"] is not None
    assert [r["cluster_id"] for r in rows] == [first["cluster_id"]] * len(rows)
    assert env.members(first["cluster_id"]) == {first["id"], *(r["id"] for r in rows)}
    assert (first["duplicate_of"], first["similarity"]) == (None, None)
    assert [r["duplicate_of"] for r in rows] == [first["id"]] * len(rows)
    for r in rows:
        assert 0.3 <= r["similarity"] <= 1.0
    return first["cluster_id"]


def assert_unclustered(row: sqlite3.Row) -> None:
    assert (row["cluster_id"], row["duplicate_of"], row["similarity"]) == (None, None, None)


# -- what the pipeline stores -----------------------------------------------------------------


def test_every_page_is_stored(crawled: Env) -> None:
    for key in crawled.site.pages:
        assert crawled.rows_at(key), f"{key} was not stored"


def test_republications_form_one_cluster_with_the_wire_original_earliest(crawled: Env) -> None:
    """A new headline, boilerplate and a dateline in the body, a few words changed (courier); the
    first 60 % plus a sentence (gazette): copies of the wire's story, each its own article."""
    assert len(set(crawled.ids(*A))) == 3
    assert_cluster(crawled, "A_wire", "A_courier", "A_gazette")


def test_two_stories_about_one_event_are_not_clustered(crawled: Env) -> None:
    """Same strike, same people and places, one stock phrase and one quote in common."""
    b, c = crawled.row("B_wire"), crawled.row("C_gazette")
    assert_unclustered(b)
    assert_unclustered(c)


def test_short_captions_are_never_clustered(crawled: Env) -> None:
    wire, courier = crawled.row("video_wire"), crawled.row("video_courier")
    assert wire["text"] == courier["text"]  # word for word the same caption, yet under 60 words
    assert_unclustered(wire)
    assert_unclustered(courier)


def test_print_version_is_the_same_article_with_two_urls(crawled: Env) -> None:
    row = crawled.row("D_wire")
    assert crawled.row("D_wire_print")["id"] == row["id"]
    urls = [r["url"] for r in crawled.query("SELECT url FROM article_urls WHERE article_id = ?", [row["id"]])]
    assert sorted(u.rsplit("/", 1)[1] for u in urls) == ["comet-print.html", "comet.html"]
    assert_unclustered(row)


def test_near_same_text_of_one_outlet_at_another_url_is_the_same_article(crawled: Env) -> None:
    """The wire's story B again at a new URL with a correction line added: one article, two URLs."""
    row = crawled.row("B_wire")
    assert crawled.row("B_wire_updated")["id"] == row["id"]
    urls = [r["url"] for r in crawled.query("SELECT url FROM article_urls WHERE article_id = ?", [row["id"]])]
    assert sorted(u.rsplit("/", 1)[1] for u in urls) == ["port-strike-updated.html", "port-strike.html"]
    assert crawled.query("SELECT count(*) AS n FROM articles WHERE outlet_id = 'wire'")[0]["n"] == 5
    assert_unclustered(row)


def test_earliest_is_the_first_published(crawled: Env) -> None:
    """Courier published story E half an hour before the wire did."""
    assert_cluster(crawled, "E_courier", "E_wire")


# -- clusters that change ---------------------------------------------------------------------


def test_a_cluster_grows_across_crawls_keeping_its_id_and_earliest(env: Env) -> None:
    env.crawl("wire")
    assert_unclustered(env.row("A_wire"))
    assert_unclustered(env.row("E_wire"))

    env.crawl("courier")
    cluster = assert_cluster(env, "A_wire", "A_courier")
    # Stored after the wire's E, courier's was published before it: it becomes the earliest.
    assert_cluster(env, "E_courier", "E_wire")

    env.crawl("gazette")
    assert assert_cluster(env, "A_wire", "A_courier", "A_gazette") == cluster


def test_new_version_unlike_its_cluster_leaves_it(env: Env) -> None:
    env.crawl()
    gazette_id = env.row("A_gazette")["id"]
    cluster = assert_cluster(env, "A_wire", "A_courier", "A_gazette")

    env.site.edit_article("A_gazette", title=UNRELATED_TITLE, paragraphs=UNRELATED)
    time.sleep(1.1)  # the test config rechecks every second
    env.crawl("gazette")

    row = env.row("A_gazette")
    assert (row["id"], row["version"], row["title"]) == (gazette_id, 2, UNRELATED_TITLE)
    assert_unclustered(row)
    assert assert_cluster(env, "A_wire", "A_courier") == cluster


# -- the read side ----------------------------------------------------------------------------


def test_search_shows_one_article_per_story_with_its_copies(crawled: Env) -> None:
    a_wire, a_courier, a_gazette = crawled.ids(*A)
    rows = crawled.cli_json("search", "Valdmar")
    assert [(r["id"], r["copies"]) for r in rows] == [(a_wire, 2)]
    every = crawled.cli_json("search", "Valdmar", "--include-duplicates")
    assert sorted(r["id"] for r in every) == sorted([a_wire, a_courier, a_gazette])
    alone = crawled.cli_json("search", "Aalders")
    assert [(r["id"], r["copies"]) for r in alone] == [(crawled.row("D_wire")["id"], 0)]


def test_export_writes_one_record_per_story_with_its_copies(crawled: Env) -> None:
    heads = {"A_wire": 2, "E_courier": 1, "B_wire": 0, "C_gazette": 0, "video_wire": 0, "video_courier": 0,
             "D_wire": 0}
    records = [json.loads(line) for line in crawled.cli("export").splitlines()]
    assert {r["id"]: r["copies"] for r in records} == {crawled.row(k)["id"]: n for k, n in heads.items()}

    every = [json.loads(line) for line in crawled.cli("export", "--include-duplicates").splitlines()]
    assert sorted(r["id"] for r in every) == [r["id"] for r in crawled.query("SELECT id FROM articles ORDER BY id")]
    assert len(every) == 10


def test_show_lists_the_cluster_earliest_first(crawled: Env) -> None:
    rows = {k: crawled.row(k) for k in A}
    for key in A:
        cluster = crawled.cli_json("show", str(rows[key]["id"]), "--no-text")["cluster"]
        assert [m["id"] for m in cluster][0] == rows["A_wire"]["id"]
        assert sorted(m["id"] for m in cluster) == sorted(r["id"] for r in rows.values())
        assert [m["earliest"] for m in cluster] == [True, False, False]
        by_id = {r["id"]: r for r in rows.values()}
        for m in cluster:
            stored = by_id[m["id"]]
            assert set(m) >= {"id", "outlet_id", "published_at", "first_seen_at", "url", "similarity", "earliest"}
            assert (m["outlet_id"], m["published_at"], m["first_seen_at"], m["url"]) == (
                stored["outlet_id"], stored["published_at"], stored["first_seen_at"], stored["url"])
        assert cluster[0]["similarity"] is None
        assert all(0.3 <= m["similarity"] <= 1.0 for m in cluster[1:])
    assert crawled.cli_json("show", str(crawled.row("B_wire")["id"]), "--no-text")["cluster"] == []


def test_clusters_lists_stories_largest_first(crawled: Env) -> None:
    a, e = crawled.row("A_wire"), crawled.row("E_courier")
    found = crawled.cli_json("clusters")
    assert found == [
        {"cluster_id": a["cluster_id"], "size": 3, "outlets": ["wire", "courier", "gazette"], "earliest_id": a["id"],
         "earliest_outlet": "wire", "first_published_at": a["published_at"], "title": a["title"]},
        {"cluster_id": e["cluster_id"], "size": 2, "outlets": ["courier", "wire"], "earliest_id": e["id"],
         "earliest_outlet": "courier", "first_published_at": e["published_at"], "title": e["title"]},
    ]
    assert a["published_at"] == iso(crawled.site.t0)
    assert a["title"] == crawled.site.pages["A_wire"].title


def test_clusters_min_size_and_since(crawled: Env) -> None:
    t0 = crawled.site.t0
    assert [c["size"] for c in crawled.cli_json("clusters", "--min-size", "3")] == [3]
    # E was first published at T0+30min, A at T0.
    assert [c["earliest_outlet"] for c in crawled.cli_json("clusters", "--since", iso(t0 + timedelta(minutes=10)))] \
        == ["courier"]
    after_everything = (t0 + timedelta(days=3)).date().isoformat()
    assert crawled.cli_json("clusters", "--since", after_everything) == []
