"""Writes one crawl_runs row per outlet: 'running' when the crawl opens, its figures when it closes."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawlers.stats import outlet_stats
from storage.articles import upsert_outlets
from storage.db import open_database
from storage.runs import RunFigures, finish_run, start_runs

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


def figures_from_stats(stats: dict[str, Any], outlet_id: str, reason: str) -> RunFigures:
    """Turn one outlet's `newsmon/outlet/<id>/*` counters into its crawl_runs figures and status.

    failed: every seed (feed, sitemap, homepage) failed, so nothing could be discovered.
    partial: some seed or page failed. interrupted: the crawl was stopped before it finished.
    timeout: the run reached its time limit (CLOSESPIDER_TIMEOUT, set by the service).
    """
    s = outlet_stats(stats, outlet_id)
    errors = {k.split("/", 1)[1]: int(v) for k, v in s.items() if k.startswith("errors/")}
    discovered = {k.split("/", 1)[1]: int(v) for k, v in s.items() if k.startswith("discovered/")}
    seeds_ok, seeds_failed = s.get("seeds/ok", 0), s.get("seeds/failed", 0)
    if reason == "closespider_timeout":
        status = "timeout"
    elif reason not in ("finished", "closespider_itemcount", "closespider_pagecount"):
        status = "interrupted"
    elif seeds_failed and not seeds_ok:
        status = "failed"
    elif errors:
        status = "partial"
    else:
        status = "ok"
    return RunFigures(
        status=status,
        finish_reason=reason,
        pages=int(s.get("pages", 0)),
        articles_new=int(s.get("articles/new", 0)),
        articles_known=int(s.get("articles/known", 0)),
        duplicates=int(s.get("articles/duplicate", 0)),
        no_text=int(s.get("articles/no_text", 0)),
        failed=sum(errors.values()) + int(s.get("articles/no_text", 0)),
        errors=errors,
        discovered=discovered,
        last_error=s.get("last_error"),
        stats={k: (round(v, 4) if isinstance(v, float) else v) for k, v in s.items()},
        not_modified=int(s.get("not_modified", 0)),
        rechecked=int(s.get("rechecked", 0)),
        versions_new=int(s.get("versions/new", 0)),
        removed=int(s.get("removed", 0)),
    )


class RunRecorder:
    def __init__(self, crawler: Crawler, database: str, run_id: str):
        self.crawler = crawler
        self.database = database
        self.run_id = run_id

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        s = crawler.settings
        if not s.get("NEWSMON_DATABASE") or not s.get("NEWSMON_RUN_ID"):
            raise NotConfigured("RunRecorder needs NEWSMON_DATABASE and NEWSMON_RUN_ID")
        ext = cls(crawler, s["NEWSMON_DATABASE"], s["NEWSMON_RUN_ID"])
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        db = open_database(self.database)
        try:
            outlets = list(spider.outlets.values())
            upsert_outlets(db, [o.to_dict() for o in outlets])
            origin = self.crawler.settings.get("NEWSMON_ORIGIN", "crawl")
            start_runs(db, self.run_id, [o.id for o in outlets], origin=origin)
        finally:
            db.close()

    def spider_closed(self, spider: Spider, reason: str) -> None:
        assert self.crawler.stats is not None
        stats = self.crawler.stats.get_stats()
        db = open_database(self.database)
        try:
            for outlet in spider.outlets.values():
                fig = figures_from_stats(stats, outlet.id, reason)
                finish_run(db, self.run_id, outlet.id, fig)
                logger.info(
                    "run finished run=%s outlet=%s status=%s pages=%d not_modified=%d new=%d known=%d "
                    "duplicates=%d versions=%d removed=%d no_text=%d errors=%s",
                    self.run_id, outlet.id, fig.status, fig.pages, fig.not_modified, fig.articles_new,
                    fig.articles_known, fig.duplicates, fig.versions_new, fig.removed, fig.no_text, fig.errors or "{}",
                )
        finally:
            db.close()
