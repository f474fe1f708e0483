"""`make bench`: every benchmark of the throughput issue in one run, then its targets checked.

    python bench/run_all.py [--archive 100000] [--service-runs 200] [--runs 5] [--out DIR]

In order, each in its own process (their figures print as they finish):

1. bench/throughput.py: `newsmon crawl` of the generated site (8 outlets x 250 articles), first /
   unchanged / +20 new and 5 edited, `--runs` times; the per-stage CPU floor and the limit;
2. bench/peers.py: the same site crawled by newsmon and by the tools a user would pick instead;
3. bench/archive_scale.py --bulk: the archive at `--archive` articles (1,000,000 takes about 25
   minutes on a 2-core machine, so `make bench` builds 100,000; `make bench-archive` builds 1M);
4. bench/service_rss.py: the service's memory over `--service-runs` runs.

Then a table: each target of the issue, the figure measured, and whether it holds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from throughput import median_of  # noqa: E402


def run(script: str, args: list[str], out: Path) -> dict[str, Any] | None:
    """Run one benchmark script (its report goes to our stdout); its JSON, or None if it failed."""
    print(f"\n=== {script} {' '.join(args)}", flush=True)
    started = time.perf_counter()
    code = subprocess.call([sys.executable, str(BENCH / script), *args, "--json", str(out)], cwd=ROOT)
    print(f"=== {script}: exit {code} in {time.perf_counter() - started:.0f} s", flush=True)
    if code != 0 or not out.exists():
        return None
    return json.loads(out.read_text(encoding="utf-8"))


def targets(throughput: dict[str, Any] | None, peers: dict[str, Any] | None, archive: dict[str, Any] | None,
            service: dict[str, Any] | None) -> list[tuple[str, str, str, bool | None]]:
    """(target, how it is read, measured, holds?) for each target of the issue."""
    rows: list[tuple[str, str, str, bool | None]] = []
    if throughput:
        runs = throughput["runs"]
        floor = throughput.get("floor") or {}
        rate = median_of(runs, "first", "articles_per_s")
        limit = floor.get("limit_articles_per_s")
        if rate and limit:
            rows.append(("end to end >= 85 % of the 2-core limit", "articles / crawl wall, median of runs",
                         f"{rate:.1f} of {limit:.1f} articles/s = {rate / limit:.1%}", rate / limit >= 0.85))
        process_rate = median_of(runs, "first", "articles_per_process_s")
        if process_rate and limit:
            rows.append(("(same, process wall: start-up included)", "articles / process wall",
                         f"{process_rate:.1f} articles/s = {process_rate / limit:.1%}", None))
        share = median_of(runs, "second", "share_304")
        rows.append(("second crawl: >= 95 % of requests answered 304", "all requests, robots.txt included",
                     f"{share:.1%}" if share is not None else "n/a", share is not None and share >= 0.95))
        articles = median_of(runs, "second", "article_requests")
        rows.append(("second crawl: only seeds and due rechecks requested", "article pages requested (none due)",
                     f"{articles:.0f}" if articles is not None else "n/a", articles == 0))
        ratio = median_of(runs, "second", "process_wall_vs_first")
        crawl_ratio = median_of(runs, "second", "wall_vs_first")
        rows.append(("second crawl < 5 % of the first's time", "process wall (crawl wall in brackets)",
                     f"{ratio:.1%} ({crawl_ratio:.1%})" if ratio is not None and crawl_ratio is not None else "n/a",
                     ratio is not None and ratio < 0.05))
        memory = throughput.get("memory_run") or {}
        pss, rss = memory.get("tree_pss_peak_mib"), memory.get("tree_rss_peak_mib")
        rows.append(("peak memory of the benchmark crawl < 600 MB", "crawl + workers, PSS (RSS sum in brackets), a separate run",
                     f"{pss:.0f} MiB ({rss:.0f} MiB)" if pss and rss else "n/a", pss is not None and pss * 1.048576 < 600))
        edited = median_of(runs, "third", "edited_detected")
        added = median_of(runs, "third", "added_found")
        rows.append(("third crawl finds the 20 new and 5 edited articles", "new found / versions",
                     f"{added:.0f} / {edited:.0f}" if added is not None and edited is not None else "n/a",
                     added == 20 and edited == 5))
    if peers:
        tools = peers.get("tools", {})
        ours = tools.get("newsmon")
        for name, peer in tools.items():
            if name == "newsmon" or not ours or not peer.get("articles_per_s") or not peer.get("cpu_s_per_article"):
                continue
            speed = ours["articles_per_s"] / peer["articles_per_s"]
            cpu = peer["cpu_s_per_article"] / ours["cpu_s_per_article"]
            rows.append((f"faster than {name}", "articles/s: newsmon / peer; CPU s per article: peer / newsmon",
                         f"{speed:.2f}x; {cpu:.2f}x (found {peer['share_found']:.0%}, F1 {peer['body_f1_mean']:.3f})",
                         speed > 1 and cpu > 1))
        for name, reason in peers.get("failed", {}).items():
            rows.append((f"faster than {name}", "", f"not measured: {reason[:120]}", None))
    if archive:
        search = archive["search"]["by_filter"]
        worst = max((search[f]["p95_ms"], f) for f in ("outlet", "language", "dates", "all"))
        rows.append((f"{archive['articles']:,} articles: FTS p95 < 50 ms with filters", "slowest filter's p95",
                     f"{worst[0]:.1f} ms ({worst[1]}); none {search['none']['p95_ms']:.1f} ms", worst[0] < 50))
        export = min(archive["export"]["jsonl"]["rows_per_s"], archive["export"]["csv"]["rows_per_s"])
        rows.append(("export >= 20,000 rows/s", "slower of JSONL and CSV", f"{export:,.0f} rows/s", export >= 20_000))
        flat = archive.get("last_to_first_rate")
        if flat is not None:
            rows.append((f"insert rate at {archive['articles']:,} within 20 % of the rate at 0", "last tenth / first",
                         f"{flat:.2f}", flat >= 0.8))
    if service:
        growth = service["service_rss_growth"]
        rows.append((f"service RSS flat within 10 % over {service['runs']} runs", "end vs after 10 runs",
                     f"{service['service_rss_start_mib']:.1f} -> {service['service_rss_end_mib']:.1f} MiB "
                     f"({growth:+.1%})", abs(growth) <= 0.10))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--archive", type=int, default=100_000, help="archive size (1,000,000 takes ~25 min)")
    parser.add_argument("--service-runs", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5, help="throughput runs (medians)")
    parser.add_argument("--out", type=Path, help="keep every JSON here (default: a temporary folder)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-") as tmp:
        out = args.out or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        throughput = run("throughput.py", ["--runs", str(args.runs)], out / "throughput.json")
        peers = run("peers.py", [], out / "peers.json")
        archive = run("archive_scale.py", ["--articles", str(args.archive), "--bulk", "--no-dbstat"],
                      out / "archive.json")
        service = run("service_rss.py", ["--runs", str(args.service_runs)], out / "service.json")
    rows = targets(throughput, peers, archive, service)
    print(f"\n=== targets ({time.perf_counter() - started:.0f} s in all)")
    print("| target | measured as | figure | holds |\n| --- | --- | --- | --- |")
    for target, how, figure, holds in rows:
        print(f"| {target} | {how} | {figure} | {'' if holds is None else ('yes' if holds else '**no**')} |")
    failed = [name for name, result in (("throughput", throughput), ("peers", peers), ("archive", archive),
                                        ("service", service)) if result is None]
    if failed:
        print(f"failed: {', '.join(failed)} (see above)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
