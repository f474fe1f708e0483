"""Bad input from people: config mistakes, and hostile text through every command-line option.

- Each kind of config error gives exit 2 and one line on stderr naming the file and the key,
  from the real command line (subprocesses): check-config, crawl and run.
- Quotes, semicolons, SQL, NUL, 100k-character strings, RTL marks, emoji and lone surrogates go
  through every command and option that takes text: the exit code is 0, 1 or 2, nothing prints a
  traceback, and the database is left exactly as it was.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from tests.conftest import Crawl, free_port, newsmon

OK_OUTLET = '[[outlets]]\nid = "a"\nfeeds = ["https://a.example/rss"]\n'


def outlet(*lines: str) -> str:
    return OK_OUTLET + "".join(line + "\n" for line in lines)


# (config text, what the message must name, what it must say)
CONFIG_CASES = [
    pytest.param("[[outlets]\nid = 'a'\n", "(at line 1, column", "not valid TOML", id="bad-toml"),
    pytest.param("[crawl]\nconcurrency = '16'\n" + OK_OUTLET, "key 'crawl.concurrency'", "expected an integer",
                 id="wrong-type-table"),
    pytest.param(outlet("max_depth = '2'"), "key 'max_depth'", "expected an integer", id="wrong-type-outlet"),
    pytest.param("[crawler]\n" + OK_OUTLET, "key 'crawler'", "did you mean 'crawl'?", id="unknown-table"),
    pytest.param(outlet("feed = ['https://a.example/rss']"), "key 'feed'", "did you mean 'feeds'?",
                 id="unknown-key"),
    pytest.param(OK_OUTLET + OK_OUTLET, "outlet outlets[2]: key 'id'", "duplicate id 'a'", id="duplicate-id"),
    pytest.param(outlet("article_url_pattern = '(unclosed'"), "key 'article_url_pattern'",
                 "invalid regular expression", id="bad-regex"),
    pytest.param('[[outlets]]\nid = "a"\nfeeds = ["https://exa mple.org/rss"]\n', "key 'feeds[1]'", "bad URL",
                 id="bad-url"),
    pytest.param('[[outlets]]\nid = "a"\nfeeds = ["file:///etc/passwd"]\n', "key 'feeds[1]'",
                 "scheme 'file' is not allowed", id="file-scheme"),
    pytest.param('[[outlets]]\nid = "a"\nhomepage = "ftp://a.example/"\n', "key 'homepage'",
                 "scheme 'ftp' is not allowed", id="ftp-scheme"),
    pytest.param(outlet("interval = '0s'"), "key 'interval'", "is zero", id="interval-zero"),
    pytest.param(outlet("interval = 0"), "key 'interval'", "expected a duration string", id="interval-int-zero"),
    # A quoted key can hold a line break: the message must still be one line.
    pytest.param(outlet('"bad\\nkey" = 1'), "key 'bad\\nkey'", "unknown key", id="key-with-line-break"),
]


def assert_one_line_config_error(result: Any, path: Path, where: str, what: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr[-2000:]
    assert lines[0].startswith(f"Error: {path}: "), lines[0]
    assert where in lines[0] and what in lines[0], lines[0]
    assert result.stdout == ""


@pytest.mark.parametrize(("text", "where", "what"), CONFIG_CASES)
def test_config_error_is_one_line_and_exit_2(tmp_path: Path, text: str, where: str, what: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    result = newsmon("--config", str(path), "crawl")  # a real process: the path users take
    assert_one_line_config_error(result, path, where, what)
    assert not (tmp_path / "data").exists()  # nothing created before the config was checked
    # check-config reads the config the same way; in-process, as a process costs a second each.
    checked = CliRunner().invoke(cli, ["--config", str(path), "check-config"])
    assert checked.exit_code == 2 and "Traceback" not in checked.output
    lines = [line for line in checked.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and where in lines[0] and what in lines[0], checked.stderr


@pytest.mark.parametrize(("text", "where", "what"), [
    CONFIG_CASES[5], CONFIG_CASES[8], CONFIG_CASES[10],  # duplicate id, file://, interval 0
])
def test_service_refuses_a_bad_config(tmp_path: Path, text: str, where: str, what: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    result = newsmon("--config", str(path), "run", timeout=60)
    assert_one_line_config_error(result, path, where, what)


# ------------------------------------------------------------------------------------------------
# Hostile text through every option


HOSTILE = [
    pytest.param("'", id="single-quote"),
    pytest.param('"', id="double-quote"),
    pytest.param(";", id="semicolon"),
    pytest.param("'; DROP TABLE articles; --", id="sql"),
    pytest.param('x" OR 1=1; DELETE FROM articles; --', id="sql-double"),
    pytest.param("x\x00y", id="nul"),
    pytest.param("a" * 100_000, id="100k"),
    pytest.param("\u202eRTL \u05e9\u05dc\u05d5\u05dd\u200f", id="rtl"),
    pytest.param("😀 \U0001F1EB\U0001F1F7", id="emoji"),
    pytest.param("x\udcff\ud800", id="lone-surrogates"),
    pytest.param("NEAR(a b", id="fts-near"),
    pytest.param("col:x*^-+", id="fts-operators"),
    pytest.param("", id="empty"),
    pytest.param("-1", id="minus-one"),
    pytest.param("99999999999999999999999", id="huge-number"),
]


@pytest.fixture(scope="module")
def db(crawled: tuple[Crawl, Crawl]) -> Path:
    return crawled[0].db


@pytest.fixture(scope="module")
def config(crawled: tuple[Crawl, Crawl]) -> Path:
    return crawled[0].config


def table_counts(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}  # names from the schema
    finally:
        conn.close()


def invocations(text: str, db: Path, config: Path, page: Path) -> list[list[str]]:
    """Every command and option that takes text, with `text` in it (commands that would crawl,
    start the service or the demo only where the text stops them first)."""
    base = ["--config", str(config), "--db", str(db)]
    refused = f"http://127.0.0.1:{free_port()}/"
    calls = [
        ["search", text], ["search", "x", "--outlet", text], ["search", "x", "--lang", text],
        ["search", "x", "--since", text], ["search", "x", "--until", text], ["search", "x", "--limit", text],
        ["export", "--outlet", text], ["export", "--lang", text], ["export", "--since", text],
        ["export", "--until", text], ["export", "--format", text], ["export", "-o", text],
        ["show", text], ["show", text, "--diff"], ["show", text, "--json"], ["show", text, "--no-text"],
        ["clusters", "--since", text], ["clusters", "--min-size", text], ["clusters", "--limit", text],
        ["extract", text], ["extract", refused + text[:200]], ["extract", "http://" + text[:200]],
        ["extract", str(page), "--url", text], ["extract", str(page), "--outlet", text],
        ["reextract", "--outlet", text],
        ["crawl", text], ["crawl", "--json", text],
    ]
    out = [[*base, *c] for c in calls]
    # The global options: paths and formats.
    for command in (["status"], ["outlets"], ["check-config"], ["search", "x"]):
        out += [["--db", text, *command], ["--config", text, "--db", str(db), *command],
                [*base, "--log-file", text, *command], [*base, "--log-format", text, *command]]
    out += [["--config", text, "run"], ["--config", text, "reload"], ["--config", text, "crawl"]]
    if "\x00" in text or not text:
        out.append(["demo", "--dir", text])  # refused before anything starts
    return out


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_everywhere(
    text: str, db: Path, config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # export -o and --log-file may create files: here, not in the project
    monkeypatch.delenv("NEWSMON_CONFIG", raising=False)
    page = tmp_path / "page.html"
    page.write_text("<html><body><article><p>" + "Some words of a saved page. " * 20 + "</p></article></body></html>",
                    encoding="utf-8")
    before = table_counts(db)
    runner = CliRunner()
    for args in invocations(text, db, config, page):
        result = runner.invoke(cli, args)
        shown = [a[:40] for a in args]
        assert result.exit_code in (0, 1, 2), (shown, result.output[-500:])
        # Only click's own exits: any other exception would be a traceback.
        assert result.exception is None or isinstance(result.exception, SystemExit), (shown, repr(result.exception))
        assert "Traceback" not in result.output, shown
    assert table_counts(db) == before


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        pytest.param(["search", '"unclosed'], 1, "search: cannot read the query", id="fts-unclosed-quote"),
        pytest.param(["search", "NEAR(a b"], 1, "search: cannot read the query", id="fts-near"),
        pytest.param(["search", "a" * 100_000 + '"'], 1, "...'", id="fts-long-message-cut"),
        pytest.param(["search", "x", "--since", "last tuesday"], 1, "--since: 'last tuesday' is not a date",
                     id="search-since"),
        pytest.param(["export", "--until", "2026-13-45"], 1, "--until: '2026-13-45' is not a date", id="export-until"),
        pytest.param(["clusters", "--since", "x\x00y"], 1, "--since: 'x\\x00y' is not a date", id="clusters-since-nul"),
        pytest.param(["show", "999999"], 1, "no article with id 999999", id="show-missing"),
        pytest.param(["show", "999999", "--diff"], 1, "no article with id 999999", id="show-diff-missing"),
        pytest.param(["show", str(2**70)], 1, f"no article with id {2**70}", id="show-beyond-sqlite-integers"),
        pytest.param(["show", str(2**70), "--diff"], 1, f"no article with id {2**70}", id="show-diff-beyond"),
        pytest.param(["show", "abc"], 2, "'abc' is not a valid integer", id="show-not-a-number"),
        pytest.param(["clusters", "--min-size", str(2**70)], 2, "is not in the range", id="clusters-min-size-huge"),
        pytest.param(["reextract", "--outlet", "x\udcff"], 1, "--outlet: 'x\\udcff' is not valid text",
                     id="reextract-surrogate"),
        pytest.param(["export", "-o", "x\x00y"], 2, "contains a NUL character", id="export-o-nul"),
        pytest.param(["--log-file", "x\x00y", "status"], 2, "contains a NUL character", id="log-file-nul"),
        pytest.param(["--log-file", "", "status"], 2, "is empty", id="log-file-empty"),
        pytest.param(["--log-file", "a" * 5000, "status"], 1, "File name too long", id="log-file-too-long"),
        pytest.param(["extract", "http://["], 1, "cannot fetch", id="extract-broken-url"),
        pytest.param(["extract", "http://a b/"], 1, "cannot fetch", id="extract-url-with-space"),
    ],
)
def test_clear_message(
    args: list[str], code: int, message: str, db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["--db", str(db), *args])
    assert result.exit_code == code, result.output[-1000:]
    assert message in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert len(result.output) < 2000  # a 100k-character input is not echoed back whole


def test_status_with_a_nul_in_db() -> None:
    result = CliRunner().invoke(cli, ["--db", "x\x00y", "status"])
    assert result.exit_code == 2 and "contains a NUL character" in result.output


def test_undecodable_argv_in_a_real_process(db: Path, config: Path, tmp_path: Path) -> None:
    """Bytes that are not UTF-8 on the command line arrive as lone surrogates (surrogateescape)."""
    search = newsmon("--db", str(db), "search", "caf\udce9")
    assert search.returncode == 1 and "not valid text" in search.stderr and "Traceback" not in search.stderr
    # A database path that is not UTF-8 is a legal file name: printed, not a crash.
    odd = tmp_path / "caf\udce9.db"
    check = newsmon("--config", str(config), "--db", str(odd), "check-config")
    assert check.returncode == 0, check.stderr[-2000:]
    assert "Traceback" not in check.stderr and "database: " in check.stdout
    assert not odd.exists()
