"""A large generated news site on loopback, with ground truth, for throughput and extraction benchmarks.

`NewsSite.generate(outlets=8, articles=250, seed=1)` builds, in memory and deterministically (the
same seed, `now` and base URLs give the same bytes), N outlets of M articles each. Each outlet has
its own address (``127.0.0.51``, ``127.0.0.52``, ... with an ephemeral port each; one port per
outlet on ``127.0.0.1`` when those cannot be bound), a language (en, fr, es, de in turn), one of
four page templates (markup styles: "classic" ``<article>``, BEM div soup, BBC-like
``data-component`` blocks, WordPress), and:

- article pages of 60-150 KB of HTML: a big ``<head>`` (meta, ``og:``, ``twitter:``, JSON-LD
  NewsArticle, inline CSS and JS), header and mega menu with dozens of links, cookie banner, share
  bars with inline SVG, breadcrumbs, the article (h1, standfirst/lead, byline, ``<time>``, a figure
  with caption, 6-20 paragraphs of 40-120 words in the outlet's language, an inline "Read also"
  box, a pull quote), related articles, most read, comments teaser, newsletter box, a big footer,
  and an inline JSON app state (the padding that spreads page sizes over the range);
- a homepage (the newest articles, section blocks), one front per section (all its articles);
- an RSS 2.0 feed of the newest 50 articles;
- a sitemap index, one sitemap per month, a Google News sitemap of the last 2 days;
- robots.txt (everything allowed, a ``Sitemap:`` line);
- every other page the menus, footers and articles link to (legal, services, tag and author
  pages): one small page with the outlet's furniture, so that a crawl following links meets no 404.

About 10 % of the articles are syndicated copies of an article of another outlet in the same
language: the same paragraphs, with the copying outlet's template, often a new headline, a
dateline and sometimes an added sentence.

Ground truth (`NewsSite.truth`, `write_truth` as JSONL), one object per article: ``url``,
``outlet``, ``language``, ``title`` (the ``<h1>``), ``author``, ``published`` (ISO 8601 UTC),
``body`` (the article's paragraphs exactly, joined by ``"\\n"``: not the lead, captions, "Read
also" box or pull quote), ``syndicated_from`` (the original's URL, or null), ``cluster`` (the
original's URL for an original with copies and for its copies, else null), plus ``lead``,
``section``, ``modified`` and ``version``.

Mutations (`NewsSite.mutate`, or ``POST /__mutate?add=K&edit=E[&now=ISO]`` on the server): add K new
articles (round robin over the outlets, published after everything else: the site's clock moves
one hour per call) and edit E existing ones (one paragraph rewritten, ``dateModified`` set); the
homepages, section fronts, feeds and sitemaps are re-rendered, and a resource keeps its ETag and
Last-Modified when its bytes did not change.

Serving (`NewsSiteServer`, asyncio, stdlib only): every resource is pre-rendered bytes with a
strong ETag (a hash of the body) and a Last-Modified fixed per version; GET and HEAD, HTTP/1.1
keep-alive, ``If-None-Match`` (and, without it, ``If-Modified-Since``) answered 304, gzip when the
request accepts it (compressed once per version, its own ETag). Control endpoints, on every host,
not linked from anywhere and left out of the request counts: ``/__stats`` (requests by kind and
status, bytes, by outlet; ``gzip_ready`` once the background compression is done),
``/__reset_stats``, ``/__truth`` (JSONL), ``/__mutate``.

Command line::

    python bench/newssite.py serve [--outlets 8 --articles 250 --seed 1] [--truth FILE]
        [--config FILE --database DB] [--stats FILE]
    python bench/newssite.py bench [--outlets 8 --articles 250] [--threads 16]

``serve`` prints one JSON line (``{"outlets": {id: base URL}, "stats": URL, ...}``) and serves
until SIGTERM/SIGINT or until its stdin is closed; ``--stats`` writes the request counts there at
exit. ``bench`` times generation and rendering, then fetches every article page once with
concurrent keep-alive clients against the server run as a child process. In Python:
``with NewsSiteServer(NewsSite.generate()) as server: server.bases``, or `start_subprocess`.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import functools
import hashlib
import html
import importlib.util
import json
import logging
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import unicodedata
import urllib.request
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime, formatdate, parsedate_to_datetime
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

# The same child-process handling as the demo server.
from monitor.demo.server import launch_server, stdin_is_watchable, stop_subprocess

logger = logging.getLogger("newssite")

HERE = Path(__file__).resolve().parent
DEFAULT_OUTLETS = 8
DEFAULT_ARTICLES = 250
DEFAULT_SEED = 1
#: The site's clock when none is given: fixed, so the same seed gives the same bytes on any day.
DEFAULT_NOW = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
FIRST_OCTET = 51  # outlet i is served on 127.0.0.(51 + i)
FALLBACK_ADDRESS = "127.0.0.1"
LANGUAGE_ORDER = ("en", "fr", "es", "de")
STYLES = ("classic", "bem", "blocks", "wordpress")
SYNDICATED_SHARE = 0.10
FEED_ITEMS = 50
NEWS_SITEMAP_DAYS = 2
MEAN_GAP_HOURS = 2.9  # 250 articles span about a month
MIN_PAGE, MAX_PAGE = 60_000, 150_000
GZIP_LEVEL = 6

# ---------------------------------------------------------------------------------------------
# Text: bench/labelled.py's vocabularies (people, cities, organisations, events, sentence
# templates) plus the outlet furniture below.


def _load_labelled() -> ModuleType:
    name = "newsmon_bench_labelled"  # the name tests/test_similarity.py loads it under
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / "labelled.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


VOCAB: dict[str, dict[str, Any]] = _load_labelled().LANGUAGES

OUTLET_NAMES: dict[str, list[tuple[str, str]]] = {
    "en": [("harbour-post", "The Harbour Post"), ("northern-chronicle", "The Northern Chronicle")],
    "fr": [("quotidien-rhone", "Le Quotidien du Rhône"), ("voix-ouest", "La Voix de l'Ouest")],
    "es": [("diario-sur", "El Diario del Sur"), ("cronica-atlantica", "La Crónica Atlántica")],
    "de": [("rheinische-rundschau", "Rheinische Rundschau"), ("nordkurier", "Nordkurier Abendblatt")],
}
SECTIONS: dict[str, list[tuple[str, str]]] = {
    "en": [("world", "World"), ("politics", "Politics"), ("business", "Business"),
           ("science", "Science"), ("culture", "Culture"), ("sport", "Sport")],
    "fr": [("monde", "Monde"), ("politique", "Politique"), ("economie", "Économie"),
           ("sciences", "Sciences"), ("culture", "Culture"), ("sport", "Sport")],
    "es": [("mundo", "Mundo"), ("politica", "Política"), ("economia", "Economía"),
           ("ciencia", "Ciencia"), ("cultura", "Cultura"), ("deportes", "Deportes")],
    "de": [("welt", "Welt"), ("politik", "Politik"), ("wirtschaft", "Wirtschaft"),
           ("wissen", "Wissen"), ("kultur", "Kultur"), ("sport", "Sport")],
}
MONTHS: dict[str, list[str]] = {
    "en": "January February March April May June July August September October November December".split(),
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split(),
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre".split(),
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember".split(),
}
REPORTERS: dict[str, tuple[list[str], list[str]]] = {
    "en": (["Emma", "James", "Olivia", "Daniel", "Sophie", "Ryan", "Chloe", "Nathan", "Hannah", "Owen"],
           ["Carter", "Hughes", "Patel", "Murray", "Fletcher", "Doyle", "Bennett", "Sharma", "Walsh", "Price"]),
    "fr": (["Camille", "Julien", "Léa", "Mathieu", "Inès", "Hugo", "Manon", "Nicolas", "Sarah", "Yann"],
           ["Bernard", "Rousseau", "Garnier", "Chevalier", "Lambert", "Faure", "Perrin", "Masson", "Roche", "Gauthier"]),
    "es": (["Lucía", "Javier", "Marta", "Pablo", "Carmen", "Diego", "Elena", "Sergio", "Paula", "Andrés"],
           ["García", "Fernández", "López", "Martín", "Sánchez", "Romero", "Navarro", "Torres", "Ruiz", "Castillo"]),
    "de": (["Anna", "Jonas", "Lena", "Felix", "Miriam", "Lukas", "Sabine", "Tobias", "Katrin", "Matthias"],
           ["Müller", "Schneider", "Fischer", "Weber", "Becker", "Hoffmann", "Schulz", "Koch", "Richter", "Wolf"]),
}
CONNECTORS: dict[str, list[str]] = {
    "en": ["Meanwhile, ", "However, ", "At the same time, ", "In addition, ", "By contrast, ", "Separately, ",
           "For now, ", "Later, ", "Even so, ", "In the meantime, "],
    "fr": ["Par ailleurs, ", "Cependant, ", "Dans le même temps, ", "En outre, ", "De son côté, ", "Pour l'heure, ",
           "Plus tard, ", "Malgré tout, ", "En attendant, ", "Toutefois, "],
    "es": ["Mientras tanto, ", "Sin embargo, ", "Al mismo tiempo, ", "Además, ", "Por su parte, ", "Por ahora, ",
           "Más tarde, ", "Aun así, ", "En cambio, ", "De hecho, "],
    "de": ["Unterdessen ", "Allerdings ", "Zugleich ", "Außerdem ", "Dagegen ", "Vorerst ", "Später ",
           "Dennoch ", "Inzwischen ", "Zudem "],
}
CAPTIONS: dict[str, str] = {
    "en": "{p}, {r}, in {city} {day}.",
    "fr": "{p}, {r}, à {city}, {day}.",
    "es": "{p}, {r}, en {city} el {day}.",
    "de": "{p}, {r}, am {day} in {city}.",
}
CREDITS = ["Reuters", "AFP", "AP", "dpa", "EFE", "Getty Images", "ANP", "Belga"]
UI: dict[str, dict[str, Any]] = {
    "en": {
        "home": "Home", "search": "Search", "subscribe": "Subscribe", "login": "Sign in", "menu": "Menu",
        "by": "By", "published": "Published", "updated": "Updated", "read_also": "Read also",
        "related": "More on this story", "most_read": "Most read", "share": "Share", "latest": "Latest news",
        "comments": "Comments", "comments_teaser": "{n} comments. Join the conversation and share your view.",
        "newsletter_title": "The morning briefing",
        "newsletter_text": "Get the day's most important stories in your inbox every morning, free of charge.",
        "newsletter_button": "Sign up", "email": "Your email address",
        "cookie_text": ("We and our partners use cookies to store and access information on your device, to measure "
                        "our audience and to show you personalised advertising and content. You can accept or "
                        "refuse these cookies, or change your choices at any time in the privacy settings."),
        "cookie_accept": "Accept all", "cookie_reject": "Reject", "cookie_settings": "Manage preferences",
        "ad": "Advertisement", "photo": "Photo", "min_read": "{n} min read", "topics": "Topics",
        "copyright": "© {year} {name}. All rights reserved.", "skip": "Skip to main content",
        "legal": ["About us", "Contact", "Careers", "Advertise", "Terms of use", "Privacy policy",
                  "Cookie settings", "Accessibility", "Corrections", "Editorial code", "Help", "Archive",
                  "RSS feeds", "Newsletters", "Podcasts", "Apps", "Events", "Shop"],
        "services": ["Weather", "Crosswords", "Obituaries", "Jobs", "Property", "Cars", "Travel", "Puzzles"],
        "tags": "Tags", "follow": "Follow us", "back": "Back to top",
    },
    "fr": {
        "home": "Accueil", "search": "Rechercher", "subscribe": "S'abonner", "login": "Se connecter",
        "menu": "Menu", "by": "Par", "published": "Publié le", "updated": "Mis à jour le",
        "read_also": "Lire aussi", "related": "Sur le même sujet", "most_read": "Les plus lus",
        "share": "Partager", "latest": "Dernières infos", "comments": "Commentaires",
        "comments_teaser": "{n} commentaires. Participez au débat et donnez votre avis.",
        "newsletter_title": "La lettre du matin",
        "newsletter_text": "Recevez chaque matin l'essentiel de l'actualité dans votre boîte mail, gratuitement.",
        "newsletter_button": "Je m'inscris", "email": "Votre adresse e-mail",
        "cookie_text": ("Nos partenaires et nous utilisons des cookies pour stocker et lire des informations sur "
                        "votre appareil, mesurer l'audience et vous proposer des publicités et des contenus "
                        "personnalisés. Vous pouvez accepter ou refuser ces cookies, ou modifier vos choix à tout "
                        "moment dans les paramètres de confidentialité."),
        "cookie_accept": "Tout accepter", "cookie_reject": "Refuser", "cookie_settings": "Paramétrer",
        "ad": "Publicité", "photo": "Photo", "min_read": "Lecture {n} min", "topics": "Thèmes",
        "copyright": "© {year} {name}. Tous droits réservés.", "skip": "Aller au contenu principal",
        "legal": ["Qui sommes-nous", "Contact", "Recrutement", "Publicité", "Conditions d'utilisation",
                  "Politique de confidentialité", "Gestion des cookies", "Accessibilité", "Rectificatifs",
                  "Charte déontologique", "Aide", "Archives", "Flux RSS", "Newsletters", "Podcasts",
                  "Applications", "Événements", "Boutique"],
        "services": ["Météo", "Mots croisés", "Avis de décès", "Emploi", "Immobilier", "Auto", "Voyages", "Jeux"],
        "tags": "Mots-clés", "follow": "Suivez-nous", "back": "Haut de page",
    },
    "es": {
        "home": "Portada", "search": "Buscar", "subscribe": "Suscríbete", "login": "Iniciar sesión",
        "menu": "Menú", "by": "Por", "published": "Publicado el", "updated": "Actualizado el",
        "read_also": "Lea también", "related": "Noticias relacionadas", "most_read": "Lo más leído",
        "share": "Compartir", "latest": "Última hora", "comments": "Comentarios",
        "comments_teaser": "{n} comentarios. Únete a la conversación y danos tu opinión.",
        "newsletter_title": "El boletín de la mañana",
        "newsletter_text": "Recibe cada mañana en tu correo las noticias más importantes del día, gratis.",
        "newsletter_button": "Suscribirme", "email": "Tu correo electrónico",
        "cookie_text": ("Nosotros y nuestros socios utilizamos cookies para almacenar y acceder a información en "
                        "tu dispositivo, medir la audiencia y mostrarte publicidad y contenidos personalizados. "
                        "Puedes aceptar o rechazar estas cookies, o cambiar tu elección en cualquier momento en "
                        "la configuración de privacidad."),
        "cookie_accept": "Aceptar todo", "cookie_reject": "Rechazar", "cookie_settings": "Configurar",
        "ad": "Publicidad", "photo": "Foto", "min_read": "{n} min de lectura", "topics": "Temas",
        "copyright": "© {year} {name}. Todos los derechos reservados.", "skip": "Ir al contenido principal",
        "legal": ["Quiénes somos", "Contacto", "Trabaja con nosotros", "Publicidad", "Aviso legal",
                  "Política de privacidad", "Configuración de cookies", "Accesibilidad", "Fe de errores",
                  "Código ético", "Ayuda", "Hemeroteca", "RSS", "Boletines", "Pódcasts", "Aplicaciones",
                  "Eventos", "Tienda"],
        "services": ["El tiempo", "Crucigramas", "Esquelas", "Empleo", "Inmobiliaria", "Motor", "Viajes",
                     "Pasatiempos"],
        "tags": "Etiquetas", "follow": "Síguenos", "back": "Volver arriba",
    },
    "de": {
        "home": "Startseite", "search": "Suche", "subscribe": "Abonnieren", "login": "Anmelden", "menu": "Menü",
        "by": "Von", "published": "Veröffentlicht am", "updated": "Aktualisiert am",
        "read_also": "Lesen Sie auch", "related": "Mehr zum Thema", "most_read": "Meistgelesen",
        "share": "Teilen", "latest": "Neueste Meldungen", "comments": "Kommentare",
        "comments_teaser": "{n} Kommentare. Diskutieren Sie mit und sagen Sie uns Ihre Meinung.",
        "newsletter_title": "Der Morgen-Newsletter",
        "newsletter_text": "Erhalten Sie jeden Morgen die wichtigsten Nachrichten des Tages kostenlos per E-Mail.",
        "newsletter_button": "Anmelden", "email": "Ihre E-Mail-Adresse",
        "cookie_text": ("Wir und unsere Partner verwenden Cookies, um Informationen auf Ihrem Gerät zu speichern "
                        "und abzurufen, die Reichweite zu messen und Ihnen personalisierte Werbung und Inhalte "
                        "anzuzeigen. Sie können diese Cookies akzeptieren oder ablehnen und Ihre Auswahl "
                        "jederzeit in den Datenschutzeinstellungen ändern."),
        "cookie_accept": "Alle akzeptieren", "cookie_reject": "Ablehnen", "cookie_settings": "Einstellungen",
        "ad": "Anzeige", "photo": "Foto", "min_read": "Lesezeit {n} Min.", "topics": "Themen",
        "copyright": "© {year} {name}. Alle Rechte vorbehalten.", "skip": "Zum Hauptinhalt springen",
        "legal": ["Über uns", "Kontakt", "Karriere", "Werbung", "Nutzungsbedingungen", "Datenschutz",
                  "Cookie-Einstellungen", "Barrierefreiheit", "Korrekturen", "Leitlinien", "Hilfe", "Archiv",
                  "RSS-Feeds", "Newsletter", "Podcasts", "Apps", "Veranstaltungen", "Shop"],
        "services": ["Wetter", "Kreuzworträtsel", "Traueranzeigen", "Jobs", "Immobilien", "Auto", "Reisen",
                     "Spiele"],
        "tags": "Schlagworte", "follow": "Folgen Sie uns", "back": "Nach oben",
    },
}
#: UTC offset shown in pages (the instant is the same; the truth is UTC).
PAGE_OFFSET = {"en": timedelta(0), "fr": timedelta(hours=1), "es": timedelta(hours=1), "de": timedelta(hours=1)}

_SLOT = re.compile(r"\{(\w+)\}")


def _compile(template: str) -> list[tuple[str, str]]:
    """A template as (literal, slot) pairs; the last slot may be ''."""
    parts: list[tuple[str, str]] = []
    pos = 0
    for m in _SLOT.finditer(template):
        parts.append((template[pos:m.start()], m.group(1)))
        pos = m.end()
    parts.append((template[pos:], ""))
    return parts


class _Language:
    """One language's compiled templates and pools."""

    def __init__(self, lang: str) -> None:
        v = VOCAB[lang]
        self.lang = lang
        self.v = v
        self.sentences = [_compile(t) for t in [*v["sentences"], *v["background"], v["quote"]]]
        self.headlines = [_compile(t) for t in v["headlines"]]
        self.extra = [_compile(t) for t in v["extra"]]
        self.datelines = [_compile(t) for t in v["datelines"]]
        self.caption = _compile(CAPTIONS[lang])
        # Sentences a connector can start: those not opening on a name.
        self.connectable = [i for i, t in enumerate(self.sentences) if not t[0][0] and t[0][1] in ("Short", "Day", "Org")
                            or t[0][0][:1].isupper()]


