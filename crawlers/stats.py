"""Per-outlet counters in Scrapy's stats: `newsmon/outlet/<id>/<key>` plus a total `newsmon/<key>`.

These counters are the run's health data: crawl_runs rows and `newsmon outlets` are built from them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scrapy.statscollectors import StatsCollector


def count(stats: StatsCollector | None, outlet_id: str, key: str, n: float = 1) -> None:
    if stats is None:
        return
    stats.inc_value(f"newsmon/outlet/{outlet_id}/{key}", n)
    stats.inc_value(f"newsmon/{key}", n)


def outlet_stats(stats: dict[str, Any], outlet_id: str) -> dict[str, Any]:
    """This outlet's counters, keys without the `newsmon/outlet/<id>/` prefix."""
    prefix = f"newsmon/outlet/{outlet_id}/"
    return {k[len(prefix):]: v for k, v in stats.items() if k.startswith(prefix)}
