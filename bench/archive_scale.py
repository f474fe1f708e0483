"""Storage at archive scale: `python bench/archive_scale.py [--articles 1000000] [--db FILE] [--fast]`.

Fills a database with N synthetic articles through the crawler's own write path,
`storage.articles.save_article` (what crawlers/pipelines/store.py calls for each page): frontier
removal, fetch state, URL lookup, same-text lookup, near-duplicate lookup, the `articles` row and
its FTS5 triggers, `article_urls`, `article_fetches` (with the raw page gzipped by `add_fetch` when
`--keep-html`), the first recheck time and the MinHash LSH index (`--no-similarity` leaves the
signature out, as for a text too short to sign). By default each article is its own transaction,
as in a crawl; `--fast` runs `--batch` articles per transaction through the same function (its
BEGIN IMMEDIATE becomes a SAVEPOINT inside the batch's transaction).

Articles: 40 outlets (10 per language: en, fr, es, de), texts of 3-6 KB drawn from a Zipf
distribution over a vocabulary per language (the real words of bench/labelled.py's templates, then
generated words: about 60,000 types per language, so FTS5 gets a long-tailed vocabulary), titles,
authors, categories, tags, dates spread over 2 years in roughly chronological order, one or two
URLs each; with `--keep-html`, a page of about `--html-kb` KB (markup, navigation, scripts with
incompressible tokens, the article) that add_fetch gzips as it does for a real page.

Measures: insert rate (articles/s of save_article time, and wall time with generation) for each
tenth of the run, per-article latency p50/p95/p99 per tenth, file size per article (db + WAL) at
each tenth; then the time to open and migrate the existing file in a fresh process (and a fresh
connection), FTS search latency p50/p95 over about 200 queries (frequent, mid and rare words,
2-word AND, phrases, prefixes) without filters and with outlet, language, date range and all three
(storage.queries.search), EXPLAIN QUERY PLAN of those queries, export rows/s through
storage.queries.export_rows (raw rows, then JSONL and CSV writers of monitor/output.py), and the
size of each table (dbstat). Prints tables and a JSON summary with the machine and the versions.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import itertools
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import labelled  # noqa: E402
import numpy as np  # noqa: E402

import storage.articles  # noqa: E402
from bench.demo_crawl import machine, versions  # noqa: E402
from monitor.config import RecheckConfig  # noqa: E402
from monitor.output import write_csv, write_jsonl  # noqa: E402
from storage.articles import ArticleRecord, save_article, upsert_outlets  # noqa: E402
from storage.db import open_database, write_transaction  # noqa: E402
from storage.dedup import content_hash  # noqa: E402
from storage.errors import QueryError  # noqa: E402
from storage.queries import EXPORT_COLUMNS, export_rows, search, search_plan  # noqa: E402
from storage.recheck import next_check_at  # noqa: E402
from storage.similarity import band_keys, signature  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Iterator

    import sqlite_utils

LANGS = ["en", "fr", "es", "de"]
OUTLETS_PER_LANG = 10
VOCAB = 60_000  # word types per language
ZIPF_S = 1.07
SPAN_DAYS = 730
END = datetime(2026, 11, 1, tzinfo=UTC)
GEN_BATCH = 500  # articles generated before the clock runs for them
RECHECK = list(RecheckConfig().schedule)  # the default [recheck] schedule
SYLLABLES = {
    "en": "ba be bi bo bu ca ce co da de di do el en er es ga ge go ha he in is ka ke la le li lo ma me mi mo "
          "na ne ni no or pa pe po ra re ri ro sa se si so ta te ti to th st wa we wi ow ar ing ed ly tion",
    "fr": "la le li lo lu ma me mi mo mu na ne ni no pa pe pi po ra re ri ro sa se si so ta te ti to ou ai "
          "eu au on an en in é è ê ç ch qu tion ment eur eux oir age ille",
    "es": "la le li lo lu ma me mi mo mu na ne ni no pa pe pi po ra re ri ro sa se si so ta te ti to ca co "
          "cu da de do ga go ja jo ña ño ción dad mente ero era ado ido ía",
    "de": "ba be bi bo da de di do ge ha he hi ka ke la le li ma me mi na ne ni ra re ri sa se si ta te ti "
          "sch ch ung keit heit lich ein en er st ü ö ä ß ver zu",
}
FIRST = ["Maria", "David", "Helen", "Tomas", "Aisha", "Peter", "Laura", "Samuel", "Grace", "Omar", "Julia",
         "Martin", "Claire", "Jean", "Lucía", "Javier", "Anna", "Lukas", "Sofia", "Nikolai"]
LAST = ["Lindqvist", "Okafor", "Marsh", "Berger", "Rahman", "Novak", "Chen", "Adeyemi", "Dubois", "Moreau",
        "García", "López", "Müller", "Schmidt", "Rossi", "Kowalski", "Haddad", "Sousa", "Brandt", "Keller"]
SECTIONS = ["politics", "world", "economy", "business", "science", "culture", "sport", "society", "tech", "local"]
FILTERS = ["none", "outlet", "language", "dates", "all"]
KINDS = ["frequent", "mid", "rare", "and", "phrase", "prefix"]


# -- synthetic data ----------------------------------------------------------------------------

def _real_words(lang: str) -> list[str]:
    """The words of bench/labelled.py's templates for `lang`, most frequent first."""
    counts: dict[str, int] = {}

    def walk(value: Any) -> None:
        if isinstance(value, str):
            for w in re.findall(r"[^\W\d_]{2,}", re.sub(r"\{\w+\}", " ", value)):
                counts[w.lower()] = counts.get(w.lower(), 0) + 1
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)

    walk(labelled.LANGUAGES[lang])
    return sorted(counts, key=lambda w: -counts[w])


