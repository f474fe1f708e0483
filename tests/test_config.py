"""Tests of monitor/config.py: the TOML schema, its error messages and the shipped example."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawlers.outlets import Outlet
from monitor.config import (
    CONFIG_KEYS,
    DEFAULT_CONFIG,
    Config,
    CrawlConfig,
    ScheduleConfig,
    StorageConfig,
    _build,
    load_config,
    parse_duration,
    resolve_config_path,
)
from monitor.errors import ConfigError
from tests._profiles import property_settings

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "config" / "newsmon.toml"

OUTLET = '[[outlets]]\nid = "a"\nfeeds = ["https://example.org/rss"]\n'


def outlet(*lines: str, id: str = "a") -> str:
    """An [[outlets]] table with a valid id and feed, plus `lines`."""
    body = [f'id = "{id}"', 'feeds = ["https://example.org/rss"]', *lines]
    return "[[outlets]]\n" + "\n".join(body) + "\n"


def bare_outlet(*lines: str) -> str:
    """An [[outlets]] table with exactly `lines`."""
    return "[[outlets]]\n" + "\n".join(lines) + "\n"


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSMON_CONFIG", raising=False)


def write(tmp_path: Path, text: str, name: str = "newsmon.toml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------------
# One case per kind of error: (TOML text, outlet, key, part of the message).

ERROR_CASES = [
    pytest.param("[[outlets]\nid = 'a'\n", None, None, "not valid TOML", id="not-toml"),
    pytest.param("x = 1\nx = 2\n" + OUTLET, None, None, "(at line 2, column", id="toml-line-col"),
    # Unknown keys, with and without a suggestion.
    pytest.param(
        "[crawler]\n" + OUTLET, None, "crawler", "did you mean 'crawl'?", id="unknown-table"
    ),
    pytest.param(
        "[crawl]\nconcurency = 3\n" + OUTLET,
        None,
        "crawl.concurency",
        "unknown key; did you mean 'concurrency'?",
        id="unknown-key-in-table",
    ),
    pytest.param(
        bare_outlet('id = "a"', 'feed = ["https://example.org/rss"]'),
        "a",
        "feed",
        "did you mean 'feeds'?",
        id="unknown-key-in-outlet",
    ),
    pytest.param(
        bare_outlet('id = "Bad Id"', "feed = []"),
        "outlets[1]",
        "feed",
        "unknown key",
        id="unknown-key-in-outlet-without-id",
    ),
    # Wrong types.
    pytest.param(
        '[crawl]\nconcurrency = "16"\n' + OUTLET,
        None,
        "crawl.concurrency",
        "expected an integer, got string '16'",
        id="type-int-got-string",
    ),
    pytest.param(
        "[crawl]\nconcurrency = true\n" + OUTLET,
        None,
        "crawl.concurrency",
        "expected an integer, got boolean true",
        id="type-int-got-bool",
    ),
    pytest.param(
        "[crawl]\ntimeout = false\n" + OUTLET,
        None,
        "crawl.timeout",
        "expected a number, got boolean false",
        id="type-number-got-bool",
    ),
    pytest.param(
        '[crawl]\nobey_robots = "yes"\n' + OUTLET,
        None,
        "crawl.obey_robots",
        "expected a boolean (true or false), got string 'yes'",
        id="type-bool",
    ),
    pytest.param(
        "[storage]\ndatabase = 5\n" + OUTLET,
        None,
        "storage.database",
        "expected a string, got integer 5",
        id="type-string",
    ),
    pytest.param(
        "crawl = 3\n" + OUTLET, None, "crawl", "expected a table ([crawl])", id="type-table"
    ),
    pytest.param(
        outlet("max_depth = 1.5"),
        "a",
        "max_depth",
        "expected an integer, got float 1.5",
        id="type-float",
    ),
    pytest.param(
        bare_outlet('id = "a"', 'feeds = "https://example.org/rss"'),
        "a",
        "feeds",
        "expected an array of strings",
        id="type-list",
    ),
    pytest.param(
        bare_outlet('id = "a"', 'feeds = ["https://example.org/rss", 3]'),
        "a",
        "feeds[2]",
        "expected a string, got integer 3",
        id="type-list-item",
    ),
    pytest.param(
        bare_outlet("id = 7", 'feeds = ["https://example.org/rss"]'),
        "outlets[1]",
        "id",
        "expected a string, got integer 7",
        id="type-id",
    ),
    # Out of range.
    pytest.param(
        "[crawl]\nconcurrency = 0\n" + OUTLET,
        None,
        "crawl.concurrency",
        "must be >= 1, got 0",
        id="range-concurrency",
    ),
    pytest.param(
        "[crawl]\nper_host_concurrency = -2\n" + OUTLET,
        None,
        "crawl.per_host_concurrency",
        "must be >= 1",
        id="range-per-host",
    ),
    pytest.param(
        "[crawl]\ndownload_delay = -0.5\n" + OUTLET,
        None,
        "crawl.download_delay",
        "must be >= 0",
        id="range-delay",
    ),
    pytest.param(
        "[crawl]\ntimeout = 0\n" + OUTLET, None, "crawl.timeout", "must be > 0", id="range-timeout"
    ),
    pytest.param(
        "[crawl]\ntimeout = nan\n" + OUTLET, None, "crawl.timeout", "finite", id="range-nan"
    ),
    pytest.param(
        "[crawl]\nmax_page_bytes = 1000\n" + OUTLET,
        None,
        "crawl.max_page_bytes",
        "must be >= 1024",
        id="range-bytes",
    ),
    pytest.param(
        "[crawl]\nmax_articles_per_run = -1\n" + OUTLET,
        None,
        "crawl.max_articles_per_run",
        "must be >= 0",
        id="range-articles",
    ),
    pytest.param(
        "[crawl]\nworkers = -1\n" + OUTLET,
        None,
        "crawl.workers",
        "must be between 0 and 64",
        id="range-workers",
    ),
    pytest.param(
        "[crawl]\nworkers = \"auto\"\n" + OUTLET,
        None,
        "crawl.workers",
        "expected an integer",
        id="type-workers",
    ),
    pytest.param(
        outlet("max_depth = 6"),
        "a",
        "max_depth",
        "must be between 0 and 5, got 6",
        id="range-depth",
    ),
    pytest.param(
        '[storage]\ndatabase = ""\n' + OUTLET,
        None,
        "storage.database",
        "must not be empty",
        id="empty-database",
    ),
    pytest.param(
        '[crawl]\nuser_agent = "a\\nb"\n' + OUTLET,
        None,
        "crawl.user_agent",
        "line breaks",
        id="user-agent-newline",
    ),
    pytest.param(outlet('name = " "'), "a", "name", "must not be empty", id="empty-name"),
    # Outlet ids.
    pytest.param(
        outlet(id="a") + outlet(id="b") + outlet(id="a"),
        "outlets[3]",
        "id",
        "duplicate id 'a' (first at outlets[1])",
        id="duplicate-id",
    ),
    pytest.param(outlet(id="Le_Monde"), "outlets[1]", "id", "invalid id 'Le_Monde'", id="bad-id"),
    pytest.param(
        outlet(id="a-"), "outlets[1]", "id", "invalid id 'a-'", id="bad-id-trailing-hyphen"
    ),
    pytest.param(
        OUTLET + bare_outlet('feeds = ["https://example.org/rss"]'),
        "outlets[2]",
        "id",
        "missing required key 'id'",
        id="missing-id",
    ),
    # Regex, URLs, domains.
    pytest.param(
        outlet("article_url_pattern = '(unclosed'"),
        "a",
        "article_url_pattern",
        "invalid regular expression '(unclosed'",
        id="bad-regex",
    ),
    pytest.param(
        bare_outlet('id = "a"', 'feeds = ["https://example.org/rss", "file:///etc/passwd"]'),
        "a",
        "feeds[2]",
        "bad URL 'file:///etc/passwd': scheme 'file' is not allowed",
        id="url-file",
    ),
    pytest.param(
        bare_outlet('id = "a"', 'sitemaps = ["ftp://example.org/sitemap.xml"]'),
        "a",
        "sitemaps[1]",
        "bad URL 'ftp://example.org/sitemap.xml'",
        id="url-ftp",
    ),
    pytest.param(
        bare_outlet('id = "a"', 'homepage = "/news/"'),
        "a",
        "homepage",
        "bad URL '/news/': not an absolute URL",
        id="url-relative",
    ),
    pytest.param(
        bare_outlet('id = "a"', 'homepage = "example.org"'),
        "a",
        "homepage",
        "bad URL 'example.org': not an absolute URL",
        id="url-no-scheme",
    ),
    pytest.param(
        bare_outlet('id = "a"', 'homepage = "https://example.org/a b"'),
        "a",
        "homepage",
        "bad URL 'https://example.org/a b': contains spaces",
        id="url-space",
    ),
    pytest.param(
        bare_outlet('id = "a"', 'homepage = "https:///path"'),
        "a",
        "homepage",
        "no host name",
        id="url-no-host",
    ),
    pytest.param(
        bare_outlet('id = "a"', 'homepage = "https://example.org:99999/"'),
        "a",
        "homepage",
        "cannot be parsed",
        id="url-bad-port",
    ),
    pytest.param(
        outlet('allowed_domains = ["example.com", "https://example.org/"]'),
        "a",
        "allowed_domains[2]",
        "without scheme or path",
        id="domain-with-scheme",
    ),
    pytest.param(
        outlet('allowed_domains = ["exa mple.org"]'),
        "a",
        "allowed_domains[1]",
        "invalid domain 'exa mple.org'",
        id="domain-bad",
    ),
    pytest.param(
        bare_outlet('id = "a"', 'name = "A"'),
        "a",
        None,
        "nothing to crawl: give at least one of homepage, feeds or sitemaps",
        id="no-sources",
    ),
    # Schedule.
    pytest.param(
        outlet('interval = "0m"'), "a", "interval", "duration '0m' is zero", id="interval-zero"
    ),
    pytest.param(
        outlet('interval = "-5m"'), "a", "interval", "is negative", id="interval-negative"
    ),
    pytest.param(
        outlet('interval = "soon"'),
        "a",
        "interval",
        "invalid duration 'soon'",
        id="interval-unparsable",
    ),
    pytest.param(
        outlet("interval = 900"),
        "a",
        "interval",
        "expected a duration string",
        id="interval-not-string",
    ),
    pytest.param(outlet('interval = "400d"'), "a", "interval", "too long", id="interval-too-long"),
    pytest.param(
        '[schedule]\ndefault_interval = "0s"\n' + OUTLET,
        None,
        "schedule.default_interval",
        "is zero",
        id="default-interval-zero",
    ),
    pytest.param(
        outlet('interval = "15m"', 'cron = "*/15 * * * *"'),
        "a",
        "cron",
        "give either interval or cron, not both",
        id="interval-and-cron",
    ),
    pytest.param(
        outlet('cron = "61 * * * *"'),
        "a",
        "cron",
        "invalid cron expression '61 * * * *'",
        id="bad-cron",
    ),
    pytest.param(
        outlet('cron = "* * *"'), "a", "cron", "Wrong number of fields", id="bad-cron-fields"
    ),
    pytest.param(
        outlet('cron = "0 8 * * 1-5"'),
        "a",
        "cron",
        "day of week as names",
        id="cron-numeric-weekday",
    ),
    # Time zone, language, XPath, spider.
    pytest.param(
        outlet('timezone = "Mars/Olympus_Mons"'),
        "a",
        "timezone",
        "unknown time zone 'Mars/Olympus_Mons'",
        id="bad-tz",
    ),
    pytest.param(
        outlet('timezone = "Europe"'), "a", "timezone", "unknown time zone", id="bad-tz-directory"
    ),
    pytest.param(
        outlet('language = "fra"'),
        "a",
        "language",
        "invalid language code 'fra'",
        id="bad-language",
    ),
    pytest.param(outlet('language = "EN"'), "a", "language", "lower-case", id="bad-language-case"),
    pytest.param(
        outlet("exclude_xpaths = ['//aside', '//div[@class=']"),
        "a",
        "exclude_xpaths[2]",
        "invalid XPath '//div[@class='",
        id="bad-xpath",
    ),
    pytest.param(
        outlet('spider = "my spider"'), "a", "spider", "invalid spider name", id="bad-spider"
    ),
    # The outlets array.
    pytest.param(
        "[crawl]\nconcurrency = 2\n",
        None,
        "outlets",
        "add at least one [[outlets]]",
        id="no-outlets",
    ),
    pytest.param("outlets = []\n", None, "outlets", "no outlets configured", id="empty-outlets"),
    pytest.param(
        '[outlets]\nid = "a"\n',
        None,
        "outlets",
        "write [[outlets]], not [outlets]",
        id="outlets-is-table",
    ),
    pytest.param(
        'outlets = "a"\n', None, "outlets", "expected an array of tables", id="outlets-is-string"
    ),
    pytest.param(
        'outlets = [{id = "a", feeds = ["https://example.org/"]}, 1]\n',
        None,
        "outlets",
        "outlets[2] is integer 1",
        id="outlets-item-not-table",
    ),
]


@pytest.mark.parametrize(("text", "outlet_label", "key", "fragment"), ERROR_CASES)
def test_errors(
    tmp_path: Path, text: str, outlet_label: str | None, key: str | None, fragment: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    err = info.value
    assert err.path == str(path)
    assert err.outlet == outlet_label
    assert err.key == key
    assert fragment in str(err)
    assert str(err).startswith(str(path) + ": ")


def test_error_str_format(tmp_path: Path) -> None:
    path = write(tmp_path, outlet('interval = "0m"', id="le-monde"))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert (
        str(info.value)
        == f"{path}: outlet le-monde: key 'interval': duration '0m' is zero: it must be positive"
    )


def test_unknown_key_without_close_match_has_no_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path, "[crawl]\nzzzzzz = 1\n" + OUTLET)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.reason == "unknown key"


def test_first_error_wins(tmp_path: Path) -> None:
    text = "[crawl]\nconcurrency = 0\n" + outlet(id="BAD")
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    assert info.value.key == "crawl.concurrency"


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(b'[[outlets]]\nid = "\xff"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path)


def test_huge_integer_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[crawl]\nconcurrency = " + "9" * 5000 + "\n" + OUTLET))


def test_directory_as_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)


# ------------------------------------------------------------------------------------------------
# Finding the file


@pytest.mark.parametrize(
    ("how", "fragment"),
    [
        pytest.param("cli", "config file not found (given by --config)", id="cli"),
        pytest.param("env", "config file not found (given by $NEWSMON_CONFIG)", id="env"),
        pytest.param(
            "default", "the default config/newsmon.toml in the current directory", id="default"
        ),
    ],
)
def test_file_not_found_says_how_chosen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str, fragment: str
) -> None:
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "missing.toml"
    if how == "cli":
        call = lambda: load_config(missing)  # noqa: E731
    elif how == "env":
        monkeypatch.setenv("NEWSMON_CONFIG", str(missing))
        call = load_config
    else:
        missing = tmp_path / DEFAULT_CONFIG
        call = load_config
    with pytest.raises(ConfigError) as info:
        call()
    assert info.value.path == str(missing)
    assert fragment in str(info.value)
    assert (info.value.outlet, info.value.key) == (None, None)


def test_resolve_config_path_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_config_path() == DEFAULT_CONFIG == Path("config/newsmon.toml")
    monkeypatch.setenv("NEWSMON_CONFIG", str(tmp_path / "env.toml"))
    assert resolve_config_path() == tmp_path / "env.toml"
    assert resolve_config_path(tmp_path / "cli.toml") == tmp_path / "cli.toml"
    assert resolve_config_path("cli.toml") == Path("cli.toml")
    monkeypatch.setenv("NEWSMON_CONFIG", "")
    assert resolve_config_path() == DEFAULT_CONFIG


def test_load_config_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, outlet(id="from-default"), "config/newsmon.toml")
    env_file = write(tmp_path, outlet(id="from-env"), "env.toml")
    cli_file = write(tmp_path, outlet(id="from-cli"), "cli.toml")
    monkeypatch.chdir(tmp_path)

    config = load_config()
    assert config.outlets[0].id == "from-default"
    assert config.path == tmp_path / "config" / "newsmon.toml"
    assert config.path.is_absolute()

    monkeypatch.setenv("NEWSMON_CONFIG", str(env_file))
    assert load_config().outlets[0].id == "from-env"
    assert load_config(cli_file).outlets[0].id == "from-cli"
    assert load_config("cli.toml").path == cli_file  # relative to the CWD


# ------------------------------------------------------------------------------------------------
# Valid configurations

FULL = """
[storage]
database = "db/news.db"
keep_html = false

