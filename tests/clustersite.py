"""A news site of three English outlets for near-duplicate cluster tests, written to a folder that a
DemoServer serves live (edits show up at the next request).

Outlets, one folder each, so one loopback address each in sorted order: `courier` (127.0.0.11),
`gazette` (127.0.0.12) and `wire` (127.0.0.13), the agency ("Meridian") the other two republish.
Every outlet has `rss.xml` (link and pubDate per item) and article pages under `news/<slug>.html`.

The stories (T0 is two days before the site is built, on the hour, so that every date is in the
past and young enough for the `[recheck]` schedule of `config_text`):

- A, a failed flood-barrier test: the wire's original (T0); courier's republication (T0+2h) with
  a new headline, a "(Meridian) -" dateline, "Read more:" lines and a copyright line inside the
  article body and a few words changed; gazette's (T0+5h), its first three paragraphs of five
  (about 60 % of the words) plus one added closing sentence. One cluster, the wire's the earliest.
- B (wire, T0+3h) and C (gazette, T0+4h): two different stories about one port strike, with the
  same people and places, a shared stock phrase and one identical quote. No cluster between them.
  B is also on the wire at a second URL, with a correction line added: one article, two URLs.
- A video page (T0+6h) on the wire and on courier: a headline and the same caption, stored (over
  the extractor's 250 characters) but under 60 words, so never clustered.
- D (wire, T0+7h), and its print version at `news/comet-print.html` with other boilerplate
  around the same article text: one article, two URLs.
- E, a rail line reopening: the wire (T0+1h) and courier (T0+30min, earlier than the wire). One
  cluster, courier's the earliest.

`UNRELATED_TITLE` / `UNRELATED` (a chess club story) replaces an article's text with one that
resembles nothing on the site (`ClusterSite.edit_article`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

from tests import minisite

OUTLETS = ("courier", "gazette", "wire")
BRANDS = {"courier": "The Courier", "gazette": "Evening Gazette", "wire": "Meridian Wire"}

# -- story A: the wire's original, then its two republications --------------------------------

A_TITLE = "Halverstad flood barrier fails first full-scale test, inquiry ordered"
A_WIRE = [
    "HALVERSTAD, Nov 21 - A new flood barrier on the Oster river failed its first full-scale test "
    "on Friday when two of its six steel gates jammed half-closed, and the regional water authority "
    "ordered an independent inquiry into the project, which cost 240 million euros and was meant to "
    "protect 90,000 people in the old town, the authority's director Ingrid Valdmar told reporters.",

    "Engineers had lowered the gates at dawn in a drill that was supposed to last four hours. The "
    "four outer gates sealed within the planned eleven minutes, but the two central ones stopped "
    "about a metre above the river bed, leaving a gap through which water kept pouring into the "
    "inner harbour until crews raised all six again shortly before noon, Valdmar said.",

    '"We built this barrier so that nobody in Halverstad has to fill sandbags again, and today it '
    'did not do what it was built for," Valdmar said. "I would rather find that out on a calm '
    'morning in November than during a storm surge in February." She said no homes had been at '
    "risk because the river was at its normal level during the test.",

    "The consortium that built the barrier, Nordvik Hydraulics, said in a statement that a faulty "
    "position sensor had stopped the central gates as a safety measure and that the mechanism "
    "itself was sound. It said its technicians would replace the sensors within two weeks and asked "
    "for a second test before the end of the year. The company declined to say whether the repair "
    "was covered by its warranty.",

    "The barrier, which took six years to build and opened two years behind schedule, is the "
    "largest flood defence project in the region's history. Opposition members of the regional "
    "council said on Friday they would demand that the inquiry also examine the delays and a "
    "60-million-euro cost overrun. The inquiry is expected to report in March, and until then the "
    "old sandbag plan will remain in force for the winter storm season, the authority said.",
]

A_COURIER_TITLE = "Gates jam as Halverstad's new flood wall flunks its first big test"
A_COURIER = [
    "HALVERSTAD (Meridian) - A new flood barrier on the Oster river failed its first full-scale "
    "test on Friday when two of its six steel gates jammed half-closed, and the regional water "
    "authority ordered an independent inquiry into the project, which cost 240 million euros and "
    "was meant to protect 90,000 people in the old town, the authority's director Ingrid Valdmar "
    "told journalists.",

    "Engineers lowered the gates at daybreak in a drill that was supposed to last four hours. The "
    "four outer gates sealed within the planned eleven minutes, but the two central ones stopped "
    "about a metre above the river bed, leaving a gap through which water kept pouring into the "
    "inner harbour until crews raised all six again shortly before noon, Valdmar said.",

    "Read more: Storm season is coming. Here is how to protect your home from flooding",

    '"We built this barrier so that nobody in Halverstad has to fill sandbags again, and today it '
    'did not do what it was built for," Valdmar said. "I would rather find that out on a calm '
    'morning in November than during a storm surge in February." She said no homes had been at '
    "risk because the river was at its normal level during the test.",

    "The consortium that built the barrier, Nordvik Hydraulics, said in a statement that a faulty "
    "position sensor had stopped the central gates as a safety measure and that the mechanism "
    "itself was sound. It said its technicians would replace the sensors within two weeks and asked "
    "for a second test before the end of the year. The firm declined to say whether the repair "
    "was covered by its guarantee.",

    "Read more: Halverstad council approves the new harbour plan after a year of delays",

    "The barrier, which took six years to build and opened two years behind schedule, is the "
    "biggest flood defence project in the region's history. Opposition members of the regional "
    "council said on Friday they would demand that the inquiry also examine the delays and a "
    "60-million-euro cost overrun. The inquiry is expected to report in March, and until then the "
    "old sandbag plan will remain in force for the winter storm season, the authority said.",

    "© Courier 2026. All rights reserved. This article may not be reproduced without permission.",
]

A_GAZETTE_TITLE = "Flood barrier fails test in Halverstad"
A_GAZETTE = [
    *A_WIRE[:3],
    "The authority said it would publish the findings of the inquiry on its website and hold a "
    "public meeting in the old town once they are known.",
]

# -- stories B and C: two different articles about one port strike ----------------------------

SHARED_QUOTE = ('"We will not accept a deal that puts the safety of our members at risk," '
                "Brenner said.")

B_TITLE = "Caldora dockworkers walk out over night-shift safety rules"
B_WIRE = [
    "CALDORA, Nov 21 - About 1,400 dockworkers at the port of Caldora walked off the job on "
    "Thursday night in a dispute over safety rules for night shifts, halting the loading of "
    "container ships at the port's three main terminals, the Dockworkers' Union said.",

    "The strike began at 10 p.m. when crews on Pier 9 refused to start the night shift after "
    "talks with the port authority broke down. Union leader Tomas Brenner said the authority "
    "wanted to cut the number of signallers working with each crane at night from two to one, "
    "which he said would make accidents more likely in poor light.",

    SHARED_QUOTE,

    "Brenner said a crane driver had been seriously injured on Pier 9 in September during a night "
    "shift with a single signaller, and that the union had asked for an independent review of "
    "lighting on the quays before any change to crew sizes. He said the walkout would last until "
    "the authority withdrew its proposal.",

    "The port authority said in a statement on Thursday that the new rules followed national "
    "guidance and had been approved by the labour inspectorate. Its chief executive, Elena Marsh, "
    "said modern floodlights and radio headsets made a second signaller unnecessary on most "
    "berths, and that the authority remained ready to resume talks at any time.",

    "Caldora is the country's second-largest container port and handles about a fifth of the "
    "nation's imports. Its last strike, over pensions in 2019, lasted five days and was settled "
    "by a government mediator.",
]
B_CORRECTION = ("Correction: an earlier version of this story gave the wrong month for the "
                "accident on Pier 9. It happened in September, not in August.")

C_TITLE = "Ships queue off Caldora as port strike enters second day"
C_GAZETTE = [
    "Eleven container ships were waiting at anchor off Caldora on Friday as a strike by "
    "dockworkers entered its second day, and shipping lines began diverting cargo to rival ports "
    "along the coast, raising fears of empty shelves in the run-up to the holidays.",

    "The port authority said in a statement on Thursday that it regretted the walkout and urged "
    "the union to return to the negotiating table. On Friday morning its chief executive, Elena "
    "Marsh, told local radio that every day of the stoppage cost the regional economy about eight "
    "million euros and that perishable goods were already spoiling in refrigerated containers.",

    "Outside the gates of Pier 9, where about two hundred strikers gathered around braziers in the "
    "drizzle, union leader Tomas Brenner told supporters that the Dockworkers' Union had offered "
    "a compromise on crane crews which the authority had rejected without discussion. "
    + SHARED_QUOTE,

    "Freight companies were less patient. The Caldora Chamber of Commerce called on the "
    "government to appoint a mediator before the weekend, saying that importers of fruit, "
    "medicines and car parts could not wait for the two sides to settle their differences. Two "
    "large retailers said they had moved deliveries to the port of Selm, a day's drive to the "
    "north.",

    "The transport ministry said it was following the dispute closely but would not intervene "
    "while talks were still possible. The union said it would hold a meeting of its members on "
    "Sunday to decide whether to extend the strike into next week.",
]

# -- the video page: a headline and a caption, on two outlets ----------------------------------

VIDEO_TITLE = "Watch: firefighters lift a stranded horse out of a flooded field"
VIDEO_CAPTION = [
    "Firefighters in the village of Morrow Bend used a crane and a canvas sling on Saturday "
    "morning to lift a frightened horse out of a flooded field, where it had been standing in "
    "cold water for most of the night. The animal was unhurt and is recovering in a dry stable, "
    "its owner said.",
]

# -- story D: one wire article, and its print version --------------------------------------------

D_TITLE = "Amateur astronomer spots new comet from Kessler Ridge"
D_WIRE = [
    "KESSLER RIDGE, Nov 22 - A retired schoolteacher using a telescope he built in his garden "
    "has discovered a new comet, the first found by an amateur in the country in more than thirty "
    "years, the national astronomical society said on Saturday.",

    "Piet Aalders, 67, spotted the faint smudge of light in the constellation of Auriga on "
    "Tuesday night while photographing a cluster of stars, and confirmed over the next two nights "
    "that it was moving against the background. Observatories in Chile and Spain then measured "
    "its position independently, and the discovery was accepted by the international body that "
    "names comets on Friday.",

    '"At first I thought it was a speck of dust on the mirror," Aalders said. "When it had moved '
    'the next night I did not sleep at all." He has spent his evenings searching the sky since '
    "he retired nine years ago and built the telescope from a kit and second-hand parts.",

    "The comet, which will carry his name, is on a long orbit that brings it close to the Sun "
    "once every few thousand years. Astronomers said it should become bright enough to see with "
    "binoculars in late February, when it passes closest to the Sun, but that it was unlikely to "
    "become visible to the naked eye.",

    "The society said the find showed that careful amateurs could still make discoveries at a "
    "time when automated surveys scan most of the sky every night. It plans to hold public viewing "
    "evenings at Kessler Ridge when the comet is at its brightest, weather permitting, and said "
    "Aalders had agreed to show visitors the telescope that found it.",
]

# -- story E: a rail line reopens; courier publishes before the wire -----------------------------

E_TITLE = "Aldmoor-Pellham rail line reopens after landslide repairs"
E_WIRE = [
    "ALDMOOR, Nov 22 - Trains returned to the line between Aldmoor and Pellham on Saturday for the "
    "first time in seven months, after engineers finished stabilising a hillside that collapsed "
    "onto the tracks during heavy rain in April, the national rail operator said.",

    "The first passenger service left Aldmoor at 6.12 a.m. with about eighty people on board, "
    "among them commuters who had spent the summer on replacement buses that added up to an hour "
    "to each journey. The operator said the full timetable of two trains an hour in each direction "
    "would run from Monday.",

    "Crews removed about 40,000 tonnes of earth and rock from the cutting near the village of "
    "Hollin, drilled more than six hundred steel anchors into the slope and built a concrete "
    "retaining wall along three hundred metres of track. The repairs cost 31 million euros, "
    "about a third more than first estimated, because the slope kept moving during the wet summer.",

    '"It has been a long wait for people along this line, and we are grateful for their patience," '
    "the operator's regional director, Maren Holt, said at Aldmoor station. She said sensors "
    "installed in the hillside would warn engineers of any new movement before it reached the "
    "tracks.",

    "Passenger groups welcomed the reopening but said the operator should explain why warnings "
    "about the unstable cutting, raised by residents of Hollin two years ago, had not led to "
    "earlier repairs. The operator said an internal review of how it handled those warnings would "
    "be published before the end of the year, together with a survey of other cuttings on the line.",
]
E_COURIER_TITLE = "Trains run again between Aldmoor and Pellham after seven months"
E_COURIER = [
    "ALDMOOR (Meridian) - " + E_WIRE[0].split(" - ", 1)[1],
    *E_WIRE[1:4],
    "Read more: Rail fares to rise by four per cent in January",
    E_WIRE[4],
    "© Courier 2026. All rights reserved.",
]

# -- unrelated text, for an article that stops resembling its cluster --------------------------

UNRELATED_TITLE = "Town library opens evening chess club for pupils"
UNRELATED = [
    "The public library in Westmere will open its reading room to young chess players two "
    "evenings a week from January, after a retired engineer offered to coach pupils from the "
    "town's three secondary schools free of charge.",

    "Librarian Joanna Pike said the idea came from a group of teenagers who had been playing on "
    "a travel set in the corner of the reading room every afternoon since the summer. The library "
    "has bought twelve tournament boards and clocks with a grant from a local charity, and will "
    "keep the room open until eight on Tuesdays and Thursdays.",

    "The coach, Arvid Lind, played for the county team for two decades and still plays in "
    "correspondence tournaments. He said he wanted to teach the pupils how to think several "
    "moves ahead rather than memorise openings, and hoped to enter a team in the regional schools "
    "league by the spring.",

    "Places are limited to twenty-four players in the first term and can be booked at the front "
    "desk. Parents who play are welcome to help, Pike said, as long as they let the children win "
    "now and then.",
]


@dataclass
class Page:
    outlet: str
    slug: str
    title: str
    paragraphs: list[str]
    published: datetime
    author: str
    kind: str = "article"  # article | print | video
    in_feed: bool = True


def _pages(t0: datetime) -> dict[str, Page]:
    h = timedelta(hours=1)
    return {
        "A_wire": Page("wire", "flood-barrier", A_TITLE, A_WIRE, t0, "Lena Fischer"),
        "A_courier": Page("courier", "halverstad-flood-gates-jam", A_COURIER_TITLE, A_COURIER, t0 + 2 * h,
                          "Courier staff"),
        "A_gazette": Page("gazette", "flood-barrier-test", A_GAZETTE_TITLE, A_GAZETTE, t0 + 5 * h,
                          "Gazette reporters"),
        "B_wire": Page("wire", "port-strike", B_TITLE, B_WIRE, t0 + 3 * h, "Marco Ruiz"),
        "B_wire_updated": Page("wire", "port-strike-updated", B_TITLE, [*B_WIRE, B_CORRECTION], t0 + 3 * h,
                               "Marco Ruiz"),
        "C_gazette": Page("gazette", "caldora-ships-queue", C_TITLE, C_GAZETTE, t0 + 4 * h, "Hannah Okafor"),
        "video_wire": Page("wire", "horse-rescue-video", VIDEO_TITLE, VIDEO_CAPTION, t0 + 6 * h, "Video desk",
                           kind="video"),
        "video_courier": Page("courier", "horse-rescue-video", VIDEO_TITLE, VIDEO_CAPTION, t0 + 6 * h,
                              "Courier video", kind="video"),
        "D_wire": Page("wire", "comet", D_TITLE, D_WIRE, t0 + 7 * h, "Sofia Brandt"),
        "D_wire_print": Page("wire", "comet-print", D_TITLE, D_WIRE, t0 + 7 * h, "Sofia Brandt", kind="print"),
        "E_wire": Page("wire", "rail-reopens", E_TITLE, E_WIRE, t0 + h, "Jonas Weller"),
        "E_courier": Page("courier", "rail-line-reopens", E_COURIER_TITLE, E_COURIER, t0 + h / 2, "Courier staff"),
    }


NAV = {
    "courier": '<a href="/">Home</a> <a href="/news/">News</a> <a href="/sport/">Sport</a> '
               '<a href="/opinion/">Opinion</a> <a href="/subscribe/">Subscribe</a>',
    "gazette": '<a href="/">Front page</a> <a href="/local/">Local</a> <a href="/business/">Business</a> '
               '<a href="/weather/">Weather</a>',
    "wire": '<a href="/">Meridian</a> <a href="/world/">World</a> <a href="/markets/">Markets</a> '
            '<a href="/science/">Science</a>',
}
FOOTER = {
    "courier": "The Courier, 12 Quay Street. Contact the newsroom. Advertise with us. Privacy policy.",
    "gazette": "Evening Gazette. Letters to the editor. Terms and conditions. Cookie settings.",
    "wire": "Meridian news agency. All times UTC. Licensing and syndication. Corrections policy.",
}

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | {brand}</title>
<meta property="og:title" content="{title}">
<meta property="og:site_name" content="{brand}">
<meta property="article:published_time" content="{published}">
<meta name="author" content="{author}"></head>
<body><header><div class="masthead">{brand}</div><nav>{nav}</nav></header>
<main><article><h1>{title}</h1>
{body}
</article>
<aside class="most-read"><h2>Most read</h2><ul><li><a href="/news/">Latest news</a></li>
<li><a href="/">Back to the front page</a></li></ul></aside></main>
<footer>{footer}</footer></body></html>
"""

