"""Helpers shared by the bench scripts: scoring against the generated site's truth, running and
measuring a child process (wall, CPU, peak RSS)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

WORD = re.compile(r"\w+", re.UNICODE)


# ---------------------------------------------------------------------------------------------
# Scoring


def tokens(text: str) -> list[str]:
    return WORD.findall((text or "").lower())


def token_f1(predicted: str, truth: str) -> float:
    """Bag-of-words F1 of `predicted` against `truth` (lower-case word tokens)."""
    p, t = Counter(tokens(predicted)), Counter(tokens(truth))
    if not p or not t:
        return 0.0
    overlap = sum((p & t).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(p.values()), overlap / sum(t.values())
    return 2 * precision * recall / (precision + recall)


def truth_text(row: dict[str, Any]) -> str:
    """What an extractor should return for an article: the lead and the body."""
    return f"{row.get('lead') or ''}\n{row['body']}"


def norm_url(url: str) -> str:
    return url.strip().rstrip("/").lower()


def http_json(url: str, timeout: float = 120) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 (loopback)
        return json.loads(r.read())


def fetch_truth(info: dict[str, Any]) -> list[dict[str, Any]]:
    with urllib.request.urlopen(info["truth"], timeout=120) as r:  # noqa: S310 (loopback)
        return [json.loads(line) for line in r.read().decode("utf-8").splitlines() if line.strip()]


# ---------------------------------------------------------------------------------------------
# A measured child process


def run_measured(cmd: list[str], *, cwd: Path | None = None, stdout: Path | None = None,
                 env: dict[str, str] | None = None, poll_rss: bool = False, pss: bool = True,
                 timeout: float | None = None) -> dict[str, Any]:
    """Run `cmd`; wall, CPU and, with `poll_rss`, peak memory.

    CPU is the ``os.wait4`` rusage of the child, which includes its descendants that it waited
    for (a process pool's workers). With `poll_rss`: the child's VmHWM (read from /proc every
    50 ms; ``ru_maxrss`` is not used, Linux carries it over execve) and the peak over samples
    (every 200 ms) of the summed PSS of the child and its descendants (``tree_pss_peak_mib``: PSS
    counts the pages forked workers share with their parent once; at least the child's VmHWM) and
    of their summed VmRSS (``tree_rss_peak_mib``, which counts shared pages in every process).
    `pss` False skips the PSS samples (``tree_pss_peak_mib`` is then None): reading a 200 MB
    process's ``/proc/PID/smaps_rollup`` costs about 3 ms of CPU, about 2.4 % of a 2-core machine
    at this rate, which a throughput measurement must not pay.

    The child runs in its own process group. After `timeout` seconds the whole group is killed
    (``timed_out`` is then true); whatever of the group is left when the child exits is killed too.
    """
    out = stdout.open("wb") if stdout else subprocess.DEVNULL
    err = tempfile.TemporaryFile()
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, env=env, start_new_session=True)
    hwm = tree_peak = tree_rss = 0.0
    status = polls = 0
    timed_out = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if timeout is not None and not timed_out and time.perf_counter() - started > timeout:
            timed_out = True
            _kill_group(proc.pid)  # our own child's group; its rusage is still collected by wait4
        if poll_rss:
            hwm = max(hwm, _status_kib(proc.pid, "VmHWM"))
            if polls % 4 == 0:
                tree = _tree(proc.pid)
                if pss:
                    tree_peak = max(tree_peak, sum(_pss_kib(p) for p in tree))
                tree_rss = max(tree_rss, sum(_status_kib(p, "VmRSS") for p in tree))
            polls += 1
        time.sleep(0.05)
    wall = time.perf_counter() - started
    _kill_group(proc.pid)  # leftovers (e.g. an orphaned pool worker), if any
    proc.returncode = os.waitstatus_to_exitcode(status)
    if stdout:
        out.close()  # type: ignore[union-attr]
    err.seek(0)
    stderr = err.read().decode("utf-8", "replace")
    err.close()
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "returncode": proc.returncode,
            "timed_out": timed_out, "stderr": stderr, "vmhwm_mib": hwm / 1024,
            "tree_pss_peak_mib": max(tree_peak, hwm) / 1024 if pss else None, "tree_rss_peak_mib": max(tree_rss, hwm) / 1024}


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _pss_kib(pid: int) -> float:
    """The process's proportional set size: its RSS with each page shared by N processes counted 1/N
    (a forked worker shares its parent's pages; summed VmRSS would count them in each process)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return float(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return _status_kib(pid, "VmRSS")


def _status_kib(pid: int, key: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return float(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (/proc/PID/task/TID/children, or a scan of /proc/*/stat)."""
    if not _HAS_CHILDREN:
        return _tree_by_scan(pid)
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return out


_HAS_CHILDREN = Path(f"/proc/self/task/{os.getpid()}/children").exists()


def _tree_by_scan(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(d.name))
            except (OSError, IndexError, ValueError):
                continue
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out
