"""Page -> clean article text and metadata. The one function the pipeline and `newsmon extract` call.

Pure and picklable (plain values in, a dataclass out) so it can move to a process pool.
trafilatura does the extraction; we parse the page once, read what trafilatura does not give us
(rel=canonical, dates with their source, JSON-LD author) and then hand it the same tree.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urljoin

import dateparser
import trafilatura
from trafilatura.utils import load_html
from w3lib.encoding import html_to_unicode, http_content_type_encoding

from crawlers.dates import jsonld_objects, resolve_dates

if TYPE_CHECKING:
    from crawlers.outlets import Outlet

logger = logging.getLogger(__name__)

#: Below this many characters of extracted text a page is not an article (a video page with a
#: caption, a gallery, a teaser): counted as "no text", never stored.
MIN_TEXT_CHARS = 250

#: Class names (substrings) of boilerplate found on news pages that trafilatura's own rules let
#: through: share buttons, "read also" and related links, cookie banners, newsletter boxes.
_BOILERPLATE_CLASSES = ("social-share", "share-buttons", "sharing", "read-also", "related", "lire-aussi",
                        "cookie", "consent", "newsletter")

#: That boilerplate, with captions, asides and the word "share" as a class, applied to every
#: outlet before extraction, next to the outlet's own `exclude_xpaths`. One expression, and
#: `[@class]` before the string tests: six expressions, each testing every element of a page,
#: cost 1.5 ms of a 100 KB page against 0.7 ms (bench pages; the same elements are matched).
DEFAULT_PRUNE_XPATHS = [
    "//figcaption | //aside | //*[contains(@id, 'cookie')]"
    " | //*[@class][contains(concat(' ', normalize-space(@class), ' '), ' share ')"
    + "".join(f" or contains(@class, '{name}')" for name in _BOILERPLATE_CLASSES) + "]",
]

TRAFILATURA_OPTIONS: dict[str, Any] = {
    # Measured on a 181-page news benchmark: F1 0.964 vs 0.953 with the defaults, at the same speed.
    "favor_precision": True,
    "include_comments": False,
    # The deduplicate cache is process-wide and would make a long-running service forget text.
    "deduplicate": False,
    "include_tables": True,
    "include_images": False,
    "with_metadata": True,
}


@dataclass
class PageExtraction:
    text: str
    title: str | None = None
    author: str | None = None
    description: str | None = None
    sitename: str | None = None
    image: str | None = None
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    canonical_url: str | None = None  # as the page declares it, absolute, unchecked
    published_at: str | None = None
    modified_at: str | None = None
    date_source: str | None = None
    date_flags: list[str] = field(default_factory=list)


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Bytes -> text the way browsers do: BOM, then the HTTP charset, then <meta>, then a guess."""
    return decode_page(body, content_type).text


class Decoded(NamedTuple):
    text: str
    encoding: str
    #: Why the HTTP charset was not believed ("" when it was, or when there was none).
    mismatch: str


#: Single-byte charsets a server may claim for a page that is really UTF-8 (w3lib's names).
_LEGACY = frozenset({"cp1252", "ascii", "latin_1", "iso8859_15", "cp1250", "cp1251", "iso8859_2"})


