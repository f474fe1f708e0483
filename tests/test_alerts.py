"""Tests of monitor/alerts.py: real log lines, a real loopback webhook, real commands, real SQLite."""

from __future__ import annotations

import json
import logging
import socket
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from crawlers.outlets import Outlet
from monitor import alerts
from monitor.alerts import send_alerts
from monitor.config import (
    AlertsConfig,
    Config,
    CrawlConfig,
    HealthConfig,
    ScheduleConfig,
    StorageConfig,
)
from monitor.health import Transition, update_health
from storage.db import open_database, write_transaction

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
AT = "2026-11-24T12:00:00Z"
FAILING = Transition("lemonde", "ok", "failing", "last 2 runs failed: refused x2", "change")
BACK_OK = Transition("lemonde", "failing", "ok", "last run ok: 8 new articles, 9 pages", "change")
REMINDER = Transition("lemonde", "failing", "failing", "last 5 runs failed: refused x5", "reminder")
WRITE_STDIN_AND_STATE = (
    sys.executable, "-c",
    "import sys, os, pathlib; "
    "pathlib.Path(os.environ['OUT']).write_text(sys.stdin.read() + os.environ['NEWSMON_NEW_STATE'])",
)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite_utils.Database]:
    database = open_database(tmp_path / "newsmon.db")
    with write_transaction(database):
        database.execute(
            "INSERT INTO outlets (id, name, added_at, updated_at) VALUES ('lemonde', 'Le Monde', ?, ?)",
            [AT, AT],
        )
        database.execute(
            """INSERT INTO outlet_health (outlet_id, state, reason, since, checked_at)
               VALUES ('lemonde', 'failing', 'x', '2026-11-24T11:00:00Z', '2026-11-24T11:00:00Z')"""
        )
    yield database
    database.close()


