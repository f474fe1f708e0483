"""Faults: nothing is lost or duplicated. Real crawls (`newsmon crawl`, `newsmon run`) against an
editable loopback site, real SQLite files, and real faults: kill -9, another process holding the
write lock, a file size limit (disk full), a read-only database, an outlet whose port refuses.

What "stored" means here: the store pipeline logs `article stored outlet=... article=ID url=URL`
right after the article's transaction committed. Every article a killed or failed process
reported that way must be in the database exactly once, and the next run stores the rest.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import re
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, newsmon, query_rows
from tests.minisite import MiniSite, config_text

STORED = re.compile(r"article stored outlet=(\S+) article=(\d+) url=(\S+)")


# -- helpers -----------------------------------------------------------------------------------


def fault_config(bases: dict[str, str], db: Path, outlets: list[str], *, busy_timeout: str | None = None,
                 delay: float = 0.0, run_timeout: str = "60s", interval: str = "2s") -> str:
    """The mini site's config, with a download delay (so that storing takes a while) and a busy timeout."""
    text = config_text(bases, db, outlets=outlets, run_timeout=run_timeout, interval=interval)
    if busy_timeout is not None:
        text = text.replace("[storage]\n", f'[storage]\nbusy_timeout = "{busy_timeout}"\n', 1)
    if delay:
        text = text.replace("[crawl]\n", f"[crawl]\ndownload_delay = {delay}\n", 1)
    return text


def count(db: Path, sql: str = "SELECT count(*) FROM articles", params: tuple[Any, ...] = ()) -> int:
    """A count read through a connection of its own; 0 while the database or table does not exist."""
    if not db.exists():
        return 0
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute(sql, params).fetchone()[0]
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return 0
        raise
    finally:
        conn.close()


def wait_for(what: str, check: Callable[[], bool], *, timeout: float = 60.0,
             proc: subprocess.Popen[Any] | None = None, log: Path | None = None) -> None:
    """Poll `check` until it holds; fail after `timeout` s, or at once if `proc` exits meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if proc is not None and proc.poll() is not None:
            if check():
                return
            tail = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
            pytest.fail(f"process exited with {proc.returncode} while waiting for {what}:\n{tail}")
        time.sleep(0.02)
    tail = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
    pytest.fail(f"timed out after {timeout}s waiting for {what}\n{tail}")


def reported_stored(log: Path) -> dict[int, str]:
    """article id -> URL, from the `article stored` lines of a log (text or JSON lines)."""
    found: dict[int, str] = {}
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("{"):
            line = json.loads(line).get("message", "")
        m = STORED.search(line)
        if m:
            assert int(m.group(2)) not in found, f"article {m.group(2)} reported stored twice"
            found[int(m.group(2))] = m.group(3)
    return found


def log_messages(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8", errors="replace").splitlines()
            if line.startswith("{")]


def assert_consistent(db: Path) -> None:
    """Integrity, FTS in sync, no URL in two articles, and no article without its URLs or its fetch."""
    conn = sqlite3.connect(db, timeout=30)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        # rank 1: the FTS index is also checked against the articles table (external content).
        conn.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")
        assert conn.execute("SELECT url FROM articles GROUP BY url HAVING count(*) > 1").fetchall() == []
        assert conn.execute(
            "SELECT a.id, u.article_id FROM articles a JOIN article_urls u ON u.url = a.url WHERE u.article_id != a.id"
        ).fetchall() == []
        assert conn.execute(
            "SELECT id FROM articles WHERE id NOT IN (SELECT article_id FROM article_urls)"
        ).fetchall() == []
        assert conn.execute(
            "SELECT id FROM articles WHERE id NOT IN (SELECT article_id FROM article_fetches)"
        ).fetchall() == []
        assert conn.execute(
            "SELECT id FROM articles WHERE text_length > 400 AND id NOT IN (SELECT article_id FROM article_signatures)"
        ).fetchall() == []
    finally:
        conn.close()


def assert_reported_are_stored_once(db: Path, reported: dict[int, str]) -> None:
    rows = query_rows(db, "SELECT id, url FROM articles")
    by_url: dict[str, list[int]] = {}
    for r in rows:
        by_url.setdefault(r["url"], []).append(r["id"])
    for article_id, url in reported.items():
        assert by_url.get(url) == [article_id], f"reported stored: article {article_id} {url}; found {by_url.get(url)}"


def assert_all_stored_once(db: Path, site: MiniSite, outlet: str, base: str) -> None:
    urls = sorted(r["url"] for r in query_rows(db, "SELECT url FROM articles WHERE outlet_id = ?", [outlet]))
    assert urls == sorted(f"{base}/news/{slug}.html" for slug in site.articles[outlet])


def digest(db: Path) -> str:
    """A checksum of the database's logical content (its SQL dump), not of its bytes."""
    conn = sqlite3.connect(db, timeout=30)
    try:
        h = hashlib.sha256()
        for line in conn.iterdump():
            h.update(line.encode("utf-8", "surrogatepass"))
        return h.hexdigest()
    finally:
        conn.close()


