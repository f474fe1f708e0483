"""Logging set-up for the command line, the service and its crawl processes.

Ours at INFO, Scrapy's, Twisted's and APScheduler's at WARNING. Text for people (stderr), or one
JSON object per line for log collectors (`--log-format json`); `--log-file` appends to a file,
which the service's crawl processes share.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

OUR_LOGGERS = ("crawlers", "monitor", "storage", "newsmon")
THEIR_LOGGERS = (
    "scrapy", "twisted", "py.warnings", "trafilatura", "htmldate", "courlan", "filelock", "apscheduler",
)
LOG_FORMATS = ("text", "json")

_levels: dict[str, int] = {}
#: Attributes every LogRecord has: anything else was passed in `extra` and goes into the JSON.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (UTC), level, logger, message, pid, and any `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class ContextFilter(logging.Filter):
    """Adds fixed fields (a crawl process's run id) to every record."""

    def __init__(self, **fields: Any):
        super().__init__()
        self.fields = fields

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in self.fields.items():
            setattr(record, key, value)
        return True


def setup_logging(
    verbose: int = 0,
    quiet: bool = False,
    *,
    log_format: str = "text",
    log_file: str | Path | None = None,
    context: dict[str, Any] | None = None,
) -> None:
    if log_file is not None:
        path = Path(log_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")  # appends
    else:
        handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
        if log_file is not None:  # a file outlives the day and is shared by several processes
            handler.setFormatter(logging.Formatter(f"%(asctime)s [{os.getpid()}] " + fmt.split(" ", 1)[1]))
        else:
            handler.setFormatter(logging.Formatter(fmt, "%H:%M:%S"))
    ours = logging.WARNING if quiet else logging.DEBUG if verbose >= 2 else logging.INFO
    theirs = logging.DEBUG if verbose >= 2 else logging.INFO if verbose else logging.WARNING

    def keep(record: logging.LogRecord) -> bool:
        # Also catches what Scrapy logs in the moment between resetting its levels and apply_levels().
        top = record.name.split(".", 1)[0]
        return record.levelno >= (ours if top in OUR_LOGGERS else theirs)

    handler.addFilter(keep)
    if context:
        handler.addFilter(ContextFilter(**context))
    root = logging.getLogger()
    for old in root.handlers:
        old.close()
    root.handlers[:] = [handler]
    root.setLevel(min(ours, theirs))
    _levels.clear()
    _levels.update({name: ours for name in OUR_LOGGERS})
    _levels.update({name: theirs for name in THEIR_LOGGERS})
    apply_levels()


def apply_levels() -> None:
    """(Re)apply our levels: Scrapy's configure_logging() resets its loggers when a crawl starts."""
    for name, level in _levels.items():
        logging.getLogger(name).setLevel(level)