_LANGS: dict[str, _Language] = {}


def _language(lang: str) -> _Language:
    if lang not in _LANGS:
        _LANGS[lang] = _Language(lang)
    return _LANGS[lang]


class _Topic:
    """What one article is about: an event kind, a city, people and organisations (as in labelled.py)."""

    def __init__(self, lang: _Language, rng: random.Random) -> None:
        v = lang.v
        name, short, issues, actions, unit = rng.choice(v["events"])
        self.city = rng.choice(v["cities"])
        self.name = name.format(city=self.city, storm=rng.choice(["Ciarán", "Bella", "Dora", "Emil", "Fiona"]))
        self.short = short
        self.issues: list[str] = issues
        self.actions: list[str] = actions
        self.unit: str = unit
        self.people: list[tuple[str, str]] = rng.sample(v["people"], 4)
        self.orgs: list[str] = rng.sample(v["orgs"], 3)
        # The writer's voice (as in labelled.py): half of the language's word pairs swapped.
        self.swaps: dict[str, str] = {k: w for k, w in v["swaps"].items() if rng.random() < 0.5}
        self.voice = _voice(tuple(self.swaps)) if self.swaps else None


@functools.lru_cache(maxsize=4096)
def _voice(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"\b(" + "|".join(map(re.escape, words)) + r")\b")


def _fill(parts: list[tuple[str, str]], lang: _Language, topic: _Topic, rng: random.Random,
          fixed: Mapping[str, str] | None = None) -> str:
    v = lang.v
    values: dict[str, str] = dict(fixed) if fixed else {}
    out: list[str] = []
    for literal, slot in parts:
        out.append(literal)
        if not slot:
            continue
        value = values.get(slot)
        if value is None:
            value = _slot(slot, values, v, topic, rng)
            values[slot] = value
        out.append(value)
    return "".join(out)


def _slot(slot: str, values: dict[str, str], v: dict[str, Any], topic: _Topic, rng: random.Random) -> str:
    if slot in ("p", "r"):
        values["p"], values["r"] = rng.choice(topic.people)
        return values[slot]
    if slot in ("p2", "r2"):
        first = values.get("p")
        pair = rng.choice([pr for pr in topic.people if pr[0] != first])
        values["p2"], values["r2"] = pair
        return values[slot]
    if slot in ("issue", "issue2"):
        other = values.get("issue2" if slot == "issue" else "issue")
        return rng.choice([i for i in topic.issues if i != other])
    if slot == "action":
        return rng.choice(topic.actions)
    if slot == "unit":
        return topic.unit
    if slot == "city":
        return topic.city
    if slot == "CITY":
        return topic.city.upper()
    if slot in ("org", "Org"):
        org = rng.choice(topic.orgs)
        return org[:1].upper() + org[1:] if slot == "Org" else org
    if slot in ("short", "Short"):
        return topic.short[:1].upper() + topic.short[1:] if slot == "Short" else topic.short
    if slot in ("day", "Day"):
        day: str = rng.choice(v["days"])
        return day[:1].upper() + day[1:] if slot == "Day" else day
    if slot == "num":
        return str(rng.choice([rng.randint(12, 99), rng.randint(100, 950), rng.randint(1000, 9000)]))
    if slot == "pct":
        return str(rng.randint(2, 48))
    if slot == "small":
        return str(rng.randint(2, 14))
    if slot in ("said", "months", "adj_state", "adj_mood", "adj_eval"):
        return str(rng.choice(v[slot]))
    if slot == "month":
        return str(rng.choice(v["months"]))
    if slot == "headline":
        return topic.name
    raise KeyError(slot)


def _sentence(lang: _Language, topic: _Topic, rng: random.Random) -> str:
    i = rng.randrange(len(lang.sentences))
    parts = lang.sentences[i]
    if rng.random() < 0.3 and i in lang.connectable:
        connector = rng.choice(CONNECTORS[lang.lang])
        literal, slot = parts[0]
        if lang.lang != "de":
            if literal:
                literal = literal[:1].lower() + literal[1:]
            elif slot in ("Short", "Day", "Org"):
                slot = slot.lower()
        parts = [(connector + literal, slot), *parts[1:]]
    return _fill(parts, lang, topic, rng)


def _paragraph(lang: _Language, topic: _Topic, rng: random.Random) -> str:
    text = _raw_paragraph(lang, topic, rng)
    return topic.voice.sub(lambda m: topic.swaps[m.group(0)], text) if topic.voice else text


