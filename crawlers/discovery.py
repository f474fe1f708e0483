"""Finding article URLs: feeds, sitemaps and listing pages. Pure functions, no Scrapy.

feedparser reads RSS and Atom (and survives broken XML); sitemaps are read with lxml with entity
resolution and network access off. A feed or sitemap that declares XML entities is refused
unread (`declares_entities`). `looks_like_article` is the heuristic used when an outlet
gives no `article_url_pattern`.
"""

from __future__ import annotations

import calendar
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urljoin, urlsplit

import feedparser
from lxml import etree

if TYPE_CHECKING:
    from crawlers.outlets import Outlet

logger = logging.getLogger(__name__)

# Channels an article can be found through; stored in articles.found_via.
FEED, SITEMAP, NEWS_SITEMAP, HOMEPAGE = "feed", "sitemap", "news-sitemap", "homepage"


@dataclass
class Link:
    url: str
    channel: str
    hints: dict[str, Any] = field(default_factory=dict)  # title, author, *_published_at from the source


@dataclass
class FeedResult:
    links: list[Link]
    malformed: str | None = None  # why the feed gave nothing: feedparser's complaint, or not a feed
    damaged: str | None = None  # feedparser's complaint about a broken feed that still gave entries
    refused: bool = False  # refused unread (it declares XML entities)


def _struct_to_iso(value: Any) -> str | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC).isoformat().replace("+00:00", "Z")
    except (TypeError, ValueError, OverflowError):
        return None


def absolute_http_url(base: str, link: str) -> str | None:
    """`link` made absolute against `base`, if that gives an http(s) URL with a host and a valid
    port; None for anything else (javascript:, mailto:, ftp:, data:, a broken IPv6 literal...)."""
    link = link.strip()
    if not link:  # urljoin would give `base` itself
        return None
    try:
        url = urljoin(base, link)
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number in 0-65535
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return url


#: A document type whose internal subset declares entities: the "billion laughs" expansion bomb
#: (internal entities) and XXE (an external entity that reads a local file or a URL). No feed or
#: sitemap needs one, so such a document is refused whole before any XML parser sees it.
ENTITIES_REFUSED = "declares XML entities (entity expansion or external entity): refused"


def declares_entities(body: bytes) -> bool:
    """True if the document's DOCTYPE internal subset (`<!DOCTYPE x [ ... ]>`) declares an entity."""
    head = body[: 1 << 20]
    start = head.find(b"<!DOCTYPE")
    if start < 0:
        return False
    end = head.find(b"]>", start)
    return b"<!ENTITY" in head[start : end if end >= 0 else len(head)]


_CHARREF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));")


def _valid_charrefs(body: bytes) -> bytes:
    """`body` with each numeric character reference that names no character (a surrogate, as
    buggy encoders write emoji: `&#55357;&#56832;`, or a number beyond U+10FFFF) made U+FFFD.
    feedparser's fallback parser raises on them, which lost the whole feed."""

    def repair(match: re.Match[bytes]) -> bytes:
        digits = match.group(1) or match.group(2)
        if len(digits) > 8:
            return b"&#xFFFD;"
        code = int(digits, 16) if match.group(1) else int(digits)
        return b"&#xFFFD;" if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF else match.group(0)

    return _CHARREF.sub(repair, body) if b"&#" in body else body


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> FeedResult:
    """Entries of an RSS/Atom feed as links with the feed's title, author and dates as hints."""
    if declares_entities(body):
        return FeedResult([], ENTITIES_REFUSED, refused=True)
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    try:
        parsed = feedparser.parse(
            _valid_charrefs(body), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
        )
    except (ValueError, OverflowError) as exc:  # feedparser's loose parser on what we did not repair
        logger.debug("feedparser failed feed=%s error=%r", url, exc)
        return FeedResult([], f"unreadable feed: {exc}")
    problem = None
    if parsed.bozo:
        problem = str(parsed.get("bozo_exception") or "malformed feed")
    links: list[Link] = []
    for entry in parsed.entries:
        link = entry.get("link") or next(
            (lk.get("href") for lk in entry.get("links", []) if lk.get("rel") in (None, "alternate")), None
        )
        link = absolute_http_url(url, link) if isinstance(link, str) else None
        if not link:
            logger.debug("feed entry without a usable http(s) link feed=%s", url)
            continue
        hints = {
            "title": entry.get("title") or None,
            "author": entry.get("author") or None,
            "feed_published_at": _struct_to_iso(entry.get("published_parsed")),
            # dict.get, not entry.get: FeedParserDict falls back from updated to published (with a
            # DeprecationWarning), which would invent a modification date the feed never gave.
            "feed_updated_at": _struct_to_iso(dict.get(entry, "updated_parsed")),
        }
        links.append(Link(link, FEED, {k: v for k, v in hints.items() if v}))
    if not links and problem is None and not parsed.get("version"):
        problem = "not a feed (no RSS or Atom root element)"
    # A broken feed that still gave entries is usable: its links are followed, and the problem is
    # reported as `damaged` (counted, not an error); one that gave nothing is `malformed`.
    if links:
        return FeedResult(links, damaged=problem)
    return FeedResult(links, problem)