PRINT_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} (print version)</title>
<meta property="og:title" content="{title}">
<meta property="article:published_time" content="{published}">
<meta name="author" content="{author}"></head>
<body class="print"><div class="print-header">{brand} | printer-friendly page
<a href="javascript:window.print()">Print this page</a> <a href="/">Close</a></div>
<article><h1>{title}</h1>
{body}
</article>
<div class="print-footer">Printed from the Meridian news agency website. Copyright Meridian.</div>
</body></html>
"""

VIDEO_BODY = '<div class="player" data-duration="84"><video src="/media/{slug}.mp4" controls></video></div>'


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class ClusterSite:
    """The three outlets under `root/<outlet>/`. `pages` maps a key ("A_wire", "E_courier", ...)
    to its `Page`; `build()` writes every page and feed."""

    def __init__(self, root: Path, t0: datetime | None = None):
        self.root = root
        self.t0 = t0 or (datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=2))
        self.pages = _pages(self.t0)

    def build(self) -> ClusterSite:
        for outlet in OUTLETS:
            (self.root / outlet / "news").mkdir(parents=True, exist_ok=True)
        for key in self.pages:
            self.write_page(key)
        for outlet in OUTLETS:
            self.write_feed(outlet)
        return self

    def path(self, key: str) -> str:
        """The page's path on its outlet's host, e.g. "/news/flood-barrier.html"."""
        return f"/news/{self.pages[key].slug}.html"

    def text(self, key: str) -> str:
        """The page's article text as written (paragraphs joined by newlines), without the headline."""
        return "\n".join(self.pages[key].paragraphs)

    def html(self, key: str) -> str:
        page = self.pages[key]
        if page.kind == "video":
            body = VIDEO_BODY.format(slug=page.slug) + "\n" + "\n".join(
                f'<p class="caption">{escape(p, quote=False)}</p>' for p in page.paragraphs)
        else:
            body = "\n".join(f"<p>{escape(p, quote=False)}</p>" for p in page.paragraphs)
        template = PRINT_PAGE if page.kind == "print" else PAGE
        return template.format(title=escape(page.title), brand=BRANDS[page.outlet], published=iso(page.published),
                               author=escape(page.author), nav=NAV[page.outlet], footer=FOOTER[page.outlet],
                               body=body)

    def write_page(self, key: str) -> None:
        page = self.pages[key]
        (self.root / page.outlet / "news" / f"{page.slug}.html").write_text(self.html(key), encoding="utf-8")

    def edit_article(self, key: str, *, title: str | None = None, paragraphs: list[str] | None = None) -> None:
        """A new version of the page at the same URL (same publication date); the feed follows."""
        page = self.pages[key]
        if title is not None:
            page.title = title
        if paragraphs is not None:
            page.paragraphs = list(paragraphs)
        self.write_page(key)
        self.write_feed(page.outlet)

    def write_feed(self, outlet: str) -> None:
        pages = sorted((p for p in self.pages.values() if p.outlet == outlet and p.in_feed),
                       key=lambda p: (p.published, p.slug), reverse=True)
        items = "\n".join(
            f"<item><title>{escape(p.title)}</title><link>{{{{base:{outlet}}}}}/news/{p.slug}.html</link>"
            f"<pubDate>{format_datetime(p.published)}</pubDate></item>"
            for p in pages
        )
        (self.root / outlet / "rss.xml").write_text(
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{BRANDS[outlet]}</title>'
            f"<link>{{{{base:{outlet}}}}}/</link>{items}</channel></rss>",
            encoding="utf-8",
        )


def build_site(root: Path, t0: datetime | None = None) -> ClusterSite:
    """Write the whole site under `root` and return it."""
    return ClusterSite(root, t0).build()


def config_text(bases: dict[str, str], database: Path, *, extra: str = "") -> str:
    """A config for the three outlets: rechecks every second (a second crawl after 1.1 s rechecks
    every article whose page changed), no jitter."""
    return minisite.config_text(bases, database, outlets=list(OUTLETS), extra=extra, run_timeout="20s",
                                names=BRANDS)