class Vocabulary:
    """Per language: VOCAB word types, ranked; draws follow Zipf's law over the ranks."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(seed)
        self.words: dict[str, np.ndarray] = {}
        for lang in LANGS:
            words = _real_words(lang)
            seen = set(words)
            syl = SYLLABLES[lang].split()
            while len(words) < VOCAB:
                w = "".join(rng.choice(syl) for _ in range(rng.choice([2, 2, 3, 3, 3, 4, 4, 5])))
                if w not in seen:
                    seen.add(w)
                    words.append(w)
            self.words[lang] = np.array(words, dtype=object)
        weights = 1.0 / np.arange(1, VOCAB + 1) ** ZIPF_S
        self.cdf = np.cumsum(weights) / weights.sum()

    def draw(self, rng: np.random.Generator, lang: str, n: int) -> list[str]:
        idx = np.minimum(np.searchsorted(self.cdf, rng.random(n)), VOCAB - 1)
        return self.words[lang][idx].tolist()


def outlets() -> list[dict[str, Any]]:
    return [{"id": f"{lang}-outlet{i:02d}", "name": f"Outlet {i} ({lang})", "language": lang,
             "homepage": f"https://www.{lang}-outlet{i:02d}.example/"}
            for lang in LANGS for i in range(OUTLETS_PER_LANG)]


def _sentences(words: list[str], rng: random.Random) -> str:
    out, paragraph, paragraphs, i = [], 0, [], 0
    while i < len(words):
        n = rng.randint(8, 22)
        chunk = words[i:i + n]
        i += n
        out.append(chunk[0][:1].upper() + chunk[0][1:] + (" " if len(chunk) > 1 else "") + " ".join(chunk[1:]) + ".")
        paragraph += 1
        if paragraph >= rng.randint(3, 5):
            paragraphs.append(" ".join(out))
            out, paragraph = [], 0
    if out:
        paragraphs.append(" ".join(out))
    return "\n\n".join(paragraphs)


def html_shells(vocab: Vocabulary, kb: int, seed: int) -> dict[str, list[str]]:
    """Per language, 8 page shells of about `kb` KB each with an {article} slot, compressing about as
    well as a real news page (4-6x): repetitive markup and navigation from a small set of section
    words, style rules, and inline scripts whose random tokens (about 8 % of the page) do not compress."""
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    shells: dict[str, list[str]] = {}
    for lang in LANGS:
        shells[lang] = []
        sections = vocab.draw(nrng, lang, 60)
        for _ in range(8):
            parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><style>"]
            parts += [f".c{rng.randrange(4096):x}{{margin:{rng.randint(0, 40)}px;padding:0 {rng.randint(0, 9)}px;"
                      f"color:#{rng.choice(['333', '222', 'fff', '0a0a0a', 'e5e5e5'])}}}" for _ in range(200)]
            parts.append("</style></head><body><header><nav><ul class='flex flex-row items-center gap-4'>")
            size = sum(map(len, parts))
            while size < kb * 1024 * 0.75:
                a, b = rng.choice(sections), rng.choice(sections)
                item = (f"<li class='nav-item text-sm font-medium hover:underline'><a class='link link--{a}' "
                        f"href='/{a}/{b}/' data-track='nav-{a}'>{a.capitalize()} {b}</a></li>")
                parts.append(item)
                size += len(item)
            parts.append("</ul></nav></header><main>{article}</main><script>window.__STATE__=")
            tokens = {f"k{i}": base64.b64encode(rng.randbytes(48)).decode() for i in range(int(kb * 1024 * 0.08 / 72))}
            parts += [json.dumps(tokens), "</script><footer>"]
            parts += [f"<p class='legal text-xs'>{' '.join(rng.choice(sections) for _ in range(12))}</p>"
                      for _ in range(40)]
            parts.append("</footer></body></html>")
            shells[lang].append("".join(parts))
    return shells


class Generator:
    """ArticleRecords i = 0..N-1: published over SPAN_DAYS in order of i, give or take a day."""

    def __init__(self, total: int, seed: int, *, keep_html: bool, html_kb: int, similarity: bool) -> None:
        self.total = total
        self.vocab = Vocabulary(seed)
        self.rng = random.Random(seed)
        self.nrng = np.random.default_rng(seed)
        self.outlets = outlets()
        self.shells = html_shells(self.vocab, html_kb, seed) if keep_html else None
        self.similarity = similarity
        self.sign_s = 0.0

    def record(self, i: int) -> ArticleRecord:
        rng = self.rng
        outlet = self.outlets[rng.randrange(len(self.outlets))]
        lang = outlet["language"]
        target = rng.randint(3000, 6000)
        text = _sentences(self.vocab.draw(self.nrng, lang, target // 7), rng)
        title_words = self.vocab.draw(self.nrng, lang, rng.randint(6, 12))
        title = " ".join(title_words).capitalize()
        when = END - timedelta(days=SPAN_DAYS * (1 - i / max(self.total, 1)), hours=rng.uniform(-24, 24))
        published = when.isoformat(timespec="seconds").replace("+00:00", "Z") if rng.random() < 0.95 else None
        section = rng.choice(SECTIONS)
        slug = "-".join(title_words[:6])
        base = f"https://www.{outlet['id']}.example/{section}/{when:%Y/%m}/{slug}-{i}"
        requested = base + "/amp" if rng.random() < 0.25 else base
        rec = ArticleRecord(
            outlet_id=outlet["id"], url=requested, final_url=base, canonical_url=base, text=text,
            content_hash=content_hash(text), found_via=rng.choice(["feed", "sitemap", "news-sitemap", "homepage"]),
            fetched_at=when.isoformat(timespec="seconds").replace("+00:00", "Z"), title=title,
            author=f"{rng.choice(FIRST)} {rng.choice(LAST)}" if rng.random() < 0.8 else None,
            description=text.split(".")[0][:200] + ".", sitename=outlet["name"],
            image=f"https://img.{outlet['id']}.example/{i}.jpg", categories=[section],
            tags=self.vocab.draw(self.nrng, lang, rng.randint(0, 4)), published_at=published,
            date_source=rng.choice(["json-ld", "meta", "feed", "url"]) if published else None,
            language=lang, language_confidence=round(rng.uniform(0.9, 1.0), 4), language_source="detected",
            headers={"Content-Type": "text/html; charset=utf-8", "ETag": f'"{i:x}"',
                     "Last-Modified": when.strftime("%a, %d %b %Y %H:%M:%S GMT")},
            hints={"title": title, "published": published}, encoding="utf-8",
        )
        if self.shells is not None:
            article = f"<article><h1>{title}</h1>" + "".join(f"<p>{p}</p>" for p in text.split("\n\n")) + "</article>"
            rec.html = rng.choice(self.shells[lang]).replace("{article}", article, 1).encode("utf-8")
        rec.body_hash = hashlib.sha256(rec.html or text.encode("utf-8")).hexdigest()
        if self.similarity:
            t = time.perf_counter()
            sig = signature(text)
            self.sign_s += time.perf_counter() - t
            if sig is not None:
                rec.signature, rec.shingles = sig.to_bytes(), sig.shingles
        return rec


# -- bulk fill (--bulk) -------------------------------------------------------------------------

class BulkFiller:
    """Fills the archive between the save_article samples of --bulk, fast and with the same rows.

    The rows are the ones save_article writes for a new article, by the same INSERT statements
    run with executemany, in one transaction per `--bulk-batch` articles, on the connection of
    open_database (same pragmas, FTS5 and article_filters triggers): `articles` (with the first
    recheck time), `article_urls` (1-2 URLs), `article_fetches`, `fetch_state`,
    `article_signatures` and the 42 `lsh_bands` rows of each signature. What it skips are the
    lookups (URL, same text, LSH candidates) of a new article, and its work is generated faster:
    texts are drawn per batch with numpy (same Zipf vocabulary, sentences of 8-22 words,
    paragraphs of 3-5 sentences), `content_hash` is the sha256 of the raw text, and signatures are
    random values keyed by the index's own `band_keys` (as bench/clusters.py does), one in ten a
    near copy of another of its batch (20-60 % of values redrawn), so buckets of several articles
    exist; one article in ten is stored as a copy in a cluster (`cluster_id`, `duplicate_of`,
    `similarity`) of an earlier article of another outlet of its language.
    """

    def __init__(self, gen: Generator, seed: int) -> None:
        self.gen = gen
        self.nrng = np.random.default_rng(seed + 7)
        self.rng = random.Random(seed + 7)
        # Per language, each word in four forms: inside a sentence, starting one, ending one,
        # ending a paragraph; a text is one join of picked forms.
        self.forms: dict[str, np.ndarray] = {}
        for lang in LANGS:
            words = gen.vocab.words[lang]
            self.forms[lang] = np.concatenate([
                np.array([w + " " for w in words], dtype=object),
                np.array([w[:1].upper() + w[1:] + " " for w in words], dtype=object),
                np.array([w + ". " for w in words], dtype=object),
                np.array([w + ".\n\n" for w in words], dtype=object)])
        self.recent: dict[str, list[tuple[int, str]]] = {lang: [] for lang in LANGS}

    def text(self, lang: str, n: int) -> str:
        idx = np.minimum(np.searchsorted(self.gen.vocab.cdf, self.nrng.random(n)), VOCAB - 1)
        form = np.zeros(n, dtype=np.int64)
        lengths = self.nrng.integers(8, 23, size=n // 8 + 2)
        ends = np.cumsum(lengths)
        ends = ends[ends <= n] - 1
        form[ends] = 2
        form[np.concatenate([[0], ends[:-1] + 1])] = 1
        paragraph_ends = ends[np.cumsum(self.nrng.integers(3, 6, size=len(ends))) % 4 == 0]
        form[paragraph_ends] = 3
        form[-1] = 2
        return "".join(self.forms[lang][form * VOCAB + idx].tolist()).strip()

    def fill(self, db: sqlite_utils.Database, first: int, n: int) -> None:
        """Articles first..first+n-1 (generator numbering), in one transaction."""
        gen, rng = self.gen, self.rng
        now = storage.articles.utcnow()
        articles, urls, fetches, states, copies = [], [], [], [], []
        values = self.nrng.integers(0, 2**32, size=(n, 128), dtype=np.uint32)
        for c in self.nrng.choice(n, size=n // 10, replace=False):
            mask = self.nrng.random(128) < self.nrng.uniform(0.2, 0.6)
            values[c] = np.where(mask, values[c], values[self.nrng.integers(0, n)])
        next_id = db.execute("SELECT coalesce(max(id), 0) + 1 FROM articles").fetchone()[0]
        for k in range(n):
            i = first + k
            outlet = gen.outlets[rng.randrange(len(gen.outlets))]
            lang = outlet["language"]
            text = self.text(lang, rng.randint(3000, 6000) // 7)
            title_words = gen.vocab.draw(self.nrng, lang, rng.randint(6, 12))
            title = " ".join(title_words).capitalize()
            when = END - timedelta(days=SPAN_DAYS * (1 - i / max(gen.total, 1)), hours=rng.uniform(-24, 24))
            stamp = when.isoformat(timespec="seconds").replace("+00:00", "Z")
            published = stamp if rng.random() < 0.95 else None
            section = rng.choice(SECTIONS)
            base = f"https://www.{outlet['id']}.example/{section}/{when:%Y/%m}/{'-'.join(title_words[:6])}-{i}"
            requested = base + "/amp" if rng.random() < 0.25 else base
            article_id = next_id + k
            cluster = dup = sim = None
            recent = self.recent[lang]
            if recent and rng.random() < 0.1:
                src, src_outlet = recent[rng.randrange(len(recent))]
                if src_outlet != outlet["id"]:
                    cluster, dup, sim = src, src, round(rng.uniform(0.3, 0.95), 3)
                    copies.append(src)
            elif rng.random() < 0.05:
                recent.append((article_id, outlet["id"]))
                del recent[:-200]
            articles.append((
                outlet["id"], base, base, title, f"{rng.choice(FIRST)} {rng.choice(LAST)}" if rng.random() < 0.8 else None,
                text.split(".")[0][:200] + ".", outlet["name"], f"https://img.{outlet['id']}.example/{i}.jpg",
                json.dumps([section]), json.dumps(gen.vocab.draw(self.nrng, lang, rng.randint(1, 4)), ensure_ascii=False),
                published, None, rng.choice(["json-ld", "meta", "feed", "url"]) if published else None, None,
                rng.choice(["feed", "sitemap", "news-sitemap", "homepage"]), lang, round(rng.uniform(0.9, 1.0), 4),
                "detected", text, len(text), hashlib.sha256(text.encode()).hexdigest(), now, now, None,
                now, next_check_at(published or now, now, RECHECK), cluster, dup, sim))
            urls.append((base, article_id, "canonical", "feed", now))
            if requested != base:
                urls.append((requested, article_id, "requested", "feed", now))
            headers = json.dumps({"Content-Type": "text/html; charset=utf-8", "ETag": f'"{i:x}"'})
            fetches.append((article_id, requested, base, 200, headers, stamp, "utf-8",
                            json.dumps({"title": title, "published": published}, ensure_ascii=False)))
            states.append((requested, outlet["id"], "article", f'"{i:x}"', hashlib.sha256(text.encode()).hexdigest(),
                           200, now, now))
        ids = np.arange(next_id, next_id + n, dtype=np.int64)
        keys = band_keys(values)
        bands = np.broadcast_to(np.arange(keys.shape[1], dtype=np.int64), keys.shape).ravel()
        order = np.lexsort((keys.ravel(), bands))
        with write_transaction(db):
            db.conn.executemany(
                """INSERT INTO articles (outlet_id, url, canonical_url, title, author, description, sitename,
                     image, categories, tags, published_at, modified_at, date_source, date_flags, found_via,
                     language, language_confidence, language_source, text, text_length, content_hash,
                     first_seen_at, last_seen_at, version, run_id, checked_at, next_check_at, cluster_id,
                     duplicate_of, similarity)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)""",
                articles)
            db.conn.executemany("UPDATE articles SET cluster_id = id WHERE id = ? AND cluster_id IS NULL",
                                [(c,) for c in set(copies)])
            db.conn.executemany("INSERT OR IGNORE INTO article_urls (url, article_id, kind, found_via, first_seen_at) "
                                "VALUES (?, ?, ?, ?, ?)", urls)
            db.conn.executemany(
                """INSERT INTO article_fetches (article_id, url, final_url, status, headers, fetched_at, encoding,
                     hints, html_gz, html_size, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL)""", fetches)
            db.conn.executemany(
                """INSERT OR REPLACE INTO fetch_state (url, outlet_id, kind, etag, body_hash, status, fetched_at,
                     changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""", states)
            db.conn.executemany("INSERT INTO article_signatures (article_id, signature, shingles) VALUES (?, ?, ?)",
                                zip(ids.tolist(), (v.tobytes() for v in values.astype("<u4")),
                                    self.nrng.integers(150, 900, size=n).tolist(), strict=True))
            db.conn.executemany("INSERT OR IGNORE INTO lsh_bands (band, key, article_id) VALUES (?, ?, ?)",
                                zip(bands[order].tolist(), keys.ravel()[order].tolist(),
                                    np.repeat(ids, keys.shape[1])[order].tolist(), strict=True))


# -- build ---------------------------------------------------------------------------------------

@contextlib.contextmanager
def _savepoint(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """save_article's transaction inside a batch (--fast): a savepoint, rolled back alone on error."""
    db.execute("SAVEPOINT article")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK TO article")
        db.execute("RELEASE article")
        raise
    else:
        db.execute("RELEASE article")


def file_bytes(path: Path) -> tuple[int, int]:
    def size(p: Path) -> int:
        return p.stat().st_size if p.exists() else 0

    return size(path), size(Path(f"{path}-wal"))


def pct(xs: list[float], p: float) -> float:
    return float(np.percentile(xs, p)) if xs else float("nan")


def build(path: Path, args: argparse.Namespace) -> dict[str, Any]:
    gen = Generator(args.articles, args.seed, keep_html=args.keep_html, html_kb=args.html_kb,
                    similarity=not args.no_similarity)
    db = open_database(path)
    upsert_outlets(db, gen.outlets)
    windows = max(1, args.windows)
    edges = [round(args.articles * (w + 1) / windows) for w in range(windows)]
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    done = 0
    outcomes: dict[str, int] = {}
    gen_s_total = store_s_total = 0.0
    filler = BulkFiller(gen, args.seed) if args.bulk else None
    for edge in edges:
        w_start, w_store, w_gen, lat = time.perf_counter(), 0.0, 0.0, []
        first = done
        # --bulk: the window's first --sample articles through save_article (measured), the rest bulk.
        measured_end = min(edge, done + args.sample) if filler else edge
        while done < edge:
            if done >= measured_end:
                n = min(args.bulk_batch, edge - done)
                filler.fill(db, done, n)
                done += n
                continue
            n = min(GEN_BATCH if not args.fast else args.batch, measured_end - done)
            t = time.perf_counter()
            recs = [gen.record(done + k) for k in range(n)]
            w_gen += time.perf_counter() - t
            t = time.perf_counter()
            if args.fast:
                with write_transaction(db), mock.patch.object(storage.articles, "write_transaction", _savepoint):
                    for rec in recs:
                        r = save_article(db, rec, keep_html=args.keep_html, recheck=RECHECK)
                        outcomes[r.outcome] = outcomes.get(r.outcome, 0) + 1
                lat.append(1000 * (time.perf_counter() - t) / n)
            else:
                for rec in recs:
                    t1 = time.perf_counter()
                    r = save_article(db, rec, keep_html=args.keep_html, recheck=RECHECK)
                    lat.append(1000 * (time.perf_counter() - t1))
                    outcomes[r.outcome] = outcomes.get(r.outcome, 0) + 1
            w_store += time.perf_counter() - t
            done += n
        wall = time.perf_counter() - w_start
        gen_s_total += w_gen
        store_s_total += w_store
        main_b, wal_b = file_bytes(path)
        measured = measured_end - first
        row = {"upto": done, "articles": done - first, "measured": measured, "store_rate": measured / w_store,
               "wall_rate": (done - first) / wall, "ms_p50": pct(lat, 50), "ms_p95": pct(lat, 95),
               "ms_p99": pct(lat, 99), "ms_max": max(lat), "db_mib": main_b / 2**20, "wal_mib": wal_b / 2**20,
               "bytes_per_article": (main_b + wal_b) / done, "elapsed_s": time.perf_counter() - started}
        rows.append(row)
        print(f"  {done:>9,} articles: {row['store_rate']:7.0f}/s store, {row['wall_rate']:7.0f}/s wall, "
              f"p50 {row['ms_p50']:.2f} ms p95 {row['ms_p95']:.2f} ms, {row['bytes_per_article']:,.0f} B/article, "
              f"{row['elapsed_s']:.0f} s", file=sys.stderr, flush=True)
    t = time.perf_counter()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    checkpoint_s = time.perf_counter() - t
    db.close()
    return {"windows": rows, "outcomes": outcomes, "build_s": time.perf_counter() - started,
            "generate_s": gen_s_total, "signature_s": gen.sign_s, "store_s": store_s_total,
            "final_checkpoint_s": checkpoint_s, "vocab": gen.vocab}


# -- measurements on the built file ---------------------------------------------------------------

OPEN_CODE = """
import sys, time
sys.path.insert(0, {root!r})
from storage.db import open_database
t = time.perf_counter(); db = open_database({path!r}); opened = time.perf_counter() - t
t = time.perf_counter(); db.execute("SELECT max(id) FROM articles").fetchone(); first = time.perf_counter() - t
print(opened, first)
"""


def open_times(path: Path, runs: int = 3) -> dict[str, Any]:
    """open_database (connect, pragmas, check migrations, migrate if pending) in a fresh process."""
    child = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", OPEN_CODE.format(root=str(ROOT), path=str(path))],
                             capture_output=True, text=True, check=True)
        opened, first = map(float, out.stdout.split())
        child.append((opened, first))
    t = time.perf_counter()
    open_database(path).close()
    conn_ms = 1000 * (time.perf_counter() - t)
    return {"fresh_process_open_ms": [round(1000 * o, 2) for o, _ in child],
            "fresh_process_first_query_ms": [round(1000 * f, 2) for _, f in child],
            "fresh_connection_open_ms": round(conn_ms, 2)}


