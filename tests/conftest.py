"""Shared fixtures: the loopback fixture site (a real server subprocess), real crawls in
subprocesses (Scrapy's reactor runs once per process), real SQLite files."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pytest_report_header() -> list[str]:
    import langdetect  # noqa: F401
    import scrapy
    import sqlite_utils
    import trafilatura

    return [f"scrapy {scrapy.__version__}, trafilatura {trafilatura.__version__}, sqlite-utils "
            f"{sqlite_utils.__version__ if hasattr(sqlite_utils, '__version__') else '?'}"]


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on (bound, then released): connecting to it is refused."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def query_rows(db: Path | str, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[sqlite3.Row]:
    """Rows of `sql` on the database file `db`, read through a connection of its own."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def newsmon(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """Run the real `newsmon` command line in a child process."""
    full_env = {k: v for k, v in os.environ.items() if k != "NEWSMON_CONFIG"} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args], cwd=cwd or ROOT, env=full_env, capture_output=True,
        text=True, timeout=timeout, check=False,
    )


@dataclass
class Site:
    bases: dict[str, str]
    offhost: str
    log_path: Path
    expected: dict[str, Any]
    proc: subprocess.Popen[bytes] = field(repr=False)

    def requests(self) -> list[dict[str, Any]]:
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line.strip()]

    def host(self, outlet: str) -> str:
        return self.bases[outlet].split("://", 1)[1]


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    from monitor.demo.server import load_expected, start_subprocess, stop_subprocess

    log_path = tmp_path_factory.mktemp("site") / "requests.jsonl"
    proc, info = start_subprocess(log_path=log_path)
    try:
        yield Site(info["outlets"], info["offhost"], log_path, load_expected(), proc)
    finally:
        stop_subprocess(proc)


def write_config(path: Path, site: Site, database: Path, *, extra_outlets: str = "", **crawl: Any) -> Path:
    from monitor.demo.server import render_config

    text = render_config(site.bases, str(database))
    for key, value in crawl.items():
        old = next(line for line in text.splitlines() if line.startswith(f"{key} ="))
        text = text.replace(old, f"{key} = {json.dumps(value)}", 1)
    path.write_text(text + "\n" + extra_outlets, encoding="utf-8")
    return path


@dataclass
class Crawl:
    config: Path
    db: Path
    result: subprocess.CompletedProcess[str]
    summary: dict[str, Any]
    requests: list[dict[str, Any]]

    def outlet(self, outlet_id: str) -> dict[str, Any]:
        return next(r for r in self.summary["outlets"] if r["outlet_id"] == outlet_id)


def run_crawl(config: Path, db: Path, site: Site, *args: str) -> Crawl:
    before = len(site.requests())
    result = newsmon("--config", str(config), "crawl", "--json", *args)
    assert result.returncode == 0, result.stderr[-3000:]
    return Crawl(config, db, result, json.loads(result.stdout), site.requests()[before:])


DOWN_OUTLET = """
[[outlets]]
id = "down"
name = "An outlet whose server is down"
feeds = ["http://127.0.0.1:{port}/rss.xml"]
homepage = "http://127.0.0.1:{port}/"
"""


@pytest.fixture(scope="session")
def crawled(site: Site, tmp_path_factory: pytest.TempPathFactory) -> tuple[Crawl, Crawl]:
    """The fixture site plus a down outlet, crawled twice into one database."""
    folder = tmp_path_factory.mktemp("crawl")
    db = folder / "news.db"
    config = write_config(folder / "newsmon.toml", site, db, extra_outlets=DOWN_OUTLET.format(port=free_port()))
    first = run_crawl(config, db, site)
    second = run_crawl(config, db, site)
    return first, second
