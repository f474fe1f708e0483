"""The worker processes that analyse pages off the reactor (crawlers/workers.py): real processes."""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from crawlers.analysis import PageSettings, analyse_page
from crawlers.workers import WorkerDied, WorkerPool

ROOT = Path(__file__).resolve().parent.parent


def slow_pid(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_pages_run_in_worker_processes_with_bounded_pending_work() -> None:
    pool = WorkerPool(2, pending_per_worker=2)
    pool.start()
    most = 0

    async def main() -> list[int]:
        nonlocal most
        tasks = [asyncio.ensure_future(pool.run(slow_pid, 0.1)) for _ in range(12)]
        while not all(t.done() for t in tasks):
            most = max(most, pool.pending)
            await asyncio.sleep(0.01)
        return [t.result() for t in tasks]

    try:
        pids = asyncio.run(main())
    finally:
        pool.close()
    assert os.getpid() not in pids and len(set(pids)) == 2
    # 12 pages, 4 slots: the others waited in this process, not in the workers' queue.
    assert most == 4
    assert pool.waited > 0.1


def test_zero_workers_analyse_in_this_process() -> None:
    pool = WorkerPool(0)
    pool.start()
    assert asyncio.run(pool.run(slow_pid, 0)) == os.getpid()


def test_a_worker_that_dies_fails_its_page_and_the_pool_goes_on() -> None:
    pool = WorkerPool(1)
    pool.start()
    try:
        with pytest.raises(WorkerDied):
            asyncio.run(pool.run(die))
        assert pool.restarts == 1
        assert asyncio.run(pool.run(slow_pid, 0)) != os.getpid()
    finally:
        pool.close()


def test_a_dead_worker_fails_only_the_pages_it_held() -> None:
    """The other worker's pages, and pages handed over after the death, are analysed."""
    pool = WorkerPool(2, pending_per_worker=2)
    pool.start()

    async def main() -> list[object]:
        slow = [asyncio.ensure_future(pool.run(slow_pid, 0.3)) for _ in range(2)]
        await asyncio.sleep(0.05)  # both workers busy with a slow page: the next goes to either
        doomed = asyncio.ensure_future(pool.run(die))
        results = await asyncio.gather(*slow, doomed, return_exceptions=True)
        after = await asyncio.gather(*(pool.run(slow_pid, 0) for _ in range(4)))
        return [*results, *after]

    try:
        results = asyncio.run(main())
    finally:
        pool.close()
    died = [r for r in results if isinstance(r, WorkerDied)]
    assert 1 <= len(died) <= 2  # the page that killed its worker, and the slow one it held, if any
    assert "signal SIGKILL" in str(died[0])
    pids = [r for r in results if isinstance(r, int)]
    assert len(pids) >= 5 and os.getpid() not in pids
    assert pool.restarts == 1 and len(pool.pids()) == 0  # closed: no worker left


def test_a_call_that_cannot_be_pickled_fails_alone() -> None:
    pool = WorkerPool(1)
    pool.start()

    async def main() -> int:
        with pytest.raises((TypeError, AttributeError, pickle.PicklingError)):
            await pool.run(slow_pid, lambda: 0)  # a lambda does not pickle
        return await asyncio.wait_for(pool.run(slow_pid, 0), 10)  # its answer is matched to it

    try:
        pid = asyncio.run(main())
    finally:
        pool.close()
    assert pid != os.getpid()


def test_analysis_crosses_the_process_boundary() -> None:
    body = ("<html><head><title>T</title></head><body><article><h1>T</h1><p>"
            + " ".join(f"Im Jahr {1990 + i} hat der Stadtrat {i + 3} neue Häuser für die Bürger gebaut." for i in range(12))
            + "</p></article></body></html>").encode()
    pool = WorkerPool(1)
    pool.start()
    try:
        result = asyncio.run(pool.run(analyse_page, body, "text/html; charset=utf-8", "https://x.example/a",
                                      PageSettings(language="de"), {}))
    finally:
        pool.close()
    assert result.error is None and result.extraction is not None
    assert result.language is not None and result.language.code == "de"
    assert result.signature is not None and len(result.signature) == 512
    assert set(result.cpu) == {"extract", "language", "fingerprint"}


def test_workers_die_with_a_killed_crawl_process(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        import sys, time
        from crawlers.workers import WorkerPool
        pool = WorkerPool(2)
        pool.start()
        time.sleep(0.5)
        print(" ".join(map(str, pool.pids())), flush=True)
        time.sleep(60)
    """)
    with subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True) as parent:
        assert parent.stdout is not None
        pids = [int(p) for p in parent.stdout.readline().split()]
        assert len(pids) == 2 and all(_alive(p) for p in pids)
        parent.kill()
        parent.wait(10)
        deadline = time.monotonic() + 10
        while any(_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(p) for p in pids), "orphaned worker processes"


def _alive(pid: int) -> bool:
    """True while `pid` runs (a zombie reaped by init does not count)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
