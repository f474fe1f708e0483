"""The exception base of newsmon.

It lives in `storage` because `storage` imports nothing else of ours, and every other package may
import it. Only `monitor/cli.py` turns these into command-line errors.
"""

from __future__ import annotations


class NewsmonError(Exception):
    """Base of every error newsmon raises on purpose, with a message meant for the user."""


class StorageError(NewsmonError):
    """Raised if the database cannot be opened, migrated or written (locked, read-only, full, corrupt)."""


class QueryError(NewsmonError):
    """Raised if a read command gets input it cannot use: a malformed search query, a bad date."""


class NotFoundError(NewsmonError):
    """Raised if an article, outlet or run named by the user does not exist."""
