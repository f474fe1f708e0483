"""Article URLs listed by a site's sitemaps: robots.txt -> sitemap index -> sitemaps.

Standard library only: bench/peers.py imports it to write trafilatura's URL list, and the
news-please runner imports it inside its measured process, with the peers' venv python
(bench/.peers-venv), which has none of newsmon's dependencies.
"""

from __future__ import annotations

import gzip
import re
import urllib.request
from collections.abc import Iterable

_SITEMAP_LINE = re.compile(r"(?im)^\s*sitemap:\s*(\S+)")
_LOC = re.compile(r"<loc>\s*(?:<!\[CDATA\[)?\s*([^<\s\]]+)")


def _get(url: str, timeout: float) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 (the bench's loopback site)
        data = r.read()
    if data[:2] == b"\x1f\x8b":  # a .xml.gz sitemap
        data = gzip.decompress(data)
    return str(data.decode("utf-8", "replace"))


def sitemap_urls(homepages: Iterable[str], timeout: float = 30.0) -> list[str]:
    """The page URLs listed by each homepage's sitemaps, in order, without duplicates.

    The sitemaps are the ``Sitemap:`` lines of the host's robots.txt (or ``/sitemap.xml`` when
    there are none); a sitemap index is followed to its sitemaps, each fetched once.
    """
    urls: list[str] = []
    for home in homepages:
        root = home.rstrip("/")
        todo = _SITEMAP_LINE.findall(_get(root + "/robots.txt", timeout)) or [root + "/sitemap.xml"]
        seen: set[str] = set()
        while todo:
            sitemap = todo.pop(0)
            if sitemap in seen:
                continue
            seen.add(sitemap)
            xml = _get(sitemap, timeout)
            locs = _LOC.findall(xml)
            if "<sitemapindex" in xml:
                todo += locs
            else:
                urls += locs
    return list(dict.fromkeys(urls))