def make_queries(db: sqlite_utils.Database, vocab: Vocabulary, n: int, seed: int) -> list[dict[str, Any]]:
    """About `n` queries, one sixth of each kind; each with the language it was drawn from."""
    rng = random.Random(seed + 1)
    per = max(1, n // len(KINDS))
    max_id = db.execute("SELECT max(id) FROM articles").fetchone()[0]
    queries = []
    for kind in KINDS:
        for _ in range(per):
            lang = rng.choice(LANGS)
            words = vocab.words[lang]
            if kind == "frequent":
                q = words[rng.randint(10, 100)]
            elif kind == "mid":
                q = words[rng.randint(1000, 5000)]
            elif kind == "rare":
                q = words[rng.randint(20_000, VOCAB - 1)]
            elif kind == "and":
                q = f"{words[rng.randint(10, 200)]} {words[rng.randint(100, 1000)]}"
            elif kind == "prefix":
                q = words[rng.randint(500, 5000)][:4] + "*"
            else:  # a phrase read from a stored article of that language
                row = None
                while row is None:
                    row = db.execute("SELECT text, language FROM articles WHERE id = ? AND language = ?",
                                     [rng.randint(1, max_id), lang]).fetchone()
                tokens = re.findall(r"[^\W\d_]+", row[0])
                k = rng.randrange(len(tokens) - 2)
                q = '"' + " ".join(tokens[k:k + 2]).lower() + '"'
            queries.append({"kind": kind, "lang": lang, "q": q})
    return queries


def filters_for(name: str, lang: str, rng: random.Random) -> dict[str, Any]:
    outlet = f"{lang}-outlet{rng.randrange(OUTLETS_PER_LANG):02d}"
    start = END - timedelta(days=rng.randint(30, SPAN_DAYS))
    dates = {"since": start.isoformat().replace("+00:00", "Z"),
             "until": (start + timedelta(days=30)).isoformat().replace("+00:00", "Z")}
    return {"none": {}, "outlet": {"outlet": outlet}, "language": {"language": lang}, "dates": dates,
            "all": {"outlet": outlet, "language": lang, **dates}}[name]


class Capture:
    """Records the SQL and parameters of the last db.query call (to EXPLAIN what search ran)."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.original = db.query
        self.last: tuple[str, list[Any]] | None = None
        db.query = self  # type: ignore[method-assign]

    def __call__(self, sql: str, params: Any = None) -> Any:
        self.last = (sql, list(params or []))
        return self.original(sql, params)


def measure_search(path: Path, vocab: Vocabulary, n: int, seed: int, timeout: float) -> dict[str, Any]:
    db = open_database(path)
    queries = make_queries(db, vocab, n, seed)
    rng = random.Random(seed + 2)
    for q in queries:
        q["hits"] = db.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?", [q["q"]]).fetchone()[0]
    for q in queries[:: max(1, len(queries) // 20)]:  # warm-up, untimed
        search(db, q["q"])
    times: dict[str, dict[str, list[float]]] = {f: {k: [] for k in KINDS} for f in FILTERS}
    results: dict[str, list[int]] = {f: [] for f in FILTERS}
    plans: dict[str, list[str]] = {}
    order = [(q, f) for q in queries for f in FILTERS]
    rng.shuffle(order)
    # A search running past `timeout` s is interrupted (progress handler) and counted at its elapsed time.
    deadline = [float("inf")]
    db.conn.set_progress_handler(lambda: int(time.perf_counter() > deadline[0]), 50_000)
    timeouts = dict.fromkeys(FILTERS, 0)
    for q, f in order:
        kwargs = filters_for(f, q["lang"], rng)
        t = time.perf_counter()
        deadline[0] = t + timeout
        try:
            rows = search(db, q["q"], **kwargs)
        except QueryError:
            rows = []
            timeouts[f] += 1
        times[f][q["kind"]].append(1000 * (time.perf_counter() - t))
        results[f].append(len(rows))
        if f"{f}, {q['kind']}" not in plans and q["kind"] in ("frequent", "rare"):
            # The ranking step that search ran (storage.queries.search_plan), then its plan.
            strategy, sql, params = search_plan(db, q["q"], **kwargs)
            plans[f"{f}, {q['kind']}"] = [f"strategy: {strategy}"] + [
                f"{r[1]:>3} {r[3]}" for r in db.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()]
    db.conn.set_progress_handler(None, 0)
    db.close()
    summary: dict[str, Any] = {"queries": len(queries), "searches": len(order), "by_filter": {}, "by_kind": {},
                               "hits_median_by_kind": {k: statistics.median(q["hits"] for q in queries if q["kind"] == k)
                                                       for k in KINDS},
                               "examples": {k: [q["q"] for q in queries if q["kind"] == k][:3] for k in KINDS},
                               "plans": plans}
    for f in FILTERS:
        every = [x for k in KINDS for x in times[f][k]]
        summary["by_filter"][f] = {"p50_ms": pct(every, 50), "p95_ms": pct(every, 95), "max_ms": max(every),
                                   "mean_results": statistics.mean(results[f]), "timeouts": timeouts[f]}
        summary["by_kind"][f] = {k: {"p50_ms": pct(times[f][k], 50), "p95_ms": pct(times[f][k], 95)} for k in KINDS}
    return summary


def measure_export(path: Path, rows: int, folder: Path) -> dict[str, Any]:
    db = open_database(path)
    out: dict[str, Any] = {}

    def timed(name: str, fn: Any) -> None:
        t = time.perf_counter()
        n = fn()
        s = time.perf_counter() - t
        out[name] = {"rows": n, "seconds": round(s, 3), "rows_per_s": n / s if s else float("nan")}

    timed("raw", lambda: sum(1 for _ in itertools.islice(export_rows(db), rows)))
    target = folder / "export.tmp"
    for fmt in ("jsonl", "csv"):
        def write(fmt: str = fmt) -> int:
            with open(target, "w", encoding="utf-8", newline="") as fh:
                it = itertools.islice(export_rows(db), rows)
                return write_jsonl(it, fh) if fmt == "jsonl" else write_csv(it, fh, EXPORT_COLUMNS)
        timed(fmt, write)
        out[fmt]["bytes_per_row"] = target.stat().st_size / max(out[fmt]["rows"], 1)
    target.unlink(missing_ok=True)
    lang_rows = itertools.islice(export_rows(db, language="fr"), rows)
    timed("raw_language_filter", lambda: sum(1 for _ in lang_rows))
    since = (END - timedelta(days=90)).isoformat().replace("+00:00", "Z")
    timed("raw_last_90_days", lambda: sum(1 for _ in itertools.islice(export_rows(db, since=since), rows)))
    capture = Capture(db)
    for name, kwargs in (("plan_language_since", {"language": "fr", "since": since}), ("plan_since", {"since": since})):
        next(export_rows(db, **kwargs), None)
        if capture.last:
            sql, params = capture.last
            out[name] = [f"{r[1]:>3} {r[3]}" for r in db.execute("EXPLAIN QUERY PLAN " + sql, params)]
    db.close()
    return out


def measure_sizes(path: Path, dbstat: bool) -> dict[str, Any]:
    db = open_database(path)
    n = db.execute("SELECT count(*) FROM articles").fetchone()[0]
    main_b, wal_b = file_bytes(path)
    out: dict[str, Any] = {"articles": n, "file_mib": main_b / 2**20, "wal_mib": wal_b / 2**20,
                           "bytes_per_article": (main_b + wal_b) / n}
    html = db.execute("SELECT sum(length(html_gz)), sum(html_size) FROM article_fetches").fetchone()
    out["html_gz_bytes_per_article"] = (html[0] or 0) / n
    out["html_raw_bytes_per_article"] = (html[1] or 0) / n
    out["text_bytes_per_article"] = db.execute("SELECT avg(text_length) FROM articles").fetchone()[0]
    if dbstat:
        tables = db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall()
        out["tables_bytes_per_article"] = {name: size / n for name, size in tables}
    db.close()
    return out


# -- driver --------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1_000_000, help="archive size (default 1,000,000)")
    parser.add_argument("--db", type=Path, help="database file (default: in a temporary folder, removed after)")
    parser.add_argument("--reuse", action="store_true", help="measure an existing --db without building")
    parser.add_argument("--fast", action="store_true", help="--batch articles per transaction (same save_article)")
    parser.add_argument("--batch", type=int, default=1000, help="articles per transaction with --fast")
    parser.add_argument("--bulk", action="store_true",
                        help="per window, --sample articles through save_article (batched as --fast), the rest "
                             "bulk-loaded with the same INSERTs (see BulkFiller): a 1M archive in minutes")
    parser.add_argument("--sample", type=int, default=2000, help="articles through save_article per window with --bulk")
    parser.add_argument("--bulk-batch", type=int, default=5000, help="articles per bulk transaction")
    parser.add_argument("--quick", action="store_true", help="smoke run: 20,000 articles, --bulk, 60 queries")
    parser.add_argument("--keep-html", action="store_true", help="store a raw page per article, gzipped by add_fetch")
    parser.add_argument("--html-kb", type=int, default=100, help="raw page size with --keep-html (KB)")
    parser.add_argument("--no-similarity", action="store_true", help="no MinHash signature: no LSH index rows")
    parser.add_argument("--windows", type=int, default=10, help="insert-rate windows (default: tenths)")
    parser.add_argument("--queries", type=int, default=200, help="search queries, each run with 5 filter sets")
    parser.add_argument("--search-timeout", type=float, default=30.0,
                        help="interrupt a search after this many seconds (counted as a timeout)")
    parser.add_argument("--export-rows", type=int, default=100_000, help="rows read per export measurement")
    parser.add_argument("--no-dbstat", action="store_true", help="skip the per-table sizes (reads the whole file)")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--json", type=Path, help="also write the JSON summary to this file")
    args = parser.parse_args()
    if args.quick:
        args.articles, args.bulk, args.queries, args.sample = 20_000, True, 60, 500
    if args.bulk:
        args.fast = True

    temp = None
    if args.db is None:
        temp = Path(tempfile.mkdtemp(prefix="newsmon-archive-"))
        path = temp / "archive.db"
    else:
        path = args.db
        if not args.reuse:
            for suffix in ("", "-wal", "-shm"):
                if Path(f"{path}{suffix}").exists():
                    parser.error(f"{path}{suffix} exists: remove it, or pass --reuse to measure it")
    mode = (f"batched: {args.batch} articles per transaction (--fast)" if args.fast
            else "per article: one transaction each, as the store pipeline")
    if args.bulk:
        mode = (f"--bulk: per window, {args.sample:,} articles through save_article ({args.batch} per transaction),"
                f" the rest bulk-loaded ({args.bulk_batch:,} per transaction, same INSERTs)")
    print(f"machine: {machine()}")
    print(f"versions: {versions(('sqlite-utils', 'datasketch', 'numpy'))}")
    print(f"command: python bench/archive_scale.py {' '.join(sys.argv[1:])}".rstrip())
    print(f"database: {path}")
    started = time.perf_counter()
    summary: dict[str, Any] = {"machine": machine(), "versions": versions(("sqlite-utils", "datasketch", "numpy")),
                               "argv": sys.argv[1:], "articles": args.articles, "keep_html": args.keep_html,
                               "similarity": not args.no_similarity}
    if args.reuse:
        vocab = Vocabulary(args.seed)
        print("build: skipped (--reuse)")
    else:
        summary["write_path"] = mode
        print(f"write path: storage.articles.save_article, {mode}; keep_html={args.keep_html}, "
              f"similarity index={'off' if args.no_similarity else 'on'}")
        built = build(path, args)
        vocab = built.pop("vocab")
        summary["build"] = built
        w = built["windows"]
        print(f"\nbuild: {built['build_s']:.0f} s wall ({built['store_s']:.0f} s in save_article, "
              f"{built['generate_s']:.0f} s generating, of which {built['signature_s']:.0f} s MinHash signatures); "
              f"final WAL checkpoint {built['final_checkpoint_s']:.1f} s; outcomes {built['outcomes']}")
        print("| articles up to | store articles/s | wall articles/s | ms per article p50 / p95 / p99 / max | "
              "db + WAL | bytes per article |")
        print("| --- | --- | --- | --- | --- | --- |")
        for r in w:
            print(f"| {r['upto']:,} | {r['store_rate']:,.0f} | {r['wall_rate']:,.0f} | {r['ms_p50']:.2f} / "
                  f"{r['ms_p95']:.2f} / {r['ms_p99']:.2f} / {r['ms_max']:.0f} | {r['db_mib']:,.0f} + "
                  f"{r['wal_mib']:,.0f} MiB | {r['bytes_per_article']:,.0f} |")
        ratio = w[-1]["store_rate"] / w[0]["store_rate"]
        summary["last_to_first_rate"] = ratio
        print(f"store rate, last tenth / first tenth: {ratio:.2f} (target: >= 0.80)"
              + ("; per-article ms are batch ms / batch size with --fast" if args.fast else ""))

    sizes = measure_sizes(path, not args.no_dbstat)
    summary["sizes"] = sizes
    print(f"\nsize: {sizes['articles']:,} articles, {sizes['file_mib']:,.0f} MiB file + {sizes['wal_mib']:,.0f} MiB WAL,"
          f" {sizes['bytes_per_article']:,.0f} B per article (text {sizes['text_bytes_per_article']:,.0f} B; kept HTML "
          f"{sizes['html_gz_bytes_per_article']:,.0f} B gzipped of {sizes['html_raw_bytes_per_article']:,.0f} B raw); "
          f"without the kept HTML about {sizes['bytes_per_article'] - sizes['html_gz_bytes_per_article']:,.0f} B")
    if "tables_bytes_per_article" in sizes:
        print("bytes per article by table/index: " + ", ".join(
            f"{k} {v:,.0f}" for k, v in sizes["tables_bytes_per_article"].items() if v >= 1))

    opened = open_times(path)
    summary["open"] = opened
    print(f"\nopen + migrate check (open_database) in a fresh process: {opened['fresh_process_open_ms']} ms, then first "
          f"query {opened['fresh_process_first_query_ms']} ms; fresh connection in this process "
          f"{opened['fresh_connection_open_ms']} ms")

    found = measure_search(path, vocab, args.queries, args.seed, args.search_timeout)
    summary["search"] = found
    print(f"\nsearch (storage.queries.search, limit 20): {found['queries']} queries x {len(FILTERS)} filter sets, "
          f"shuffled; median FTS hits per kind: " + ", ".join(f"{k} {v:,.0f}" for k, v in found["hits_median_by_kind"].items()))
    print("| filter | p50 ms | p95 ms | max ms | timeouts | " + " | ".join(f"{k} p50 / p95" for k in KINDS) + " |")
    print("| --- | --- | --- | --- | --- | " + " | ".join("---" for _ in KINDS) + " |")
    for f in FILTERS:
        r, k = found["by_filter"][f], found["by_kind"][f]
        print(f"| {f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['max_ms']:.0f} | {r['timeouts']} | "
              + " | ".join(f"{k[x]['p50_ms']:.1f} / {k[x]['p95_ms']:.1f}" for x in KINDS) + " |")
    print("filters: outlet = one outlet of the query's language, language = the query's, dates = a 30-day window, "
          "all = the three")
    for f, plan in found["plans"].items():
        print(f"EXPLAIN QUERY PLAN, search with filter and query kind '{f}':\n    " + "\n    ".join(plan))

    exported = measure_export(path, args.export_rows, path.parent)
    summary["export"] = exported
    print(f"\nexport (storage.queries.export_rows, first {args.export_rows:,} rows, oldest first):")
    for name in ("raw", "jsonl", "csv", "raw_language_filter", "raw_last_90_days"):
        r = exported[name]
        print(f"  {name}: {r['rows']:,} rows in {r['seconds']:.2f} s = {r['rows_per_s']:,.0f} rows/s"
              + (f", {r['bytes_per_row']:,.0f} B/row" if "bytes_per_row" in r else ""))
    for name, what in (("plan_language_since", "--lang --since"), ("plan_since", "--since")):
        if name in exported:
            print(f"EXPLAIN QUERY PLAN, export {what}:\n    " + "\n    ".join(exported[name]))

    summary["total_s"] = time.perf_counter() - started
    print(f"\ntotal wall time {summary['total_s']:.0f} s")
    text = json.dumps(summary, default=str)
    if args.json:
        args.json.write_text(text)
    else:
        print(text)
    if temp is not None:
        for p in temp.iterdir():
            p.unlink()
        temp.rmdir()


if __name__ == "__main__":
    main()