[crawl]
user_agent = "test-agent/1.0"
obey_robots = false
concurrency = 8
per_host_concurrency = 2
download_delay = 1
timeout = 12.5
max_page_bytes = 2048
max_articles_per_run = 50

[schedule]
default_interval = "1h30m"

[[outlets]]
id = "full-outlet"
name = "Full Outlet"
homepage = "https://www.example.org/"
feeds = ["https://www.example.org/rss", "http://feeds.example.org/all.xml"]
sitemaps = ["https://www.example.org/sitemap.xml"]
allowed_domains = ["Example.ORG", "cdn.example.net."]
article_url_pattern = '^https://www\\.example\\.org/\\d{4}/'
language = "fr"
timezone = "Europe/Paris"
cron = "*/15 6-22 * * mon-fri"
max_depth = 2
exclude_xpaths = ["//aside", "//div[@class='ad']"]
spider = "example_spider"

[[outlets]]
id = "minimal"
homepage = "https://minimal.example.com"
language = ""
timezone = ""
interval = "45m"
"""


def test_full_config_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, FULL, "conf/newsmon.toml")
    config = load_config(path)
    assert isinstance(config, Config)
    assert config.path == path
    assert config.storage == StorageConfig(
        database=tmp_path / "conf" / "db" / "news.db", keep_html=False
    )
    assert config.crawl == CrawlConfig(
        user_agent="test-agent/1.0",
        obey_robots=False,
        concurrency=8,
        per_host_concurrency=2,
        download_delay=1.0,
        timeout=12.5,
        max_page_bytes=2048,
        max_articles_per_run=50,
    )
    assert isinstance(config.crawl.download_delay, float)  # an int where a float is expected
    assert config.schedule == ScheduleConfig(default_interval=5400)

    full, minimal = config.outlets
    assert full == Outlet(
        id="full-outlet",
        name="Full Outlet",
        homepage="https://www.example.org/",
        feeds=("https://www.example.org/rss", "http://feeds.example.org/all.xml"),
        sitemaps=("https://www.example.org/sitemap.xml",),
        allowed_domains=("example.org", "cdn.example.net"),
        article_url_pattern=r"^https://www\.example\.org/\d{4}/",
        language="fr",
        timezone="Europe/Paris",
        interval=None,
        cron="*/15 6-22 * * mon-fri",
        max_depth=2,
        exclude_xpaths=("//aside", "//div[@class='ad']"),
        spider="example_spider",
    )
    assert minimal == Outlet(
        id="minimal", name="minimal", homepage="https://minimal.example.com", interval=2700
    )
    assert minimal.language is None and minimal.timezone is None and minimal.cron is None
    for o in config.outlets:
        for field in ("feeds", "sitemaps", "allowed_domains", "exclude_xpaths"):
            assert isinstance(getattr(o, field), tuple)
    assert full.allows_url("https://sub.example.org/x")


def test_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, OUTLET))
    assert config.crawl == CrawlConfig()
    assert config.schedule == ScheduleConfig(default_interval=1800)
    assert config.storage == StorageConfig(
        database=tmp_path / "data" / "newsmon.db", keep_html=True
    )
    (o,) = config.outlets
    assert (o.name, o.interval, o.cron, o.max_depth, o.language, o.spider) == (
        "a",
        None,
        None,
        1,
        None,
        "",
    )


def test_relative_database_is_relative_to_config_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    path = write(tmp_path, '[storage]\ndatabase = "../data/x.db"\n' + OUTLET, "config/newsmon.toml")
    assert load_config(path).storage.database == tmp_path / "data" / "x.db"
    absolute = tmp_path / "abs.db"
    path = write(tmp_path, f"[storage]\ndatabase = '{absolute}'\n" + OUTLET, "config/abs.toml")
    assert load_config(path).storage.database == absolute


def test_database_override_is_relative_to_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    path = write(tmp_path, '[storage]\ndatabase = "ignored.db"\n' + OUTLET, "config/newsmon.toml")
    config = load_config(path, database="over.db")
    assert config.storage.database == tmp_path / "cwd" / "over.db"
    assert config.storage.database.is_absolute()
    assert load_config(path, database=tmp_path / "abs.db").storage.database == tmp_path / "abs.db"


def test_outlet_and_select(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, outlet(id="alpha") + outlet(id="beta") + outlet(id="gamma"))
    )
    assert config.outlet("beta").id == "beta"
    assert config.select([]) == config.outlets
    assert [o.id for o in config.select(["gamma", "alpha", "gamma"])] == ["gamma", "alpha"]
    assert [o.id for o in config.select("beta")] == ["beta"]
    with pytest.raises(ConfigError) as info:
        config.outlet("betta")
    message = str(info.value)
    assert "unknown outlet 'betta'" in message and "did you mean 'beta'?" in message
    assert "known outlets: alpha, beta, gamma" in message
    with pytest.raises(ConfigError, match="unknown outlet 'delta'"):
        config.select(["alpha", "delta"])


# ------------------------------------------------------------------------------------------------
# parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("15m", 900),
        ("2h", 7200),
        ("1d", 86400),
        ("1h30m", 5400),
        ("1d2h3m4s", 93784),
        (" 1h 30m ", 5400),
        ("0h5m", 300),
    ],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("0s", "zero"),
        ("0h0m", "zero"),
        ("-5m", "negative"),
        ("30", "bare number"),
        ("15 minutes", "invalid duration"),
        ("30m1h", "invalid duration"),
        ("1.5h", "invalid duration"),
        ("15M", "invalid duration"),
        ("m", "invalid duration"),
        ("1h1h", "invalid duration"),
    ],
)
def test_parse_duration_rejects(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_duration(text)


# ------------------------------------------------------------------------------------------------
# The shipped example


def test_example_config_loads() -> None:
    config = load_config(EXAMPLE)
    assert len(config.outlets) >= 4
    assert len({o.language for o in config.outlets if o.language}) >= 4
    assert config.storage.database == ROOT / "data" / "newsmon.db"
    assert any(o.cron for o in config.outlets)
    for o in config.outlets:
        assert o.timezone and o.language
        if o.article_url_pattern:
            assert re.compile(o.article_url_pattern)


@pytest.mark.parametrize(
    ("table", "key"), [(t, k) for t, keys in sorted(CONFIG_KEYS.items()) for k in sorted(keys)]
)
def test_every_key_is_documented_in_the_example(table: str, key: str) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert re.search(rf"^[ \t]*(#[ \t]*)?{re.escape(key)}[ \t]*=", text, re.MULTILINE), (
        f"{table}.{key} is not in {EXAMPLE}"
    )


# ------------------------------------------------------------------------------------------------
# Property tests: whatever the input, Config or ConfigError, never anything else.

_INTERESTING = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a",
        "a-b",
        "Bad Id",
        "15m",
        "0s",
        "-1m",
        "1h30m",
        "99999999999999999999d",
        "https://example.org/rss",
        "http://[::1]/",
        "http://[::1/",
        "https://example.org:99999/",
        "ftp://example.org/",
        "example.org",
        "EXAMPLE.org",
        "*/5 * * * *",
        "0 0 * * 1-5",
        "* * *",
        "Europe/Paris",
        "America",
        "../etc/passwd",
        "en",
        "EN",
        "//div",
        "//div[",
        "(",
        "[a-z]+",
        "a{99999999999}",
        "data/x.db",
    ]
)
_SCALARS = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(),
    st.text(max_size=20),
    _INTERESTING,
    st.datetimes(),
    st.dates(),
    st.times(),
    st.datetimes(timezones=st.just(dt.UTC)),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def _mostly(usual: st.SearchStrategy, rare: st.SearchStrategy) -> st.SearchStrategy:
    """`usual` nine times in ten, else `rare`. (st.one_of would not do: it merges equal branches.)"""
    return st.sampled_from(range(10)).flatmap(lambda n: rare if n == 0 else usual)


def _pick(good: list[object], bad: list[object]) -> st.SearchStrategy[object]:
    return _mostly(st.sampled_from(good), st.sampled_from(bad))


_URL = _pick(
    ["https://example.org/rss", "http://news.example.com/", "https://example.org:8443/s.xml"],
    [
        "http://[::1]/feed",
        "http://[::1/",
        "https://example.org:99999/",
        "ftp://example.org/",
        "file:///etc/passwd",
        "/rss",
        "https://",
        "https://exa mple.org/",
        "https://a<b>.org/",
    ],
)
_DURATION = _pick(["15m", "1h30m", "90s", "1d"], ["0s", "-1m", "30", "400d", "x", ""])

# For each key: values that are mostly valid, so that examples get past the first checks and
# reach the later ones; the rare bad ones and the generic _VALUES hit every check.
_GOOD: dict[str, st.SearchStrategy[object]] = {
    "database": _pick(["data/x.db", "/tmp/x.db", "~/x.db"], ["", " "]),
    "keep_html": st.booleans(),
    "busy_timeout": _DURATION,  # [storage] busy_timeout, added to monitor/config.py meanwhile
    "user_agent": _pick(["ua/1.0"], ["", "a\nb"]),
    "obey_robots": st.booleans(),
    "concurrency": st.integers(-1, 40),
    "per_host_concurrency": st.integers(-1, 40),
    "download_delay": st.floats(-1, 10) | st.integers(-1, 10),
    "timeout": st.floats(-1, 100) | st.integers(-1, 100) | st.just(10**400),
    "max_page_bytes": st.integers(0, 10**7),
    "max_articles_per_run": st.integers(-1, 100),
    "workers": st.integers(-1, 80),
    "default_interval": _DURATION,
    "jitter": _DURATION,
    "run_timeout": _DURATION,
    "stop_timeout": _DURATION,
    "max_parallel": st.integers(0, 70),
    "schedule": st.lists(
        st.fixed_dictionaries({"age": _DURATION, "every": _DURATION}) | _VALUES, max_size=3
    ),
    "max_per_run": st.integers(-1, 300),
    "baseline_runs": st.integers(0, 30),
    "failing_after": st.integers(0, 5),
    "min_quiet": _DURATION,
    "quiet_factor": st.floats(0, 10) | st.integers(0, 10),
    "webhook": _URL,
    "command": _pick(["notify-send x", ["/bin/echo", "x"]], ["", "'unclosed", []]),
    "remind_after": _DURATION,
    "threshold": st.floats(-1, 2) | st.integers(-1, 2),
    "id": _pick(["a", "b", "a-b"], ["Bad", "a--b", ""]),
    "name": st.text(max_size=10),
    "homepage": _mostly(_URL, st.just("")),
    "feeds": st.lists(_URL, max_size=3),
    "sitemaps": st.lists(_URL, max_size=2),
    "allowed_domains": st.lists(
        _pick(["example.org", "Example.COM."], ["-bad.org", "https://x.org", "bücher.de", ""]),
        max_size=2,
    ),
    "article_url_pattern": _pick(["", "^https://"], ["(", "a{99999999999}", "[a-"]),
    "language": _pick(["", "en"], ["EN", "eng", "e1"]),
    "timezone": _pick(["", "UTC", "Europe/Paris"], ["America", "../x", "Nope/Nope", "a\x00", "/x"]),
    "interval": _DURATION,
    "cron": _pick(
        ["", "*/5 * * * *", "0 8 * * mon-fri", "0 8 * * */2"],
        ["0 8 * * 1-5", "61 * * * *", "* * *", "a b c d e", "*/0 * * * *"],
    ),
    "max_depth": st.integers(-1, 6),
    "exclude_xpaths": st.lists(_pick(["//aside"], ["//div[", "", "a\x00"]), max_size=2),
    "spider": _pick(["", "my_spider"], ["bad name"]),
}
_JUNK_KEYS = st.sampled_from(["feed", "concurency", "zzz", ""]) | st.text(max_size=8)


def _rarely_with_junk(tables: st.SearchStrategy[dict]) -> st.SearchStrategy[dict]:
    """Sometimes add an unknown key: always would stop every example at the first check."""
    junk = st.dictionaries(_JUNK_KEYS, _VALUES, min_size=1, max_size=1)
    return _mostly(tables, st.tuples(tables, junk).map(lambda t: {**t[0], **t[1]}))


def _table(table: str, required: tuple[str, ...] = ()) -> st.SearchStrategy[dict]:
    keys = sorted(CONFIG_KEYS[table])
    value = {k: _mostly(_GOOD[k], _VALUES) for k in keys}  # mostly the right type
    return _rarely_with_junk(
        st.fixed_dictionaries(
            {k: value[k] for k in required},
            optional={k: value[k] for k in keys if k not in required},
        )
    )


_OUTLET = _table("outlets", required=("id", "feeds"))
_DOCUMENTS = _rarely_with_junk(
    st.fixed_dictionaries(
        {
            "outlets": _mostly(
                st.lists(_OUTLET, min_size=1, max_size=3),
                st.lists(_OUTLET | _VALUES, max_size=3) | _VALUES,
            )
        },
        optional={t: _mostly(_table(t), _VALUES) for t in ("storage", "crawl", "schedule", "recheck", "health", "alerts", "clusters")},
    )
)


@property_settings(200)
@given(data=_DOCUMENTS)
def test_build_never_raises_anything_but_config_error(
    tmp_path_factory: pytest.TempPathFactory, data: dict
) -> None:
    path = tmp_path_factory.getbasetemp() / "prop.toml"
    try:
        config = _build(data, path)
    except ConfigError as err:
        assert err.path == str(path)
    else:
        assert isinstance(config, Config) and config.outlets


@property_settings(200)
@given(text=st.text() | st.sampled_from([OUTLET, FULL]).map(lambda t: t[: len(t) // 2]))
def test_load_config_never_raises_anything_but_config_error(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    path = tmp_path_factory.getbasetemp() / "prop-text.toml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        config = load_config(path)
    except ConfigError as err:
        assert err.path == str(path)
    else:
        assert isinstance(config, Config)