@dataclass
class Webhook:
    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    status: int = 204


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    """A real HTTP server on 127.0.0.1 recording each POST; answers `Webhook.status`."""
    hook = Webhook("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            hook.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
            self.send_response(hook.status)
            if 300 <= hook.status < 400:
                self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # keep the test output clean
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    hook.url = f"http://127.0.0.1:{server.server_port}/hooks/newsmon"
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def free_port() -> int:
    """A port nothing listens on (bound, then released): connecting to it is refused.

    Like tests/conftest.py's, defined here so the file also runs under a bare `pytest`.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def alert_rows(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    rows = list(db.query("SELECT outlet_id, at, kind, old_state, new_state, reason, delivered FROM alerts ORDER BY id"))
    for row in rows:
        row["delivered"] = json.loads(row["delivered"])
    return rows


def last_alert_at(db: sqlite_utils.Database) -> str | None:
    return db.execute("SELECT last_alert_at FROM outlet_health WHERE outlet_id = 'lemonde'").fetchone()[0]


def messages(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "monitor.alerts" and r.levelno == level]


# --- log lines and records ----------------------------------------------------------------------


def test_change_to_failing_is_logged_as_warning_and_recorded(
    db: sqlite_utils.Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="monitor.alerts")
    sent = send_alerts(db, AlertsConfig(), [FAILING], now=NOW)
    assert messages(caplog, logging.WARNING) == [
        "outlet state changed outlet=lemonde old=ok new=failing reason=last 2 runs failed: refused x2"
    ]
    assert sent == [{
        "outlet": "lemonde", "old_state": "ok", "new_state": "failing", "reason": "last 2 runs failed: refused x2",
        "kind": "change", "at": AT, "service": "newsmon", "delivered": {"log": True},
    }]
    assert alert_rows(db) == [{
        "outlet_id": "lemonde", "at": AT, "kind": "change", "old_state": "ok", "new_state": "failing",
        "reason": "last 2 runs failed: refused x2", "delivered": {"log": True},
    }]
    assert last_alert_at(db) == AT


def test_back_to_ok_is_logged_as_info(db: sqlite_utils.Database, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="monitor.alerts")
    send_alerts(db, AlertsConfig(), [BACK_OK], now=NOW)
    assert messages(caplog, logging.INFO) == [
        "outlet state changed outlet=lemonde old=failing new=ok reason=last run ok: 8 new articles, 9 pages"
    ]
    assert messages(caplog, logging.WARNING) == []


def test_reminder_log_line(db: sqlite_utils.Database, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="monitor.alerts")
    send_alerts(db, AlertsConfig(), [REMINDER], now=NOW)
    assert messages(caplog, logging.WARNING) == [
        "outlet still failing (reminder) outlet=lemonde reason=last 5 runs failed: refused x5"
    ]
    assert [r["kind"] for r in alert_rows(db)] == ["reminder"]


def test_no_transition_writes_nothing(db: sqlite_utils.Database) -> None:
    assert send_alerts(db, AlertsConfig(), [], now=NOW) == []
    assert alert_rows(db) == []
    assert last_alert_at(db) is None


def test_alert_for_outlet_without_health_row_is_still_recorded(db: sqlite_utils.Database) -> None:
    other = Transition("other", None, "degraded", "last run failed: timeout", "change")
    send_alerts(db, AlertsConfig(), [other], now=NOW)
    assert [r["outlet_id"] for r in alert_rows(db)] == ["other"]


# --- webhook ------------------------------------------------------------------------------------


def test_webhook_receives_the_alert_as_json(db: sqlite_utils.Database, webhook: Webhook) -> None:
    sent = send_alerts(db, AlertsConfig(webhook=webhook.url), [FAILING], now=NOW)
    [request] = webhook.received
    assert request["path"] == "/hooks/newsmon"
    assert request["headers"]["Content-Type"] == "application/json"
    assert json.loads(request["body"]) == {
        "outlet": "lemonde", "old_state": "ok", "new_state": "failing",
        "reason": "last 2 runs failed: refused x2", "kind": "change", "at": AT, "service": "newsmon",
    }
    assert sent[0]["delivered"] == {"log": True, "webhook": "ok"}
    assert alert_rows(db)[0]["delivered"] == {"log": True, "webhook": "ok"}


def test_webhook_gets_one_post_per_transition(db: sqlite_utils.Database, webhook: Webhook) -> None:
    send_alerts(db, AlertsConfig(webhook=webhook.url), [FAILING, REMINDER], now=NOW)
    assert [json.loads(r["body"])["kind"] for r in webhook.received] == ["change", "reminder"]
    assert len(alert_rows(db)) == 2


@pytest.mark.parametrize(("status", "result"), [(500, "error: HTTP 500"), (302, "error: HTTP 302")])
def test_webhook_error_answer_is_logged_and_recorded(
    db: sqlite_utils.Database, webhook: Webhook, caplog: pytest.LogCaptureFixture, status: int, result: str
) -> None:
    webhook.status = status
    sent = send_alerts(db, AlertsConfig(webhook=webhook.url), [FAILING], now=NOW)
    assert sent[0]["delivered"]["webhook"] == result
    assert len(webhook.received) == 1  # a redirect is not followed
    host = webhook.url.removesuffix("/hooks/newsmon")  # the path may hold a secret: not logged
    assert messages(caplog, logging.WARNING)[-1] == f"alert webhook failed outlet=lemonde host={host} {result}"


def test_webhook_refused_is_logged_and_recorded(db: sqlite_utils.Database, caplog: pytest.LogCaptureFixture) -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"
    sent = send_alerts(db, AlertsConfig(webhook=url), [FAILING], now=NOW)
    result = sent[0]["delivered"]["webhook"]
    assert result.startswith("error: ") and "refused" in result.lower()
    assert alert_rows(db)[0]["delivered"]["webhook"] == result
    assert any(m.startswith("alert webhook failed outlet=lemonde") for m in messages(caplog, logging.WARNING))
    assert last_alert_at(db) == AT


# --- command ------------------------------------------------------------------------------------


def test_command_gets_json_on_stdin_and_newsmon_env(
    db: sqlite_utils.Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "alert.txt"
    monkeypatch.setenv("OUT", str(out))  # the command runs with the service's environment
    sent = send_alerts(db, AlertsConfig(command=WRITE_STDIN_AND_STATE), [FAILING], now=NOW)
    text = out.read_text()
    assert text.endswith("}failing")
    assert json.loads(text.removesuffix("failing")) == {
        "outlet": "lemonde", "old_state": "ok", "new_state": "failing",
        "reason": "last 2 runs failed: refused x2", "kind": "change", "at": AT, "service": "newsmon",
    }
    assert sent[0]["delivered"] == {"log": True, "command": "ok"}


def test_command_gets_every_newsmon_variable(
    db: sqlite_utils.Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "env.json"
    monkeypatch.setenv("OUT", str(out))
    dump_env = (sys.executable, "-c", "import json, os, pathlib; pathlib.Path(os.environ['OUT']).write_text("
                "json.dumps({k: v for k, v in os.environ.items() if k.startswith('NEWSMON_')}))")
    new = Transition("lemonde", None, "degraded", None, "change")
    send_alerts(db, AlertsConfig(command=dump_env), [REMINDER, new], now=NOW)
    assert json.loads(out.read_text()) == {  # the second run's
        "NEWSMON_OUTLET": "lemonde", "NEWSMON_OLD_STATE": "", "NEWSMON_NEW_STATE": "degraded",
        "NEWSMON_REASON": "", "NEWSMON_ALERT_KIND": "change",
    }


def test_failing_command_is_logged_and_recorded(db: sqlite_utils.Database, caplog: pytest.LogCaptureFixture) -> None:
    command = (sys.executable, "-c", "import sys; sys.stderr.write('no route'); sys.exit(3)")
    sent = send_alerts(db, AlertsConfig(command=command), [FAILING], now=NOW)
    assert sent[0]["delivered"] == {"log": True, "command": "exit 3"}
    assert alert_rows(db)[0]["delivered"]["command"] == "exit 3"
    assert messages(caplog, logging.WARNING)[-1] == (
        f"alert command failed outlet=lemonde command={sys.executable} exit 3 stderr='no route'"
    )


def test_missing_executable_is_logged_and_recorded(
    db: sqlite_utils.Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = str(tmp_path / "no-such-alert-command")
    sent = send_alerts(db, AlertsConfig(command=(missing, "--flag")), [FAILING], now=NOW)
    assert sent[0]["delivered"]["command"].startswith("error: ")
    assert missing in sent[0]["delivered"]["command"]
    assert any(m.startswith("alert command failed outlet=lemonde") for m in messages(caplog, logging.WARNING))
    assert last_alert_at(db) == AT


def test_command_running_too_long_is_killed(db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(alerts, "COMMAND_TIMEOUT", 0.5)
    command = (sys.executable, "-c", "import time; time.sleep(30)")
    sent = send_alerts(db, AlertsConfig(command=command), [FAILING], now=NOW)
    assert sent[0]["delivered"]["command"] == "timeout after 0.5s"


def test_webhook_and_command_together(
    db: sqlite_utils.Database, webhook: Webhook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUT", str(tmp_path / "alert.txt"))
    cfg = AlertsConfig(webhook=webhook.url, command=WRITE_STDIN_AND_STATE)
    sent = send_alerts(db, cfg, [BACK_OK], now=NOW)
    assert sent[0]["delivered"] == {"log": True, "webhook": "ok", "command": "ok"}
    assert len(webhook.received) == 1
    assert (tmp_path / "alert.txt").read_text().endswith("ok")


# --- with update_health -------------------------------------------------------------------------


def test_repeated_failures_alert_once_then_once_per_remind_after(
    db: sqlite_utils.Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = Config(
        path=tmp_path / "newsmon.toml", storage=StorageConfig(database=tmp_path / "newsmon.db"),
        crawl=CrawlConfig(), schedule=ScheduleConfig(), outlets=(Outlet(id="lemonde", name="Le Monde"),),
        health=HealthConfig(failing_after=2), alerts=AlertsConfig(remind_after=6 * 3600),
    )
    with write_transaction(db):
        db.execute("DELETE FROM outlet_health")
    sent: list[dict[str, Any]] = []
    for hour in range(20):  # a failed run every hour
        started = NOW + timedelta(hours=hour)
        with write_transaction(db):
            db["crawl_runs"].insert({
                "run_id": f"r{hour}", "outlet_id": "lemonde", "status": "failed", "errors": '{"refused": 1}',
                "started_at": iso(started), "finished_at": iso(started + timedelta(minutes=1)),
            })
        now = started + timedelta(minutes=2)
        sent += send_alerts(db, config.alerts, update_health(db, config, ["lemonde"], now), now=now)
    assert [(a["kind"], a["new_state"], a["at"][11:16]) for a in sent] == [
        ("change", "degraded", "12:02"),
        ("change", "failing", "13:02"),
        ("reminder", "failing", "19:02"),
        ("reminder", "failing", "01:02"),
        ("reminder", "failing", "07:02"),
    ]
    assert len(messages(caplog, logging.WARNING)) == 5
