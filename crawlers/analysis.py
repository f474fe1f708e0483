"""The CPU-heavy work on one article page: decode -> extract -> language -> fingerprint.

One call per page, run in a worker process (`crawlers/workers.py`) so the reactor keeps
downloading while pages are analysed: trafilatura's extraction is about 90 % of a page's CPU, and
in the reactor thread it halves a crawl's throughput. Plain values in, a picklable `Analysis` out;
each step is a function of its own module (`crawlers.extraction`, `crawlers.language`,
`storage.similarity`), composed here so a page costs one round trip to a worker, not three.
"""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from crawlers.extraction import PageExtraction, decode_page, extract_page, warm_up
from crawlers.language import LanguageResult, detect_language
from storage.dedup import content_hash
from storage.similarity import default_hasher, default_probe, signature

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PageSettings:
    """What an outlet's config changes in the analysis of its pages."""

    exclude_xpaths: tuple[str, ...] = ()
    timezone: str | None = None
    language: str | None = None  # the hint, used only when detection is unsure


@dataclass
class Analysis:
    encoding: str = ""
    #: Why the HTTP charset was not believed ("" when it was): see `decode_page`.
    mismatch: str = ""
    extraction: PageExtraction | None = None  # None: no article text
    language: LanguageResult | None = None
    content_hash: str | None = None
    signature: bytes | None = None  # MinHash values; None when the text is too short
    shingles: int | None = None
    #: `MinHasher.probe` of the hasher that computed `signature`: the store checks it against the
    #: index's parameters without building a hasher of its own.
    probe: str = ""
    #: CPU seconds per step, measured in the process that ran it.
    cpu: dict[str, float] = field(default_factory=dict)
    #: The traceback of an unexpected failure (the page is then dropped and counted).
    error: str | None = None


def analyse_page(body: bytes, content_type: str | None, url: str, settings: PageSettings,
                 hints: dict[str, Any] | None = None) -> Analysis:
    """Analyse one fetched page; never raises (a failure is returned in `error`)."""
    if not _warm:
        # In the worker that gets the first page, not at start: a crawl that finds nothing new
        # (the common case of a frequent recrawl) never pays for it.
        warm_up_analysis()
    result = Analysis(probe=default_probe())
    clock = time.process_time
    started = clock()
    try:
        decoded = decode_page(body, content_type)
        result.encoding, result.mismatch = decoded.encoding, decoded.mismatch
        result.extraction = extract_page(decoded.text, url, exclude_xpaths=settings.exclude_xpaths, hints=hints,
                                         timezone=settings.timezone)
        now = clock()
        result.cpu["extract"], started = now - started, now
        if result.extraction is None:
            return result
        text = result.extraction.text
        result.language = detect_language(text, settings.language)
        now = clock()
        result.cpu["language"], started = now - started, now
        result.content_hash = content_hash(text)
        sig = signature(text)
        if sig is not None:
            result.signature, result.shingles = sig.to_bytes(), sig.shingles
        result.cpu["fingerprint"] = clock() - started
    except Exception:  # noqa: BLE001 - one bad page must never stop the crawl
        result.error = traceback.format_exc()
    return result


_warm = False


def warm_up_analysis() -> None:
    """Build every cache the analysis needs before the first page (0.6 s in all): trafilatura's,
    dateparser's language data, langdetect's 55 profiles and the MinHash permutations. Done at
    once, so a page's time is its own."""
    global _warm
    _warm = True
    started = time.perf_counter()
    warm_up()
    detect_language("warm-up text for the language profiles, long enough to be detected")
    default_hasher()
    default_probe()
    logger.debug("analysis warmed up in %.2f s", time.perf_counter() - started)