def _raw_paragraph(lang: _Language, topic: _Topic, rng: random.Random) -> str:
    target = rng.randint(40, 100)
    sentences: list[str] = []
    words = 0
    while words < target:
        s = _sentence(lang, topic, rng)
        n = s.count(" ") + 1
        if words >= 40 and words + n > 120:
            break
        sentences.append(s)
        words += n
    return " ".join(sentences)


def _slugify(text: str, max_words: int = 8) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", ascii_text)
    return "-".join(words[:max_words]) or "article"


# ---------------------------------------------------------------------------------------------
# The model


@dataclass
class Article:
    outlet: str
    serial: int  # position in the outlet's list (publication order, 0 = oldest)
    section: str
    path: str
    title: str
    lead: str
    author: str
    published: datetime
    paragraphs: list[str]
    caption: str
    credit: str
    tags: list[str]
    comments: int
    pull: int  # the paragraph whose first sentence is the pull quote
    syndicated_from: Article | None = None
    copies: list[Article] = field(default_factory=list)
    modified: datetime | None = None
    version: int = 1
    rng_seed: str = ""

    @property
    def body(self) -> str:
        return "\n".join(self.paragraphs)


@dataclass
class Outlet:
    index: int
    id: str
    name: str
    language: str
    style: str
    sections: list[tuple[str, str]]
    reporters: list[str]
    articles: list[Article] = field(default_factory=list)
    base: str = ""

    @property
    def feed_path(self) -> str:
        return {"classic": "/rss.xml", "bem": "/rss/une.xml", "blocks": "/feeds/latest.rss",
                "wordpress": "/feed/"}[self.style]

    sitemap_path = "/sitemap.xml"

    @property
    def news_sitemap_path(self) -> str:
        return "/sitemap-news.xml" if self.style != "wordpress" else "/news-sitemap.xml"

    def month_sitemap_path(self, month: str) -> str:
        return f"/sitemaps/{month}.xml" if self.style in ("classic", "blocks") else f"/sitemap-{month}.xml"

    def section_path(self, section: str) -> str:
        return {"classic": f"/{section}/", "bem": f"/{section}/", "blocks": f"/news/{section}/",
                "wordpress": f"/category/{section}/"}[self.style]

    @property
    def article_url_pattern(self) -> str:
        return {"classic": r"/\d{4}/\d{2}/\d{2}/[a-z0-9-]+$", "bem": r"-\d{7}\.html$",
                "blocks": r"/news/[a-z-]+/[a-z0-9-]+$", "wordpress": r"/\d{4}/\d{2}/[a-z0-9-]+/$"}[self.style]

    def url(self, path: str) -> str:
        return self.base + path


@dataclass
class Resource:
    """One served resource version: the body and its validators; gzip made on first use."""

    body: bytes
    content_type: str
    kind: str
    last_modified: str  # an HTTP date
    modified_ts: float
    etag: str
    _gzip: bytes | None = None

    @classmethod
    def make(cls, body: bytes, content_type: str, kind: str, modified: datetime) -> Resource:
        digest = hashlib.blake2b(body, digest_size=16).hexdigest()
        ts = int(modified.timestamp())
        return cls(body, content_type, kind, formatdate(ts, usegmt=True), float(ts), f'"{digest}"')

    @property
    def etag_gzip(self) -> str:
        return self.etag[:-1] + '-gz"'

    @property
    def gzip(self) -> bytes:
        if self._gzip is None:
            c = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # gzip container, mtime 0
            self._gzip = c.compress(self.body) + c.flush()
        return self._gzip


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def default_now() -> datetime:
    """DEFAULT_NOW, or two days ago when the machine's clock is before it (no future dates)."""
    wall = datetime.now(UTC)
    if wall - DEFAULT_NOW >= timedelta(days=2):
        return DEFAULT_NOW
    return (wall - timedelta(days=2)).replace(minute=0, second=0, microsecond=0)


