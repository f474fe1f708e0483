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
import gc
import logging
import multiprocessing
import os
import pickle
import signal
import socket
import struct
import time
from collections import deque
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
    """`await pool.run(fn, *args)` runs `fn(*args)` in a worker process (or inline with 0 workers).

    Each worker is a forked process joined to the crawl process by a socket pair. The crawl side
    is driven by the event loop itself: a call is pickled and written without blocking (the loop
    sends what the socket does not take at once), and the answers are read by a reader callback
    on the loop. There is no helper thread: `concurrent.futures.ProcessPoolExecutor` runs a
    manager thread and a queue feeder thread, which cost the crawl process about a tenth of its
    CPU and competed with the reactor for the GIL. A worker takes its calls in order, so its
    answers settle its oldest waiting futures; a worker that dies fails only the pages it held,
    and a new one takes its place.
    """

    def __init__(self, workers: int, *, pending_per_worker: int = 2):
        self.workers = max(0, workers)
        self.max_pending = max(1, self.workers) * pending_per_worker
        self._procs: list[_Worker] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None
        self._closing = False
        self.pending = 0
        #: Seconds pages waited for a free slot, summed: how long back-pressure held them.
        self.waited = 0.0
        self.restarts = 0

    def start(self) -> None:
        """Fork the workers now (a no-op with 0 workers or when they run)."""
        if self.workers == 0 or self._procs:
            return
        self._closing = False
        # What this process holds now (imported modules, mostly) goes to the collector's permanent
        # generation: the workers' collections then never touch, and so never copy, the memory
        # pages they share with it (gc.freeze's documented use before fork).
        gc.freeze()
        self._procs = [self._spawn() for _ in range(self.workers)]
        logger.debug("started %d worker processes", self.workers)

    def _spawn(self) -> _Worker:
        ours, theirs = socket.socketpair()
        others = [w.sock for w in self._procs]
        process = multiprocessing.get_context("fork").Process(
            target=_serve, args=(theirs, [ours, *others]), name="newsmon-worker", daemon=True)
        process.start()
        theirs.close()
        ours.setblocking(False)
        worker = _Worker(process, ours)
        if self._loop is not None and not self._loop.is_closed():
            self._loop.add_reader(ours.fileno(), self._readable, worker)
        return worker

    def pids(self) -> list[int]:
        return [w.process.pid for w in self._procs if w.process.pid]

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._attach(loop)
        assert self._slots is not None
        asked = time.perf_counter()
        async with self._slots:
            self.waited += time.perf_counter() - asked
            self.pending += 1
            try:
                if not self._procs:
                    await asyncio.sleep(0)  # let downloads and timers run between pages
                    return fn(*args)
                # Pickled before its future is queued: a call that cannot be pickled raises here
                # and leaves the worker's queue of futures in step with its answers.
                payload = pickle.dumps((fn, args), protocol=pickle.HIGHEST_PROTOCOL)
                worker = min(self._procs, key=lambda w: len(w.waiting))
                future: asyncio.Future[T] = loop.create_future()
                worker.waiting.append(future)
                self._send(worker, payload)
                return await future
            finally:
                self.pending -= 1

    def _attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Drive the workers' sockets from `loop` (a test may run the pool in several loops, one
        after the other; a crawl runs it in one)."""
        for w in self._procs:
            self._unwatch(w)
        self._loop = loop
        self._slots = asyncio.Semaphore(self.max_pending)
        for w in self._procs:
            loop.add_reader(w.sock.fileno(), self._readable, w)
            if w.outbox:
                loop.add_writer(w.sock.fileno(), self._writable, w)

    def _send(self, worker: _Worker, payload: bytes) -> None:
        frame = _HEADER.pack(len(payload)) + payload
        if not worker.outbox:
            try:
                sent = worker.sock.send(frame)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:  # the worker is gone: its reader sees the end of the socket
                return
            frame = frame[sent:]
            if not frame:
                return
            assert self._loop is not None
            self._loop.add_writer(worker.sock.fileno(), self._writable, worker)
        worker.outbox.append(memoryview(frame))

    def _writable(self, worker: _Worker) -> None:
        while worker.outbox:
            chunk = worker.outbox[0]
            try:
                sent = worker.sock.send(chunk)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                worker.outbox.clear()
                break
            if sent < len(chunk):
                worker.outbox[0] = chunk[sent:]
                return
            worker.outbox.popleft()
        if self._loop is not None:
            self._loop.remove_writer(worker.sock.fileno())

    def _readable(self, worker: _Worker) -> None:
        try:
            data = worker.sock.recv(1 << 20)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._died(worker)
            return
        worker.inbox += data
        while len(worker.inbox) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(worker.inbox)
            end = _HEADER.size + size
            if len(worker.inbox) < end:
                break
            ok, value = pickle.loads(worker.inbox[_HEADER.size:end])
            del worker.inbox[:end]
            future = worker.waiting.popleft()
            if future.done() or future.get_loop().is_closed():  # cancelled: the crawl is closing
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def _unwatch(self, worker: _Worker) -> None:
        """Stop the loop watching this worker's socket (a closed loop watches nothing)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(worker.sock.fileno())
            self._loop.remove_writer(worker.sock.fileno())

    def _died(self, worker: _Worker) -> None:
        self._unwatch(worker)
        worker.sock.close()
        worker.process.join(5)
        self._procs.remove(worker)
        reason = f"worker process {worker.process.pid} exited with {_exit_reason(worker.process.exitcode)}"
        for future in worker.waiting:
            if not future.done() and not future.get_loop().is_closed():
                future.set_exception(WorkerDied(reason))
        if self._closing:
            return
        self.restarts += 1
        logger.error("%s; starting a new one", reason)
        self._procs.append(self._spawn())

    def close(self) -> None:
        """Stop the workers and reap them (their CPU then counts in this process's
        RUSAGE_CHILDREN): each exits when its socket closes."""
        self._closing = True
        procs, self._procs = self._procs, []
        for w in procs:
            self._unwatch(w)
            w.sock.close()
            for future in w.waiting:
                if not future.done() and not future.get_loop().is_closed():
                    future.cancel()
        for w in procs:
            w.process.join(10)
            if w.process.is_alive():
                w.process.kill()
                w.process.join()


_HEADER = struct.Struct("!Q")


class _Worker:
    __slots__ = ("inbox", "outbox", "process", "sock", "waiting")

    def __init__(self, process: multiprocessing.process.BaseProcess, sock: socket.socket):
        self.process = process
        self.sock = sock
        self.waiting: deque[asyncio.Future[Any]] = deque()
        self.outbox: deque[memoryview] = deque()
        self.inbox = bytearray()


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-code).name}"
    return f"code {code}"


def _serve(sock: socket.socket, inherited: list[socket.socket]) -> None:
    """A worker's loop: read a call, run it, write the answer; exit when the socket closes."""
    _init_worker()
    for other in inherited:  # the crawl process's ends of this and earlier workers' sockets
        other.close()
    reader = sock.makefile("rb")
    while True:
        header = reader.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return
        fn, args = pickle.loads(reader.read(_HEADER.unpack(header)[0]))
        try:
            answer = pickle.dumps((True, fn(*args)), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - handed to the caller
            try:
                answer = pickle.dumps((False, exc), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001 - an exception that does not pickle
                answer = pickle.dumps((False, RuntimeError(repr(exc))), protocol=pickle.HIGHEST_PROTOCOL)
        try:
            sock.sendall(_HEADER.pack(len(answer)) + answer)
        except OSError:  # the crawl process closed the pool
            return


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
