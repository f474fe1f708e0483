"""Worker processes for the CPU-bound work on pages, with back-pressure.

A crawl process downloads with one reactor thread; extracting a 100 KB page takes 10-70 ms of CPU,
so extraction in that thread stalls every download and, under the GIL, a thread pool does not help.
Pages are analysed in `workers` processes instead (one per core by default). At most
`pending_per_worker` pages per worker are handed over at once; a further page waits in the reactor
for a free slot, holding its response. Scrapy's scraper counts the responses it holds and stops
sending new requests above `SCRAPER_SLOT_MAX_ACTIVE_SIZE` (5 MB), so when downloads outpace the
workers, fetching pauses and memory stays bounded.

The workers are forked when the pool starts (the pipelines' `open_spider`, before the crawl's first
request, while the process has a single thread), so they share the imported libraries with the
crawl process. `workers = 0` analyses pages in the reactor thread (one process; for debugging).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger(__name__)

T = TypeVar("T")

_PR_SET_PDEATHSIG = 1


def peak_rss_mib(pid: int | str = "self") -> float:
    """A process's peak resident memory so far, in MiB (0 if it is gone).

    Linux's VmHWM, not getrusage's ru_maxrss: the kernel carries ru_maxrss over execve, so a crawl
    started by a big parent (a test runner, the service) would report the parent's memory.
    """
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    if pid != "self":
        return 0.0
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux; bytes on macOS


class WorkerDied(RuntimeError):
    """A worker process died (killed, out of memory, crashed) while it held this page."""


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _init_worker() -> None:
    """Runs first in each worker process."""
    # Die with the crawl process, even when it is killed with SIGKILL: an orphaned worker would
    # hold the crawl's stdout and log file open forever.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)
    # The fork copied the reactor's signal handling: a signal delivered to a worker would be
    # written to the crawl process's wakeup pipe and handled there as its own. The crawl process
    # decides when its workers stop; Ctrl-C in a terminal reaches the whole process group.
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


class WorkerPool:
    """`await pool.run(fn, *args)` runs `fn(*args)` in a worker process (or inline with 0 workers)."""

    def __init__(self, workers: int, *, pending_per_worker: int = 2):
        self.workers = max(0, workers)
        self.max_pending = max(1, self.workers) * pending_per_worker
        self._executor: ProcessPoolExecutor | None = None
        self._slots: asyncio.Semaphore | None = None
        self.pending = 0
        #: Seconds pages waited for a free slot, summed: how long back-pressure held them.
        self.waited = 0.0
        self.restarts = 0

    def start(self) -> None:
        """Fork the workers now (a no-op with 0 workers)."""
        if self.workers == 0 or self._executor is not None:
            return
        self._executor = ProcessPoolExecutor(
            self.workers, mp_context=multiprocessing.get_context("fork"), initializer=_init_worker
        )
        # With fork, the executor starts every worker at its first submit, before its own threads.
        self._executor.submit(os.getpid)
        logger.debug("started %d worker processes", self.workers)

    def pids(self) -> list[int]:
        executor = self._executor
        processes = getattr(executor, "_processes", None) or {}
        return [p.pid for p in processes.values() if p.pid]

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_pending)
        asked = time.perf_counter()
        async with self._slots:
            self.waited += time.perf_counter() - asked
            self.pending += 1
            try:
                executor = self._executor
                if executor is None:
                    await asyncio.sleep(0)  # let downloads and timers run between pages
                    return fn(*args)
                try:
                    return await asyncio.get_running_loop().run_in_executor(executor, fn, *args)
                except BrokenProcessPool as exc:
                    self._restart(executor)
                    raise WorkerDied(str(exc) or "a worker process died") from exc
            finally:
                self.pending -= 1

    def _restart(self, broken: ProcessPoolExecutor) -> None:
        if self._executor is not broken:
            return  # already restarted for another page of the same breakage
        self._executor = None
        self.restarts += 1
        logger.error("a worker process died; starting %d new ones", self.workers)
        broken.shutdown(wait=False, cancel_futures=True)
        self.start()

    def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


_shared: WorkerPool | None = None
_users = 0


def shared_pool(workers: int) -> WorkerPool:
    """The process's pool, started on first use; every crawler of a run shares it. Pair each
    call with `release_pool()`."""
    global _shared, _users
    if _shared is None:
        _shared = WorkerPool(workers)
        _shared.start()
    _users += 1
    return _shared


def release_pool() -> None:
    global _shared, _users
    _users -= 1
    if _users <= 0 and _shared is not None:
        pool, _shared, _users = _shared, None, 0
        pool.close()