class NewsSite:
    """The generated site: outlets and articles (the model), and, once `bind` gave it base URLs,
    the rendered resources (per outlet, path -> Resource)."""

    def __init__(self, outlets: list[Outlet], seed: int, now: datetime) -> None:
        self.outlets = outlets
        self.seed = seed
        self.now = now
        self.mutations = 0
        self.resources: list[dict[str, Resource]] = [{} for _ in outlets]
        self._chrome: list[dict[str, str]] = []
        self._state_pools: list[list[tuple[str, int]]] = []

    # -- generation ----------------------------------------------------------------------------

    @classmethod
    def generate(cls, outlets: int = DEFAULT_OUTLETS, articles: int = DEFAULT_ARTICLES, seed: int = DEFAULT_SEED,
                 now: datetime | None = None) -> NewsSite:
        now = (now or default_now()).astimezone(UTC)
        made: list[Outlet] = []
        for i in range(outlets):
            lang = LANGUAGE_ORDER[i % len(LANGUAGE_ORDER)]
            k = i // len(LANGUAGE_ORDER)
            names = OUTLET_NAMES[lang]
            oid, name = names[k % len(names)]
            if k >= len(names):
                oid, name = f"{oid}-{k + 1}", f"{name} {k + 1}"
            rng = random.Random(f"{seed}:outlet:{i}")
            first, last = REPORTERS[lang]
            reporters = [f"{f} {sn}" for f, sn in zip(rng.sample(first, 6), rng.sample(last, 6), strict=True)]
            style = STYLES[(i + i // len(LANGUAGE_ORDER)) % len(STYLES)]
            made.append(Outlet(i, oid, name, lang, style, SECTIONS[lang], reporters))
        site = cls(made, seed, now)
        # Publication times, newest first, then which articles are copies of which.
        times: list[list[datetime]] = []
        for o in made:
            rng = random.Random(f"{seed}:times:{o.index}")
            t = now - timedelta(minutes=rng.uniform(1, 40))
            ts = []
            for _ in range(articles):
                ts.append(t.replace(microsecond=0))
                t -= timedelta(hours=rng.expovariate(1 / MEAN_GAP_HOURS))
            times.append(sorted(ts))
        copy_of: dict[tuple[int, int], tuple[int, int]] = {}
        used: set[tuple[int, int]] = set()  # originals already copied once
        for o in made:
            peers = [p for p in made if p.language == o.language and p.index != o.index]
            if not peers:
                continue
            rng = random.Random(f"{seed}:copies:{o.index}")
            for j in sorted(rng.sample(range(articles), round(articles * SYNDICATED_SHARE))):
                peer = rng.choice(peers)
                t = times[o.index][j]
                lo = bisect.bisect_left(times[peer.index], t - timedelta(hours=12))
                hi = bisect.bisect_right(times[peer.index], t - timedelta(minutes=10))
                candidates = list(range(lo, hi))
                if not candidates:
                    before = bisect.bisect_left(times[peer.index], t)
                    candidates = list(range(max(0, before - 3), before))
                candidates = [k for k in candidates if (peer.index, k) not in copy_of
                              and (peer.index, k) not in used]
                if candidates:
                    copy_of[(o.index, j)] = (peer.index, rng.choice(candidates))
                    used.add(copy_of[(o.index, j)])
        originals = {v for v in copy_of.values()}
        for key in list(copy_of):
            if key in originals:  # an original is never itself a copy
                del copy_of[key]
        for o in made:
            for j, t in enumerate(times[o.index]):
                if (o.index, j) not in copy_of:
                    o.articles.append(site._new_article(o, j, t))
                else:
                    o.articles.append(None)  # type: ignore[arg-type]  # filled below
        for (oi, j), (pi, pk) in sorted(copy_of.items()):
            original = made[pi].articles[pk]
            made[oi].articles[j] = site._copy_article(made[oi], j, times[oi][j], original)
        for o in made:
            site._assign_paths(o)
        return site

    def _new_article(self, o: Outlet, serial: int, published: datetime, rng_key: str = "") -> Article:
        key = rng_key or f"{self.seed}:article:{o.index}:{serial}"
        rng = random.Random(key)
        lang = _language(o.language)
        topic = _Topic(lang, rng)
        title = _fill(rng.choice(lang.headlines), lang, topic, rng)
        lead = _sentence(lang, topic, rng)
        paragraphs = [_paragraph(lang, topic, rng) for _ in range(rng.randint(6, 20))]
        return Article(
            outlet=o.id, serial=serial, section=rng.choice(o.sections)[0], path="", title=title, lead=lead,
            author=rng.choice(o.reporters), published=published, paragraphs=paragraphs,
            caption=_fill(lang.caption, lang, topic, rng), credit=rng.choice(CREDITS),
            tags=[topic.city, *rng.sample(topic.issues, 2)], comments=rng.randint(0, 480),
            pull=rng.randrange(1, len(paragraphs)), rng_seed=key,
        )

    def _copy_article(self, o: Outlet, serial: int, published: datetime, original: Article) -> Article:
        rng = random.Random(f"{self.seed}:copy:{o.index}:{serial}")
        lang = _language(o.language)
        topic = _Topic(lang, random.Random(original.rng_seed))  # the original's topic
        paragraphs = list(original.paragraphs)
        if rng.random() < 0.7:
            paragraphs[0] = _fill(rng.choice(lang.datelines), lang, topic, rng) + paragraphs[0]
        if rng.random() < 0.4:
            paragraphs.append(_fill(rng.choice(lang.extra), lang, topic, rng))
        title = original.title
        if rng.random() < 0.6:
            title = _fill(rng.choice(lang.headlines), lang, topic, rng)
        article = Article(
            outlet=o.id, serial=serial, section=original.section, path="", title=title, lead=original.lead,
            author=original.author, published=published, paragraphs=paragraphs,
            caption=original.caption, credit=original.credit, tags=list(original.tags),
            comments=rng.randint(0, 120), pull=min(original.pull, len(paragraphs) - 1),
            syndicated_from=original, rng_seed=f"{self.seed}:copy:{o.index}:{serial}",
        )
        original.copies.append(article)
        return article

    def _assign_paths(self, o: Outlet, start: int = 0) -> None:
        used = {a.path for a in o.articles[:start]}
        for a in o.articles[start:]:
            slug = _slugify(a.title)
            p = a.published
            if o.style == "classic":
                path = f"/{a.section}/{p:%Y/%m/%d}/{slug}"
            elif o.style == "bem":
                path = f"/{a.section}/{slug}-{4_000_000 + o.index * 100_000 + a.serial:07d}.html"
            elif o.style == "blocks":
                h = hashlib.sha1(f"{o.id}:{a.serial}".encode()).hexdigest()[:6]
                path = f"/news/{a.section}/{slug}-{h}"
            else:
                path = f"/{p:%Y/%m}/{slug}/"
            n = 2
            base_path = path
            while path in used:
                path = base_path.rstrip("/") + f"-{n}" + ("/" if base_path.endswith("/") else "")
                n += 1
            used.add(path)
            a.path = path

    # -- truth ---------------------------------------------------------------------------------

    def outlet(self, outlet_id: str) -> Outlet:
        return next(o for o in self.outlets if o.id == outlet_id)

    def url_of(self, a: Article) -> str:
        return self.outlet(a.outlet).url(a.path)

    def articles(self) -> Iterable[Article]:
        for o in self.outlets:
            yield from o.articles

    def truth_of(self, a: Article, o: Outlet | None = None) -> dict[str, Any]:
        o = o or self.outlet(a.outlet)
        original = a.syndicated_from
        cluster = self.url_of(original) if original else (o.url(a.path) if a.copies else None)
        return {
            "url": o.url(a.path), "outlet": o.id, "language": o.language, "title": a.title, "author": a.author,
            "published": _iso(a.published), "body": a.body,
            "syndicated_from": self.url_of(original) if original else None, "cluster": cluster,
            "lead": a.lead, "section": a.section, "modified": _iso(a.modified) if a.modified else None,
            "version": a.version,
        }

    def truth(self) -> list[dict[str, Any]]:
        return [self.truth_of(a, o) for o in self.outlets for a in o.articles]

    def write_truth(self, path: str | Path) -> None:
        with Path(path).open("w", encoding="utf-8") as fh:
            for row in self.truth():
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")

    def config_toml(self, database: str, *, max_depth: int = 1) -> str:
        """A newsmon config for the site (bound): every outlet with homepage, feed, sitemap index,
        `max_depth` 1 (newsmon's default: the homepage's own links; the feed and the sitemaps list
        every article)."""
        lines = [
            "# newsmon configuration for the generated news site (written by bench/newssite.py).",
            "", "[storage]", f"database = {_toml(database)}", "keep_html = false",
            "", "[crawl]", f"user_agent = {_toml('newsmon-bench/0.1')}", "obey_robots = true",
            "concurrency = 16", "per_host_concurrency = 8", "download_delay = 0.0", "timeout = 30",
            "max_page_bytes = 10000000", "max_articles_per_run = 0",
        ]
        for o in self.outlets:
            lines += [
                "", "[[outlets]]", f"id = {_toml(o.id)}", f"name = {_toml(o.name)}",
                f"homepage = {_toml(o.url('/'))}", f"feeds = [{_toml(o.url(o.feed_path))}]",
                f"sitemaps = [{_toml(o.url(o.sitemap_path))}]", f"language = {_toml(o.language)}",
                f"article_url_pattern = {_toml(o.article_url_pattern)}", f"max_depth = {max_depth}",
            ]
        return "\n".join(lines) + "\n"

    # -- rendering -----------------------------------------------------------------------------

    def bind(self, bases: Mapping[str, str]) -> None:
        """Give every outlet its base URL and render all resources."""
        for o in self.outlets:
            o.base = bases[o.id].rstrip("/")
        self._chrome = [_chrome(o, self.seed) for o in self.outlets]
        self._state_pools = [_state_pool(o, self.seed) for o in self.outlets]
        for o in self.outlets:
            res = self.resources[o.index]
            res.clear()
            for a in o.articles:
                res[a.path] = self._render_article(o, a)
            res.update(self._render_listings(o))

    def _render_article(self, o: Outlet, a: Article) -> Resource:
        page = render_article(self, o, a, self._chrome[o.index])
        return Resource.make(page.encode("utf-8"), "text/html; charset=utf-8", "article", a.modified or a.published)

    def _render_listings(self, o: Outlet) -> dict[str, Resource]:
        """Homepage, section fronts, feed, sitemaps, robots.txt (their Last-Modified: the newest
        change among what they list)."""
        chrome = self._chrome[o.index]
        newest = max(a.modified or a.published for a in o.articles)
        out: dict[str, Resource] = {}
        html_type = "text/html; charset=utf-8"
        xml_type = "application/xml; charset=utf-8"
        out["/"] = Resource.make(render_home(self, o, chrome).encode(), html_type, "homepage", newest)
        for sec, label in o.sections:
            items = [a for a in o.articles if a.section == sec]
            when = max((a.published for a in items), default=newest)
            body = render_section(self, o, chrome, sec, label, items).encode()
            out[o.section_path(sec)] = Resource.make(body, html_type, "section", when)
        out[o.feed_path] = Resource.make(render_feed(o).encode(), "application/rss+xml; charset=utf-8", "feed", newest)
        months: dict[str, list[Article]] = {}
        for a in o.articles:
            months.setdefault(f"{a.published:%Y-%m}", []).append(a)
        index_entries = []
        for month, items in sorted(months.items()):
            when = max(a.modified or a.published for a in items)
            path = o.month_sitemap_path(month)
            out[path] = Resource.make(render_sitemap(o, items).encode(), xml_type, "sitemap", when)
            index_entries.append((path, when))
        recent = [a for a in o.articles if a.published >= self.now - timedelta(days=NEWS_SITEMAP_DAYS)]
        out[o.news_sitemap_path] = Resource.make(render_news_sitemap(o, recent).encode(), xml_type, "news-sitemap",
                                                 max((a.published for a in recent), default=newest))
        index_entries.append((o.news_sitemap_path, newest))
        out[o.sitemap_path] = Resource.make(render_sitemap_index(o, index_entries).encode(), xml_type,
                                            "sitemap-index", newest)
        # Pages that are neither articles nor listings (legal, services, tags, authors): one small
        # page each (the same bytes for all), so that following the menus meets no 404.
        misc_html = _page(self, o, chrome, o.name, o.url("/"), f"<h1>{_e(o.name)}</h1>", "page").encode()
        misc = Resource.make(misc_html, html_type, "page", min(a.published for a in o.articles))
        for path in _misc_paths(o, chrome):
            out[path] = misc
        robots = f"User-agent: *\nDisallow:\n\nSitemap: {o.url(o.sitemap_path)}\n"
        out["/robots.txt"] = Resource.make(robots.encode(), "text/plain; charset=utf-8", "robots",
                                           min(a.published for a in o.articles))
        return out

    def _replace(self, o: Outlet, path: str, new: Resource) -> bool:
        """Install `new` unless the bytes are the same (then the old validators stay)."""
        res = self.resources[o.index]
        old = res.get(path)
        if old is not None and old.body == new.body:
            return False
        res[path] = new
        return True

    # -- mutations -----------------------------------------------------------------------------

    def mutate(self, add: int = 0, edit: int = 0, now: datetime | None = None) -> dict[str, Any]:
        """Add `add` articles and edit `edit` existing ones; re-render what changed.

        The site's clock moves one hour, or to `now` when that is later; the new articles are
        published within the last hour, the edits within it too, or at `now` when it is given (a
        crawler that fetched the pages before the call sees the edits as later than its fetch).
        Returns the truth rows of the added and edited articles and the paths whose bytes changed.
        """
        if not self._chrome:
            raise RuntimeError("bind() the site before mutating it")
        self.mutations += 1
        m = self.mutations
        rng = random.Random(f"{self.seed}:mutation:{m}")
        start = self.now
        if now is not None and now.astimezone(UTC) > start + timedelta(hours=1):
            start = now.astimezone(UTC).replace(microsecond=0) - timedelta(hours=1)
        self.now = start + timedelta(hours=1)
        added: list[Article] = []
        touched: set[int] = set()
        for k in range(add):
            o = self.outlets[(m * 7 + k) % len(self.outlets)]
            when = (start + timedelta(minutes=60 * (k + 1) / (add + 1))).replace(microsecond=0)
            a = self._new_article(o, len(o.articles), when, rng_key=f"{self.seed}:mutation:{m}:add:{k}")
            o.articles.append(a)
            self._assign_paths(o, len(o.articles) - 1)
            added.append(a)
            touched.add(o.index)
        pool = [a for o in self.outlets for a in o.articles if a not in added]
        edited = rng.sample(pool, min(edit, len(pool)))
        for a in edited:
            o = self.outlet(a.outlet)
            lang = _language(o.language)
            topic = _Topic(lang, random.Random(a.rng_seed))
            i = rng.randrange(len(a.paragraphs))
            new = a.paragraphs[i]
            while new == a.paragraphs[i]:
                new = _paragraph(lang, topic, rng)
            a.paragraphs[i] = new
            a.modified = (self.now if now is not None else start + timedelta(minutes=rng.uniform(1, 59))).replace(
                microsecond=0)
            a.version += 1
            touched.add(o.index)
        changed: list[str] = []
        for a in [*added, *edited]:
            o = self.outlet(a.outlet)
            self.resources[o.index][a.path] = self._render_article(o, a)
            changed.append(o.url(a.path))
        for o in self.outlets:
            # Every outlet: the news sitemap's 2-day window moved with the clock.
            for path, res in self._render_listings(o).items():
                if self._replace(o, path, res):
                    changed.append(o.url(path))
        logger.info("mutation %d: %d added, %d edited, %d resources changed", m, len(added), len(edited),
                    len(changed))
        return {"added": [self.truth_of(a) for a in added], "edited": [self.truth_of(a) for a in edited],
                "changed": changed, "now": _iso(self.now)}

    # -- sizes ---------------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        pages = [r for res in self.resources for r in res.values() if r.kind == "article"]
        sizes = [len(r.body) for r in pages]
        unique = {id(r): r for res in self.resources for r in res.values()}  # misc pages share one
        total = sum(len(r.body) for r in unique.values())
        return {
            "outlets": len(self.outlets), "articles": len(pages),
            "syndicated": sum(1 for a in self.articles() if a.syndicated_from),
            "resources": sum(len(res) for res in self.resources), "distinct_bodies": len(unique),
            "total_bytes": total,
            "article_bytes": sum(sizes), "article_avg": sum(sizes) / len(sizes) if sizes else 0,
            "article_min": min(sizes, default=0), "article_max": max(sizes, default=0),
        }


def _toml(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


# ---------------------------------------------------------------------------------------------
# HTML


def _e(text: str) -> str:
    return html.escape(text, quote=False)


def _a(text: str) -> str:
    return html.escape(text, quote=True)


def _json_script(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


def _local_time(o: Outlet, dt: datetime) -> datetime:
    offset = PAGE_OFFSET[o.language]
    return dt.astimezone(timezone(offset))


def _display_date(o: Outlet, dt: datetime) -> str:
    lt = _local_time(o, dt)
    month = MONTHS[o.language][lt.month - 1]
    if o.language == "en":
        return f"{lt.day} {month} {lt.year}, {lt:%H:%M}"
    if o.language == "fr":
        return f"{lt.day} {month} {lt.year} à {lt:%Hh%M}"
    if o.language == "es":
        return f"{lt.day} de {month} de {lt.year} - {lt:%H:%M}"
    return f"{lt.day}. {month} {lt.year}, {lt:%H:%M} Uhr"


def _rand_ident(rng: random.Random, n: int = 6) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))


def _svg_icon(rng: random.Random, name: str) -> str:
    points = " ".join(f"{rng.uniform(0, 24):.3f} {rng.uniform(0, 24):.3f}" for _ in range(rng.randint(14, 22)))
    return (f'<svg class="icon icon--{name}" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" '
            f'focusable="false"><path fill="currentColor" d="M{points}Z"/></svg>')


def _chrome(o: Outlet, seed: int) -> dict[str, str]:
    """The outlet's fixed page furniture, rendered once: CSS, scripts, header, footer, boxes."""
    rng = random.Random(f"{seed}:chrome:{o.index}")
    ui = UI[o.language]
    lang = _language(o.language)
    p = {"classic": "site", "bem": "c", "blocks": "ssrcss", "wordpress": "wp"}[o.style]
    # Inline CSS: a few hundred generated rules.
    props = ["margin", "padding", "color", "background", "font-size", "line-height", "border", "display",
             "grid-template-columns", "letter-spacing", "max-width", "box-shadow", "transition", "z-index"]
    rules = []
    for _ in range(rng.randint(170, 250)):
        sel = f".{p}-{_rand_ident(rng, rng.randint(4, 9))}"
        if rng.random() < 0.4:
            sel += f" .{p}-{_rand_ident(rng, 5)}"
        body = ";".join(f"{rng.choice(props)}:{rng.randint(0, 64)}px" for _ in range(rng.randint(2, 6)))
        rules.append(f"{sel}{{{body}}}")
    css = "\n".join(rules)
    # Inline scripts: consent manager, analytics, ad loader (minified-looking).
    fns = []
    for _ in range(rng.randint(55, 85)):
        name = _rand_ident(rng, 2)
        args = ",".join(_rand_ident(rng, 1) for _ in range(rng.randint(1, 3)))
        stmts = ";".join(f"{_rand_ident(rng, 1)}.{_rand_ident(rng, 4)}={_rand_ident(rng, 1)}[{rng.randint(0, 99)}]"
                         f"||\"{_rand_ident(rng, 8)}\"" for _ in range(rng.randint(2, 5)))
        fns.append(f"function {name}({args}){{{stmts};return {args.split(',')[0]}}}")
    js = ("(function(w,d){\"use strict\";" + "".join(fns)
          + f"w.__cmp={{vendor:\"{_rand_ident(rng, 10)}\",version:{rng.randint(100, 999)}}};}})(window,document);")
    icons = {n: _svg_icon(rng, n) for n in ("facebook", "x", "linkedin", "whatsapp", "email", "print", "link")}
    share = (f'<div class="{p}-share" role="group" aria-label="{_a(ui["share"])}">'
             + "".join(f'<a class="{p}-share__btn {p}-share__btn--{n}" href="#share-{n}" title="{_a(ui["share"])}">'
                       f'{icon}<span class="visually-hidden">{n}</span></a>' for n, icon in icons.items())
             + "</div>")
    topics = []
    for _ in range(30):
        t = _Topic(lang, rng)
        word = rng.choice([t.city, *t.issues])
        topics.append(f'<li><a href="/tag/{_slugify(word, 4)}/">{_e(word[:1].upper() + word[1:])}</a></li>')
    sections = "".join(f'<li class="{p}-nav__item"><a class="{p}-nav__link" href="{o.section_path(s)}">{_e(label)}</a>'
                       "</li>" for s, label in o.sections)
    services = "".join(f'<li><a href="/services/{_slugify(s)}/">{_e(s)}</a></li>' for s in ui["services"])
    header = (
        f'<a class="skip-link" href="#main">{_e(ui["skip"])}</a>'
        f'<header class="{p}-header" role="banner"><div class="{p}-header__top">'
        f'<button class="{p}-burger" aria-expanded="false">{_e(ui["menu"])}</button>'
        f'<a class="{p}-logo" href="/" title="{_a(o.name)}">{icons["link"]}<span>{_e(o.name)}</span></a>'
        f'<form class="{p}-search" action="/search/" role="search"><input type="search" name="q" '
        f'placeholder="{_a(ui["search"])}"><button type="submit">{_e(ui["search"])}</button></form>'
        f'<a class="{p}-btn {p}-btn--subscribe" href="/subscribe/">{_e(ui["subscribe"])}</a>'
        f'<a class="{p}-btn" href="/account/login/">{_e(ui["login"])}</a></div>'
        f'<nav class="{p}-nav" aria-label="{_a(ui["menu"])}"><ul class="{p}-nav__list">'
        f'<li><a href="/">{_e(ui["home"])}</a></li>{sections}</ul>'
        f'<div class="{p}-megamenu"><h2>{_e(ui["topics"])}</h2><ul>{"".join(topics)}</ul>'
        f'<ul class="{p}-services">{services}</ul></div></nav></header>'
    )
    cookie = (
        f'<div id="consent-banner" class="{p}-consent" role="dialog" aria-modal="true" aria-live="polite">'
        f'<div class="{p}-consent__text"><p>{_e(ui["cookie_text"])}</p></div>'
        f'<div class="{p}-consent__buttons"><button class="accept">{_e(ui["cookie_accept"])}</button>'
        f'<button class="reject">{_e(ui["cookie_reject"])}</button>'
        f'<button class="settings">{_e(ui["cookie_settings"])}</button></div></div>'
    )
    newsletter = (
        f'<section class="{p}-newsletter newsletter-box"><h2>{_e(ui["newsletter_title"])}</h2>'
        f'<p>{_e(ui["newsletter_text"])}</p><form action="/newsletter/subscribe" method="post">'
        f'<input type="email" name="email" placeholder="{_a(ui["email"])}" required>'
        f'<button type="submit">{_e(ui["newsletter_button"])}</button></form></section>'
    )
    legal = "".join(f'<li><a href="/{_slugify(x)}/">{_e(x)}</a></li>' for x in ui["legal"])
    footer_sections = "".join(
        f'<div class="{p}-footer__col"><h3><a href="{o.section_path(s)}">{_e(label)}</a></h3><ul>'
        + "".join(f'<li><a href="/tag/{_slugify(w, 4)}/">{_e(w[:1].upper() + w[1:])}</a></li>'
                  for w in rng.sample([t for t in VOCAB[o.language]["cities"]] + [i for e in VOCAB[o.language]["events"]
                                                                                for i in e[2]], 8))
        + "</ul></div>" for s, label in o.sections)
    year = DEFAULT_NOW.year
    footer = (
        f'<footer class="{p}-footer" role="contentinfo"><div class="{p}-footer__sections">{footer_sections}</div>'
        f'<div class="{p}-footer__follow"><h3>{_e(ui["follow"])}</h3>{share}</div>'
        f'<ul class="{p}-footer__legal">{legal}{services}</ul>'
        f'<p class="{p}-footer__copy">{_e(ui["copyright"].format(year=year, name=o.name))}</p>'
        f'<a href="#top" class="{p}-back">{_e(ui["back"])}</a></footer>'
    )
    head_static = (
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="theme-color" content="#{rng.randrange(0x1000000):06x}">'
        '<link rel="preconnect" href="https://cdn.example-media.net">'
        '<link rel="preconnect" href="https://ads.example-adserver.com">'
        f'<link rel="icon" href="/favicon.ico"><link rel="manifest" href="/manifest.json">'
        f'<link rel="alternate" type="application/rss+xml" title="{_a(o.name)}" href="{o.feed_path}">'
        f"<style>{css}</style>"
        f'<script>{js}</script>'
        '<script async src="https://ads.example-adserver.com/tag.js"></script>'
    )
    return {"p": p, "css": css, "head_static": head_static, "header": header, "cookie": cookie,
            "newsletter": newsletter, "footer": footer, "share": share}


_LOCAL_HREF = re.compile(r'href="(/[^"#?]*)"')


def _misc_paths(o: Outlet, chrome: dict[str, str]) -> set[str]:
    """Local links of the menus and footer, and the tag and author pages articles link to."""
    paths = set(_LOCAL_HREF.findall(chrome["header"] + chrome["footer"]))
    author_dir = "/auteur/{}/" if o.style == "bem" else "/author/{}/"
    for a in o.articles:
        for t in a.tags:
            paths.add(f"/tag/{_slugify(t, 4)}/")
            if o.style == "blocks":
                paths.add(f"/topics/{_slugify(t, 4)}")
        paths.add(author_dir.format(_slugify(a.author)))
    paths -= {"/", *(o.section_path(s) for s, _ in o.sections)}
    return paths


def _img(o: Outlet, a: Article, alt: str) -> str:
    key = hashlib.sha1(f"{o.id}{a.serial}".encode()).hexdigest()[:12]
    src = f"https://cdn.example-media.net/{o.id}/{a.published:%Y/%m}/{key}"
    srcset = ", ".join(f"{src}-{w}.jpg {w}w" for w in (320, 480, 640, 800, 1024, 1280, 1600))
    return (f'<img src="{src}-800.jpg" srcset="{srcset}" sizes="(max-width: 800px) 100vw, 800px" '
            f'alt="{_a(alt)}" width="800" height="450" loading="lazy" decoding="async">')


def _paragraph_html(a: Article, i: int, text: str) -> str:
    """A paragraph's HTML: its text, with one name or place linked or emphasised now and then."""
    escaped = _e(text)
    if (a.serial + i) % 4 == 0:
        for tag in a.tags:
            t = _e(tag)
            pos = escaped.find(t)
            if pos >= 0:
                link = f'<a href="/tag/{_slugify(tag, 4)}/">{t}</a>'
                return escaped[:pos] + link + escaped[pos + len(t):]
    if (a.serial + i) % 5 == 1:
        cut = escaped.find(". ")
        if cut > 0:
            return f"<strong>{escaped[:cut + 1]}</strong>{escaped[cut + 1:]}"
    return escaped


def _previous(o: Outlet, a: Article, n: int, *, same_section: bool) -> list[Article]:
    """Up to `n` articles published before `a` (the newest first): stable when articles are added."""
    out = []
    for b in reversed(o.articles[:a.serial]):
        if not same_section or b.section == a.section:
            out.append(b)
            if len(out) == n:
                break
    return out


def _teaser(o: Outlet, b: Article, cls: str, *, lead: bool = False) -> str:
    extra = f"<p>{_e(b.lead)}</p>" if lead else ""
    return (f'<li class="{cls}"><a href="{b.path}">{_img(o, b, b.title)}<h3>{_e(b.title)}</h3></a>{extra}'
            f'<time datetime="{_iso(b.published)}">{_display_date(o, b.published)}</time></li>')


def _head(site: NewsSite, o: Outlet, chrome: dict[str, str], title: str, description: str, url: str,
          extra: str = "") -> str:
    return (f'<!DOCTYPE html>\n<html lang="{o.language}" class="no-js"><head><meta charset="utf-8">'
            f"<title>{_e(title)} | {_e(o.name)}</title>"
            f'<meta name="description" content="{_a(description)}">'
            f'<link rel="canonical" href="{_a(url)}">'
            f'<meta property="og:site_name" content="{_a(o.name)}"><meta property="og:url" content="{_a(url)}">'
            f'<meta property="og:title" content="{_a(title)}"><meta property="og:description" content="{_a(description)}">'
            f'<meta name="twitter:card" content="summary_large_image"><meta name="twitter:site" content="@{o.id}">'
            f'<meta name="twitter:title" content="{_a(title)}">{extra}{chrome["head_static"]}</head>')


def render_article(site: NewsSite, o: Outlet, a: Article, chrome: dict[str, str]) -> str:
    ui = UI[o.language]
    p = chrome["p"]
    url = o.url(a.path)
    section_label = dict(o.sections)[a.section]
    published = _local_time(o, a.published).isoformat()
    modified = _local_time(o, a.modified).isoformat() if a.modified else None
    author_slug = _slugify(a.author)
    image = f"https://cdn.example-media.net/{o.id}/{a.published:%Y/%m}/og-{a.serial}.jpg"
    ld: dict[str, Any] = {
        "@context": "https://schema.org", "@type": "NewsArticle", "mainEntityOfPage": url, "headline": a.title,
        "description": a.lead, "image": [image], "datePublished": published,
        "author": [{"@type": "Person", "name": a.author, "url": o.url(f"/author/{author_slug}/")}],
        "publisher": {"@type": "Organization", "name": o.name,
                      "logo": {"@type": "ImageObject", "url": o.url("/logo.png")}},
        "articleSection": section_label, "inLanguage": o.language, "isAccessibleForFree": True,
    }
    if modified:
        ld["dateModified"] = modified
    crumbs = {"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": [
        {"@type": "ListItem", "position": 1, "name": ui["home"], "item": o.url("/")},
        {"@type": "ListItem", "position": 2, "name": section_label, "item": o.url(o.section_path(a.section))}]}
    meta = (f'<meta property="og:type" content="article"><meta property="og:image" content="{image}">'
            f'<meta property="article:published_time" content="{published}">'
            + (f'<meta property="article:modified_time" content="{modified}">' if modified else "")
            + f'<meta property="article:section" content="{_a(section_label)}">'
            + "".join(f'<meta property="article:tag" content="{_a(t)}">' for t in a.tags)
            + f'<meta name="author" content="{_a(a.author)}"><meta name="robots" content="max-image-preview:large">'
            f'<meta name="twitter:description" content="{_a(a.lead)}"><meta name="twitter:image" content="{image}">'
            f'<script type="application/ld+json">{_json_script(ld)}</script>'
            f'<script type="application/ld+json">{_json_script(crumbs)}</script>')
    head = _head(site, o, chrome, a.title, a.lead, url, meta)
    read_also = _previous(o, a, 3, same_section=False)[: 1 + a.serial % 3]
    related = _previous(o, a, 6, same_section=True)
    most_read = _previous(o, a, 40, same_section=False)[3::7][:5]
    paras = [_paragraph_html(a, i, t) for i, t in enumerate(a.paragraphs)]
    quote_text = a.paragraphs[a.pull].split(". ")[0].rstrip(".") + "."
    read_pos = min(2 + a.serial % 2, len(paras) - 1)
    quote_pos = max(read_pos + 1, len(paras) // 2)
    minutes = max(1, sum(t.count(" ") for t in a.paragraphs) // 220)
    when = _display_date(o, a.published)
    time_el = f'<time datetime="{published}"'
    article_html = {
        "classic": _classic, "bem": _bem, "blocks": _blocks, "wordpress": _wordpress,
    }[o.style](o, a, ui, p, paras, read_also, read_pos, quote_text, quote_pos, minutes, when, time_el,
               section_label, author_slug, chrome)
    related_html = (f'<aside class="{p}-related related-articles"><h2>{_e(ui["related"])}</h2><ul>'
                    + "".join(_teaser(o, b, f"{p}-teaser") for b in related) + "</ul></aside>")
    most_html = (f'<aside class="{p}-mostread most-read"><h2>{_e(ui["most_read"])}</h2><ol>'
                 + "".join(f'<li><a href="{b.path}">{_e(b.title)}</a></li>' for b in most_read) + "</ol></aside>")
    comments = (f'<section class="{p}-comments comments-teaser" id="comments"><h2>{_e(ui["comments"])}</h2>'
                f'<p>{_e(ui["comments_teaser"].format(n=a.comments))}</p>'
                f'<button class="{p}-comments__open">{_e(ui["comments"])} ({a.comments})</button></section>')
    ad = f'<div class="{p}-ad ad-slot" data-slot="{{slot}}"><span class="ad-label">{_e(ui["ad"])}</span></div>'
    body_open = f'<body class="{p}-body article-page section-{a.section}">'
    parts = [head, body_open, chrome["cookie"], chrome["header"], ad.replace("{slot}", "top"), article_html,
             related_html, ad.replace("{slot}", "mid"), comments, most_html, chrome["newsletter"], chrome["footer"]]
    size = sum(len(s.encode()) if not s.isascii() else len(s) for s in parts)
    rng = random.Random(f"{a.rng_seed}:v{a.version}:pad")
    target = rng.randint(MIN_PAGE + 2_000, MAX_PAGE - 3_000)
    state = _app_state(o, a, site._state_pools[o.index], rng, max(0, target - size - 200))
    parts += [f'<script id="__APP_STATE__" type="application/json">{state}</script>',
              '<script async src="/static/js/app.js"></script></body></html>\n']
    return "".join(parts)


def _state_pool(o: Outlet, seed: int) -> list[tuple[str, int]]:
    """JSON items of an outlet's inline app state (teasers, ad slots, tracking pixels), made once."""
    rng = random.Random(f"{seed}:state:{o.index}")
    items: list[str] = []
    for b in o.articles:
        items.append(json.dumps({"type": "teaser", "id": f"{o.id}-{b.serial}", "url": b.path, "title": b.title,
                                 "section": b.section, "published": _iso(b.published),
                                 "image": {"w": 800, "h": 450, "key": hashlib.md5(b.path.encode()).hexdigest()},
                                 "score": round(rng.random(), 4)}, ensure_ascii=False, separators=(",", ":")))
    for _ in range(max(len(o.articles), 300)):  # enough for the largest page on a small site
        sec = rng.choice(o.sections)[0]
        items.append(json.dumps({"type": "adslot", "id": f"ad-{rng.randrange(10**6)}",
                                 "sizes": [[300, 250], [728, 90], [rng.choice([160, 300]), 600]],
                                 "targeting": {"section": sec, "pos": rng.choice(["top", "mid", "bottom"])},
                                 "lazy": rng.random() < 0.5}, separators=(",", ":")))
        items.append(json.dumps({"type": "pixel", "vendor": _rand_ident(rng, 8),
                                 "src": "https://track.example-metrics.com/p?"
                                        + hashlib.sha1(str(rng.random()).encode()).hexdigest(),
                                 "consent": rng.randrange(1, 12)}, separators=(",", ":")))
    rng.shuffle(items)
    return [(i.replace("</", "<\\/"), len(i.encode())) for i in items]


def _app_state(o: Outlet, a: Article, pool: list[tuple[str, int]], rng: random.Random, budget: int) -> str:
    """Inline JSON app state of about `budget` bytes: consecutive items of the outlet's pool."""
    items: list[str] = []
    size = 0
    i = rng.randrange(len(pool))
    while size < budget and len(items) < len(pool):
        item, n = pool[i % len(pool)]
        items.append(item)
        size += n + 1
        i += 1
    return '{"page":{"id":"' + f"{o.id}-{a.serial}" + '","type":"article"},"modules":[' + ",".join(items) + "]}"


def _read_also_items(bs: list[Article]) -> str:
    return "".join(f'<li><a href="{b.path}">{_e(b.title)}</a></li>' for b in bs)


def _classic(o: Outlet, a: Article, ui: dict[str, Any], p: str, paras: list[str], read_also: list[Article],
             read_pos: int, quote: str, quote_pos: int, minutes: int, when: str, time_el: str, section: str,
             author_slug: str, chrome: dict[str, str]) -> str:
    body = []
    for i, t in enumerate(paras):
        body.append(f"<p>{t}</p>")
        if i == read_pos and read_also:
            body.append(f'<aside class="read-also"><h2>{_e(ui["read_also"])}</h2><ul>{_read_also_items(read_also)}</ul></aside>')
        if i == quote_pos:
            body.append(f'<blockquote class="pullquote"><p>{_e(quote)}</p></blockquote>')
    return (f'<main id="main" class="{p}-layout"><nav class="breadcrumbs" aria-label="breadcrumb"><ol>'
            f'<li><a href="/">{_e(ui["home"])}</a></li><li><a href="{o.section_path(a.section)}">{_e(section)}</a></li>'
            f'</ol></nav><article class="story" id="story-{a.serial}"><header class="story__header">'
            f'<p class="story__kicker"><a href="{o.section_path(a.section)}">{_e(section)}</a></p>'
            f'<h1 class="story__headline">{_e(a.title)}</h1><p class="story__standfirst">{_e(a.lead)}</p>'
            f'<div class="story__meta"><span class="byline">{_e(ui["by"])} <a rel="author" href="/author/{author_slug}/">'
            f'{_e(a.author)}</a></span> {time_el}>{when}</time> <span class="reading-time">'
            f'{_e(ui["min_read"].format(n=minutes))}</span></div>{chrome["share"]}</header>'
            f'<figure class="story__figure">{_img(o, a, a.caption)}<figcaption>{_e(a.caption)} '
            f'<span class="credit">{_e(ui["photo"])}: {_e(a.credit)}</span></figcaption></figure>'
            f'<div class="story__body">{"".join(body)}</div><footer class="story__footer"><ul class="tags">'
            + "".join(f'<li><a href="/tag/{_slugify(t, 4)}/">{_e(t)}</a></li>' for t in a.tags)
            + f'</ul>{chrome["share"]}</footer></article></main>')


def _bem(o: Outlet, a: Article, ui: dict[str, Any], p: str, paras: list[str], read_also: list[Article],
         read_pos: int, quote: str, quote_pos: int, minutes: int, when: str, time_el: str, section: str,
         author_slug: str, chrome: dict[str, str]) -> str:
    body = []
    for i, t in enumerate(paras):
        body.append(f'<p class="c-text">{t}</p>')
        if i == read_pos and read_also:
            b = read_also[0]
            body.append(f'<div class="c-inread"><span class="c-inread__label">{_e(ui["read_also"])}</span> '
                        f'<a class="c-inread__link" href="{b.path}">{_e(b.title)}</a></div>')
        if i == quote_pos:
            body.append(f'<div class="c-quote"><p class="c-quote__text">« {_e(quote)} »</p></div>')
    return (f'<div id="main" class="c-main"><div class="c-breadcrumb"><a href="/">{_e(ui["home"])}</a> &gt; '
            f'<a href="{o.section_path(a.section)}">{_e(section)}</a></div>'
            f'<div class="c-article" data-article-id="{a.serial}"><div class="c-article__head">'
            f'<span class="c-label">{_e(section)}</span><h1 class="c-article__title">{_e(a.title)}</h1>'
            f'<div class="c-article__chapo">{_e(a.lead)}</div><div class="c-article__info">'
            f'<div class="c-author"><span class="c-author__name">{_e(ui["by"])} '
            f'<a href="/auteur/{author_slug}/">{_e(a.author)}</a></span></div>'
            f'<div class="c-date">{_e(ui["published"])} {time_el} class="c-date__time">{when}</time></div></div>'
            f'{chrome["share"]}</div><div class="c-article__media"><picture>{_img(o, a, a.caption)}</picture>'
            f'<div class="c-caption">{_e(a.caption)} <span class="c-caption__credit">© {_e(a.credit)}</span></div></div>'
            f'<div class="c-article__content">{"".join(body)}</div>'
            f'<div class="c-article__footer">{chrome["share"]}</div></div></div>')


def _blocks(o: Outlet, a: Article, ui: dict[str, Any], p: str, paras: list[str], read_also: list[Article],
            read_pos: int, quote: str, quote_pos: int, minutes: int, when: str, time_el: str, section: str,
            author_slug: str, chrome: dict[str, str]) -> str:
    body = []
    for i, t in enumerate(paras):
        body.append(f'<div data-component="text-block" class="ssrcss-text"><p>{t}</p></div>')
        if i == read_pos and read_also:
            body.append(f'<div data-component="links-block" class="ssrcss-links"><h2>{_e(ui["read_also"])}</h2>'
                        f'<ul>{_read_also_items(read_also)}</ul></div>')
        if i == quote_pos:
            body.append(f'<div data-component="quote-block"><blockquote class="ssrcss-quote"><p>{_e(quote)}</p>'
                        "</blockquote></div>")
    return (f'<div class="ssrcss-page"><nav class="ssrcss-crumbs" aria-label="breadcrumb"><a href="/">{_e(ui["home"])}</a>'
            f' / <a href="{o.section_path(a.section)}">{_e(section)}</a></nav>'
            f'<main id="main" role="main"><article itemscope itemtype="https://schema.org/NewsArticle">'
            f'<header data-component="headline-block"><h1 id="main-heading" itemprop="headline">{_e(a.title)}</h1></header>'
            f'<div data-component="byline-block" class="ssrcss-byline"><div><span itemprop="author">{_e(a.author)}</span>'
            f'<span class="ssrcss-role">{_e(o.name)}</span></div>{time_el} itemprop="datePublished">{when}</time></div>'
            f'<div data-component="image-block"><figure>{_img(o, a, a.caption)}<figcaption class="ssrcss-caption">'
            f'{_e(a.caption)}</figcaption><span class="ssrcss-copyright">{_e(a.credit)}</span></figure></div>'
            f'<div data-component="text-block" class="ssrcss-intro"><p><b>{_e(a.lead)}</b></p></div>'
            f'{"".join(body)}<div data-component="tag-list"><ul>'
            + "".join(f'<li><a href="/topics/{_slugify(t, 4)}">{_e(t)}</a></li>' for t in a.tags)
            + f'</ul></div><div data-component="share-block">{chrome["share"]}</div></article></main></div>')


def _wordpress(o: Outlet, a: Article, ui: dict[str, Any], p: str, paras: list[str], read_also: list[Article],
               read_pos: int, quote: str, quote_pos: int, minutes: int, when: str, time_el: str, section: str,
               author_slug: str, chrome: dict[str, str]) -> str:
    body = [f'<p class="has-medium-font-size"><strong>{_e(a.lead)}</strong></p>',
            f'<figure class="wp-block-image size-large">{_img(o, a, a.caption)}'
            f'<figcaption class="wp-element-caption">{_e(a.caption)} ({_e(a.credit)})</figcaption></figure>']
    for i, t in enumerate(paras):
        body.append(f"<p>{t}</p>")
        if i == read_pos and read_also:
            body.append(f'<div class="wp-block-group read-also"><p><strong>{_e(ui["read_also"])}:</strong> '
                        + " · ".join(f'<a href="{b.path}">{_e(b.title)}</a>' for b in read_also) + "</p></div>")
        if i == quote_pos:
            body.append(f'<figure class="wp-block-pullquote"><blockquote><p>{_e(quote)}</p></blockquote></figure>')
    post = 10_000 + a.serial
    return (f'<div id="primary" class="content-area"><main id="main" class="site-main">'
            f'<article id="post-{post}" class="post-{post} post type-post status-publish format-standard '
            f'has-post-thumbnail hentry category-{a.section}"><header class="entry-header">'
            f'<div class="cat-links"><a href="{o.section_path(a.section)}" rel="category tag">{_e(section)}</a></div>'
            f'<h1 class="entry-title">{_e(a.title)}</h1><div class="entry-meta"><span class="posted-on">'
            f'{time_el} class="entry-date published">{when}</time></span><span class="byline"> {_e(ui["by"]).lower()} '
            f'<span class="author vcard"><a class="url fn n" href="/author/{author_slug}/">{_e(a.author)}</a></span>'
            f'</span></div></header><div class="entry-content">{"".join(body)}'
            f'<div class="sharedaddy sd-sharing-enabled"><h3 class="sd-title">{_e(ui["share"])}</h3>{chrome["share"]}</div>'
            f'</div><footer class="entry-footer"><span class="tags-links">{_e(ui["tags"])}: '
            + ", ".join(f'<a href="/tag/{_slugify(t, 4)}/" rel="tag">{_e(t)}</a>' for t in a.tags)
            + "</span></footer></article></main></div>")


def _page(site: NewsSite, o: Outlet, chrome: dict[str, str], title: str, url: str, main: str, cls: str) -> str:
    ui = UI[o.language]
    head = _head(site, o, chrome, title, f"{o.name}: {ui['latest']}", url, '<meta property="og:type" content="website">')
    return (f'{head}<body class="{chrome["p"]}-body {cls}">{chrome["cookie"]}{chrome["header"]}'
            f'<main id="main">{main}</main>{chrome["newsletter"]}{chrome["footer"]}</body></html>\n')


def render_home(site: NewsSite, o: Outlet, chrome: dict[str, str]) -> str:
    ui = UI[o.language]
    p = chrome["p"]
    newest = list(reversed(o.articles))
    top = "".join(_teaser(o, b, f"{p}-teaser {p}-teaser--top", lead=True) for b in newest[:30])
    blocks = []
    for sec, label in o.sections:
        items = [b for b in newest if b.section == sec][:5]
        blocks.append(f'<section class="{p}-block"><h2><a href="{o.section_path(sec)}">{_e(label)}</a></h2><ul>'
                      + "".join(_teaser(o, b, f"{p}-teaser") for b in items) + "</ul></section>")
    main = f'<h1 class="visually-hidden">{_e(o.name)}</h1><section class="{p}-top"><h2>{_e(ui["latest"])}</h2><ul>{top}</ul></section>{"".join(blocks)}'
    return _page(site, o, chrome, o.name, o.url("/"), main, "home")


def render_section(site: NewsSite, o: Outlet, chrome: dict[str, str], sec: str, label: str,
                   items: list[Article]) -> str:
    p = chrome["p"]
    teasers = "".join(_teaser(o, b, f"{p}-teaser", lead=True) for b in reversed(items))
    main = f'<h1 class="{p}-section-title">{_e(label)}</h1><ul class="{p}-list">{teasers}</ul>'
    return _page(site, o, chrome, label, o.url(o.section_path(sec)), main, f"section section-{sec}")


def _rfc822(dt: datetime) -> str:
    return format_datetime(dt.astimezone(UTC), usegmt=True)


def render_feed(o: Outlet) -> str:
    items = []
    for a in list(reversed(o.articles))[:FEED_ITEMS]:
        url = o.url(a.path)
        items.append(f"<item><title>{_e(a.title)}</title><link>{_e(url)}</link>"
                     f'<guid isPermaLink="true">{_e(url)}</guid><pubDate>{_rfc822(a.published)}</pubDate>'
                     f"<dc:creator>{_e(a.author)}</dc:creator><category>{_e(dict(o.sections)[a.section])}</category>"
                     f"<description>{_e(a.lead)}</description></item>")
    newest = max(a.published for a in o.articles)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
            f"<title>{_e(o.name)}</title><link>{_e(o.url('/'))}</link>"
            f'<atom:link href="{_a(o.url(o.feed_path))}" rel="self" type="application/rss+xml"/>'
            f"<description>{_e(o.name)}: {_e(UI[o.language]['latest'])}</description>"
            f"<language>{o.language}</language><lastBuildDate>{_rfc822(newest)}</lastBuildDate>"
            + "".join(items) + "</channel></rss>\n")


def render_sitemap(o: Outlet, items: list[Article]) -> str:
    urls = "".join(f"<url><loc>{_e(o.url(a.path))}</loc><lastmod>{_iso(a.modified or a.published)}</lastmod></url>"
                   for a in items)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + urls + "</urlset>\n")


def render_news_sitemap(o: Outlet, items: list[Article]) -> str:
    urls = "".join(
        f"<url><loc>{_e(o.url(a.path))}</loc><news:news><news:publication><news:name>{_e(o.name)}</news:name>"
        f"<news:language>{o.language}</news:language></news:publication>"
        f"<news:publication_date>{_iso(a.published)}</news:publication_date><news:title>{_e(a.title)}</news:title>"
        "</news:news></url>" for a in reversed(items))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">' + urls + "</urlset>\n")


def render_sitemap_index(o: Outlet, entries: list[tuple[str, datetime]]) -> str:
    body = "".join(f"<sitemap><loc>{_e(o.url(path))}</loc><lastmod>{_iso(when)}</lastmod></sitemap>"
                   for path, when in entries)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + body + "</sitemapindex>\n")


# ---------------------------------------------------------------------------------------------
# The server

_REASONS = {200: "OK", 301: "Moved Permanently", 304: "Not Modified", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            431: "Request Header Fields Too Large"}
_NOT_FOUND = b"<!DOCTYPE html>\n<html><head><title>Not found</title></head><body><h1>Not found</h1></body></html>\n"
_HEADER_LIMIT = 65536


def _can_bind(address: str) -> bool:
    try:
        with socket.socket() as s:
            s.bind((address, 0))
    except OSError:
        return False
    return True


def _etag_matches(header: str, res: Resource) -> bool:
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or res.etag in tags or res.etag_gzip in tags


def _accepts_gzip(header: str) -> bool:
    for part in header.lower().split(","):
        name, _, params = part.strip().partition(";")
        if name.strip() in ("gzip", "x-gzip", "*"):
            q = params.strip()
            return not (q.startswith("q=") and float(q[2:] or 0) == 0)
    return False


class NewsSiteServer:
    """Serves a `NewsSite` on loopback from an asyncio loop in a background thread.

    `start` binds one listening socket per outlet (127.0.0.51+i, or 127.0.0.1 when the aliases
    cannot be bound), gives the site its base URLs (`NewsSite.bind`: rendering) and starts serving.
    """

    def __init__(self, site: NewsSite, *, address: str | None = None, ports: list[int] | None = None,
                 precompress: bool = False) -> None:
        self.site = site
        self.address = address
        self.ports = ports
        self.precompress = precompress
        self.bases: dict[str, str] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._servers: list[asyncio.AbstractServer] = []
        self._writers: set[asyncio.StreamWriter] = set()
        self._started = time.monotonic()
        self._date_cache: tuple[int, str] = (0, "")
        self.gzip_ready = False  # set when warm_gzip has compressed everything
        self.reset_stats()

    # -- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> NewsSiteServer:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        socks = self._bind()
        self.bases = {o.id: f"http://{s.getsockname()[0]}:{s.getsockname()[1]}" for o, s in
                      zip(self.site.outlets, socks, strict=True)}
        started = time.perf_counter()
        self.site.bind(self.bases)
        logger.info("rendered %d resources in %.2f s", sum(len(r) for r in self.site.resources),
                    time.perf_counter() - started)
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(socks, ready), name="newssite", daemon=True)
        self._thread.start()
        ready.wait()
        if self.precompress:
            threading.Thread(target=self.warm_gzip, name="newssite-gzip", daemon=True).start()

    def _bind(self) -> list[socket.socket]:
        n = len(self.site.outlets)
        if self.address:
            addresses = [self.address] * n
        elif n <= 200 and _can_bind(f"127.0.0.{FIRST_OCTET}"):
            addresses = [f"127.0.0.{FIRST_OCTET + i}" for i in range(n)]
        else:
            logger.warning("cannot bind 127.0.0.%d: every outlet on %s, one port each", FIRST_OCTET,
                           FALLBACK_ADDRESS)
            addresses = [FALLBACK_ADDRESS] * n
        socks = []
        for i, addr in enumerate(addresses):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((addr, self.ports[i] if self.ports else 0))
            s.listen(512)
            s.setblocking(False)
            socks.append(s)
        return socks

    def _run(self, socks: list[socket.socket], ready: threading.Event) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)

        async def serve() -> None:
            for i, s in enumerate(socks):
                def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter, i: int = i) -> Any:
                    return self._connection(r, w, i)
                self._servers.append(await asyncio.start_server(handler, sock=s, limit=_HEADER_LIMIT))
            ready.set()

        self._loop.run_until_complete(serve())
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    def stop(self) -> None:
        loop = self._loop
        if loop is None or self._thread is None:
            return

        async def shutdown() -> None:
            for server in self._servers:
                server.close()
            for w in list(self._writers):
                w.close()
            for server in self._servers:
                await server.wait_closed()

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        except Exception as exc:  # noqa: BLE001 - stopping must not fail
            logger.debug("newssite shutdown: %r", exc)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(10)
        self._loop = self._thread = None

    def warm_gzip(self) -> None:
        """Compress every resource now (zlib releases the GIL) instead of at its first request."""
        started = time.perf_counter()
        for res in list(self.site.resources):
            for r in list(res.values()):
                r.gzip  # noqa: B018 - computes and caches
        self.gzip_ready = True
        logger.info("gzip of all resources done in %.1f s", time.perf_counter() - started)

    # -- in-process control --------------------------------------------------------------------

    def _call(self, fn: Callable[[], Any]) -> Any:
        """Run `fn` in the server's loop (between requests) and return its result."""
        if self._loop is None:
            return fn()

        async def run() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(120)

    def mutate(self, add: int = 0, edit: int = 0) -> dict[str, Any]:
        return dict(self._call(lambda: self.site.mutate(add, edit)))

    def reset_stats(self) -> None:
        self._kinds: Counter[str] = Counter()
        self._statuses: Counter[int] = Counter()
        self._outlet_requests: Counter[str] = Counter()
        self._bytes = 0
        self._gzip = 0
        self._connections = 0
        self._stats_since = time.time()

    def stats(self) -> dict[str, Any]:
        """Request counts (control endpoints excluded): by kind, by status, by outlet; body bytes sent."""
        return {
            "requests": sum(self._statuses.values()), "by_kind": dict(sorted(self._kinds.items())),
            "by_status": {str(k): v for k, v in sorted(self._statuses.items())},
            "by_outlet": dict(sorted(self._outlet_requests.items())), "body_bytes": self._bytes,
            "gzip_responses": self._gzip, "gzip_ready": self.gzip_ready, "connections": self._connections,
            "since": datetime.fromtimestamp(self._stats_since, UTC).isoformat(), "mutations": self.site.mutations,
        }

    # -- HTTP ----------------------------------------------------------------------------------

    def _date(self) -> str:
        now = int(time.time())
        if self._date_cache[0] != now:
            self._date_cache = (now, formatdate(now, usegmt=True))
        return self._date_cache[1]

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, index: int) -> None:
        self._writers.add(writer)
        self._connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.LimitOverrunError:
                    writer.write(self._simple(431, b"", keep=False))
                    break
                except (asyncio.IncompleteReadError, ConnectionError):
                    break
                try:
                    lines = head.decode("latin-1").split("\r\n")
                    method, target, version = lines[0].split(" ")
                    headers = {}
                    for line in lines[1:]:
                        if line:
                            name, _, value = line.partition(":")
                            headers[name.strip().lower()] = value.strip()
                except ValueError:
                    writer.write(self._simple(400, b"", keep=False))
                    break
                length = int(headers.get("content-length", "0") or 0)
                body = await reader.readexactly(length) if length else b""
                keep = (version == "HTTP/1.1" and headers.get("connection", "").lower() != "close") or (
                    headers.get("connection", "").lower() == "keep-alive")
                writer.write(self._respond(index, method, target, headers, body, keep))
                await writer.drain()
                if not keep:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    def _head(self, status: int, headers: list[tuple[str, str]], length: int, keep: bool) -> bytes:
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}", f"Date: {self._date()}",
                 "Server: newssite/1.0", *(f"{k}: {v}" for k, v in headers)]
        if status != 304:
            lines.append(f"Content-Length: {length}")
        lines.append("Connection: keep-alive" if keep else "Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _simple(self, status: int, body: bytes, *, keep: bool, content_type: str = "text/html; charset=utf-8",
                head: bool = False) -> bytes:
        out = self._head(status, [("Content-Type", content_type)], len(body), keep)
        return out if head else out + body

    def _respond(self, index: int, method: str, target: str, headers: dict[str, str], body: bytes,
                 keep: bool) -> bytes:
        raw_path, _, query = target.partition("?")
        if raw_path.startswith(("http://", "https://")):  # absolute-form
            raw_path = urlsplit(raw_path).path or "/"
        path = unquote(raw_path)
        if path.startswith("/__"):
            return self._control(path, query, method, keep)
        outlet = self.site.outlets[index]
        self._outlet_requests[outlet.id] += 1
        head = method == "HEAD"
        if method not in ("GET", "HEAD"):
            self._count("other", 405, 0)
            return self._simple(405, b"", keep=keep)
        res = self.site.resources[index].get(path)
        if res is None and not path.endswith("/") and path + "/" in self.site.resources[index]:
            # A section front asked for without its trailing slash: redirected, as web servers do.
            self._count("redirect", 301, 0)
            location = path + "/" + (f"?{query}" if query else "")
            return self._head(301, [("Location", location), ("Content-Type", "text/html; charset=utf-8")], 0, keep)
        if res is None:
            self._count("missing", 404, 0 if head else len(_NOT_FOUND))
            return self._simple(404, _NOT_FOUND, keep=keep, head=head)
        gz = _accepts_gzip(headers.get("accept-encoding", ""))
        etag = res.etag_gzip if gz else res.etag
        validators = [("ETag", etag), ("Last-Modified", res.last_modified), ("Vary", "Accept-Encoding"),
                      ("Cache-Control", "max-age=60")]
        inm = headers.get("if-none-match")
        ims = headers.get("if-modified-since")
        not_modified = False
        if inm is not None:
            not_modified = _etag_matches(inm, res)
        elif ims:
            try:
                not_modified = parsedate_to_datetime(ims).timestamp() >= res.modified_ts
            except (TypeError, ValueError, IndexError):
                not_modified = False
        if not_modified:
            self._count(res.kind, 304, 0)
            return self._head(304, validators, 0, keep)
        payload = res.gzip if gz else res.body
        hdrs = [("Content-Type", res.content_type), *validators]
        if gz:
            hdrs.append(("Content-Encoding", "gzip"))
            self._gzip += 1
        self._count(res.kind, 200, 0 if head else len(payload))
        out = self._head(200, hdrs, len(payload), keep)
        return out if head else out + payload

    def _count(self, kind: str, status: int, nbytes: int) -> None:
        self._kinds[kind] += 1
        self._statuses[status] += 1
        self._bytes += nbytes

    def _control(self, path: str, query: str, method: str, keep: bool) -> bytes:
        args = parse_qs(query)
        if path == "/__stats":
            data = json.dumps(self.stats()).encode()
            return self._simple(200, data, keep=keep, content_type="application/json")
        if path == "/__truth":
            data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in self.site.truth()).encode()
            return self._simple(200, data, keep=keep, content_type="application/x-ndjson; charset=utf-8")
        if path == "/__mutate":
            when = args.get("now", [""])[0]
            result = self.site.mutate(int(args.get("add", ["0"])[0]), int(args.get("edit", ["0"])[0]),
                                      datetime.fromisoformat(when.replace("Z", "+00:00")) if when else None)
            data = json.dumps(result, ensure_ascii=False).encode()
            return self._simple(200, data, keep=keep, content_type="application/json; charset=utf-8")
        if path == "/__reset_stats":
            self.reset_stats()
            return self._simple(200, b"{}", keep=keep, content_type="application/json")
        return self._simple(404, _NOT_FOUND, keep=keep)


