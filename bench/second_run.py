"""Requests of a second crawl over unchanged outlets: what incremental recrawl saves.

Crawls the demo outlets twice into a fresh database (the site's request log counts every HTTP
request), then, with every stored article made due for a recheck, a third time. Prints, per run
and outlet, the requests and their statuses.

    .venv/bin/python bench/second_run.py
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.demo_crawl import machine, versions  # noqa: E402
from monitor.demo.server import render_config, start_subprocess, stop_subprocess  # noqa: E402


def crawl(config: Path, log: Path, label: str) -> None:
    before = len(log.read_text().splitlines()) if log.exists() else 0
    result = subprocess.run([sys.executable, "-m", "monitor", "-q", "--config", str(config), "crawl", "--json"],
                            cwd=ROOT, capture_output=True, text=True, check=True)
    summary = json.loads(result.stdout)
    requests = [json.loads(line) for line in log.read_text().splitlines()[before:]]
    by_site: dict[str, Counter[str]] = defaultdict(Counter)
    for r in requests:
        by_site[r["site"]][str(r["status"])] += 1
    new = sum(o["articles_new"] for o in summary["outlets"])
    print(f"\n{label}: {len(requests)} requests, {new} new articles, {summary['wall_seconds']:.1f} s")
    for site, statuses in sorted(by_site.items()):
        print(f"  {site:10} {sum(statuses.values()):3} requests  " + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())))


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="newsmon-second-"))
    log = work / "requests.jsonl"
    server, info = start_subprocess(log_path=log)
    try:
        db = work / "newsmon.db"
        config = work / "newsmon.toml"
        config.write_text(render_config(info["outlets"], str(db)), encoding="utf-8")
        print(f"machine: {machine()}\nversions: {versions()}\ncommand: .venv/bin/python bench/second_run.py")
        crawl(config, log, "first run (empty database)")
        crawl(config, log, "second run (nothing changed, no recheck due)")
        conn = sqlite3.connect(db)
        with conn:
            conn.execute("UPDATE articles SET next_check_at = '2000-01-01T00:00:00Z' WHERE removed_at IS NULL")
        conn.close()
        crawl(config, log, "third run (nothing changed, every article due for a recheck)")
    finally:
        stop_subprocess(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
