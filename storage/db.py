"""The one place that opens database connections."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import sqlite_utils

from storage.errors import NotFoundError, StorageError
from storage.schema import migrations

if TYPE_CHECKING:
    from collections.abc import Iterator

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 15_000


def utcnow() -> str:
    """Now as stored: ISO 8601 UTC to the second, with a Z."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def open_database(path: str | Path, *, create: bool = True, migrate: bool = True) -> sqlite_utils.Database:
    """Open (and by default create and migrate) the newsmon database at `path`.

    WAL lets readers (search, Datasette) work while a crawl writes; the busy timeout lets a one-off
    crawl and the service share the file; foreign keys keep article URLs tied to their article.
    """
    path = Path(path)
    if not create and not path.exists():
        raise NotFoundError(f"no database at {path}: run `newsmon crawl` (or `newsmon demo`) first")
    try:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        db = sqlite_utils.Database(conn)
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db.execute("PRAGMA foreign_keys = ON")
        if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        if migrate and migrations.pending(db):
            migrate_database(db, path)
    except (sqlite3.Error, OSError) as exc:
        raise StorageError(f"cannot open database {path}: {exc}") from exc
    return db


def migrate_database(db: sqlite_utils.Database, path: Path) -> None:
    """Apply pending migrations under the write lock.

    Two processes opening a new database at once (a crawl and the service) would otherwise both
    find m001 pending and the second would fail on "table already exists". Holding BEGIN IMMEDIATE,
    the second waits, then finds nothing pending. sqlite-utils' atomic() nests as savepoints.
    """
    with write_transaction(db):
        pending = migrations.pending(db)
        if pending:
            logger.info("migrating database=%s migrations=%s", path, ",".join(m.name for m in pending))
            migrations.apply(db)


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """A write transaction that takes the write lock up front (BEGIN IMMEDIATE).

    sqlite-utils' `atomic()` starts a deferred transaction: two writers that both read first and
    then write can deadlock, and SQLite fails one at once instead of waiting the busy timeout.
    Taking the lock first makes a concurrent `newsmon crawl` and service wait for each other.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.execute("ROLLBACK")
        raise
    else:
        db.execute("COMMIT")


def schema_version(db: sqlite_utils.Database) -> list[str]:
    """Names of the applied migrations, oldest first."""
    return [m.name for m in migrations.applied(db)]
