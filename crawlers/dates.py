"""Publication and modification dates: gather candidates from every source, trust the best.

Sources in order of trust: the page's JSON-LD, its meta tags, a visible `<time>`, the Google News
sitemap, the feed, the URL, then trafilatura's own date search in the visible text. Each date is
normalised to UTC; a local time without offset takes the outlet's `timezone`. A date before 1990
or in the future is flagged and skipped, never trusted.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import dateparser

if TYPE_CHECKING:
    from collections.abc import Iterable

    from lxml.html import HtmlElement

logger = logging.getLogger(__name__)

EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(hours=26)  # a day plus time zones: "today" in Auckland is still fine

ARTICLE_TYPES = {
    "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
    "backgroundnewsarticle", "blogposting", "liveblogposting", "report", "webpage",
}
META_PUBLISHED = (
    "article:published_time", "og:published_time", "datepublished", "pubdate", "publishdate",
    "publish-date", "dc.date.issued", "dcterms.created", "dc.date", "parsely-pub-date", "sailthru.date",
    "date",
)
META_MODIFIED = ("article:modified_time", "og:updated_time", "datemodified", "dcterms.modified", "last-modified")
URL_DATE = re.compile(r"/(20\d{2}|19\d{2})[/-](\d{1,2})[/-](\d{1,2})(?:/|$|-)|[/-](20\d{2})(\d{2})(\d{2})(?=[-_/.]|$)")


@dataclass
class DateResult:
    published_at: str | None = None
    modified_at: str | None = None
    date_source: str | None = None
    flags: list[str] = field(default_factory=list)


def to_utc(value: str | datetime | None, tz: str | None = None) -> datetime | None:
    """Parse a date string (ISO 8601 first, then dateparser) into an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        text = value.strip()
        if not text:
            return None
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
        except ValueError:
            # dateparser returns an aware datetime when the string names a zone, else a naive one.
            parsed = _numeric_dmy(text) or _rfc822(text) or dateparser.parse(
                text, settings={"PREFER_DAY_OF_MONTH": "first", "DATE_ORDER": "DMY"}
            )
            if parsed is None:
                return None
            moment = parsed
    if moment.tzinfo is None:
        if tz and (moment.hour or moment.minute or moment.second):
            moment = moment.replace(tzinfo=ZoneInfo(tz))
        else:
            moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


_DMY = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})(?:[\sT,à-]+(\d{1,2})[:hH.](\d{2}))?\b")


def _numeric_dmy(text: str) -> datetime | None:
    """'19/11/2026 18:20' and '19.11.2026': day first, as in Europe. dateparser can read these
    too, but its first call costs ~150 ms (language data) and each later one several ms."""
    m = _DMY.match(text)
    if not m:
        return None
    day, month, year, hour, minute = m.groups()
    try:
        return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0))
    except ValueError:
        return None


def _rfc822(text: str) -> datetime | None:
    """'Fri, 01 Mar 2024 10:30:00 +0100' (RSS pubDate style), with its zone."""
    try:
        return email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def jsonld_objects(tree: HtmlElement) -> list[dict[str, Any]]:
    """Article-like objects from the page's JSON-LD blocks (walking @graph and lists)."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for n in node:
                walk(n)
        elif isinstance(node, dict):
            types = node.get("@type")
            types = types if isinstance(types, list) else [types]
            if any(isinstance(t, str) and t.lower() in ARTICLE_TYPES for t in types):
                found.append(node)
            if "@graph" in node:
                walk(node["@graph"])

    for script in tree.xpath('//script[@type="application/ld+json"]/text()'):
        try:
            walk(json.loads(script))
        except ValueError:
            logger.debug("unreadable JSON-LD block skipped")
    return found


def _meta(tree: HtmlElement, names: Iterable[str]) -> str | None:
    wanted = list(names)
    values: dict[str, str] = {}
    for el in tree.xpath("//meta[@content]"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        if key in wanted and key not in values:
            values[key] = el.get("content")
    for name in wanted:
        if values.get(name):
            return values[name]
    return None


_DATE_CLASS = (
    "//*[not(self::script) and not(self::style) and ("
    "contains(@class, 'date') or contains(@class, 'fecha') or contains(@class, 'datum')"
    " or contains(@class, 'published') or contains(@class, 'dateline') or @itemprop = 'datePublished')"
    " and not(contains(@class, 'update') or contains(@class, 'modif') or contains(@class, 'actualiz'))]"
)
_FIRST_DIGIT = re.compile(r"\d")


def visible_date(tree: HtmlElement) -> str | None:
    """The text of the first date-looking element (class date/fecha/datum/published), from its
    first digit on, so that labels like "Publicado:" or "Published" do not confuse the parser."""
    for el in tree.xpath(_DATE_CLASS)[:5]:
        text = " ".join(el.text_content().split())
        m = _FIRST_DIGIT.search(text)
        if m and len(text) - m.start() <= 40:
            return text[m.start():].rstrip(" h")
    return None


def url_date(url: str) -> str | None:
    m = URL_DATE.search(url)
    if not m:
        return None
    y, mo, d = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(4), m.group(5), m.group(6))
    try:
        return date(int(y), int(mo), int(d)).isoformat()
    except ValueError:
        return None


def resolve_dates(
    tree: HtmlElement | None,
    url: str,
    *,
    hints: dict[str, Any] | None = None,
    extractor_date: str | None = None,
    tz: str | None = None,
    now: datetime | None = None,
) -> DateResult:
    """Pick published_at / modified_at and record where the published date came from."""
    hints = hints or {}
    now = now or datetime.now(UTC)
    published: list[tuple[str, Any]] = []
    modified: list[tuple[str, Any]] = []
    if tree is not None:
        for obj in jsonld_objects(tree):
            published.append(("json-ld", obj.get("datePublished") or obj.get("dateCreated")))
            modified.append(("json-ld", obj.get("dateModified")))
        published.append(("meta", _meta(tree, META_PUBLISHED)))
        modified.append(("meta", _meta(tree, META_MODIFIED)))
        times = tree.xpath("//article//time/@datetime | //time[@itemprop='datePublished']/@datetime | //time/@datetime")
        published.append(("text", times[0] if times else visible_date(tree)))
    published.append(("news-sitemap", hints.get("news_published_at")))
    published.append(("feed", hints.get("feed_published_at")))
    published.append(("url", url_date(url)))
    published.append(("text", extractor_date))
    modified.append(("feed", hints.get("feed_updated_at")))

    result = DateResult()
    for source, raw in published:
        moment = _trusted(raw, source, tz, now, result.flags)
        if moment is not None:
            result.published_at, result.date_source = iso(moment), source
            break
    for source, raw in modified:
        moment = _trusted(raw, source, tz, now, result.flags)
        if moment is not None:
            result.modified_at = iso(moment)
            break
    return result


def _trusted(raw: Any, source: str, tz: str | None, now: datetime, flags: list[str]) -> datetime | None:
    if not raw or not isinstance(raw, str | datetime):
        return None
    try:
        moment = to_utc(raw, tz)
    except (ValueError, OverflowError):
        moment = None
    if moment is None:
        return None
    if moment < EARLIEST or moment > now + FUTURE_SLACK:
        reason = "before-1990" if moment < EARLIEST else "future"
        flag = f"{source}:{iso(moment)}:{reason}"
        if flag not in flags:
            flags.append(flag)
        return None
    return moment
