"""One crawl: Config + outlet ids -> Scrapy settings + spider arguments -> a finished run.

The crawl receives only a settings dict and spider arguments (the scrapyd model), so the same
crawl can run in this process (`newsmon crawl`) or in a child process (the service). Scrapy's
reactor cannot be restarted: `run_crawl` may be called once per process.
"""

from __future__ import annotations

import gc
import json
import logging
import secrets
import sqlite3
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.misc import load_object

from crawlers.extensions.runs import DATABASE_ERROR, figures_from_stats
from crawlers.spiders.outlet import OutletSpider
from crawlers.workers import peak_rss_mib
from monitor.errors import CrawlError, StorageError
from monitor.logs import apply_levels
from storage.articles import upsert_outlets
from storage.db import DEFAULT_BUSY_TIMEOUT, database_problem, open_database, set_busy_timeout
from storage.runs import close_orphans, fail_unfinished, finish_run, run_rows

if TYPE_CHECKING:
    from collections.abc import Iterable

    import sqlite_utils
    from scrapy.crawler import Crawler

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
        "NEWSMON_BUSY_TIMEOUT": config.storage.busy_timeout,
        "NEWSMON_RUN_ID": run_id,
        "NEWSMON_MAX_ARTICLES_PER_RUN": c.max_articles_per_run,
        "NEWSMON_WORKERS": -1 if c.workers is None else c.workers,
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


#: The cyclic garbage collector's thresholds in a crawl process (Python's: 700, 10, 10). With
#: the default, the bench crawl (2,000 articles) ran 757 young and 6 full collections in the crawl
#: process: 1.1 s of its 12.7 s of CPU, the full ones up to 114 ms each, during which the reactor
#: neither downloads nor hands pages to the workers. With these, 20 young collections and no full
#: one: 0.17 s. Twisted's Deferreds and failures make reference cycles, so the collector stays on.
GC_THRESHOLDS = (10_000, 10, 10)


def execute(job: CrawlJob) -> RunSummary:
    """Run `job` to the end in this process. Scrapy's reactor runs once per process: call once.

    Raises StorageError when the database cannot be used (locked, read-only, full): before any
    request when it is so from the start, else once the crawl has stopped (see
    crawlers/extensions/runs.py); the links not stored stay in the frontier for the next run.
    """
    set_busy_timeout(job.settings.get("NEWSMON_BUSY_TIMEOUT", DEFAULT_BUSY_TIMEOUT))
    gc.set_threshold(*GC_THRESHOLDS)
    prepare(job)
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
    problem = next((c.stats.get_value(DATABASE_ERROR) for c in crawlers
                    if c.stats and c.stats.get_value(DATABASE_ERROR)), None)
    try:
        db = open_database(job.database)
        try:
            rows = run_rows(db, job.run_id)
            unfinished = [r["outlet_id"] for r in rows if r["status"] == "running"]
            if unfinished:
                record_unfinished(db, job, crawlers, unfinished)
                if problem:  # recorded now: this run is over, whatever the database said before
                    rows = run_rows(db, job.run_id)
        finally:
            db.close()
    except (sqlite3.Error, StorageError) as exc:
        if problem is None:
            raise _storage_error(exc, job.database) from exc
        # Left 'running': the next crawl or service start closes them (storage.runs.close_orphans).
        logger.error("run %s not recorded: %s", job.run_id, _storage_error(exc, job.database))
    if problem:
        raise StorageError(problem)
    if len(rows) != len(job.outlet_ids) or unfinished:
        raise CrawlError(f"run {job.run_id} did not complete: see the log above for the error")
    crawl_stats = merge_stats([c.stats.get_stats() for c in crawlers if c.stats])
    crawl_stats["newsmon/memory/peak_rss_mib"] = round(peak_rss_mib(), 1)
    crawl_stats.update(cpu_figures())
    return RunSummary(job.run_id, wall, rows, crawl_stats)


def cpu_figures() -> dict[str, float]:
    """CPU seconds of this process so far: all of it, its reactor (this) thread alone, and its
    finished children (the extraction workers, reaped when the crawl closed)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"newsmon/cpu/crawl_process_s": round(own.ru_utime + own.ru_stime, 3),
            "newsmon/cpu/reactor_thread_s": round(time.thread_time(), 3),
            "newsmon/cpu/workers_s": round(children.ru_utime + children.ru_stime, 3)}


def record_unfinished(db: sqlite_utils.Database, job: CrawlJob, crawlers: list[Crawler], unfinished: list[str]) -> None:
    """Record the end of runs still 'running' after the crawl: either the database refused the run
    recorder's write at the time (locked a moment longer), and the crawl's figures are written now;
    or the crawl was stopped (a signal) while it was still opening, and Scrapy closed without
    spider_closed. Either way they are closed here, not never.
    """
    for crawler, ids in zip(crawlers, job.groups.values(), strict=True):
        stats = crawler.stats.get_stats() if crawler.stats else {}
        reason = stats.get("finish_reason")
        for outlet_id in (i for i in ids if i in unfinished):
            if reason:
                fig = figures_from_stats(stats, outlet_id, reason)
                fig.last_error = fig.last_error or stats.get(DATABASE_ERROR)
                finish_run(db, job.run_id, outlet_id, fig)
            else:
                fail_unfinished(db, job.run_id, [outlet_id], "interrupted", "stopped before the crawl got going")


def prepare(job: CrawlJob) -> None:
    """Before any request: open (create, migrate) the database, close the runs of crawl processes
    that died, and write the outlets. A bad path, or a database that is locked, read-only or full,
    fails here: cleanly, with nothing fetched and nothing changed.

    Runs of the service's crawl processes are left to the service, which records them as crashed.
    """
    db = open_database(job.database)
    try:
        if job.settings.get("NEWSMON_ORIGIN", "crawl") != "service":
            closed = close_orphans(db)
            if closed:
                logger.warning("marked %d runs of a crawl process that died as interrupted", closed)
        upsert_outlets(db, job.settings.get("NEWSMON_OUTLETS") or [])
    except sqlite3.Error as exc:
        raise _storage_error(exc, job.database) from exc
    finally:
        db.close()


def _storage_error(exc: BaseException, database: str) -> StorageError:
    if isinstance(exc, StorageError):
        return exc
    return StorageError(database_problem(exc, database) or f"database {database}: {exc}")


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
