"""`newsmon run` as a real subprocess against an editable loopback site, with intervals of seconds.

The service, its crawl processes and the server are real; the tests poll the real SQLite file.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, newsmon
from tests.minisite import MiniSite, config_text, paragraphs


class Harness:
    def __init__(self, tmp_path: Path, server: Any, site: MiniSite):
        self.tmp_path = tmp_path
        self.server = server
        self.site = site
        self.db = tmp_path / "news.db"
        self.config = tmp_path / "newsmon.toml"
        self.procs: list[subprocess.Popen[str]] = []

    def write_config(self, outlets: list[str], **kwargs: Any) -> None:
        self.config.write_text(config_text(self.server.bases, self.db, outlets=outlets, **kwargs), encoding="utf-8")

    def start(self, name: str = "service", *options: str) -> subprocess.Popen[str]:
        log = open(self.tmp_path / f"{name}.log", "a", encoding="utf-8")  # noqa: SIM115 - closed in stop()
        env = {k: v for k, v in os.environ.items() if k != "NEWSMON_CONFIG"}
        proc = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(self.config), *options, "run"],
                                cwd=ROOT, env=env, stdout=log, stderr=log, text=True)
        proc.log = log  # type: ignore[attr-defined]
        self.procs.append(proc)
        return proc

    def log(self, name: str = "service") -> str:
        path = self.tmp_path / f"{name}.log"
        return path.read_text(encoding="utf-8") if path.exists() else ""

    def query(self, sql: str, params: list[Any] | None = None) -> list[sqlite3.Row]:
        if not self.db.exists():
            return []
        conn = sqlite3.connect(self.db, timeout=15)
        conn.row_factory = sqlite3.Row
        try:
            return conn.execute(sql, params or []).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise
        finally:
            conn.close()

    def count(self, sql: str, params: list[Any] | None = None) -> int:
        rows = self.query(sql, params)
        return rows[0][0] if rows else 0

    def wait(self, what: str, check: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            for proc in self.procs:
                if proc.poll() is not None and proc.returncode not in (0, -9):
                    pytest.fail(f"service exited with {proc.returncode} while waiting for {what}:\n{self.log()[-4000:]}")
            time.sleep(0.2)
        pytest.fail(f"timed out after {timeout}s waiting for {what}\n{self.log()[-4000:]}")

    def runs(self, outlet: str, status: str | None = None) -> int:
        sql = "SELECT count(*) FROM crawl_runs WHERE outlet_id = ? AND status != 'running'"
        if status:
            return self.count(sql + " AND status = ?", [outlet, status])
        return self.count(sql, [outlet])

    def stop(self, proc: subprocess.Popen[str], sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        proc.send_signal(sig)
        code = proc.wait(timeout)
        proc.log.close()  # type: ignore[attr-defined]
        return code

    def integrity(self) -> str:
        return self.query("PRAGMA integrity_check")[0][0]


@pytest.fixture
def harness(tmp_path: Path) -> Any:
    from monitor.demo.server import DemoServer

    site = MiniSite(tmp_path / "site")
    site.add_outlet("alpha", 2)
    site.add_outlet("beta", 2)
    h: Harness | None = None
    with DemoServer(site.root, log_path=tmp_path / "requests.jsonl") as server:
        h = Harness(tmp_path, server, site)
        try:
            yield h
        finally:
            for proc in h.procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                proc.log.close()  # type: ignore[attr-defined]


def status(h: Harness) -> dict[str, Any]:
    result = newsmon("--config", str(h.config), "status", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_service_crawls_on_schedule_and_follows_the_site(harness: Harness) -> None:
    h = harness
    h.write_config(["alpha", "beta"])
    proc = h.start()
    h.wait("a first run of each outlet", lambda: h.runs("alpha") >= 1 and h.runs("beta") >= 1)
    assert h.count("SELECT count(*) FROM articles") == 4

    # A second service on the same database refuses, naming the first.
    second = newsmon("--config", str(h.config), "run", timeout=30)
    assert second.returncode == 1
    assert f"already running on {h.db}" in second.stderr and f"pid {proc.pid}" in second.stderr

    info = status(h)
    assert info["service"]["running"] and info["service"]["pid"] == proc.pid
    assert {o["id"]: o["state"] for o in info["outlets"]} == {"alpha": "ok", "beta": "ok"}
    assert all(o["next_run"] or o["running_since"] for o in info["outlets"])

    # A new article appears within an interval (2 s) plus a run.
    h.site.add_article("alpha", "breaking", "Breaking: the bridge reopens", seed=30)
    h.wait("the new article", lambda: h.count("SELECT count(*) FROM articles WHERE title LIKE 'Breaking%'") == 1,
           timeout=15)
    # An edited article becomes version 2; a deleted one is marked removed.
    paras = paragraphs(0)
    paras[0] = "The council reversed its decision late on Wednesday, after a night of protests at the harbour."
    h.site.write_article("beta", "story-0", "Beta story zero, updated", paras)
    h.site.delete_article("alpha", "story-1")
    h.wait("version 2", lambda: h.count("SELECT count(*) FROM articles WHERE version = 2") == 1, timeout=15)
    h.wait("the removal", lambda: h.count("SELECT count(*) FROM articles WHERE removed_at IS NOT NULL") == 1,
           timeout=15)
    assert h.count("SELECT count(*) FROM article_versions") == 1
    assert h.count("SELECT count(*) FROM articles") == 5

    assert h.stop(proc) == 0
    assert "service stopped" in h.log()
    assert h.integrity() == "ok"
    assert h.count("SELECT count(*) FROM crawl_runs WHERE status = 'running'") == 0
    assert h.count("SELECT count(*) FROM crawl_runs WHERE origin = 'service'") >= 4
    assert not status(h)["service"]["running"]


def test_hanging_outlet_is_cut_at_its_time_limit_and_the_others_go_on(harness: Harness) -> None:
    h = harness
    h.site.routes("beta", {"/rss.xml": {"hang": True}})
    h.write_config(["alpha", "beta"])
    text = h.config.read_text().replace('run_timeout = "8s"', 'run_timeout = "3s"').replace("timeout = 5", "timeout = 60")
    h.config.write_text(text)
    proc = h.start()
    h.wait("beta cut at its time limit", lambda: h.runs("beta", "timeout") >= 1, timeout=40)
    h.wait("alpha going on", lambda: h.runs("alpha", "ok") >= 3, timeout=30)
    beta = h.query("SELECT * FROM crawl_runs WHERE outlet_id = 'beta' AND status = 'timeout' ORDER BY id LIMIT 1")[0]
    assert beta["duration"] < 3 + 5 + 5  # the time limit, the grace to stop, and process start-up
    assert h.stop(proc) == 0
    assert h.integrity() == "ok"


def test_kill_9_then_restart_loses_and_duplicates_nothing(harness: Harness) -> None:
    h = harness
    for i in range(2, 40):  # a bigger outlet, so that the kill lands in the middle of its crawl
        h.site.add_article("alpha", f"extra-{i}", f"Alpha extra story {i}", seed=100 + i, write_feed=False)
    h.site.write_feed("alpha")
    # The last ten pages come slowly: the crawl is still storing when the service is killed.
    h.site.routes("alpha", {f"/news/extra-{i}.html": {"file": f"news/extra-{i}.html", "trickle": 0.002}
                            for i in range(30, 40)})
    h.write_config(["alpha", "beta"])
    proc = h.start()
    h.wait("alpha half stored", lambda: h.count("SELECT count(*) FROM articles WHERE outlet_id = 'alpha'") >= 5)
    proc.kill()
    proc.wait()
    # The crawl processes see their service gone and stop by themselves.
    workers = {r["pid"] for r in h.query("SELECT pid FROM crawl_runs WHERE status = 'running'")}
    assert workers
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.2)
    assert not any(_alive(w) for w in workers), "a crawl process outlived its service"
    assert h.count("SELECT count(*) FROM crawl_runs WHERE status = 'running'") == 0, h.log()[-6000:]  # each closed its run
    assert h.integrity() == "ok"

    h.site.routes("alpha", {})
    proc = h.start("service2")
    h.wait("the service up", lambda: "service started" in h.log("service2"))
    h.wait("all 40 alpha articles", lambda: h.count("SELECT count(*) FROM articles WHERE outlet_id = 'alpha'") == 40,
           timeout=60)
    assert h.stop(proc) == 0
    assert h.integrity() == "ok"
    assert h.count("SELECT count(*) FROM (SELECT url FROM articles GROUP BY url HAVING count(*) > 1)") == 0
    assert h.count("SELECT count(*) FROM (SELECT outlet_id, content_hash FROM articles GROUP BY 1, 2 HAVING count(*) > 1)") == 0
    left = [dict(r) for r in h.query("SELECT run_id, outlet_id, pid, started_at FROM crawl_runs WHERE status = 'running'")]
    assert left == [], h.log("service2")[-5000:]
    assert h.count("SELECT count(*) FROM frontier") == 0


def test_a_crashed_crawl_is_recorded_and_the_next_run_happens(harness: Harness) -> None:
    h = harness
    h.write_config(["alpha"])
    h.site.routes("alpha", {"/news/story-1.html": {"trickle": 0.5}})  # holds the crawl open
    json_log = h.tmp_path / "json.log"
    proc = h.start("service", "--log-format", "json", "--log-file", str(json_log))
    h.wait("a crawl in progress", lambda: h.count("SELECT count(*) FROM crawl_runs WHERE status = 'running'") == 1)
    worker = h.query("SELECT pid FROM crawl_runs WHERE status = 'running'")[0]["pid"]
    os.kill(worker, signal.SIGKILL)
    h.site.routes("alpha", {})
    h.wait("the crash recorded", lambda: h.runs("alpha", "crashed") == 1, timeout=15)
    h.wait("a good run after it", lambda: h.runs("alpha", "ok") >= 1, timeout=20)
    assert h.stop(proc) == 0
    # One JSON object per line, from the service and its crawl processes, in one file.
    entries = [json.loads(line) for line in json_log.read_text(encoding="utf-8").splitlines()]
    assert {"ts", "level", "logger", "message", "pid"} <= set(entries[0])
    crashed = next(e for e in entries if "run crashed" in e["message"])
    assert crashed["level"] == "ERROR" and crashed["pid"] == proc.pid
    ok_run = h.query("SELECT run_id FROM crawl_runs WHERE status = 'ok' LIMIT 1")[0]["run_id"]
    assert any(e.get("run_id") == ok_run and e["pid"] != proc.pid for e in entries)
    assert h.log() == ""  # nothing went to stderr


def test_reload_applies_a_valid_config_and_refuses_an_invalid_one(harness: Harness) -> None:
    h = harness
    h.write_config(["alpha"])
    proc = h.start()
    h.wait("alpha runs", lambda: h.runs("alpha") >= 1)
    assert h.runs("beta") == 0

    h.write_config(["alpha", "beta"])
    result = newsmon("--config", str(h.config), "reload")
    assert result.returncode == 0, result.stderr
    h.wait("beta added by the reload", lambda: h.runs("beta") >= 1, timeout=20)
    assert "added: beta" in h.log()

    good = h.config.read_text()
    h.config.write_text(good + "\n[[outlets]]\nid = 'Bad Id'\n")
    refused = newsmon("--config", str(h.config), "reload")
    assert refused.returncode == 2 and "Bad Id" in refused.stderr  # checked before it is sent
    os.kill(proc.pid, signal.SIGHUP)  # the service checks too
    h.wait("the refusal", lambda: "config reload refused" in h.log(), timeout=10)
    runs = h.runs("beta")
    h.wait("beta still running", lambda: h.runs("beta") > runs, timeout=20)

    h.write_config(["alpha"])
    os.kill(proc.pid, signal.SIGHUP)
    h.wait("beta removed by the reload", lambda: "removed: beta" in h.log(), timeout=10)
    # A beta crawl process started just before the reload records its run about a second later
    # (its start-up): wait until nothing of beta is running and its count has held for 3 s.
    def beta_settled() -> bool:
        before = h.runs("beta")
        time.sleep(3)
        running = h.count("SELECT count(*) FROM crawl_runs WHERE outlet_id = 'beta' AND status = 'running'")
        return running == 0 and h.runs("beta") == before

    h.wait("a beta run that had started to finish", beta_settled, timeout=30)
    runs = h.runs("beta")
    alpha = h.runs("alpha")
    h.wait("alpha going on", lambda: h.runs("alpha") >= alpha + 2, timeout=20)
    assert h.runs("beta") == runs
    assert h.stop(proc) == 0


def test_the_schedule_survives_a_restart(harness: Harness) -> None:
    h = harness
    h.write_config(["alpha", "beta"], interval="1h")
    h.config.write_text(h.config.read_text().replace('id = "beta"', 'id = "beta"\ninterval = "3s"'))
    proc = h.start()
    h.wait("both outlets ran once", lambda: h.runs("alpha") == 1 and h.runs("beta") >= 1)
    assert h.stop(proc) == 0
    time.sleep(3)  # beta's interval passes while the service is down; alpha's hour does not
    beta_runs = h.runs("beta")
    proc = h.start("service2")
    h.wait("beta run soon after the restart", lambda: h.runs("beta") > beta_runs, timeout=15)
    info = status(h)
    alpha = next(o for o in info["outlets"] if o["id"] == "alpha")
    assert h.runs("alpha") == 1, "alpha's interval had not passed: it must not run at start-up"
    assert alpha["next_run"] > alpha["last_run"] and alpha["next_run"][:13] != alpha["last_run"][:13]
    assert h.stop(proc) == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still "exists" until reaped; it is not running.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def test_a_one_off_crawl_beside_the_service_stores_nothing_twice(harness: Harness) -> None:
    h = harness
    h.write_config(["alpha", "beta"])
    proc = h.start()
    h.wait("the service up", lambda: "service started" in h.log())
    crawl = newsmon("--config", str(h.config), "crawl", "--json")  # while the service's first runs go
    assert crawl.returncode == 0, crawl.stderr[-2000:]
    h.wait("the service's runs", lambda: h.runs("alpha") >= 2 and h.runs("beta") >= 2)
    assert h.stop(proc) == 0
    assert h.count("SELECT count(*) FROM articles") == 4
    assert h.count("SELECT count(*) FROM (SELECT outlet_id, url FROM articles GROUP BY 1, 2 HAVING count(*) > 1)") == 0
    origins = {r[0] for r in h.query("SELECT DISTINCT origin FROM crawl_runs")}
    assert origins == {"crawl", "service"}
    assert h.integrity() == "ok"