def start(config: Path, log: Path, *args: str, preexec_fn: Callable[[], None] | None = None,
          new_session: bool = False) -> subprocess.Popen[bytes]:
    """`newsmon --log-format json ARGS` in a child process, its stdout and stderr appended to `log`.

    Through a pipe, copied line by line by a thread of this process: a file size limit set for
    the child (RLIMIT_FSIZE) applies to the files it writes, and must not cut its log short.
    """
    env = {k: v for k, v in os.environ.items() if k != "NEWSMON_CONFIG"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "--log-format", "json", *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=preexec_fn,
        start_new_session=new_session,
    )

    def copy() -> None:
        assert proc.stdout is not None
        with open(log, "ab") as out:
            for line in proc.stdout:
                out.write(line)
                out.flush()
        proc.stdout.close()

    proc.copier = threading.Thread(target=copy, daemon=True)  # type: ignore[attr-defined]
    proc.copier.start()  # type: ignore[attr-defined]
    return proc


def finish(proc: subprocess.Popen[bytes], timeout: float = 120) -> int:
    """Wait for `proc` and for its log to be copied; kill it after `timeout`."""
    try:
        code = proc.wait(timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    proc.copier.join(10)  # type: ignore[attr-defined]
    return code


def run(config: Path, log: Path, *args: str, preexec_fn: Callable[[], None] | None = None,
        timeout: float = 120) -> int:
    return finish(start(config, log, *args, preexec_fn=preexec_fn), timeout)


def error_line(log: Path) -> str:
    """The command line's one-line error (the last line that is not a JSON log record)."""
    lines = [line for line in log.read_text(errors="replace").splitlines() if line and not line.startswith("{")]
    return lines[-1] if lines else ""


def run_row(db: Path, outlet: str = "alpha") -> sqlite3.Row:
    return query_rows(db, "SELECT * FROM crawl_runs WHERE outlet_id = ? ORDER BY id DESC LIMIT 1", [outlet])[0]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def children(pid: int) -> set[int]:
    """Child process ids of `pid` (all its threads)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.update(int(p) for p in (task / "children").read_text().split())
        except OSError:
            pass
    return found


@pytest.fixture
def minisite(tmp_path: Path) -> Iterator[tuple[MiniSite, Any]]:
    from monitor.demo.server import DemoServer

    site = MiniSite(tmp_path / "site")
    yield site, partial(DemoServer, site.root, log_path=tmp_path / "requests.jsonl")


def site_requests(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "requests.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


# -- 1. kill -9 in the middle of storing -------------------------------------------------------


def test_kill_9_of_a_crawl_while_storing_loses_and_duplicates_nothing(tmp_path: Path, minisite: Any) -> None:
    site, server_of = minisite
    site.add_outlet("alpha", 150)
    with server_of() as server:
        db, config = tmp_path / "news.db", tmp_path / "newsmon.toml"
        config.write_text(fault_config(server.bases, db, ["alpha"], delay=0.02), encoding="utf-8")
        log = tmp_path / "crawl1.log"
        proc = start(config, log, "crawl")
        wait_for("some articles stored", lambda: count(db) >= 10, proc=proc, log=log)
        proc.send_signal(signal.SIGKILL)
        assert finish(proc, 30) == -signal.SIGKILL
        stored = count(db)
        assert stored < 150, "the crawl finished before the kill: slow it down"
        reported = reported_stored(log)
        # At most one article can be committed and not yet logged when the kill lands.
        assert stored - 1 <= len(reported) <= stored
        assert_consistent(db)
        assert_reported_are_stored_once(db, reported)
        assert count(db, "SELECT count(*) FROM crawl_runs WHERE status = 'running'") == 1  # the killed run
        # The links not stored are kept for the next run.
        assert count(db, "SELECT count(*) FROM frontier") == 150 - stored

        log2 = tmp_path / "crawl2.log"
        assert run(config, log2, "crawl") == 0, log2.read_text()[-3000:]
        assert count(db, "SELECT count(*) FROM crawl_runs WHERE status = 'running'") == 0
        killed = query_rows(db, "SELECT * FROM crawl_runs ORDER BY id")[0]
        assert (killed["status"], killed["finish_reason"]) == ("interrupted", "the crawl process died")
        assert_consistent(db)
        assert_reported_are_stored_once(db, reported)
        assert_all_stored_once(db, site, "alpha", server.bases["alpha"])
        assert run_row(db)["articles_new"] == 150 - stored
        assert count(db, "SELECT count(*) FROM frontier") == 0


def test_kill_9_of_the_service_and_its_crawls_then_restart_completes(tmp_path: Path, minisite: Any) -> None:
    site, server_of = minisite
    site.add_outlet("alpha", 100)
    site.add_outlet("beta", 3)
    with server_of() as server:
        db, config = tmp_path / "news.db", tmp_path / "newsmon.toml"
        config.write_text(fault_config(server.bases, db, ["alpha", "beta"], delay=0.02, interval="1h"),
                          encoding="utf-8")
        log = tmp_path / "service1.log"
        service = start(config, log, "run", new_session=True)
        try:
            wait_for("alpha storing", lambda: count(db, "SELECT count(*) FROM articles WHERE outlet_id = 'alpha'") >= 10,
                     proc=service, log=log)
            workers = children(service.pid)
            assert workers, "no crawl process found"
            # As a crash, OOM kill or power loss would: the service's process group and its crawls
            # (which run in sessions of their own) all at once.
            os.killpg(service.pid, signal.SIGKILL)
            for pid in workers:
                os.kill(pid, signal.SIGKILL)
        finally:
            if service.poll() is None:
                service.kill()
            finish(service, 30)
        wait_for("the crawl processes gone", lambda: not any(alive(p) for p in workers), timeout=20)
        stored = count(db, "SELECT count(*) FROM articles WHERE outlet_id = 'alpha'")
        assert stored < 100, "the crawl finished before the kill: slow it down"
        reported = reported_stored(log)  # alpha's and beta's
        # At most one article per crawl process can be committed and not yet logged at the kill.
        assert count(db) - len(workers) <= len(reported) <= count(db)
        assert_consistent(db)
        assert_reported_are_stored_once(db, reported)
        assert count(db, "SELECT count(*) FROM crawl_runs WHERE status = 'running'") >= 1

        log2 = tmp_path / "service2.log"
        service = start(config, log2, "run", new_session=True)
        try:
            # Both outlets: beta's catch-up run is due a few seconds after the restart, and alpha's
            # can finish before it starts.
            wait_for("all 100 alpha and 3 beta articles",
                     lambda: count(db, "SELECT count(*) FROM articles WHERE outlet_id = 'alpha'") >= 100
                     and count(db, "SELECT count(*) FROM articles WHERE outlet_id = 'beta'") >= 3
                     and count(db, "SELECT count(*) FROM crawl_runs WHERE status = 'running'") == 0,
                     proc=service, log=log2)
            service.send_signal(signal.SIGTERM)
            assert finish(service, 30) == 0
        finally:
            if service.poll() is None:
                service.kill()
                service.wait()
        assert count(db, "SELECT count(*) FROM crawl_runs WHERE status = 'running'") == 0
        assert count(db, "SELECT count(*) FROM crawl_runs WHERE status = 'interrupted' "
                         "AND finish_reason = 'the crawl process died'") >= 1
        assert_consistent(db)
        assert_reported_are_stored_once(db, reported)
        assert_all_stored_once(db, site, "alpha", server.bases["alpha"])
        assert_all_stored_once(db, site, "beta", server.bases["beta"])


# -- 2. the database locked by another writer --------------------------------------------------


def test_locked_database_mid_crawl_stops_cleanly_and_the_next_run_stores_the_rest(
    tmp_path: Path, minisite: Any
) -> None:
    site, server_of = minisite
    site.add_outlet("alpha", 40)
    with server_of() as server:
        db, config = tmp_path / "news.db", tmp_path / "newsmon.toml"
        config.write_text(fault_config(server.bases, db, ["alpha"], busy_timeout="1s", delay=0.05), encoding="utf-8")
        log = tmp_path / "crawl1.log"
        started = time.monotonic()
        proc = start(config, log, "crawl")
        wait_for("some articles stored", lambda: count(db) >= 5, proc=proc, log=log)
        locker = sqlite3.connect(db, isolation_level=None)
        try:
            locker.execute("BEGIN IMMEDIATE")  # another writer, holding the lock past the busy timeout
            wait_for("the lock reported", lambda: "database is locked" in log.read_text(), proc=proc, log=log)
            stored_when_failed = count(db)
        finally:
            if locker.in_transaction:
                locker.execute("ROLLBACK")
            locker.close()
        assert finish(proc, 60) == 1
        assert time.monotonic() - started < 40
        text = log.read_text()
        assert "Traceback" not in text
        assert error_line(log) == f"Error: database is locked by another process (waited 1 s): {db}"
        errors = [m for m in log_messages(log) if m["level"] == "ERROR"]
        assert any(m["message"].startswith("store failed outlet=alpha") for m in errors)
        row = run_row(db)
        assert (row["status"], row["finish_reason"]) == ("interrupted", "database_locked")
        assert json.loads(row["errors"])["store"] >= 1
        assert "database is locked" in row["last_error"]
        assert row["articles_new"] == count(db) == stored_when_failed
        reported = reported_stored(log)
        assert len(reported) == stored_when_failed
        assert_consistent(db)
        assert_reported_are_stored_once(db, reported)
        assert count(db, "SELECT count(*) FROM frontier") == 40 - stored_when_failed  # kept for the next run

        log2 = tmp_path / "crawl2.log"
        assert run(config, log2, "crawl") == 0, log2.read_text()[-3000:]
        assert run_row(db)["articles_new"] == 40 - stored_when_failed
        assert_consistent(db)
        assert_reported_are_stored_once(db, reported)
        assert_all_stored_once(db, site, "alpha", server.bases["alpha"])
        assert count(db, "SELECT count(*) FROM crawl_runs WHERE status = 'running'") == 0


def test_locked_database_at_the_start_fails_at_once_and_changes_nothing(tmp_path: Path, minisite: Any) -> None:
    site, server_of = minisite
    site.add_outlet("alpha", 3)
    with server_of() as server:
        db, config = tmp_path / "news.db", tmp_path / "newsmon.toml"
        config.write_text(fault_config(server.bases, db, ["alpha"], busy_timeout="1s"), encoding="utf-8")
        assert run(config, tmp_path / "crawl1.log", "crawl") == 0
        site.add_article("alpha", "fresh", "A fresh story", seed=77)
        before, requests = digest(db), len(site_requests(tmp_path))
        locker = sqlite3.connect(db, isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")
        log = tmp_path / "crawl2.log"
        try:
            code = run(config, log, "crawl", timeout=60)
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        assert code == 1
        assert "Traceback" not in log.read_text()
        assert error_line(log) == f"Error: database is locked by another process (waited 1 s): {db}"
        assert len(site_requests(tmp_path)) == requests  # it gave up before fetching anything
        assert digest(db) == before


def test_locked_database_during_a_frontier_write_loses_no_link(tmp_path: Path, minisite: Any) -> None:
    """The spider's own small writes (the feed's links into the frontier) run in Scrapy callbacks."""
    site, server_of = minisite
    site.add_outlet("alpha", 8)
    # The feed takes about 2 s to arrive: time to take the lock once the run has started.
    site.routes("alpha", {"/rss.xml": {"file": "rss.xml", "trickle": 0.002}})
    with server_of() as server:
        db, config = tmp_path / "news.db", tmp_path / "newsmon.toml"
        config.write_text(fault_config(server.bases, db, ["alpha"], busy_timeout="1s"), encoding="utf-8")
        log = tmp_path / "crawl1.log"
        proc = start(config, log, "crawl")
        wait_for("the run started", lambda: count(db, "SELECT count(*) FROM crawl_runs") == 1, proc=proc, log=log)
        locker = sqlite3.connect(db, isolation_level=None)
        try:
            locker.execute("BEGIN IMMEDIATE")
            wait_for("the lock reported", lambda: "database is locked" in log.read_text(), proc=proc, log=log,
                     timeout=30)
        finally:
            if locker.in_transaction:
                locker.execute("ROLLBACK")
            locker.close()
        assert finish(proc, 60) == 1
        assert error_line(log) == f"Error: database is locked by another process (waited 1 s): {db}"
        row = run_row(db)
        assert (row["status"], row["finish_reason"]) == ("interrupted", "database_locked")
        assert count(db) == 0

        site.routes("alpha", {})
        assert run(config, tmp_path / "crawl2.log", "crawl") == 0
        assert_consistent(db)
        assert_all_stored_once(db, site, "alpha", server.bases["alpha"])


# -- 3. disk full, read-only database ----------------------------------------------------------


def file_size_limit(limit: int) -> Callable[[], None]:
    """A preexec_fn: no file of the child may grow past `limit` bytes (EFBIG; Python ignores SIGXFSZ)."""

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_disk_full_at_the_first_write_fails_clearly_and_changes_nothing(tmp_path: Path, minisite: Any) -> None:
    site, server_of = minisite
    site.add_outlet("alpha", 3)
    with server_of() as server:
        db, config = tmp_path / "news.db", tmp_path / "newsmon.toml"
        config.write_text(fault_config(server.bases, db, ["alpha"]), encoding="utf-8")
        assert run(config, tmp_path / "crawl1.log", "crawl") == 0
        site.add_article("alpha", "fresh", "A fresh story", seed=77)
        # This connection keeps the -shm file (32 KiB) in place; the WAL is emptied, and may not grow
        # by one page: the disk is full for the database.
        keeper = sqlite3.connect(db)
        try:
            keeper.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            wal = Path(f"{db}-wal").stat().st_size
            before, requests = digest(db), len(site_requests(tmp_path))
            log = tmp_path / "crawl2.log"
            code = run(config, log, "crawl", preexec_fn=file_size_limit(wal + 4096))
            assert code == 1
            assert "Traceback" not in log.read_text()
            assert error_line(log) == f"Error: disk full or file too large writing {db}"
            assert len(site_requests(tmp_path)) == requests
            assert digest(db) == before
        finally:
            keeper.close()
        assert_consistent(db)


def test_disk_full_mid_crawl_fails_clearly_and_the_next_run_stores_the_rest(tmp_path: Path, minisite: Any) -> None:
    from storage.db import open_database

    site, server_of = minisite
    site.add_outlet("alpha", 60)
    with server_of() as server:
        db, config = tmp_path / "news.db", tmp_path / "newsmon.toml"
        config.write_text(fault_config(server.bases, db, ["alpha"]), encoding="utf-8")
        open_database(db).close()  # created and migrated; closing the last connection empties the WAL
        log = tmp_path / "crawl1.log"
        code = run(config, log, "crawl", preexec_fn=file_size_limit(400_000))
        assert code == 1, log.read_text()[-3000:]
        assert "Traceback" not in log.read_text()
        assert error_line(log) == f"Error: disk full or file too large writing {db}"
        stored = count(db)
        assert 0 < stored < 60
        reported = reported_stored(log)
        assert len(reported) == stored
        assert_consistent(db)
        assert_reported_are_stored_once(db, reported)

        log2 = tmp_path / "crawl2.log"
        assert run(config, log2, "crawl") == 0, log2.read_text()[-3000:]
        assert count(db, "SELECT count(*) FROM crawl_runs WHERE status = 'running'") == 0
        assert_consistent(db)
        assert_reported_are_stored_once(db, reported)
        assert_all_stored_once(db, site, "alpha", server.bases["alpha"])


def without_root_override() -> Callable[[], None] | None:
    """A preexec_fn under which file permissions apply to this user, even to root.

    Root ignores chmod. Its power to do so is the CAP_DAC_OVERRIDE capability (and
    CAP_DAC_READ_SEARCH): dropped from the child's bounding set, they are gone after exec, and the
    child is root that obeys permissions. (Running the child as nobody instead would need the
    interpreter, the venv and the test folder readable by nobody.)
    """
    if os.geteuid() != 0:
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    pr_capbset_drop, cap_dac_override, cap_dac_read_search = 24, 1, 2

    def drop() -> None:
        for cap in (cap_dac_override, cap_dac_read_search):
            if libc.prctl(pr_capbset_drop, cap, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")

    return drop


@pytest.fixture
def obeys_permissions(tmp_path: Path) -> Callable[[], None] | None:
    """The preexec_fn, checked: a child under it cannot write a read-only file (else: skip)."""
    preexec = without_root_override()
    probe = tmp_path / "probe"
    probe.write_text("x")
    probe.chmod(0o444)
    try:
        result = subprocess.run([sys.executable, "-c", f"open({str(probe)!r}, 'a')"], preexec_fn=preexec,
                                capture_output=True, check=False)
    except subprocess.SubprocessError as exc:
        pytest.skip(f"cannot make a child process obey file permissions: {exc}")
    if result.returncode == 0:
        pytest.skip("cannot make a child process obey file permissions (root with CAP_DAC_OVERRIDE)")
    return preexec


def test_read_only_database(tmp_path: Path, minisite: Any, obeys_permissions: Callable[[], None] | None) -> None:
    site, server_of = minisite
    site.add_outlet("alpha", 3)
    with server_of() as server:
        folder = tmp_path / "data"
        folder.mkdir()
        db, config = folder / "news.db", tmp_path / "newsmon.toml"
        config.write_text(fault_config(server.bases, db, ["alpha"]), encoding="utf-8")
        assert run(config, tmp_path / "crawl1.log", "crawl") == 0
        site.add_article("alpha", "fresh", "A fresh story about the bridge", seed=77)
        before, requests = digest(db), len(site_requests(tmp_path))
        db.chmod(0o444)
        try:
            # A crawl cannot write: it says so, before any request, and changes nothing.
            log = tmp_path / "crawl2.log"
            assert run(config, log, "crawl", preexec_fn=obeys_permissions) == 1
            assert "Traceback" not in log.read_text()
            assert error_line(log) == f"Error: database is read-only: {db}"
            assert len(site_requests(tmp_path)) == requests
            assert digest(db) == before

            # Reading works: SQLite creates the -wal and -shm files next to it (the folder is writable).
            for args in (("search", "--json", "bridge"), ("export",), ("outlets", "--json")):
                log = tmp_path / f"{args[0]}.log"
                assert run(config, log, *args, preexec_fn=obeys_permissions) == 0, log.read_text()[-2000:]
                assert "Traceback" not in log.read_text()

            # A WAL database in a read-only folder cannot even be read: SQLite must create its -shm
            # file next to it. The message says so.
            for suffix in ("-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            folder.chmod(0o555)
            log = tmp_path / "search2.log"
            assert run(config, log, "search", "bridge", preexec_fn=obeys_permissions) == 1
            assert "Traceback" not in log.read_text()
            assert error_line(log) == (
                f"Error: database is read-only: {db}: its folder is not writable, and SQLite needs to create "
                f"news.db-shm there to read a WAL database"
            )
        finally:
            folder.chmod(0o755)
            db.chmod(0o644)
        assert digest(db) == before
        assert_consistent(db)


# -- 4. an outlet down for several runs --------------------------------------------------------


class LateServer:
    """Serves a MiniSite outlet on a port reserved now (bound, not listening: connections to it are
    refused) and served only from `listen()`: an outlet that is down, then back at the same address."""

    def __init__(self, site: MiniSite, outlet: str):
        self.site, self.outlet = site, outlet
        handler = partial(_QuietHandler, directory=str(site.root / outlet))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler, bind_and_activate=False)
        self.httpd.daemon_threads = True
        self.httpd.server_bind()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread: threading.Thread | None = None

    def write_feed(self) -> None:
        """MiniSite feeds hold {{base:OUTLET}} placeholders (the demo server's); this server serves files as they are."""
        self.site.write_feed(self.outlet)
        feed = self.site.root / self.outlet / "rss.xml"
        feed.write_text(feed.read_text().replace(f"{{{{base:{self.outlet}}}}}", self.base), encoding="utf-8")

    def listen(self) -> None:
        self.httpd.server_activate()
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        if self.thread is not None:
            self.httpd.shutdown()
            self.thread.join(5)
        self.httpd.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass


def outlet_states(config: Path) -> dict[str, dict[str, Any]]:
    result = newsmon("--config", str(config), "outlets", "--json", timeout=60)
    assert result.returncode == 0, result.stderr
    return {r["id"]: r for r in json.loads(result.stdout)}


def test_outlet_down_for_several_runs_is_failing_others_unaffected_and_it_recovers(
    tmp_path: Path, minisite: Any
) -> None:
    site, server_of = minisite
    site.add_outlet("alpha", 3)
    site.add_outlet("gamma", 4)
    gamma = LateServer(site, "gamma")
    gamma.write_feed()
    try:
        with server_of() as server:
            db, config = tmp_path / "news.db", tmp_path / "newsmon.toml"
            config.write_text(fault_config({**server.bases, "gamma": gamma.base}, db, ["alpha", "gamma"]),
                              encoding="utf-8")
            # Down for two runs ([health] failing_after = 2); alpha stores its articles in the same runs.
            expected_alpha = 3
            for n in (1, 2):
                if n == 2:
                    site.add_article("alpha", "second-run", "A story for the second run", seed=90)
                    expected_alpha += 1
                log = tmp_path / f"crawl{n}.log"
                assert run(config, log, "crawl") == 0, log.read_text()[-3000:]
                g, a = run_row(db, "gamma"), run_row(db, "alpha")
                assert (g["status"], g["articles_new"]) == ("failed", 0)
                assert "refused" in json.loads(g["errors"])
                assert a["status"] == "ok" and a["run_id"] == g["run_id"]
                assert count(db, "SELECT count(*) FROM articles WHERE outlet_id = 'alpha'") == expected_alpha
                health = {r["outlet_id"]: (r["state"], r["reason"]) for r in query_rows(db, "SELECT * FROM outlet_health")}
                assert health["alpha"][0] == "ok"
                if n == 1:
                    assert health["gamma"] == ("degraded", "last run failed: refused")
            states = outlet_states(config)
            assert states["alpha"]["state"] == "ok"
            assert states["gamma"]["state"] == "failing"
            assert states["gamma"]["reason"] == "last 2 runs failed: refused x2"

            # Back at the same address: the next run finds it, stores its articles, and it is ok again.
            gamma.listen()
            log = tmp_path / "crawl3.log"
            assert run(config, log, "crawl") == 0, log.read_text()[-3000:]
            assert run_row(db, "gamma")["status"] == "ok"
            assert run_row(db, "gamma")["articles_new"] == 4
            assert_all_stored_once(db, site, "gamma", gamma.base)
            assert_all_stored_once(db, site, "alpha", server.bases["alpha"])
            states = outlet_states(config)
            assert (states["gamma"]["state"], states["alpha"]["state"]) == ("ok", "ok")
            assert count(db, "SELECT count(*) FROM alerts WHERE outlet_id = 'gamma' AND new_state = 'ok'") == 1
            assert_consistent(db)
    finally:
        gamma.close()
