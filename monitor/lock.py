"""One service per database: an exclusive lock on `<database>.service.lock`.

flock is released by the kernel when the process dies, kill -9 included, so a stale lock file
never blocks a restart. The file holds the service's pid and start time for `newsmon status`.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path
from typing import IO, Any

from monitor.errors import NewsmonError
from storage.db import utcnow


class ServiceRunning(NewsmonError):
    """Another service holds the database's lock."""


def lock_path(database: str | Path) -> Path:
    database = Path(database)
    return database.with_name(database.name + ".service.lock")


class ServiceLock:
    def __init__(self, database: str | Path, config_path: str | Path):
        self.path = lock_path(database)
        self.database = Path(database)
        self.config_path = str(config_path)
        self.fh: IO[str] | None = None

    def acquire(self) -> dict[str, Any]:
        """Take the lock or raise ServiceRunning naming the running service."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = self.path.open("a+", encoding="utf-8")
        for attempt in range(5):  # a `newsmon status` holds a shared lock for a moment
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if attempt < 4:
                    time.sleep(0.05)
        else:
            fh.close()
            info = service_info(self.database) or {}
            raise ServiceRunning(
                f"a newsmon service is already running on {self.database} (pid {info.get('pid', '?')}, "
                f"since {info.get('started_at', '?')}): stop it first; `newsmon status` shows it"
            ) from None
        info = {"pid": os.getpid(), "started_at": utcnow(), "host": socket.gethostname(), "config": self.config_path}
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps(info))
        fh.flush()
        self.fh = fh
        return info

    def release(self) -> None:
        if self.fh is not None:
            fcntl.flock(self.fh, fcntl.LOCK_UN)
            self.fh.close()
            self.fh = None


def service_info(database: str | Path) -> dict[str, Any] | None:
    """The running service's {pid, started_at, host, config}, or None when none runs."""
    path = lock_path(database)
    try:
        fh = path.open(encoding="utf-8")
    except FileNotFoundError:
        return None
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                info: dict[str, Any] = json.loads(fh.read() or "{}")
            except ValueError:
                info = {}
            return info or {"pid": None}
        fcntl.flock(fh, fcntl.LOCK_UN)
        return None