# ---------------------------------------------------------------------------------------------
# Subprocess


def start_subprocess(outlets: int = DEFAULT_OUTLETS, articles: int = DEFAULT_ARTICLES, seed: int = DEFAULT_SEED,
                     *, extra: list[str] | None = None, timeout: float = 60.0,
                     compressed: bool = False) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """Start ``python bench/newssite.py serve`` and return the process and its JSON info line.

    The server answers at once and gzips its pages in a background thread (about 5 s of one core
    for the default site). `compressed` waits until that is done: a benchmark on a 2-core machine
    must not share its CPU with the server's start-up. The child exits when terminated or when
    its stdin is closed; use `stop_subprocess`.
    """
    cmd = [sys.executable, str(Path(__file__).resolve()), "serve", "--outlets", str(outlets), "--articles",
           str(articles), "--seed", str(seed), *(extra or [])]
    proc, info = launch_server(cmd, "newssite", timeout=timeout)
    if compressed:
        deadline = time.monotonic() + timeout
        while True:
            with urllib.request.urlopen(info["stats"], timeout=60) as r:  # noqa: S310 (loopback)
                if json.loads(r.read())["gzip_ready"]:
                    break
            if time.monotonic() > deadline:
                stop_subprocess(proc)
                raise TimeoutError(f"newssite: pages not compressed after {timeout:.0f} s")
            time.sleep(0.2)
    return proc, info

