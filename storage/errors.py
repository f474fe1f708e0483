"""The exception base of newsmon, and `did_you_mean` for the messages of its errors.

It lives in `storage` because `storage` imports nothing else of ours, and every other package may
import it. Only `monitor/cli.py` turns these into command-line errors.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable


class NewsmonError(Exception):
    """Base of every error newsmon raises on purpose, with a message meant for the user."""


class StorageError(NewsmonError):
    """Raised if the database cannot be opened, migrated or written (locked, read-only, full, corrupt)."""


class QueryError(NewsmonError):
    """Raised if a read command gets input it cannot use: a malformed search query, a bad date."""


class NotFoundError(NewsmonError):
    """Raised if an article, outlet or run named by the user does not exist."""


def did_you_mean(word: object, known: Iterable[str]) -> str:
    """"; did you mean 'x'?" for the closest of `known` to a misspelt `word`, else "": the tail of
    a message about an unknown key, outlet or the like."""
    matches = difflib.get_close_matches(str(word), sorted(known), n=1, cutoff=0.6)
    return f"; did you mean {matches[0]!r}?" if matches else ""
