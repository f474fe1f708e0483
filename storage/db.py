"""The one place that opens database connections."""

from __future__ import annotations

import contextlib
import logging
import os
import resource
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

#: Seconds a connection waits for another process's write lock before "database is locked".
DEFAULT_BUSY_TIMEOUT = 15.0
_busy_timeout = DEFAULT_BUSY_TIMEOUT


#: Per connection, for an archive of a million articles (bench/archive_scale.py). SQLite's default
#: page cache (2 MiB) holds a few hundred pages: a full-text search reads the doclists and the
#: filter indexes, and an insert touches the B-tree pages of several random keys (URLs, LSH
#: bands), so at 1M articles most page reads missed it. The cache is allocated as used, up to
#: the limit. Memory-mapped reads skip a copy per page; the mapping is address space, not
#: memory. Sorts and the temporary sets of a filtered search stay in memory.
PERFORMANCE_PRAGMAS = (
    "cache_size = -65536",  # KiB: 64 MiB
    "mmap_size = 1073741824",  # 1 GiB
    "temp_store = MEMORY",
)


def set_busy_timeout(seconds: float) -> None:
    """The busy timeout of the connections this process opens from now on ([storage] busy_timeout).

    Process-wide, because every part of a crawl (the spider, the pipelines, the run recorder) opens
    its own connection with open_database and knows only the path.
    """
    global _busy_timeout  # noqa: PLW0603 - one setting per process, set where the config is read
    _busy_timeout = float(seconds)


def busy_timeout() -> float:
    return _busy_timeout


def utcnow() -> str:
    """Now as stored: ISO 8601 UTC to the second, with a Z."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def open_database(path: str | Path, *, create: bool = True, migrate: bool = True) -> sqlite_utils.Database:
    """Open (and by default create and migrate) the newsmon database at `path`.

    WAL lets readers (search, Datasette) work while a crawl writes; the busy timeout lets a one-off
    crawl and the service share the file; foreign keys keep article URLs tied to their article.
    A database that is locked, read-only, full or corrupt raises StorageError saying so in plain
    words (see `database_problem`).
    """
    path = Path(path)
    if not create and not path.exists():
        raise NotFoundError(f"no database at {path}: run `newsmon crawl` (or `newsmon demo`) first")
    conn = None
    try:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        timeout = busy_timeout()
        conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None)
        db = sqlite_utils.Database(conn)
        db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        db.execute("PRAGMA foreign_keys = ON")
        if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        for pragma in PERFORMANCE_PRAGMAS:
            db.execute(f"PRAGMA {pragma}")
        if migrate and migrations.pending(db):
            migrate_database(db, path)
    except (sqlite3.Error, OSError) as exc:
        if conn is not None:
            conn.close()
        problem = database_problem(exc, path) if isinstance(exc, sqlite3.Error) else None
        raise StorageError(problem or f"cannot open database {path}: {exc}") from exc
    return db


def problem_kind(exc: BaseException, path: str | Path) -> str | None:
    """Why `exc` says the database file cannot be used: locked, read_only, read_only_folder, full,
    io_error, corrupt or cannot_open. None for other errors (a bug in a query, a constraint)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if not isinstance(exc, sqlite3.Error) or not name:
        return None
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return "locked"
    if name == "SQLITE_READONLY_DIRECTORY":
        return "read_only_folder"
    if name.startswith("SQLITE_READONLY") or name == "SQLITE_PERM":
        return "read_only"
    if name == "SQLITE_FULL" or (name.startswith("SQLITE_IOERR") and _no_room(Path(path))):
        return "full"
    if name.startswith("SQLITE_IOERR"):
        return "io_error"
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return "corrupt"
    if name.startswith("SQLITE_CANTOPEN"):
        return "cannot_open"
    return None


def database_problem(exc: BaseException, path: str | Path) -> str | None:
    """What is wrong with the database file, in plain words, when `exc` says it cannot be used
    (see `problem_kind`); None for other errors."""
    kind = problem_kind(exc, path)
    path = Path(path)
    messages = {
        "locked": f"database is locked by another process (waited {busy_timeout():g} s): {path}",
        # A WAL database is read through its -shm file: even a reader must be able to create it.
        "read_only_folder": (f"database is read-only: {path}: its folder is not writable, and SQLite needs "
                             f"to create {path.name}-shm there to read a WAL database"),
        "read_only": f"database is read-only: {path}",
        "full": f"disk full or file too large writing {path}",
        "io_error": f"disk I/O error on {path} ({getattr(exc, 'sqlite_errorname', '')})",
        "corrupt": f"database is corrupt or not a newsmon database: {path}",
        "cannot_open": f"cannot open database file {path} (missing folder, or no permission)",
    }
    return messages.get(kind) if kind else None


def _no_room(path: Path) -> bool:
    """An I/O error while the disk is (nearly) full or a file size limit is set: SQLite reports a
    write that fails with EFBIG (RLIMIT_FSIZE, `ulimit -f`) as a plain I/O error, ENOSPC as SQLITE_FULL."""
    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    if soft != resource.RLIM_INFINITY:
        return True
    try:
        st = os.statvfs(path.parent)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < 1_000_000


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
