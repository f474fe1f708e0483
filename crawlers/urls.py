"""URL canonicalisation: pure functions, no Scrapy.

w3lib does the normalisation (lower-case scheme and host, default port, percent-encoding, sorted
query, no fragment); courlan's tracker list decides which query parameters are tracking noise.
"""

from __future__ import annotations

from urllib.parse import unquote_plus, urlsplit, urlunsplit

from courlan.clean import TRACKERS_RE
from w3lib.url import canonicalize_url

# Seen on news sites and not all in courlan's list.
_EXTRA_TRACKERS = frozenset({"amp_js_v", "amp_gsa", "usqp", "at_medium", "at_campaign", "ocid", "cmpid", "smid"})


def is_tracking_param(name: str) -> bool:
    name = name.lower()
    return name in _EXTRA_TRACKERS or bool(TRACKERS_RE.search(name))


def canonical_url(url: str) -> str:
    """Canonical form of `url`: lower-case host, no fragment, no tracking parameters, sorted query.

    Idempotent, and never raises on a string: a URL it cannot parse, or one without a host,
    comes back stripped and otherwise unchanged.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        if not parts.hostname:
            return url
        # Pairs are filtered as they are, not decoded and encoded again: a value in another
        # encoding than UTF-8 (`?q=%E9`) must keep its bytes. w3lib sorts and normalises them.
        query = "&".join(
            pair for pair in parts.query.split("&") if pair and not is_tracking_param(unquote_plus(pair.split("=", 1)[0]))
        )
        cleaned = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, ""))
        return canonicalize_url(cleaned, keep_fragments=False)
    except ValueError:
        return url


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
