"""One crawl: Config + outlet ids -> Scrapy settings + spider arguments -> a finished run.

The crawl receives only a settings dict and spider arguments (the scrapyd model), so the same
crawl can run in this process (`newsmon crawl`) or in a child process (the service). Scrapy's
reactor cannot be restarted: `run_crawl` may be called once per process.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.misc import load_object

from crawlers.spiders.outlet import OutletSpider
from monitor.errors import CrawlError
from monitor.logs import apply_levels
from storage.db import open_database
from storage.runs import fail_unfinished, run_rows

if TYPE_CHECKING:
    from collections.abc import Iterable

    from crawlers.outlets import Outlet
    from monitor.config import Config

logger = logging.getLogger(__name__)

GENERIC_SPIDER = "outlet"


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def crawl_settings(config: Config, outlets: Iterable[Outlet], run_id: str, *, progress: float = 5.0) -> dict[str, Any]:
    """The Scrapy settings of one run: static crawlers.settings + these values from the config."""
    c = config.crawl
    return {
        "NEWSMON_OUTLETS": [o.to_dict() for o in outlets],
        "NEWSMON_DATABASE": str(config.storage.database),
        "NEWSMON_KEEP_HTML": config.storage.keep_html,
        "NEWSMON_RUN_ID": run_id,
        "NEWSMON_MAX_ARTICLES_PER_RUN": c.max_articles_per_run,
        "NEWSMON_PROGRESS_INTERVAL": progress,
        "NEWSMON_RECHECK": [list(t) for t in config.recheck.schedule],
        "NEWSMON_RECHECK_MAX": config.recheck.max_per_run,
        "NEWSMON_CLUSTER_THRESHOLD": config.clusters.threshold,
        "USER_AGENT": c.user_agent,
        "ROBOTSTXT_OBEY": c.obey_robots,
        "CONCURRENT_REQUESTS": c.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": c.per_host_concurrency,
        "DOWNLOAD_DELAY": c.download_delay,
        "DOWNLOAD_TIMEOUT": c.timeout,
        "DOWNLOAD_MAXSIZE": c.max_page_bytes,
    }


def spider_groups(outlets: Iterable[Outlet]) -> dict[str, list[str]]:
    """Spider name -> outlet ids: the generic spider takes every outlet without its own."""
    groups: dict[str, list[str]] = defaultdict(list)
    for o in outlets:
        groups[o.spider or GENERIC_SPIDER].append(o.id)
    return dict(groups)


def load_spider(loader: SpiderLoader, name: str, outlet_ids: list[str]) -> type[OutletSpider]:
    """A spider by its name in crawlers/spiders, or by import path ("package.module.Class")."""
    try:
        spidercls = load_object(name) if "." in name else loader.load(name)
    except (KeyError, ImportError, NameError, AttributeError, ValueError) as exc:
        raise CrawlError(f"outlets {', '.join(outlet_ids)}: cannot load spider {name!r}: {exc}") from None
    if not (isinstance(spidercls, type) and issubclass(spidercls, OutletSpider)):
        raise CrawlError(f"outlets {', '.join(outlet_ids)}: spider {name!r} is not an OutletSpider subclass")
    return spidercls


@dataclass
class RunSummary:
    run_id: str
    wall_seconds: float
    outlets: list[dict[str, Any]] = field(default_factory=list)
    #: Crawl-wide figures: reactor lag (newsmon/reactor/*), longest extraction, Scrapy's counters.
    crawl_stats: dict[str, Any] = field(default_factory=dict)

    @property
    def new(self) -> int:
        return sum(r["articles_new"] for r in self.outlets)

    def stage_seconds(self) -> dict[str, float]:
        totals: dict[str, float] = defaultdict(float)
        for r in self.outlets:
            for key, value in (r.get("stats") or {}).items():
                if key.startswith("time/"):
                    totals[key[5:]] += value
        return dict(totals)


@dataclass
class CrawlJob:
    """Everything one crawl needs, as plain JSON-able values: what the service hands a child process."""

    run_id: str
    database: str
    settings: dict[str, Any]  # Scrapy settings: crawlers.settings is the base, these override it
    groups: dict[str, list[str]]  # spider name or import path -> outlet ids

    @property
    def outlet_ids(self) -> list[str]:
        return [i for ids in self.groups.values() for i in ids]

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> CrawlJob:
        return cls(**json.loads(text))


def crawl_job(
    config: Config,
    outlet_ids: Iterable[str] = (),
    *,
    progress: float = 5.0,
    origin: str = "crawl",
    time_limit: float = 0,
    run_id: str | None = None,
) -> CrawlJob:
    """The job that crawls the chosen outlets (all when none); `time_limit` seconds, 0 = none.

    At the time limit the crawl closes like a finished one (Scrapy's CLOSESPIDER_TIMEOUT) and
    its runs are recorded as 'timeout'.
    """
    outlets = config.select(outlet_ids)
    run_id = run_id or new_run_id()
    settings = crawl_settings(config, outlets, run_id, progress=progress)
    settings["NEWSMON_ORIGIN"] = origin
    if time_limit:
        settings["CLOSESPIDER_TIMEOUT"] = time_limit
    return CrawlJob(run_id, str(config.storage.database), settings, spider_groups(outlets))


def run_crawl(config: Config, outlet_ids: Iterable[str] = (), *, progress: float = 5.0) -> RunSummary:
    """Crawl the chosen outlets (all when none) to the end, in this process; the run's figures."""
    return execute(crawl_job(config, outlet_ids, progress=progress))


def execute(job: CrawlJob) -> RunSummary:
    """Run `job` to the end in this process. Scrapy's reactor runs once per process: call once."""
    # Open (create, migrate) the database before any request: a bad path fails here, cleanly.
    open_database(job.database).close()
    settings = Settings()
    settings.setmodule("crawlers.settings", priority="project")
    settings.update(job.settings, priority="cmdline")
    loader = SpiderLoader.from_settings(settings)
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")  # logging is the caller's
    process = CrawlerProcess(settings)
    apply_levels()
    crawlers = []
    for spider_name, ids in job.groups.items():
        spidercls = load_spider(loader, spider_name, ids)
        crawler = process.create_crawler(spidercls)
        crawlers.append(crawler)
        process.crawl(crawler, outlets=",".join(ids))
    logger.info("crawl starting run=%s outlets=%s", job.run_id, ",".join(job.outlet_ids))
    started = time.perf_counter()
    process.start()
    wall = time.perf_counter() - started
    db = open_database(job.database)
    try:
        rows = run_rows(db, job.run_id)
        unfinished = [r["outlet_id"] for r in rows if r["status"] == "running"]
        if unfinished:
            # Stopped (a signal) while the crawl was still opening: Scrapy closed without
            # spider_closed, so nothing recorded the runs' end. Close them here, not never.
            fail_unfinished(db, job.run_id, unfinished, "interrupted", "stopped before the crawl got going")
    finally:
        db.close()
    if len(rows) != len(job.outlet_ids) or unfinished:
        raise CrawlError(f"run {job.run_id} did not complete: see the log above for the error")
    return RunSummary(job.run_id, wall, rows, merge_stats([c.stats.get_stats() for c in crawlers if c.stats]))


def merge_stats(per_crawler: list[dict[str, Any]]) -> dict[str, Any]:
    """Crawl-wide numeric stats of all crawlers of a run (per-outlet keys stay in crawl_runs).

    Counters add up. Reactor figures and maxima do not: every crawler's LoopLag measures the same
    reactor, and the longest extraction is the longest of any crawler.
    """
    merged: dict[str, Any] = {}
    for stats in per_crawler:
        for key, value in stats.items():
            if not isinstance(value, int | float) or key.startswith("newsmon/outlet/"):
                continue
            if key.startswith("newsmon/reactor/") or key.endswith(("_max", "/max")):
                merged[key] = max(merged.get(key, value), value)
            else:
                merged[key] = merged.get(key, 0) + value
    return merged
