"""Logs each outlet's progress every NEWSMON_PROGRESS_INTERVAL seconds (0 = off)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call

from crawlers.stats import outlet_stats

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.utils.asyncio import AsyncioLoopingCall
    from twisted.internet.task import LoopingCall

logger = logging.getLogger("newsmon.progress")


class Progress:
    def __init__(self, crawler: Crawler, interval: float):
        self.crawler = crawler
        self.interval = interval
        self.task: AsyncioLoopingCall | LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        interval = crawler.settings.getfloat("NEWSMON_PROGRESS_INTERVAL", 0)
        if interval <= 0:
            raise NotConfigured
        ext = cls(crawler, interval)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self) -> None:
        self.task = create_looping_call(self.log)
        self.task.start(self.interval, now=False)

    def log(self) -> None:
        assert self.crawler.stats is not None
        stats = self.crawler.stats.get_stats()
        for outlet_id in getattr(self.crawler.spider, "outlets", {}):
            s = outlet_stats(stats, outlet_id)
            errors = sum(v for k, v in s.items() if k.startswith("errors/"))
            logger.info(
                "progress outlet=%s pages=%d new=%d known=%d duplicates=%d no_text=%d errors=%d",
                outlet_id, s.get("pages", 0), s.get("articles/new", 0), s.get("articles/known", 0),
                s.get("articles/duplicate", 0), s.get("articles/no_text", 0), errors,
            )

    def spider_closed(self) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
