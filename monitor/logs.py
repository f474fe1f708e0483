"""Logging set-up for the command line: ours at INFO, Scrapy's and Twisted's at WARNING."""

from __future__ import annotations

import logging
import sys

OUR_LOGGERS = ("crawlers", "monitor", "storage", "newsmon")
THEIR_LOGGERS = ("scrapy", "twisted", "py.warnings", "trafilatura", "htmldate", "courlan", "filelock")

_levels: dict[str, int] = {}


def setup_logging(verbose: int = 0, quiet: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    ours = logging.WARNING if quiet else logging.DEBUG if verbose >= 2 else logging.INFO
    theirs = logging.DEBUG if verbose >= 2 else logging.INFO if verbose else logging.WARNING

    def keep(record: logging.LogRecord) -> bool:
        # Also catches what Scrapy logs in the moment between resetting its levels and apply_levels().
        top = record.name.split(".", 1)[0]
        return record.levelno >= (ours if top in OUR_LOGGERS else theirs)

    handler.addFilter(keep)
    root = logging.getLogger()
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
