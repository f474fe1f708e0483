"""monitor/runner.py helpers that need no crawl."""

from __future__ import annotations

from crawlers.outlets import Outlet
from monitor.runner import merge_stats, new_run_id, spider_groups


def test_spider_groups_put_outlet_specific_spiders_apart() -> None:
    outlets = [Outlet("a", "A", feeds=("https://a.example/rss",)),
               Outlet("b", "B", feeds=("https://b.example/rss",), spider="tests.outlet_spiders.OnlyHydrogenSpider"),
               Outlet("c", "C", feeds=("https://c.example/rss",))]
    assert spider_groups(outlets) == {"outlet": ["a", "c"], "tests.outlet_spiders.OnlyHydrogenSpider": ["b"]}


def test_merge_stats_adds_counters_and_keeps_maxima() -> None:
    merged = merge_stats([
        {"item_scraped_count": 3, "newsmon/reactor/lag_p99_ms": 5, "newsmon/time/extract_max": 0.2,
         "memusage/max": 10, "newsmon/outlet/x/pages": 3, "start_time": "not a number"},
        {"item_scraped_count": 4, "newsmon/reactor/lag_p99_ms": 7, "newsmon/time/extract_max": 0.1, "memusage/max": 12},
    ])
    assert merged == {"item_scraped_count": 7, "newsmon/reactor/lag_p99_ms": 7, "newsmon/time/extract_max": 0.2,
                      "memusage/max": 12}


def test_run_ids_are_unique_and_sortable() -> None:
    ids = [new_run_id() for _ in range(50)]
    assert len(set(ids)) == 50
    assert all(i[:8].isdigit() and i[8] == "T" for i in ids)