def _utf8_or_cp1252(body: bytes) -> str:
    """w3lib's last resort when neither the HTTP header nor a <meta> names a charset."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def decode_page(body: bytes, content_type: str | None = None) -> Decoded:
    """Bytes -> text: BOM, then the HTTP charset, then <meta>, then UTF-8 if it is valid, else
    windows-1252 (what browsers in Western locales fall back to).

    A wrong HTTP charset is common (a server default of ISO-8859-1 in front of UTF-8 pages, or
    UTF-8 claimed for legacy pages), and believing it turns every accent into mojibake. So the
    header is overruled when the bytes prove it wrong: a page that is valid UTF-8 with non-ASCII
    bytes is UTF-8 whatever single-byte charset the header claims (legacy text is practically
    never valid UTF-8), and a page that is not valid UTF-8 under a UTF-8 header is decoded by its
    <meta> charset or the fallback. `mismatch` says so, for the crawl's counters.
    """
    encoding, text = html_to_unicode(content_type, body, auto_detect_fun=_utf8_or_cp1252)
    header = http_content_type_encoding(content_type) if content_type else None
    if not header or encoding != header or body.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return Decoded(text, encoding, "")
    if header in _LEGACY and not body.isascii() and _utf8_or_cp1252(body) == "utf-8":
        return Decoded(body.decode("utf-8"), "utf-8", f"HTTP charset {header}, content UTF-8")
    if header == "utf-8" and _utf8_or_cp1252(body) != "utf-8":
        encoding, text = html_to_unicode(None, body, auto_detect_fun=_utf8_or_cp1252)
        if encoding != "utf-8":
            return Decoded(text, encoding, f"HTTP charset utf-8, content {encoding}")
    return Decoded(text, encoding, "")


#: The first bytes of formats that are never an HTML page.
_BINARY_MAGIC = (b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"%PDF", b"PK\x03\x04", b"\x1f\x8b", b"RIFF", b"OggS",
                 b"ID3", b"BZh", b"\xfd7zXZ", b"Rar!", b"7z\xbc\xaf", b"\x00asm", b"wOFF", b"wOF2")


def looks_binary(body: bytes, content_type: str | None = None) -> bool:
    """True for a body that is not text whatever its Content-Type says: an image, an archive, a
    PDF, or NUL bytes early on (UTF-16 text has NULs too: a BOM or a utf-16/32 charset exempts it)."""
    head = body[:1024]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or "utf-16" in (content_type or "").lower() \
            or "utf-32" in (content_type or "").lower():
        return False
    return head.startswith(_BINARY_MAGIC) or head[4:8] == b"ftyp" or b"\x00" in head


def declared_canonical(tree: Any, url: str) -> str | None:
    candidates = [
        *tree.xpath("//link[contains(concat(' ', normalize-space(@rel), ' '), ' canonical ')]/@href"),
        *tree.xpath("//meta[@property='og:url']/@content"),
    ]
    for value in candidates:
        if value.strip():
            try:
                return urljoin(url, value.strip())
            except ValueError:  # "http://[::1": unparseable, try the next one
                continue
    return None


def extract_page(
    html: str | bytes,
    url: str,
    *,
    exclude_xpaths: tuple[str, ...] | list[str] = (),
    hints: dict[str, Any] | None = None,
    timezone: str | None = None,
) -> PageExtraction | None:
    """Extract one article page; None when the page holds no article text.

    `hints` carries what a feed or sitemap said about the page (title, author, dates); it fills
    the gaps the page leaves, never overrides the page.
    """
    hints = hints or {}
    if isinstance(html, bytes):
        html = decode_html(html)
    tree = load_html(html)
    if tree is None:
        return None
    # Read what trafilatura does not give before handing it the tree, which it prunes in place.
    canonical = declared_canonical(tree, url)
    try:
        ld_author = _jsonld_author(tree)
        dates = resolve_dates(tree, url, hints=hints, tz=timezone)
    except RecursionError:
        # JSON-LD nested thousands of levels deep (hostile or broken) overflows the JSON reader of
        # crawlers.dates: read the page without its JSON-LD rather than lose the article.
        logger.warning("JSON-LD nested too deeply, ignored url=%s", url)
        for script in tree.xpath('//script[@type="application/ld+json"]'):
            script.drop_tree()
        ld_author = None
        dates = resolve_dates(tree, url, hints=hints, tz=timezone)
    headline = " ".join(" ".join(tree.xpath("(//h1)[1]//text()")).split())
    doc = trafilatura.bare_extraction(
        tree, url=url, prune_xpath=[*DEFAULT_PRUNE_XPATHS, *exclude_xpaths], **TRAFILATURA_OPTIONS
    )
    text = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    text = _drop_leading_title(text, doc.title if doc is not None else None, headline)
    if len(text) < MIN_TEXT_CHARS:
        return None
    if dates.published_at is None and doc.date:
        # Last resort: trafilatura's (htmldate's) search of the visible text.
        fallback = resolve_dates(None, "", extractor_date=doc.date, tz=timezone)
        dates.published_at, dates.date_source = fallback.published_at, fallback.date_source
        dates.flags += fallback.flags
    return PageExtraction(
        text=text,
        title=doc.title or hints.get("title"),
        author=doc.author or ld_author or hints.get("author"),
        description=doc.description,
        sitename=doc.sitename,
        image=doc.image,
        categories=list(doc.categories or []),
        tags=list(doc.tags or []),
        canonical_url=canonical,
        published_at=dates.published_at,
        modified_at=dates.modified_at,
        date_source=dates.date_source,
        date_flags=dates.flags,
    )


def extract_for_outlet(
    html: str, url: str, outlet: Outlet | None, hints: dict[str, Any] | None = None
) -> PageExtraction | None:
    """`extract_page` with an outlet's settings (exclude_xpaths, timezone); the crawl's pipeline,
    `newsmon extract` and `newsmon reextract` all go through here."""
    if outlet is None:
        return extract_page(html, url, hints=hints)
    return extract_page(html, url, exclude_xpaths=outlet.exclude_xpaths, hints=hints, timezone=outlet.timezone)


_WARM_UP_PAGES = (
    "<html><head><title>t</title><meta property='article:published_time' content='2026-11-19T08:30:00'></head>"
    "<body><article><p class='date'>Publié le 19 novembre 2026</p><p>" + "A sentence of text. " * 30 + "</p></article></body></html>",
    "<html><head><title>t</title></head><body><div><p>Only a caption, 19 novembre 2026.</p></div></body></html>",
)


def warm_up() -> None:
    """Run the extractor once on a page with text and once on one without.

    The first calls build trafilatura's caches, load the fallback extractors' stoplists and
    dateparser's language data: 0.1-0.3 s each, which would otherwise block the crawl's reactor
    in the middle of a run.
    """
    for page in _WARM_UP_PAGES:
        extract_page(page, "http://warm-up.invalid/2026/11/19/warm-up-page")
    dateparser.parse("19 novembre 2026 à 18h20")


def _drop_leading_title(text: str, *titles: str | None) -> str:
    """trafilatura keeps the article's <h1> as the first line; the title has its own field.

    `titles` are trafilatura's title (often og:title) and the page's first <h1>, which may differ.
    """
    first, _, rest = text.partition("\n")
    first = " ".join(first.split()).casefold()
    if rest and any(t and first == " ".join(t.split()).casefold() for t in titles):
        return rest.lstrip()
    return text


def _jsonld_author(tree: Any) -> str | None:
    for obj in jsonld_objects(tree):
        author = obj.get("author")
        authors = author if isinstance(author, list) else [author]
        names = [a.get("name") if isinstance(a, dict) else a for a in authors]
        names = [n.strip() for n in names if isinstance(n, str) and n.strip()]
        if names:
            return "; ".join(names)
    return None
