"""The configuration: one TOML file -> frozen dataclasses.

All validation happens here and nowhere else: `load_config` either returns a `Config` whose every
value is usable as is, or raises `ConfigError` naming the file, the outlet, the key and what is
wrong. Nothing is crawled, scheduled or written before the whole file has been checked.

Checks run in a fixed order (top-level keys, [storage], [crawl], [schedule], then the outlets in
file order, each key in schema order) and the first error wins, so a user fixing errors one by one
always sees them in the same order.
"""

from __future__ import annotations

import logging
import math
import os
import re
import shlex
import tomllib
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from apscheduler.triggers.cron import CronTrigger
from lxml import etree

from crawlers.outlets import Outlet
from monitor.errors import ConfigError
from storage.errors import did_you_mean

__all__ = [
    "CONFIG_KEYS",
    "DEFAULT_CONFIG",
    "Config",
    "CrawlConfig",
    "ScheduleConfig",
    "RecheckConfig",
    "HealthConfig",
    "AlertsConfig",
    "ClustersConfig",
    "StorageConfig",
    "load_config",
    "parse_duration",
    "resolve_config_path",
]

log = logging.getLogger(__name__)

#: Relative to the current directory.
DEFAULT_CONFIG = Path("config/newsmon.toml")
#: Environment variable naming the config file when --config is not given.
ENV_VAR = "NEWSMON_CONFIG"

#: [storage].database when not given; like any relative path, relative to the config file's directory.
DEFAULT_DATABASE = "data/newsmon.db"

#: Allowed keys of each table; "outlets" lists the keys of one [[outlets]] table.
CONFIG_KEYS: dict[str, set[str]] = {
    "storage": {"database", "keep_html", "busy_timeout"},
    "crawl": {
        "user_agent",
        "obey_robots",
        "concurrency",
        "per_host_concurrency",
        "download_delay",
        "timeout",
        "max_page_bytes",
        "max_articles_per_run",
        "workers",
    },
    "schedule": {"default_interval", "jitter", "run_timeout", "stop_timeout", "max_parallel"},
    "recheck": {"schedule", "max_per_run"},
    "health": {"baseline_runs", "failing_after", "min_quiet", "quiet_factor"},
    "alerts": {"webhook", "command", "remind_after"},
    "clusters": {"threshold"},
    "outlets": {
        "id",
        "name",
        "homepage",
        "feeds",
        "sitemaps",
        "allowed_domains",
        "article_url_pattern",
        "language",
        "timezone",
        "interval",
        "cron",
        "max_depth",
        "exclude_xpaths",
        "spider",
    },
}

# An upper bound keeps intervals far away from timedelta/scheduler overflow; a year is plenty.
MAX_INTERVAL = 366 * 86400
MAX_DEPTH = 5
#: A write that waits longer than this for a lock holds up its whole crawl (the reactor thread).
MAX_BUSY_TIMEOUT = 3600

_ID_RE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_LANGUAGE_RE = re.compile(r"[a-z]{2}")
_SPIDER_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN_RE = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*")
# urlsplit() does not validate hosts; this keeps out '<', '"', '@' leftovers and the like.
# \w (Unicode) lets internationalised host names through.
_HOST_RE = re.compile(r"[\w.-]+")
_DURATION_RE = re.compile(
    r"(?:(?P<d>\d+)\s*d)?\s*(?:(?P<h>\d+)\s*h)?\s*(?:(?P<m>\d+)\s*m)?\s*(?:(?P<s>\d+)\s*s)?"
)
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


# --------------------------------------------------------------------------------------------
# The dataclasses


@dataclass(frozen=True)
class StorageConfig:
    database: Path  # absolute
    keep_html: bool = True
    #: Seconds a write waits for another process's write lock before it fails ("database is locked").
    busy_timeout: int = 15


@dataclass(frozen=True)
class CrawlConfig:
    user_agent: str = "newsmon/0.1 (+https://github.com/newsmon/newsmon)"
    obey_robots: bool = True
    concurrency: int = 16
    per_host_concurrency: int = 4
    download_delay: float = 0.0
    timeout: float = 30.0
    max_page_bytes: int = 10_000_000
    max_articles_per_run: int = 0  # 0 = no cap
    #: Processes that extract pages; None = one per core, 0 = in the crawl process itself.
    workers: int | None = None


