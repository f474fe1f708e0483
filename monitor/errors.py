"""Errors of the command line and the configuration."""

from __future__ import annotations

from storage.errors import NewsmonError, NotFoundError, QueryError, StorageError

__all__ = ["ConfigError", "CrawlError", "NewsmonError", "NotFoundError", "QueryError", "StorageError"]


class ConfigError(NewsmonError):
    """Raised if the configuration file is missing, is not TOML, or breaks the schema.

    The message names the file, the outlet (when the error is inside one) and the key.
    The command line exits with status 2 on it.
    """

    def __init__(self, path: object, message: str, *, outlet: str | None = None, key: str | None = None):
        self.path = str(path)
        self.outlet = outlet
        self.key = key
        self.reason = message
        where = self.path
        if outlet is not None:
            where += f": outlet {outlet}"
        if key is not None:
            where += f": key '{key}'"
        super().__init__(f"{where}: {message}")


class CrawlError(NewsmonError):
    """Raised if a crawl could not run at all (not if single outlets failed: those are recorded)."""