_SAFE_XML = etree.XMLParser(
    resolve_entities=False, no_network=True, recover=True, remove_comments=True, remove_pis=True, huge_tree=False
)


@dataclass
class SitemapResult:
    kind: str  # urlset | sitemapindex | unknown | refused (it declares XML entities)
    sitemaps: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def parse_sitemap(body: bytes, url: str) -> SitemapResult:
    """A sitemap, sitemap index or Google News sitemap (news:publication_date, news:title)."""
    if declares_entities(body):
        return SitemapResult("refused")
    try:
        root = etree.fromstring(body, parser=_SAFE_XML)
    except etree.XMLSyntaxError:
        root = None
    if root is None:
        return SitemapResult("unknown")
    kind = _local(root.tag)
    result = SitemapResult(kind if kind in ("urlset", "sitemapindex") else "unknown")
    for el in root:
        name = _local(el.tag)
        if name not in ("url", "sitemap"):
            continue
        fields: dict[str, Any] = {}
        news: dict[str, str] = {}
        for child in el:
            cname = _local(child.tag)
            if cname == "news":
                for n in child.iter():
                    nname = _local(n.tag)
                    if nname in ("publication_date", "title") and n.text:
                        news[nname] = n.text.strip()
            elif child.text:
                fields[cname] = child.text.strip()
        loc = absolute_http_url(url, fields.get("loc") or "")
        if not loc:
            continue
        if name == "sitemap":
            result.sitemaps.append(loc)
        elif news:
            hints = {"title": news.get("title"), "news_published_at": news.get("publication_date")}
            result.links.append(Link(loc, NEWS_SITEMAP, {k: v for k, v in hints.items() if v}))
        else:
            result.links.append(Link(loc, SITEMAP, {"lastmod": fields["lastmod"]} if "lastmod" in fields else {}))
    return result


# Path segments of pages that are not articles: navigation, tags, people, media, services.
NOT_ARTICLE_SEGMENTS = frozenset(
    """tag tags tagged topic topics theme themes author authors auteur auteurs autor autoren autores
    video videos video-gallery photo photos foto fotos gallery galleries galerie galeria diaporama
    podcast podcasts audio live-tv tv radio emission emissions sendung search recherche suche buscar
    login signin register account abonnement abo subscribe newsletter newsletters contact kontakt
    contacto about impressum mentions-legales legal privacy datenschutz cookies cgu terms rss feed
    feeds page pages archive archives archiv wp-admin wp-login cdn-cgi static assets""".split()
)
MEDIA_EXTENSIONS = re.compile(
    r"\.(jpe?g|png|gif|webp|svg|ico|mp[34]|m4a|webm|avi|mov|pdf|zip|gz|xml|rss|atom|json|js|css|woff2?)$", re.I
)
_DATE_IN_PATH = re.compile(r"/(19|20)\d{2}[/-]\d{1,2}(?:[/-]\d{1,2})?(?=[/-])|(19|20)\d{6}")
_NUMERIC_ID = re.compile(r"\d{5,}")


def _page_path(url: str) -> tuple[str, list[str]] | None:
    """The decoded path and its lower-case segments; None when the URL cannot be parsed or names
    a media file (image, audio, video, PDF, feed, script)."""
    try:
        path = unquote(urlsplit(url).path)
    except ValueError:
        return None
    if MEDIA_EXTENSIONS.search(path):
        return None
    return path, [s for s in path.lower().split("/") if s]


def _under_nav(segments: list[str]) -> bool:
    return any(s in NOT_ARTICLE_SEGMENTS for s in segments)


def looks_like_article(url: str) -> bool:
    """Heuristic: a long multi-word slug, a date in the path, or a long numeric id; never a nav page."""
    parsed = _page_path(url)
    if parsed is None:
        return False
    path, segments = parsed
    if not segments or _under_nav(segments):
        return False
    slug = re.sub(r"\.(s?html?|php|aspx?)$", "", segments[-1])
    words = [w for w in re.split(r"[-_]+", slug) if re.search(r"[^\W\d]", w)]
    if len(words) >= 3 and len(slug) >= 15:
        return True
    return bool(_DATE_IN_PATH.search(path) or _NUMERIC_ID.search(slug)) and len(segments) >= 2


def is_listing(url: str) -> bool:
    """A page worth reading for more article links (a section front), not nav/tag/author/media."""
    parsed = _page_path(url)
    return parsed is not None and not _under_nav(parsed[1])


def is_article_url(url: str, outlet: Outlet, channel: str) -> bool:
    """Should this link be fetched as an article? The outlet's pattern decides when it has one.

    Feed and news-sitemap entries are articles by nature (only media files are dropped); plain
    sitemap entries and homepage links must also look like articles.
    """
    if outlet.article_regex is not None:
        return bool(outlet.article_regex.search(url))
    if channel in (FEED, NEWS_SITEMAP):
        # What a feed lists is meant as an article, even under /video/: fetch it, and a page
        # without text is counted as no_text, so the analyst sees it, rather than dropped unseen.
        return _page_path(url) is not None
    return looks_like_article(url)