@dataclass(frozen=True)
class ScheduleConfig:
    default_interval: int = 1800  # seconds
    #: Each run starts up to this many seconds late (at most a quarter of the outlet's interval),
    #: so outlets with the same interval do not all fire at once.
    jitter: int = 30
    #: A run still going after this many seconds is stopped and recorded as 'timeout'.
    run_timeout: int = 1800
    #: On SIGTERM/SIGINT, running crawls get this long to finish before they are killed.
    stop_timeout: int = 30
    #: Crawls running at once (each in its own process).
    max_parallel: int = 2


@dataclass(frozen=True)
class RecheckConfig:
    """How often a stored article is fetched again to catch edits, by its age.

    `schedule` is a list of (age, every) in seconds, ages ascending: an article younger than
    `age` is rechecked every `every`; one older than the last age is never rechecked.
    """

    schedule: tuple[tuple[int, int], ...] = (
        (86400, 3600),
        (7 * 86400, 86400),
        (30 * 86400, 7 * 86400),
    )
    max_per_run: int = 200  # rechecks per outlet and run (the most overdue first)


@dataclass(frozen=True)
class HealthConfig:
    baseline_runs: int = 20  # the rolling baseline covers this many recent runs
    failing_after: int = 2  # this many failed runs in a row make an outlet 'failing'
    #: No new article for quiet_factor x the outlet's usual gap (and at least min_quiet): degraded.
    min_quiet: int = 6 * 3600
    quiet_factor: float = 4.0


@dataclass(frozen=True)
class ClustersConfig:
    #: Estimated Jaccard similarity (5-word shingles) from which two texts are the same story:
    #: the lowest with precision > 0.99 on the labelled set (storage/similarity.py).
    threshold: float = 0.3


@dataclass(frozen=True)
class AlertsConfig:
    webhook: str | None = None  # POSTed a JSON body on each outlet state change
    command: tuple[
        str, ...
    ] = ()  # run (no shell) with the alert as JSON on stdin and NEWSMON_* vars
    remind_after: int = 86400  # an outlet still not ok is alerted again after this long


@dataclass(frozen=True)
class Config:
    path: Path  # absolute
    storage: StorageConfig
    crawl: CrawlConfig
    schedule: ScheduleConfig
    outlets: tuple[Outlet, ...]
    recheck: RecheckConfig = RecheckConfig()
    health: HealthConfig = HealthConfig()
    alerts: AlertsConfig = AlertsConfig()
    clusters: ClustersConfig = ClustersConfig()

    def interval_of(self, outlet: Outlet) -> int | None:
        """The outlet's interval in seconds (the default one unless it has its own or a cron)."""
        if outlet.cron:
            return None
        return outlet.interval or self.schedule.default_interval

    def outlet(self, outlet_id: str) -> Outlet:
        """The outlet with id `outlet_id`; ConfigError naming the known ids if there is none."""
        for outlet in self.outlets:
            if outlet.id == outlet_id:
                return outlet
        known = [o.id for o in self.outlets]
        hint = did_you_mean(outlet_id, known)
        raise ConfigError(
            self.path, f"unknown outlet {outlet_id!r}{hint} (known outlets: {', '.join(known)})"
        )

    def select(self, ids: Iterable[str]) -> tuple[Outlet, ...]:
        """The outlets named by `ids`, in that order and without repeats; all outlets if empty."""
        if isinstance(ids, str):  # a single id, not an iterable of one-letter ids
            ids = [ids]
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return self.outlets
        return tuple(self.outlet(i) for i in wanted)


# --------------------------------------------------------------------------------------------
# Public functions


def parse_duration(text: str) -> int:
    """Seconds in a duration such as "90s", "15m", "2h", "1d" or "1h30m".

    Units go from largest to smallest, each at most once; spaces between parts are allowed.
    A bare number is rejected: "30" could mean seconds or minutes.
    Raises ValueError with a readable message on anything else and on zero.
    """
    if not isinstance(text, str):
        raise ValueError(f"expected a duration string such as '15m', got {_describe(text)}")
    stripped = text.strip()
    if not stripped:
        raise ValueError("empty duration: expected e.g. '90s', '15m', '2h', '1d' or '1h30m'")
    if stripped.startswith("-"):
        raise ValueError(f"duration {text!r} is negative: it must be positive")
    match = _DURATION_RE.fullmatch(stripped) if len(stripped) <= 64 else None
    if match is None:
        hint = " (a bare number has no unit)" if stripped.isdigit() else ""
        raise ValueError(
            f"invalid duration {text!r}{hint}: expected numbers with units d, h, m, s, "
            "largest first, e.g. '90s', '15m', '2h', '1d' or '1h30m'"
        )
    seconds = sum(int(v) * _UNIT_SECONDS[u] for u, v in match.groupdict().items() if v)
    if seconds <= 0:
        raise ValueError(f"duration {text!r} is zero: it must be positive")
    return seconds


