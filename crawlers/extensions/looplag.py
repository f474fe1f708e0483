"""Measures how long the reactor is blocked (by extraction, mostly): every 50 ms a timer should
fire; how late it fires is the loop lag. Max and p99 go to `newsmon/reactor/*` stats."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.utils.asyncio import create_looping_call

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.utils.asyncio import AsyncioLoopingCall
    from twisted.internet.task import LoopingCall

TICK = 0.05


class LoopLag:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.task: AsyncioLoopingCall | LoopingCall | None = None
        self.last = 0.0
        self.histogram: dict[int, int] = {}  # lag in whole ms -> samples; bounded by distinct values

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self) -> None:
        self.last = time.monotonic()
        self.task = create_looping_call(self.tick)
        self.task.start(TICK, now=False)

    def tick(self) -> None:
        now = time.monotonic()
        lag_ms = max(0, int((now - self.last - TICK) * 1000))
        self.last = now
        self.histogram[lag_ms] = self.histogram.get(lag_ms, 0) + 1

    def percentile(self, q: float) -> int:
        total = sum(self.histogram.values())
        seen = 0
        for lag in sorted(self.histogram):
            seen += self.histogram[lag]
            if seen >= q * total:
                return lag
        return 0

    def spider_closed(self) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        stats = self.crawler.stats
        if stats is None or not self.histogram:
            return
        stats.set_value("newsmon/reactor/lag_max_ms", max(self.histogram))
        stats.set_value("newsmon/reactor/lag_p99_ms", self.percentile(0.99))
        stats.set_value("newsmon/reactor/lag_p50_ms", self.percentile(0.50))
        stats.set_value("newsmon/reactor/samples", sum(self.histogram.values()))
