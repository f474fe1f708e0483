"""A small editable news site for service and recrawl tests: outlets with an RSS feed and article
pages, written to a folder that a DemoServer serves live (edits show up at the next request)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

WORDS = (
    "the council said on monday that work on the new bridge across the river would start in spring "
    "after residents asked for safer crossings near the school while farmers in the valley reported "
    "a poor harvest because of the long drought and officials promised help for families who lost "
    "their income during the storm last winter when the ferry stopped running for weeks and the mayor "
    "announced a plan to expand the library open a market hall repair the railway station build homes "
    "for nurses and teachers hire more police officers plant trees along the avenue protect the old "
    "forest clean the harbour fund a summer festival support local theatre groups and improve buses "
    "between villages many people welcomed the decision but some critics warned about rising costs "
    "higher taxes delays noise traffic and pollution from trucks carrying stone from the quarry"
).split()


def paragraphs(seed: int, n: int = 4) -> list[str]:
    """`n` English paragraphs of random sentences for article number `seed`: different seeds share
    almost no run of 5 words, so they are never near-duplicates of each other."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        sentences = []
        for _ in range(4):
            words = [rng.choice(WORDS) for _ in range(rng.randint(10, 16))]
            sentences.append(" ".join(words).capitalize() + ".")
        out.append(" ".join(sentences))
    return out


ARTICLE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta property="article:published_time" content="{published}">
<meta name="author" content="{author}"></head>
<body><nav><a href="/">Home</a> <a href="/world/">World</a></nav>
<article><h1>{title}</h1>
{body}
</article>
<aside class="related"><h2>Related</h2><ul>{related}</ul></aside>
<footer>Contact us. Terms of use.</footer></body></html>
"""


class MiniSite:
    """Outlets under `root/<outlet>/`: `rss.xml` and `news/<slug>.html`."""

    def __init__(self, root: Path):
        self.root = root
        self.articles: dict[str, dict[str, dict[str, str]]] = {}

    def add_outlet(self, outlet: str, n_articles: int = 3) -> None:
        (self.root / outlet / "news").mkdir(parents=True, exist_ok=True)
        self.articles.setdefault(outlet, {})
        for i in range(n_articles):
            self.add_article(outlet, f"story-{i}", f"{outlet.title()} story number {i}", seed=i, write_feed=False)
        self.write_feed(outlet)

    def add_article(self, outlet: str, slug: str, title: str, *, seed: int, write_feed: bool = True,
                    related: str = "") -> None:
        published = datetime.now(UTC).replace(microsecond=0).isoformat()
        self.articles[outlet][slug] = {"title": title, "published": published}
        self.write_article(outlet, slug, title, paragraphs(seed), related=related)
        if write_feed:
            self.write_feed(outlet)

    def write_article(self, outlet: str, slug: str, title: str, paras: list[str], *, related: str = "") -> None:
        meta = self.articles[outlet][slug]
        meta["title"] = title
        body = "\n".join(f"<p>{p}</p>" for p in paras)
        html = ARTICLE.format(title=title, published=meta["published"], author="Ada Reporter", body=body,
                              related=related or "<li><a href='/'>Home</a></li>")
        (self.root / outlet / "news" / f"{slug}.html").write_text(html, encoding="utf-8")

    def delete_article(self, outlet: str, slug: str) -> None:
        (self.root / outlet / "news" / f"{slug}.html").unlink()

    def write_feed(self, outlet: str) -> None:
        items = "\n".join(
            f"<item><title>{a['title']}</title><link>{{{{base:{outlet}}}}}/news/{slug}.html</link>"
            f"<pubDate>{format_datetime(datetime.fromisoformat(a['published']))}</pubDate>"
            + (f"<atom:updated>{a['updated']}</atom:updated>" if a.get("updated") else "") + "</item>"
            for slug, a in sorted(self.articles[outlet].items())
        )
        (self.root / outlet / "rss.xml").write_text(
            '<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">'
            f"<channel><title>{outlet}</title>{items}</channel></rss>",
            encoding="utf-8",
        )

    def routes(self, outlet: str, routes: dict[str, dict[str, object]]) -> None:
        (self.root / outlet).mkdir(parents=True, exist_ok=True)
        (self.root / outlet / "_routes.json").write_text(json.dumps(routes), encoding="utf-8")


def config_text(bases: dict[str, str], database: Path, *, outlets: list[str], interval: str = "2s",
                extra: str = "", schedule: str = "", run_timeout: str = "8s",
                names: dict[str, str] | None = None) -> str:
    """A config for the mini site: fast intervals, rechecks every second, no jitter."""
    parts = [
        f'[storage]\ndatabase = "{database}"\n',
        '[crawl]\nuser_agent = "newsmon-test/1.0"\ntimeout = 5\nconcurrency = 8\n',
        f'[schedule]\ndefault_interval = "{interval}"\njitter = "0s"\nrun_timeout = "{run_timeout}"\nstop_timeout = "5s"\n'
        f"max_parallel = 2\n{schedule}",
        '[recheck]\nschedule = [{ age = "366d", every = "1s" }]\n',
    ]
    for outlet in outlets:
        parts.append(
            f'[[outlets]]\nid = "{outlet}"\nname = "{(names or {}).get(outlet, outlet)}"\n'
            f'feeds = ["{bases[outlet]}/rss.xml"]\nlanguage = "en"\narticle_url_pattern = "/news/"\n'
        )
    return "\n".join(parts) + extra
