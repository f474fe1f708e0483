"""The command line: exit codes, messages, and the read commands on a crawled database."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from tests.conftest import Crawl, Site, newsmon


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="module")
def db(crawled: tuple[Crawl, Crawl]) -> str:
    return str(crawled[0].db)


def invoke(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(cli, list(args), catch_exceptions=False)


def test_help_everywhere_with_examples(runner: CliRunner) -> None:
    result = invoke(runner, "--help")
    assert result.exit_code == 0
    for name, command in cli.commands.items():
        sub = invoke(runner, name, "--help")
        assert sub.exit_code == 0, name
        assert "Example:" in sub.output, f"{name} --help has no example"
        assert command.help


def test_check_config_ok(runner: CliRunner) -> None:
    result = invoke(runner, "--config", "config/newsmon.toml", "check-config")
    assert result.exit_code == 0
    assert "OK" in result.output


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ("[[outlets]]\nid = 'a'\nfeeds = ['https://a.example/rss']\nbogus = 1\n", "key 'bogus': unknown key"),
        ("[[outlets]]\nid = 'a'\n", "homepage"),
        ("[[outlets]]\nid = 'a'\nfeeds = ['ftp://a.example/rss']\n", "key 'feeds[1]'"),
        ("[[outlets]]\nid = 'a'\nfeeds = ['https://a.example/rss']\narticle_url_pattern = '('\n",
         "key 'article_url_pattern'"),
        ("[crawl]\nconcurrency = '16'\n[[outlets]]\nid = 'a'\nfeeds = ['https://a.example/rss']\n",
         "key 'crawl.concurrency'"),
        ("[[outlets]]\nid = 'a'\nfeeds = ['https://a.example/rss']\n[[outlets]]\nid = 'a'\n"
         "feeds = ['https://b.example/rss']\n", "duplicate id 'a'"),
        ("not toml [", "not valid TOML"),
    ],
    ids=["unknown-key", "no-source", "bad-scheme", "bad-regex", "wrong-type", "duplicate-id", "bad-toml"],
)
def test_config_errors_exit_2_with_file_and_key(runner: CliRunner, tmp_path: Path, toml: str, needle: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml, encoding="utf-8")
    result = runner.invoke(cli, ["--config", str(path), "check-config"])
    assert result.exit_code == 2
    assert str(path) in result.output and needle in result.output
    assert "Traceback" not in result.output


def test_config_error_in_a_real_process_before_any_request(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[[outlets]]\nid = 'Bad Id'\nhomepage = 'https://x.example/'\n", encoding="utf-8")
    result = newsmon("--config", str(path), "crawl")
    assert result.returncode == 2
    assert f"{path}: outlet" in result.stderr and "key 'id'" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_config_names_how_it_was_chosen(tmp_path: Path) -> None:
    result = newsmon("check-config", env={"NEWSMON_CONFIG": str(tmp_path / "nope.toml")})
    assert result.returncode == 2
    assert "nope.toml" in result.stderr and "NEWSMON_CONFIG" in result.stderr


def test_search_table_and_json(runner: CliRunner, db: str, site: Site) -> None:
    article = site.expected["outlets"]["wire"]["articles"][0]
    word = max(article["title"].split(), key=len).strip(",.:;'\"")
    result = invoke(runner, "--db", db, "search", word, "--json")
    hits = json.loads(result.stdout)
    assert any(h["title"] == article["title"] for h in hits)
    assert {"id", "outlet", "title", "snippet", "published_at", "language", "url"} <= set(hits[0])
    table = invoke(runner, "--db", db, "search", word)
    assert article["title"][:30] in table.output


def test_search_filters(runner: CliRunner, db: str) -> None:
    hits = json.loads(invoke(runner, "--db", db, "search", "a OR le OR la OR der OR el OR the", "--lang", "fr",
                             "--json", "--limit", "100").stdout)
    assert hits and {h["language"] for h in hits} == {"fr"}
    hits = json.loads(invoke(runner, "--db", db, "search", "a OR le OR la OR der OR el OR the", "--outlet",
                             "diario", "--json", "--limit", "100").stdout)
    assert hits and {h["outlet"] for h in hits} == {"diario"}
    none = json.loads(invoke(runner, "--db", db, "search", "a OR le OR the", "--since", "2100-01-01", "--json").stdout)
    assert none == []


@pytest.mark.parametrize("query", ['"unclosed', "AND", "(((", "a NOT", "title:"])
def test_search_malformed_query_is_a_clear_error(runner: CliRunner, db: str, query: str) -> None:
    result = runner.invoke(cli, ["--db", db, "search", query])
    assert result.exit_code == 1
    assert "search: cannot read the query" in result.output
    assert "Traceback" not in result.output


def test_search_bad_date(runner: CliRunner, db: str) -> None:
    result = runner.invoke(cli, ["--db", db, "search", "x", "--since", "last tuesday"])
    assert result.exit_code == 1 and "--since" in result.output


@pytest.mark.parametrize("command", [["search", "x"], ["export"], ["reextract"]], ids=lambda c: c[0])
def test_unknown_outlet_is_an_error_not_an_empty_answer(runner: CliRunner, db: str, command: list[str]) -> None:
    typo = runner.invoke(cli, ["--db", db, *command, "--outlet", "diaro"])
    assert typo.exit_code == 1
    assert "no outlet 'diaro' in the database; did you mean 'diario'?" in typo.output
    unknown = runner.invoke(cli, ["--db", db, *command, "--outlet", "zz"])
    assert unknown.exit_code == 1
    assert "no outlet 'zz' in the database; it has 5: diario, down, lumiere, wire, zeitung" in unknown.output
    assert "Traceback" not in typo.output + unknown.output


def test_empty_outlet_is_no_filter(runner: CliRunner, db: str) -> None:
    everything = invoke(runner, "--db", db, "search", "the OR le OR la OR der OR el", "--json", "--limit", "100")
    empty = invoke(runner, "--db", db, "search", "the OR le OR la OR der OR el", "--json", "--limit", "100",
                   "--outlet", "")
    assert json.loads(empty.stdout) == json.loads(everything.stdout) != []
    assert invoke(runner, "--db", db, "export", "--outlet", "").exit_code == 0


def test_hostile_text_through_every_text_option(runner: CliRunner, db: str) -> None:
    before = sqlite3.connect(db).execute("SELECT count(*) FROM articles").fetchone()[0]
    for text in ["'; DROP TABLE articles; --", 'a"b;c', "x\x00y"]:
        for args in (["search", text], ["search", "x", "--outlet", text], ["search", "x", "--lang", text],
                     ["export", "--outlet", text], ["export", "--since", text]):
            result = runner.invoke(cli, ["--db", db, *args])
            assert result.exit_code in (0, 1), (args, result.stdout)
            assert "Traceback" not in result.output
    assert sqlite3.connect(db).execute("SELECT count(*) FROM articles").fetchone()[0] == before


def test_export_jsonl_has_every_field(runner: CliRunner, db: str, tmp_path: Path) -> None:
    out = tmp_path / "all.jsonl"
    invoke(runner, "--db", db, "export", "-o", str(out))
    records = [json.loads(line) for line in out.read_text().splitlines()]
    count = sqlite3.connect(db).execute("SELECT count(*) FROM articles").fetchone()[0]
    assert len(records) == count
    from storage.queries import EXPORT_COLUMNS

    for r in records:
        assert list(r) == EXPORT_COLUMNS
        assert isinstance(r["urls"], list) and r["url"] and r["text"] and r["content_hash"]
        assert r["version"] == 1


def test_export_csv_and_filters(runner: CliRunner, db: str) -> None:
    result = invoke(runner, "--db", db, "export", "--format", "csv", "--outlet", "zeitung")
    records = list(csv.DictReader(io.StringIO(result.stdout)))
    assert records and {r["outlet"] for r in records} == {"zeitung"}
    assert all(r["language"] == "de" for r in records)


def test_show_article(runner: CliRunner, db: str) -> None:
    article_id = sqlite3.connect(db).execute("SELECT id FROM articles ORDER BY id LIMIT 1").fetchone()[0]
    shown = json.loads(invoke(runner, "--db", db, "show", str(article_id), "--json").stdout)
    assert shown["id"] == article_id and shown["urls"] and shown["fetches"]
    text = invoke(runner, "--db", db, "show", str(article_id)).output
    assert shown["title"] in text and "URLs:" in text


def test_show_missing_article(runner: CliRunner, db: str) -> None:
    result = runner.invoke(cli, ["--db", db, "show", "999999"])
    assert result.exit_code == 1 and "no article with id 999999" in result.output


def test_outlets_command(runner: CliRunner, db: str) -> None:
    data = json.loads(invoke(runner, "--db", db, "outlets", "--json").stdout)
    by_id = {o["id"]: o for o in data}
    assert by_id["down"]["last_status"] == "failed" and by_id["down"]["last_error"]
    assert by_id["lumiere"]["articles"] > 0


def test_read_command_without_database(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["--db", str(tmp_path / "none.db"), "search", "x"])
    assert result.exit_code == 1 and "no database" in result.output
    assert not (tmp_path / "none.db").exists()


def test_extract_command_matches_the_pipeline(runner: CliRunner, db: str, site: Site) -> None:
    from monitor.demo.server import SITE_DIR

    oid = "zeitung"
    article = site.expected["outlets"][oid]["articles"][0]
    stored = sqlite3.connect(db).execute(
        "SELECT a.text FROM articles a JOIN article_urls u ON u.article_id = a.id WHERE u.url = ?",
        [site.bases[oid] + article["path"]],
    ).fetchone()[0]
    page = SITE_DIR / oid / article["path"].lstrip("/")
    page = page / "index.html" if page.is_dir() else page
    html = page.read_text(encoding="utf-8").replace("{{base:" + oid + "}}", site.bases[oid])
    saved = Path(db).parent / "page.html"
    saved.write_text(html, encoding="utf-8")
    result = json.loads(invoke(runner, "extract", str(saved), "--url", site.bases[oid] + article["path"], "--json").stdout)
    assert result["text"] == stored
    assert result["language"] == "de"


def test_reextract_changes_nothing_when_nothing_changed(
    runner: CliRunner, db: str, crawled: tuple[Crawl, Crawl]
) -> None:
    config = str(crawled[0].config)
    result = invoke(runner, "--config", config, "--db", db, "reextract")
    assert "0 changed" in result.output


def test_extract_command_fetches_a_url(runner: CliRunner, site: Site) -> None:
    article = site.expected["outlets"]["wire"]["articles"][1]
    result = invoke(runner, "extract", site.bases["wire"] + article["path"], "--json")
    data = json.loads(result.stdout)
    assert data["title"] == article["title"] and data["language"] == "en"
    assert data["published_at"] == article["published_at"] and data["date_source"] == article["date_source"]
    for sentence in article["must_contain"]:
        assert sentence in data["text"]


def test_extract_command_page_without_text(runner: CliRunner, site: Site) -> None:
    result = runner.invoke(cli, ["extract", site.bases["lumiere"] + "/fr/tag/climat/"])
    assert result.exit_code == 1 and "no article text found" in result.output


def test_outlets_lists_configured_outlets_that_never_ran(runner: CliRunner, db: str, tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[[outlets]]\nid = 'brand-new'\nfeeds = ['https://new.example/rss']\n", encoding="utf-8")
    data = json.loads(invoke(runner, "--config", str(config), "--db", db, "outlets", "--json").stdout)
    new = next(o for o in data if o["id"] == "brand-new")
    assert new["last_status"] == "never run" and new["articles"] == 0


def test_extract_command_unreachable_url(runner: CliRunner) -> None:
    from tests.conftest import free_port

    result = runner.invoke(cli, ["extract", f"http://127.0.0.1:{free_port()}/fr/some-article"])
    assert result.exit_code == 1 and "cannot fetch" in result.output and "Traceback" not in result.output


def test_extract_command_missing_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["extract", str(tmp_path / "nope.html")])
    assert result.exit_code == 1 and "no such file" in result.output
