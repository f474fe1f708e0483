"""Crawl rate of the bundled demo site: `python bench/demo_crawl.py [--runs N]` (or `make bench`).

Serves monitor/demo/site from a child process (as `newsmon demo` does), then runs `newsmon crawl`
N times, each into a fresh database, and prints medians: articles/s, CPU per article, seconds per
processed page by stage, reactor lag. States the machine and the versions it ran on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.demo.server import render_config, start_subprocess, stop_subprocess  # noqa: E402


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}), {mem:.0f} GiB"


def versions(names: tuple[str, ...] = ("scrapy", "trafilatura", "lxml", "langdetect", "sqlite-utils", "feedparser",
                                     "apscheduler")) -> str:
    import sqlite3

    return ", ".join([f"Python {platform.python_version()}", *(f"{n} {version(n)}" for n in names),
                      f"SQLite {sqlite3.sqlite_version}"])


def one_run(bases: dict[str, str], folder: Path) -> dict[str, float]:
    db = folder / "bench.db"
    config = folder / "bench.toml"
    config.write_text(render_config(bases, str(db)), encoding="utf-8")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "monitor", "-q", "--config", str(config), "crawl", "--json"],
                            cwd=ROOT, capture_output=True, text=True, check=True)
    process_wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    summary = json.loads(result.stdout)
    new = sum(o["articles_new"] for o in summary["outlets"])
    processed = sum(o["articles_new"] + o["duplicates"] + o["no_text"] for o in summary["outlets"])
    stages: dict[str, float] = {}
    for o in summary["outlets"]:
        for k, v in (o.get("stats") or {}).items():
            if k.startswith("time/"):
                stages[k[5:]] = stages.get(k[5:], 0.0) + v
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    cs = summary["crawl_stats"]
    return {
        "articles": new,
        "crawl_wall_s": summary["wall_seconds"],
        "process_wall_s": process_wall,
        "articles_per_s": new / summary["wall_seconds"],
        "cpu_s_per_article_incl_startup": cpu / new,
        **{f"{k}_ms_per_page": 1000 * v / processed for k, v in stages.items()},
        "reactor_lag_max_ms": cs.get("newsmon/reactor/lag_max_ms", 0),
        "reactor_lag_p99_ms": cs.get("newsmon/reactor/lag_p99_ms", 0),
        "longest_extraction_ms": 1000 * cs.get("newsmon/time/extract_max", 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    server, info = start_subprocess()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            runs = [one_run(info["outlets"], Path(tmp)) for _ in range(args.runs)]
    finally:
        stop_subprocess(server)
    print(f"machine:  {machine()}")
    print(f"versions: {versions()}")
    print(f"demo crawl, {args.runs} runs, each into a fresh database; median (min-max):")
    for key in runs[0]:
        values = [r[key] for r in runs]
        print(f"  {key:34} {statistics.median(values):9.3f}   ({min(values):.3f}-{max(values):.3f})")
    print("crawl_wall_s is Scrapy's run (process.start()); process_wall_s adds interpreter start and imports.")


if __name__ == "__main__":
    main()
