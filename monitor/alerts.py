"""Alerts on outlet health transitions (see monitor/health.py for when there is one).

Each alert is always logged (logger "monitor.alerts": WARNING when the outlet turned degraded or
failing, INFO when it is back to ok), then, when configured, delivered:

- POSTed as JSON to `[alerts].webhook` (a 2xx answer is success; redirects are not followed, so
  the body is never re-sent elsewhere or dropped by a POST -> GET rewrite);
- given as JSON on stdin to `[alerts].command` (an argv, no shell), with the service's environment
  plus NEWSMON_OUTLET, NEWSMON_OLD_STATE, NEWSMON_NEW_STATE, NEWSMON_REASON and NEWSMON_ALERT_KIND.

A delivery failure is logged as a warning and recorded; it never raises, so a broken webhook cannot
stop the service. Every alert is then recorded in the `alerts` table and sets
`outlet_health.last_alert_at`, in one write transaction taken after delivery: the write lock is
never held during network I/O or while a command runs.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import subprocess
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from storage.db import write_transaction

if TYPE_CHECKING:
    from collections.abc import Iterable

    import sqlite_utils

    from monitor.config import AlertsConfig
    from monitor.health import Transition

__all__ = ["send_alerts"]

logger = logging.getLogger(__name__)

#: Seconds to wait for the webhook's answer.
WEBHOOK_TIMEOUT = 10
#: Seconds the alert command may run before it is killed.
COMMAND_TIMEOUT = 30
#: States logged as WARNING; the others (back to ok) as INFO.
BAD_STATES = frozenset({"degraded", "failing"})
#: Characters of a failing command's stderr kept in the log line.
STDERR_TAIL = 500


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Turn a redirect into an HTTPError: a webhook that moved is a configuration error."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def send_alerts(
    db: sqlite_utils.Database,
    cfg: AlertsConfig,
    transitions: Iterable[Transition],
    *,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Log, deliver and record one alert per transition; return the alerts sent.

    Each returned dict is the JSON payload (outlet, old_state, new_state, reason, kind, at,
    service) plus `delivered`: {"log": true, "webhook": "ok" | "error: ...", "command": "ok" |
    "exit 3" | ...}, with a key only for the channels configured.
    """
    at = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    at = at.replace("+00:00", "Z")
    sent: list[dict[str, Any]] = []
    for t in transitions:
        payload = {
            "outlet": t.outlet_id,
            "old_state": t.old_state,
            "new_state": t.new_state,
            "reason": t.reason,
            "kind": t.kind,
            "at": at,
            "service": "newsmon",
        }
        _log(t)
        delivered: dict[str, Any] = {"log": True}
        body = json.dumps(payload, ensure_ascii=False)
        if cfg.webhook:
            delivered["webhook"] = _post(cfg.webhook, body, t.outlet_id)
        if cfg.command:
            delivered["command"] = _run(cfg.command, body, t)
        sent.append({**payload, "delivered": delivered})
    if sent:
        _record(db, sent)
    return sent


def _log(t: Transition) -> None:
    level = logging.WARNING if t.new_state in BAD_STATES else logging.INFO
    if t.kind == "reminder":
        logger.log(
            level, "outlet still %s (reminder) outlet=%s reason=%s", t.new_state, t.outlet_id, t.reason
        )
    else:
        logger.log(
            level,
            "outlet state changed outlet=%s old=%s new=%s reason=%s",
            t.outlet_id, t.old_state, t.new_state, t.reason,
        )


def _post(url: str, body: str, outlet_id: str) -> str:
    """POST `body` to the webhook; "ok" or "error: ..." (logged as a warning)."""
    if urlsplit(url).scheme not in ("http", "https"):
        result = f"error: unsupported URL scheme {urlsplit(url).scheme!r}"
    else:
        request = urllib.request.Request(
            url,
            data=body.encode("utf-8"),
            headers={"Content-Type": "application/json", "User-Agent": "newsmon"},
            method="POST",
        )
        try:
            with _opener.open(request, timeout=WEBHOOK_TIMEOUT) as response:
                status = response.status
            result = "ok" if 200 <= status < 300 else f"error: HTTP {status}"
        except urllib.error.HTTPError as exc:
            exc.close()  # it holds the response; an unclosed one warns when collected
            result = f"error: HTTP {exc.code}"
        except urllib.error.URLError as exc:
            result = f"error: {exc.reason}"
        # A timeout while reading, a garbled answer (BadStatusLine), a malformed URL.
        except (OSError, http.client.HTTPException, ValueError) as exc:
            result = f"error: {exc!r}" if not str(exc) else f"error: {exc}"
    if result != "ok":
        # Only the host: webhook paths often carry a secret token (Slack, Mattermost, ntfy).
        parts = urlsplit(url)
        host = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
        logger.warning("alert webhook failed outlet=%s host=%s %s", outlet_id, host, result)
    return result


def _run(command: tuple[str, ...], body: str, t: Transition) -> str:
    """Run the alert command with `body` on stdin; "ok", "exit N", "timeout" or "error: ..."."""
    env = os.environ | {
        "NEWSMON_OUTLET": t.outlet_id,
        "NEWSMON_OLD_STATE": t.old_state or "",
        "NEWSMON_NEW_STATE": t.new_state,
        "NEWSMON_REASON": t.reason or "",
        "NEWSMON_ALERT_KIND": t.kind,
    }
    stderr = ""
    try:
        done = subprocess.run(
            list(command),
            input=body,
            env=env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        result = f"timeout after {COMMAND_TIMEOUT}s"
    except OSError as exc:  # missing executable, not executable
        result = f"error: {exc.strerror or exc}: {command[0]}"
    else:
        result = "ok" if done.returncode == 0 else f"exit {done.returncode}"
        stderr = (done.stderr or "").strip()[-STDERR_TAIL:]
    if result != "ok":
        logger.warning(
            "alert command failed outlet=%s command=%s %s stderr=%r",
            t.outlet_id, command[0], result, stderr,
        )
    return result


def _record(db: sqlite_utils.Database, sent: list[dict[str, Any]]) -> None:
    with write_transaction(db):
        for alert in sent:
            db.execute(
                """INSERT INTO alerts (outlet_id, at, kind, old_state, new_state, reason, delivered)
                   VALUES (?, ?, ?, ?, ?, ?, ?)""",
                [
                    alert["outlet"], alert["at"], alert["kind"], alert["old_state"],
                    alert["new_state"], alert["reason"], json.dumps(alert["delivered"], sort_keys=True),
                ],
            )
            db.execute(
                "UPDATE outlet_health SET last_alert_at = ? WHERE outlet_id = ?",
                [alert["at"], alert["outlet"]],
            )