# ---------------------------------------------------------------------------------------------
# Command line


def _serve(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    site = NewsSite.generate(args.outlets, args.articles, args.seed,
                             datetime.fromisoformat(args.now) if args.now else None)
    server = NewsSiteServer(site, address=args.address, precompress=not args.no_precompress)
    server.start()
    if args.truth:
        site.write_truth(args.truth)
    if args.config:
        database = args.database or str(Path(args.config).with_suffix(".db"))
        Path(args.config).write_text(site.config_toml(database), encoding="utf-8")
    first = next(iter(server.bases.values()))
    info = {"outlets": server.bases, "stats": first + "/__stats", "truth": first + "/__truth",
            "mutate": first + "/__mutate", "articles": sum(len(o.articles) for o in site.outlets),
            "seconds": round(time.perf_counter() - started, 2)}
    print(json.dumps(info), flush=True)
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if stdin_is_watchable():
        def watch() -> None:
            try:
                while os.read(0, 65536):
                    pass
            except OSError:
                pass
            stop.set()
        threading.Thread(target=watch, daemon=True).start()
    while not stop.wait(0.5):
        pass
    stats = server._call(server.stats)
    server.stop()
    if args.stats:
        Path(args.stats).write_text(json.dumps(stats, indent=1) + "\n", encoding="utf-8")
    return 0


def _fetch_all(urls: list[str], threads: int, gzip: bool) -> tuple[float, int, int, Counter[int]]:
    """Fetch every URL once with `threads` keep-alive http.client connections; (seconds, bytes, requests, statuses)."""
    import http.client

    lock = threading.Lock()
    queue = list(reversed(urls))
    total = [0, 0]
    statuses: Counter[int] = Counter()

    def worker() -> None:
        conns: dict[str, http.client.HTTPConnection] = {}
        got = n = 0
        local: Counter[int] = Counter()
        while True:
            with lock:
                if not queue:
                    break
                url = queue.pop()
            parts = urlsplit(url)
            conn = conns.get(parts.netloc)
            if conn is None:
                conn = conns[parts.netloc] = http.client.HTTPConnection(parts.netloc, timeout=30)
            conn.request("GET", parts.path, headers={"Accept-Encoding": "gzip"} if gzip else {})
            resp = conn.getresponse()
            got += len(resp.read())
            n += 1
            local[resp.status] += 1
        for c in conns.values():
            c.close()
        with lock:
            total[0] += got
            total[1] += n
            statuses.update(local)

    started = time.perf_counter()
    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return time.perf_counter() - started, total[0], total[1], statuses


def _bench(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(HERE))
    from demo_crawl import machine, versions

    print(f"machine:  {machine()}")
    print(f"versions: {versions(('scrapy', 'trafilatura'))}")
    started = time.perf_counter()
    site = NewsSite.generate(args.outlets, args.articles, args.seed)
    generated = time.perf_counter()
    site.bind({o.id: f"http://127.0.0.{FIRST_OCTET + o.index}:8000" for o in site.outlets})
    rendered = time.perf_counter()
    s = site.summary()
    gz_started = time.perf_counter()
    gz_bytes = sum(len(r.gzip) for res in site.resources for r in res.values() if r.kind == "article")
    gz_time = time.perf_counter() - gz_started
    print(f"site: {s['outlets']} outlets x {args.articles} articles, seed {args.seed}: {s['articles']} article pages "
          f"({s['syndicated']} syndicated copies), {s['resources']} resources")
    print(f"generation (model): {generated - started:.2f} s; rendering all resources: {rendered - generated:.2f} s; "
          f"gzip of all article pages (level {GZIP_LEVEL}): {gz_time:.2f} s")
    print(f"bytes: {s['total_bytes'] / 1e6:.1f} MB in all, article pages {s['article_bytes'] / 1e6:.1f} MB, "
          f"average {s['article_avg'] / 1000:.1f} KB (min {s['article_min'] / 1000:.1f}, max "
          f"{s['article_max'] / 1000:.1f}); gzipped article pages {gz_bytes / 1e6:.1f} MB")
    del site
    proc, info = start_subprocess(args.outlets, args.articles, args.seed)
    try:
        truth = urllib.request.urlopen(info["truth"], timeout=60).read().decode().splitlines()
        urls = [json.loads(line)["url"] for line in truth]
        for gzip in (False, True):
            for label in ("cold", "warm") if gzip else ("",):
                seconds, nbytes, n, statuses = _fetch_all(urls, args.threads, gzip)
                print(f"server, {args.threads} keep-alive clients, every article page once"
                      f"{', gzip ' + label if gzip else ', identity'}: {n} pages in {seconds:.2f} s = "
                      f"{n / seconds:.0f} pages/s, {nbytes / seconds / 1e6:.1f} MB/s on the wire "
                      f"({dict(statuses)})")
        stats = json.loads(urllib.request.urlopen(info["stats"], timeout=10).read())
        print(f"server stats: {stats['requests']} requests, {stats['by_kind']}, {stats['by_status']}")
    finally:
        stop_subprocess(proc)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("serve", "bench"):
        p = sub.add_parser(name)
        p.add_argument("--outlets", type=int, default=DEFAULT_OUTLETS)
        p.add_argument("--articles", type=int, default=DEFAULT_ARTICLES, help="articles per outlet")
        p.add_argument("--seed", type=int, default=DEFAULT_SEED)
        if name == "serve":
            p.add_argument("--now", help=f"the site's clock, ISO 8601 (default: {DEFAULT_NOW.isoformat()})")
            p.add_argument("--truth", help="write the ground truth here (JSONL)")
            p.add_argument("--config", help="write a newsmon config for the site here")
            p.add_argument("--database", help="[storage].database of that config (default: next to it)")
            p.add_argument("--stats", help="write the request counts here (JSON) at exit")
            p.add_argument("--address", help="serve every outlet on this address, one port each")
            p.add_argument("--no-precompress", action="store_true",
                           help="gzip each resource at its first gzip request instead of in the background")
        else:
            p.add_argument("--threads", type=int, default=16)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    return _serve(args) if args.command == "serve" else _bench(args)


if __name__ == "__main__":
    sys.exit(main())
