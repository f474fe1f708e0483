"""One crawl in a child process of the service: `python -m monitor.worker` reads a CrawlJob as JSON
on stdin (plus how to log) and runs it to the end.

A process per crawl is how the service survives crawls: Scrapy's reactor runs once per process,
a crash or a leak dies with the process, and a hung crawl can be killed. The worker stops cleanly
(Scrapy's own SIGTERM handling: the run is recorded as interrupted) when the service asks, and
also when the service itself dies, so no orphan crawl goes on unwatched.

Exit status: 0 the crawl ran, 1 it failed, 2 the job could not be read.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading

from monitor.errors import NewsmonError
from monitor.logs import setup_logging
from monitor.runner import CrawlJob, execute

logger = logging.getLogger("monitor.worker")

#: How often the worker checks that the service that started it is still alive.
PARENT_CHECK_SECONDS = 1.0


def watch_parent(parent: int, stop: threading.Event) -> None:
    """Ask this crawl to stop (SIGTERM to itself) once the parent process is gone."""
    while not stop.wait(PARENT_CHECK_SECONDS):
        if os.getppid() != parent:
            logger.warning("the service (pid %d) is gone: stopping this crawl", parent)
            os.kill(os.getpid(), signal.SIGTERM)
            return


def main() -> int:
    try:
        message = json.loads(sys.stdin.read())
        job = CrawlJob.from_json(json.dumps(message["job"]))
        log = message.get("log") or {}
    except (ValueError, KeyError, TypeError) as exc:
        print(f"newsmon worker: cannot read the job on stdin: {exc}", file=sys.stderr)  # noqa: T201 - no logging yet
        return 2
    setup_logging(
        log.get("verbose", 0), log.get("quiet", False), log_format=log.get("format", "text"),
        log_file=log.get("file"), context={"run_id": job.run_id},
    )
    stop = threading.Event()
    if message.get("parent"):
        threading.Thread(target=watch_parent, args=(message["parent"], stop), daemon=True).start()
    try:
        summary = execute(job)
    except NewsmonError as exc:
        logger.error("crawl failed run=%s: %s", job.run_id, exc)
        return 1
    finally:
        stop.set()
    logger.info("crawl done run=%s outlets=%s new=%d wall=%.1fs", job.run_id, ",".join(job.outlet_ids),
                summary.new, summary.wall_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