def resolve_config_path(cli_value: str | Path | None = None) -> Path:
    """The config file to use: --config, else $NEWSMON_CONFIG, else DEFAULT_CONFIG."""
    return _resolve(cli_value)[0]


def load_config(path: str | Path | None = None, *, database: str | Path | None = None) -> Config:
    """Read and validate the config file.

    `path` None means `resolve_config_path(None)`; a given `path` is taken to be the CLI's
    --config. `database` (the CLI's --db, relative to the current directory) replaces
    [storage].database.
    """
    config_path, source = _resolve(path)
    abs_path = Path(os.path.abspath(config_path))
    try:
        raw = abs_path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(abs_path, f"config file not found ({source})") from None
    except IsADirectoryError:
        raise ConfigError(abs_path, f"is a directory, not a config file ({source})") from None
    except OSError as exc:
        raise ConfigError(abs_path, f"cannot read config file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            abs_path, f"not valid TOML: not UTF-8 text (bad byte at offset {exc.start})"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(abs_path, f"not valid TOML: {exc}") from None
    except ValueError as exc:  # tomllib lets int()'s digit limit through
        raise ConfigError(abs_path, f"not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(abs_path, "not valid TOML: values nested too deeply") from None
    config = _build(data, abs_path, database=database)
    log.debug("loaded %s (%s): %d outlets", abs_path, source, len(config.outlets))
    return config


# --------------------------------------------------------------------------------------------
# Building and validating


def _resolve(cli_value: str | Path | None) -> tuple[Path, str]:
    """The config path and how it was chosen, for the file-not-found message."""
    if cli_value is not None and str(cli_value) != "":
        return Path(cli_value).expanduser(), "given by --config"
    env = os.environ.get(ENV_VAR, "")
    if env:
        return Path(env).expanduser(), f"given by ${ENV_VAR}"
    return DEFAULT_CONFIG, (
        f"the default {DEFAULT_CONFIG} in the current directory; "
        f"use --config or ${ENV_VAR} to name another file"
    )


def _build(data: dict[str, Any], path: str | Path, *, database: str | Path | None = None) -> Config:
    """Validate parsed TOML `data` and build the Config; `path` is the config file.

    Exposed for tests, which feed it arbitrary dicts.
    """
    path = Path(os.path.abspath(path))
    if not isinstance(data, dict):
        raise ConfigError(path, f"expected a TOML document (a table), got {_describe(data)}")
    top_keys = set(CONFIG_KEYS)
    for key in data:
        if key not in top_keys:
            hint = did_you_mean(key, top_keys)
            raise ConfigError(path, f"unknown table or key{hint}", key=_printable(key))

    storage = _build_storage(_Table.of(data, "storage", path), path, database)
    crawl = _build_crawl(_Table.of(data, "crawl", path))
    schedule = _build_schedule(_Table.of(data, "schedule", path))
    recheck = _build_recheck(_Table.of(data, "recheck", path))
    health = _build_health(_Table.of(data, "health", path))
    alerts = _build_alerts(_Table.of(data, "alerts", path))
    clusters = _build_clusters(_Table.of(data, "clusters", path))
    outlets = _build_outlets(data.get("outlets"), path)
    return Config(
        path=path,
        storage=storage,
        crawl=crawl,
        schedule=schedule,
        outlets=outlets,
        recheck=recheck,
        health=health,
        alerts=alerts,
        clusters=clusters,
    )


class _Table:
    """One TOML table being read: typed getters that raise ConfigError with the right labels.

    For top-level tables keys are reported dotted ("crawl.timeout"); inside an outlet they are
    reported bare, with the outlet named separately.
    """

    def __init__(
        self, data: dict[str, Any], path: Path, *, prefix: str = "", outlet: str | None = None
    ):
        self.data = data
        self.path = path
        self.prefix = prefix
        self.outlet = outlet

    @classmethod
    def of(cls, data: dict[str, Any], name: str, path: Path) -> _Table:
        value = data.get(name, {})
        if not isinstance(value, dict):
            raise ConfigError(
                path, f"expected a table ([{name}]), got {_describe(value)}", key=name
            )
        table = cls(value, path, prefix=name)
        table.check_keys(CONFIG_KEYS[name])
        return table

    def label(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def error(self, key: str | None, message: str) -> ConfigError:
        return ConfigError(
            self.path, message, outlet=self.outlet, key=None if key is None else self.label(key)
        )

    def check_keys(self, known: set[str]) -> None:
        for key in self.data:
            if key not in known:
                raise self.error(_printable(key), f"unknown key{did_you_mean(key, known)}")

    def has(self, key: str) -> bool:
        return key in self.data

    def get_bool(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"expected a boolean (true or false), got {_describe(value)}")
        return value

    def get_int(self, key: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
        value = self.data.get(key, default)
        # bool is a subclass of int: `true` is not an integer here.
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error(key, f"expected an integer, got {_describe(value)}")
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f">= {minimum}" if maximum is None else f"between {minimum} and {maximum}"
            raise self.error(key, f"must be {bounds}, got {value}")
        return value

    def get_number(
        self, key: str, default: float, *, minimum: float, strict: bool = False
    ) -> float:
        """An int or float that is finite and >= `minimum` (> with `strict`)."""
        value = self.data.get(key, default)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise self.error(key, f"expected a number, got {_describe(value)}")
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise self.error(key, f"must be a finite number, got {_short(value)}")
        if number < minimum or (strict and number == minimum):
            raise self.error(
                key, f"must be {'>' if strict else '>='} {minimum:g}, got {_short(value)}"
            )
        return number

    def get_str(self, key: str, default: str) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str):
            raise self.error(key, f"expected a string, got {_describe(value)}")
        return value

    def get_str_list(self, key: str) -> list[tuple[str, str]]:
        """The strings of an array, each with its label for errors ("feeds[2]", 1-based)."""
        value = self.data.get(key, [])
        if not isinstance(value, list):
            raise self.error(
                key, f'expected an array of strings ({key} = ["..."]), got {_describe(value)}'
            )
        items = []
        for n, item in enumerate(value, 1):
            item_key = f"{key}[{n}]"
            if not isinstance(item, str):
                raise self.error(item_key, f"expected a string, got {_describe(item)}")
            items.append((item_key, item))
        return items

    def get_duration(self, key: str, default: int, *, allow_zero: bool = False) -> int:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            raise self.error(
                key, f"expected a duration string such as '15m' or '1h30m', got {_describe(value)}"
            )
        if allow_zero and value.strip() in ("0", "0s"):
            return 0
        try:
            seconds = parse_duration(value)
        except ValueError as exc:
            raise self.error(key, str(exc)) from None
        if seconds > MAX_INTERVAL:
            raise self.error(
                key, f"duration {value!r} is too long: at most {MAX_INTERVAL // 86400}d"
            )
        return seconds


def _build_storage(table: _Table, config_path: Path, override: str | Path | None) -> StorageConfig:
    database = table.get_str("database", DEFAULT_DATABASE)
    if not database.strip():
        raise table.error("database", "must not be empty (leave it out for the default)")
    if "\x00" in database:
        raise table.error("database", "contains a NUL character")
    keep_html = table.get_bool("keep_html", True)
    busy_timeout = table.get_duration("busy_timeout", StorageConfig.busy_timeout, allow_zero=True)
    if busy_timeout > MAX_BUSY_TIMEOUT:
        raise table.error("busy_timeout", f"too long: at most {MAX_BUSY_TIMEOUT // 3600}h")
    if override is not None:
        text = str(override)
        if not text.strip() or "\x00" in text:
            raise ConfigError(config_path, f"invalid database path {text!r}", key="--db")
        db_path = Path(os.path.abspath(Path(text).expanduser()))
    else:
        db_path = Path(database).expanduser()
        if not db_path.is_absolute():
            db_path = config_path.parent / db_path
        db_path = Path(os.path.abspath(db_path))
    return StorageConfig(database=db_path, keep_html=keep_html, busy_timeout=busy_timeout)


def _build_crawl(table: _Table) -> CrawlConfig:
    defaults = CrawlConfig()
    user_agent = table.get_str("user_agent", defaults.user_agent)
    if not user_agent.strip():
        raise table.error("user_agent", "must not be empty")
    if any(ord(c) < 32 or ord(c) == 127 for c in user_agent):
        raise table.error("user_agent", "must not contain line breaks or control characters")
    return CrawlConfig(
        user_agent=user_agent,
        obey_robots=table.get_bool("obey_robots", defaults.obey_robots),
        concurrency=table.get_int("concurrency", defaults.concurrency, minimum=1),
        per_host_concurrency=table.get_int(
            "per_host_concurrency", defaults.per_host_concurrency, minimum=1
        ),
        download_delay=table.get_number("download_delay", defaults.download_delay, minimum=0),
        timeout=table.get_number("timeout", defaults.timeout, minimum=0, strict=True),
        max_page_bytes=table.get_int("max_page_bytes", defaults.max_page_bytes, minimum=1024),
        max_articles_per_run=table.get_int(
            "max_articles_per_run", defaults.max_articles_per_run, minimum=0
        ),
        workers=table.get_int("workers", 0, minimum=0, maximum=64) if "workers" in table.data else None,
    )


def _build_schedule(table: _Table) -> ScheduleConfig:
    d = ScheduleConfig()
    return ScheduleConfig(
        default_interval=table.get_duration("default_interval", d.default_interval),
        jitter=table.get_duration("jitter", d.jitter, allow_zero=True),
        run_timeout=table.get_duration("run_timeout", d.run_timeout),
        stop_timeout=table.get_duration("stop_timeout", d.stop_timeout),
        max_parallel=table.get_int("max_parallel", d.max_parallel, minimum=1, maximum=64),
    )


def _build_recheck(table: _Table) -> RecheckConfig:
    d = RecheckConfig()
    max_per_run = table.get_int("max_per_run", d.max_per_run, minimum=0)
    if not table.has("schedule"):
        return RecheckConfig(max_per_run=max_per_run)
    value = table.data["schedule"]
    if not isinstance(value, list):
        raise table.error(
            "schedule",
            f'expected an array of tables ([{{ age = "1d", every = "1h" }}, ...]), got {_describe(value)}',
        )
    tiers: list[tuple[int, int]] = []
    for n, item in enumerate(value, 1):
        if not isinstance(item, dict):
            raise table.error(
                f"schedule[{n}]",
                f'expected a table {{ age = "1d", every = "1h" }}, got {_describe(item)}',
            )
        tier = _Table(item, table.path, prefix=f"recheck.schedule[{n}]")
        tier.check_keys({"age", "every"})
        for key in ("age", "every"):
            if key not in item:
                raise tier.error(key, "missing (each entry needs both age and every)")
        age, every = tier.get_duration("age", 0), tier.get_duration("every", 0)
        if tiers and age <= tiers[-1][0]:
            raise tier.error("age", "ages must increase from one entry to the next")
        tiers.append((age, every))
    return RecheckConfig(schedule=tuple(tiers), max_per_run=max_per_run)


def _build_health(table: _Table) -> HealthConfig:
    d = HealthConfig()
    return HealthConfig(
        baseline_runs=table.get_int("baseline_runs", d.baseline_runs, minimum=3, maximum=1000),
        failing_after=table.get_int("failing_after", d.failing_after, minimum=1, maximum=100),
        min_quiet=table.get_duration("min_quiet", d.min_quiet),
        quiet_factor=table.get_number("quiet_factor", d.quiet_factor, minimum=1),
    )


def _build_clusters(table: _Table) -> ClustersConfig:
    threshold = table.get_number("threshold", ClustersConfig().threshold, minimum=0, strict=True)
    if threshold > 1:
        raise table.error("threshold", f"must be at most 1 (a similarity), got {threshold:g}")
    return ClustersConfig(threshold=threshold)


def _build_alerts(table: _Table) -> AlertsConfig:
    d = AlertsConfig()
    webhook = None
    if table.has("webhook"):
        webhook = _check_url(table, "webhook", table.get_str("webhook", ""))
    command: tuple[str, ...] = ()
    if table.has("command"):
        value = table.data["command"]
        if isinstance(value, str):
            try:
                command = tuple(shlex.split(value))
            except ValueError as exc:
                raise table.error("command", f"cannot split the command line: {exc}") from None
        else:
            command = tuple(v for _, v in table.get_str_list("command"))
        if not command:
            raise table.error("command", "must not be empty (leave it out for no command)")
    return AlertsConfig(
        webhook=webhook,
        command=command,
        remind_after=table.get_duration("remind_after", d.remind_after),
    )


def _build_outlets(value: Any, path: Path) -> tuple[Outlet, ...]:
    if value is None or value == []:
        raise ConfigError(
            path, "no outlets configured: add at least one [[outlets]] table", key="outlets"
        )
    if not isinstance(value, list):
        hint = " (write [[outlets]], not [outlets])" if isinstance(value, dict) else ""
        raise ConfigError(
            path, f"expected an array of tables{hint}, got {_describe(value)}", key="outlets"
        )
    for n, item in enumerate(value, 1):
        if not isinstance(item, dict):
            raise ConfigError(
                path,
                f"expected an array of tables ([[outlets]]), but outlets[{n}] is {_describe(item)}",
                key="outlets",
            )
    first_seen: dict[str, int] = {}
    outlets = []
    for n, item in enumerate(value, 1):
        outlet = _build_outlet(item, n, path, first_seen)
        first_seen[outlet.id] = n
        outlets.append(outlet)
    return tuple(outlets)


def _build_outlet(data: dict[str, Any], n: int, path: Path, first_seen: dict[str, int]) -> Outlet:
    position = f"outlets[{n}]"
    raw_id = data.get("id")
    id_ok = isinstance(raw_id, str) and _ID_RE.fullmatch(raw_id) is not None
    # Errors name the outlet by its id when it has a usable, unique one, else by position.
    t = _Table(data, path, outlet=raw_id if id_ok and raw_id not in first_seen else position)
    t.check_keys(CONFIG_KEYS["outlets"])

    if "id" not in data:
        raise t.error("id", "missing required key 'id'")
    outlet_id = t.get_str("id", "")
    if not id_ok:
        raise t.error(
            "id",
            f"invalid id {outlet_id!r}: use lower-case letters, digits and single hyphens "
            "(e.g. 'le-monde')",
        )
    if outlet_id in first_seen:
        raise t.error(
            "id", f"duplicate id {outlet_id!r} (first at outlets[{first_seen[outlet_id]}])"
        )

    name = t.get_str("name", outlet_id)
    if not name.strip():
        raise t.error("name", "must not be empty (leave it out to use the id)")

    homepage = t.get_str("homepage", "") or None
    if homepage is not None:
        _check_url(t, "homepage", homepage)
    feeds = tuple(_check_url(t, key, url) for key, url in t.get_str_list("feeds"))
    sitemaps = tuple(_check_url(t, key, url) for key, url in t.get_str_list("sitemaps"))
    allowed_domains = tuple(
        _check_domain(t, key, d) for key, d in t.get_str_list("allowed_domains")
    )
    if homepage is None and not feeds and not sitemaps:
        raise t.error(None, "nothing to crawl: give at least one of homepage, feeds or sitemaps")

    pattern = t.get_str("article_url_pattern", "")
    if pattern:
        try:
            re.compile(pattern)
        except (re.error, OverflowError, RecursionError) as exc:
            raise t.error(
                "article_url_pattern", f"invalid regular expression {pattern!r}: {exc}"
            ) from None

    language = t.get_str("language", "") or None
    if language is not None and not _LANGUAGE_RE.fullmatch(language):
        raise t.error(
            "language",
            f"invalid language code {language!r}: expected a two-letter lower-case "
            "ISO 639-1 code such as 'en', 'fr' or 'de'",
        )

    timezone = t.get_str("timezone", "") or None
    tzinfo: zoneinfo.ZoneInfo | None = None
    if timezone is not None:
        try:
            tzinfo = zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            raise t.error(
                "timezone",
                f"unknown time zone {timezone!r}: expected an IANA name such as 'Europe/Paris'",
            ) from None

    interval = t.get_duration("interval", 0) if t.has("interval") else None
    cron = t.get_str("cron", "") or None
    if cron is not None:
        if interval is not None:
            raise t.error("cron", "give either interval or cron, not both")
        _check_cron(t, cron, tzinfo)

    max_depth = t.get_int("max_depth", 1, minimum=0, maximum=MAX_DEPTH)

    exclude_xpaths = []
    for key, xpath in t.get_str_list("exclude_xpaths"):
        try:
            etree.XPath(xpath)
        except (etree.XPathError, ValueError) as exc:
            raise t.error(key, f"invalid XPath {xpath!r}: {exc}") from None
        exclude_xpaths.append(xpath)

    spider = t.get_str("spider", "")
    if spider and not _SPIDER_RE.fullmatch(spider):
        raise t.error(
            "spider", f"invalid spider name {spider!r}: use letters, digits, '_', '.' and '-'"
        )

    return Outlet(
        id=outlet_id,
        name=name,
        homepage=homepage,
        feeds=feeds,
        sitemaps=sitemaps,
        allowed_domains=allowed_domains,
        article_url_pattern=pattern,
        language=language,
        timezone=timezone,
        interval=interval,
        cron=cron,
        max_depth=max_depth,
        exclude_xpaths=tuple(exclude_xpaths),
        spider=spider,
    )


def _check_url(t: _Table, key: str, url: str) -> str:
    """`url` if it is an absolute http(s) URL with a host; ConfigError naming it otherwise."""
    problem = _url_problem(url)
    if problem:
        raise t.error(key, f"bad URL {url!r}: {problem}")
    return url


def _url_problem(url: str) -> str | None:
    if not url:
        return "empty"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return "contains spaces or control characters (percent-encode them)"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        return f"cannot be parsed ({exc})"
    if not parts.scheme:
        return "not an absolute URL: expected http://... or https://..."
    if parts.scheme not in ("http", "https"):
        return f"scheme {parts.scheme!r} is not allowed: expected http or https"
    if not host:
        return "no host name"
    if "[" not in parts.netloc and not _HOST_RE.fullmatch(host):  # IPv6 literals were checked
        return f"invalid host name {host!r}"
    return None


def _check_domain(t: _Table, key: str, domain: str) -> str:
    """`domain` lower-cased, if it is a bare host name (no scheme, no path, no port)."""
    value = domain.lower().rstrip(".")
    if "://" in value or "/" in value:
        problem = "expected a bare host name such as 'example.com', without scheme or path"
    elif not _DOMAIN_RE.fullmatch(value):
        problem = "expected a host name such as 'example.com' (use the xn-- form for non-ASCII)"
    else:
        return value
    raise t.error(key, f"invalid domain {domain!r}: {problem}")


def _check_cron(t: _Table, cron: str, tzinfo: zoneinfo.ZoneInfo | None) -> None:
    fields = cron.split()
    # APScheduler 3 numbers weekdays from Monday = 0, crontab from Sunday = 0: "1-5" would silently
    # run Tuesday to Saturday. Names (mon-fri) mean the same in both, so require them.
    if len(fields) == 5 and re.search(r"\d", re.sub(r"^\*/\d+$", "*", fields[4])):
        raise t.error(
            "cron",
            f"invalid cron expression {cron!r}: write the day of week as names (mon-fri), "
            "not numbers (APScheduler and crontab number weekdays differently)",
        )
    try:
        CronTrigger.from_crontab(cron, timezone=tzinfo or "UTC")
    except (ValueError, TypeError) as exc:
        raise t.error(
            "cron",
            f"invalid cron expression {cron!r}: {exc} "
            "(expected 5 fields: minute hour day-of-month month day-of-week)",
        ) from None


# --------------------------------------------------------------------------------------------
# Messages


def _printable(key: object) -> str:
    """A key from the file as it can be shown in a one-line message: a quoted TOML key may hold
    line breaks or terminal escapes, which are shown escaped ('a\\nb')."""
    text = str(key)
    return text if text.isprintable() else repr(text)[1:-1]


def _short(value: object, limit: int = 60) -> str:
    try:
        text = repr(value) if isinstance(value, str) else str(value)
    except ValueError:  # an int too long to print (sys.get_int_max_str_digits)
        return "(a number with thousands of digits)"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(value: object) -> str:
    """TOML-flavoured description of a value for type errors: "string '16'", "boolean true"."""
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, int):
        return f"integer {_short(value)}"
    if isinstance(value, float):
        return f"float {_short(value)}"
    if isinstance(value, str):
        return f"string {_short(value)}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return f"{type(value).__name__} {_short(value)}"
