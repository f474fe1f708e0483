"""The service's memory over many runs: `newsmon run` on the demo outlets with 1 s intervals.

Starts the demo site (a copy, served by a child process), then `newsmon run` with every outlet
due every second (and every article rechecked every second, so runs also do 304 rechecks), and
samples the resident memory (VmRSS) of the service process and of its crawl processes until the
database holds --runs finished runs. Prints the service's RSS at the start and end and its peak,
and the crawl processes' peak.

    .venv/bin/python bench/service_rss.py --runs 200
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.demo_crawl import machine, versions  # noqa: E402
from monitor.demo.server import SITE_DIR, render_config, start_subprocess, stop_subprocess  # noqa: E402


def rss_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (from /proc/*/stat: field 4 is the parent's pid)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        if int(stat.rsplit(") ", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def finished_runs(db: Path) -> int:
    if not db.exists():
        return 0
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute("SELECT count(*) FROM crawl_runs WHERE status != 'running'").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="stop after this many finished runs")
    parser.add_argument("--interval", default="1s")
    parser.add_argument("--sample", type=float, default=1.0, help="seconds between RSS samples")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="newsmon-rss-"))
    shutil.copytree(SITE_DIR, work / "site")
    server, info = start_subprocess(site_dir=work / "site")
    db = work / "newsmon.db"
    config = work / "newsmon.toml"
    text = render_config(info["outlets"], str(db)).replace(
        'default_interval = "30m"',
        f'default_interval = "{args.interval}"\njitter = "0s"\nmax_parallel = 2\n\n'
        '[recheck]\nschedule = [{ age = "366d", every = "1s" }]',
    )
    config.write_text(text, encoding="utf-8")
    log = (work / "service.log").open("w", encoding="utf-8")
    service = subprocess.Popen([sys.executable, "-m", "monitor", "-q", "--config", str(config), "run"],
                               cwd=ROOT, stdout=log, stderr=log)
    samples: list[tuple[float, int, int]] = []  # (seconds, finished runs, service RSS KiB)
    worker_peak = 0
    started = time.monotonic()
    try:
        while True:
            time.sleep(args.sample)
            if service.poll() is not None:
                print(f"service exited with {service.returncode}; see {work / 'service.log'}", file=sys.stderr)
                return 1
            rss = rss_kib(service.pid)
            for child in children(service.pid):
                # A crawl process and its extraction workers (forked: pages they share since
                # the fork count in each).
                crawl_tree = [child, *children(child)]
                worker_peak = max(worker_peak, sum(rss_kib(p) or 0 for p in crawl_tree))
            runs = finished_runs(db)
            if rss:
                samples.append((time.monotonic() - started, runs, rss))
            if runs >= args.runs:
                break
    finally:
        service.send_signal(signal.SIGTERM)
        code = service.wait(60)
        log.close()
        stop_subprocess(server)
    first = [s for s in samples if s[1] >= 10][:5] or samples[:5]
    last = samples[-5:]
    start_rss = statistics.median(s[2] for s in first)
    end_rss = statistics.median(s[2] for s in last)
    print(f"machine: {machine()}")
    print(f"versions: {versions()}")
    print(f"command: .venv/bin/python bench/service_rss.py --runs {args.runs} --interval {args.interval}")
    print(f"finished runs: {samples[-1][1]} in {samples[-1][0]:.0f} s (4 demo outlets, max_parallel 2); "
          f"service exit status {code}")
    print(f"service RSS at start (after 10 runs): {start_rss / 1024:.1f} MiB")
    print(f"service RSS at the end:               {end_rss / 1024:.1f} MiB  ({100 * (end_rss - start_rss) / start_rss:+.1f} %)")
    print(f"service RSS peak:                      {max(s[2] for s in samples) / 1024:.1f} MiB")
    print(f"crawl process + workers RSS peak:      {worker_peak / 1024:.1f} MiB (sampled, summed)")
    if args.json:
        args.json.write_text(json.dumps({
            "machine": machine(), "versions": versions(), "runs": samples[-1][1], "seconds": samples[-1][0],
            "exit_status": code, "service_rss_start_mib": start_rss / 1024, "service_rss_end_mib": end_rss / 1024,
            "service_rss_growth": (end_rss - start_rss) / start_rss,
            "service_rss_peak_mib": max(s[2] for s in samples) / 1024, "crawl_tree_rss_peak_mib": worker_peak / 1024,
        }, indent=2), encoding="utf-8")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
