"""Throughput of a full `newsmon crawl` of the generated news site (bench/newssite.py).

    python bench/throughput.py [--outlets 8 --articles 250] [--runs 5] [--json FILE]

Per run, with a fresh site served from a child process (its CPU is not ours) and a fresh database:

1. first crawl (empty database): articles/s end to end, wall and CPU seconds per article split by
   stage, peak RSS (the crawl's own ``newsmon/memory/peak_rss_mib``), reactor loop lag (max, p99),
   requests served, articles stored against the site's truth, body-text F1 on a sample;
2. second crawl of the unchanged site: requests, share answered 304, time against the first;
3. ``/__mutate?add=20&edit=5`` then a third crawl: new articles found, new versions detected.

Peak memory of the crawl process and its workers together (summed PSS, sampled every 200 ms) is
measured in one more first crawl of its own: reading ``/proc/PID/smaps_rollup`` costs CPU that
the throughput runs must not pay (their summed VmRSS is sampled, which is cheap).

The CPU of a crawl process is its rusage from ``os.wait4`` (user + sys). ``ru_maxrss`` is not used:
Linux carries it over execve from the parent. Stage times come from the crawl summary's per-outlet
``time/*`` stats (extract, language, fingerprint = dedup keys, store = dedup lookup + write);
"download+parse" is what is left of the process CPU after those stages and the process start-up
(interpreter, imports, warm-up: measured by a separate child process doing only that).

After each run, one pass of the CPU floor (the `Floor` class; medians over the passes, so that
the floor and the crawls are measured in the same minutes): Scrapy alone fetching every article
page of the site (a bare spider in a child process, minus the same process fetching nothing),
then each of newsmon's stages measured in this
process on a sample of the site's article pages (body hash, lxml parse, `crawlers.extraction.extract_page`, `crawlers.language.detect_language`,
content hash + MinHash signature, `storage.articles.save_article` into a scratch database). The sum
is the CPU one article needs at least; cores / floor is this machine's limit in articles/s, and the
report prints the end-to-end rate as a share of it. Medians over ``--runs``.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import hashlib
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _common import fetch_truth, http_json, norm_url, run_measured, token_f1, truth_text  # noqa: E402
from demo_crawl import machine, versions  # noqa: E402
from newssite import start_subprocess, stop_subprocess  # noqa: E402

from monitor.runner import GC_THRESHOLDS  # noqa: E402

STAGES = {  # report name -> crawl stat (per outlet, "time/<stat>")
    "extraction": "extract",
    "language": "language",
    "dedup": "fingerprint",
    "store": "store",
}


# ---------------------------------------------------------------------------------------------
# One crawl


def crawl(config: Path, folder: Path, name: str, pss: bool = False) -> dict[str, Any]:
    out = folder / f"{name}.json"
    m = run_measured([sys.executable, "-m", "monitor", "-q", "--config", str(config), "crawl", "--json"],
                     cwd=ROOT, stdout=out, poll_rss=True, pss=pss)
    if m["returncode"] != 0:
        raise RuntimeError(f"crawl {name} failed ({m['returncode']}): {m['stderr'][-2000:]}")
    summary = json.loads(out.read_text(encoding="utf-8"))
    m.pop("stderr")
    return {**m, "summary": summary}


def crawl_figures(c: dict[str, Any], startup_cpu: float) -> dict[str, Any]:
    s = c["summary"]
    cs = s["crawl_stats"]
    outlets = s["outlets"]
    new = sum(o["articles_new"] for o in outlets)
    processed = sum(o["articles_new"] + o["duplicates"] + o["no_text"] for o in outlets) + sum(
        o.get("versions_new", 0) for o in outlets)
    stages = {k: sum((o.get("stats") or {}).get(f"time/{v}", 0.0) for o in outlets) for k, v in STAGES.items()}
    per = max(new, 1)
    rest = max(c["cpu_s"] - startup_cpu - sum(stages.values()), 0.0)
    f: dict[str, Any] = {
        "articles_new": new,
        "pages_processed": processed,
        "crawl_wall_s": s["wall_seconds"],
        "process_wall_s": c["wall_s"],
        "process_cpu_s": c["cpu_s"],
        "articles_per_s": new / s["wall_seconds"] if s["wall_seconds"] else 0.0,
        "articles_per_process_s": new / c["wall_s"] if c["wall_s"] else 0.0,
        "cpu_ms_per_article": 1000 * c["cpu_s"] / per,
        "cpu_ms_per_article_excl_startup": 1000 * max(c["cpu_s"] - startup_cpu, 0) / per,
        "download+parse_ms_per_article": 1000 * rest / per,
        **{f"{k}_ms_per_article": 1000 * v / per for k, v in stages.items()},
        "peak_rss_mib": cs.get("newsmon/memory/peak_rss_mib"),
        "workers_peak_rss_mib": cs.get("newsmon/memory/workers_peak_rss_mib"),
        # Sampled every 50 ms: the crawl process and its workers, VmRSS summed (pages the workers
        # share with the crawl process since the fork count in each).
        "tree_rss_peak_mib": c.get("tree_rss_peak_mib"),
        "tree_pss_peak_mib": c.get("tree_pss_peak_mib"),
        "workers": cs.get("newsmon/workers/count"),
        # Where the CPU went: the crawl process (reactor thread and the pool's helper threads),
        # its reactor thread alone, and the worker processes.
        "crawl_process_cpu_ms_per_article": 1000 * cs.get("newsmon/cpu/crawl_process_s", 0) / per,
        "reactor_thread_cpu_ms_per_article": 1000 * cs.get("newsmon/cpu/reactor_thread_s", 0) / per,
        "workers_cpu_ms_per_article": 1000 * cs.get("newsmon/cpu/workers_s", 0) / per,
        "workers_waited_s": cs.get("newsmon/workers/waited"),
        "reactor_lag_max_ms": cs.get("newsmon/reactor/lag_max_ms"),
        "reactor_lag_p99_ms": cs.get("newsmon/reactor/lag_p99_ms"),
        "not_modified": sum(o.get("not_modified", 0) for o in outlets),
        "versions_new": sum(o.get("versions_new", 0) for o in outlets),
        "rechecked": sum(o.get("rechecked", 0) for o in outlets),
        "failed": sum(o.get("failed", 0) for o in outlets),
    }
    return f


def server_figures(stats: dict[str, Any]) -> dict[str, Any]:
    by_status = {int(k): v for k, v in stats["by_status"].items()}
    requests = stats["requests"]
    return {"requests": requests, "requests_by_kind": stats["by_kind"], "requests_by_status": by_status,
            "article_requests": stats["by_kind"].get("article", 0),
            "robots_requests": stats["by_kind"].get("robots", 0),
            "share_304": by_status.get(304, 0) / requests if requests else 0.0}


def database_figures(db: Path, truth: list[dict[str, Any]], sample: int, seed: int = 1) -> dict[str, Any]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        url_to_article = {norm_url(u): a for u, a in conn.execute("SELECT url, article_id FROM article_urls")}
        stored = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        found = [(row, url_to_article[norm_url(row["url"])]) for row in truth if norm_url(row["url"]) in url_to_article]
        rng = random.Random(seed)
        picked = rng.sample(found, min(sample, len(found)))
        f1s = []
        for row, article_id in picked:
            text = conn.execute("SELECT text FROM articles WHERE id = ?", [article_id]).fetchone()[0]
            f1s.append(token_f1(text, truth_text(row)))
    finally:
        conn.close()
    return {"articles_stored": stored, "truth_articles": len(truth), "truth_found": len(found),
            "share_found": len(found) / len(truth) if truth else 0.0,
            "body_f1_mean": statistics.fmean(f1s) if f1s else 0.0,
            "body_f1_median": statistics.median(f1s) if f1s else 0.0, "f1_sample": len(f1s)}


def startup_cpu() -> float:
    """CPU of a child that only starts, imports what a crawl imports and warms up as the crawl does."""
    code = ("import monitor.cli, monitor.runner, crawlers.settings, storage.similarity as s;"
            "from crawlers.extraction import warm_up; from crawlers.language import detect_language;"
            "warm_up(); detect_language('a sentence of text for the warm-up of the detector ' * 4); s.default_hasher()")
    m = run_measured([sys.executable, "-c", code], cwd=ROOT)
    if m["returncode"] != 0:
        raise RuntimeError(m["stderr"][-2000:])
    return float(m["cpu_s"])


def one_run(outlets: int, articles: int, seed: int, f1_sample: int, start_cpu: float,
            keep: Path | None = None, memory: bool = False, floor: Floor | None = None) -> dict[str, Any]:
    """First, second and third crawl of a fresh site; with `memory`, only a first crawl, its
    memory sampled (PSS) all along; with `floor`, then one pass of the CPU floor."""
    with tempfile.TemporaryDirectory(prefix="newsmon-throughput-") as tmp:
        folder = keep or Path(tmp)
        config, db = folder / "site.toml", folder / "site.db"
        server, info = start_subprocess(outlets, articles, seed,
                                        extra=["--config", str(config), "--database", str(db)], timeout=300, compressed=True)
        try:
            truth = fetch_truth(info)
            urls = [row["url"] for row in truth]
            base = info["stats"].rsplit("/", 1)[0]
            result: dict[str, Any] = {"site_articles": len(truth)}
            for name in ("first",) if memory else ("first", "second", "third"):
                if name == "third":
                    # The edits are dated now, after the first crawl's fetches, as on a real site.
                    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                    mutation = http_json(base + f"/__mutate?add=20&edit=5&now={now}")
                    truth = fetch_truth(info)
                http_json(base + "/__reset_stats")
                c = crawl(config, folder, name, pss=memory)
                fig = crawl_figures(c, start_cpu)
                fig.update(server_figures(http_json(info["stats"])))
                fig.update(database_figures(db, truth, f1_sample))
                if name == "third":
                    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
                    known = {norm_url(u) for (u,) in conn.execute("SELECT url FROM article_urls")}
                    conn.close()
                    fig["added"] = len(mutation["added"])
                    fig["added_found"] = sum(norm_url(r["url"]) in known for r in mutation["added"])
                    fig["edited"] = len(mutation["edited"])
                    fig["edited_detected"] = fig["versions_new"]
                result[name] = fig
            first, first_process = result["first"]["crawl_wall_s"], result["first"]["process_wall_s"]
            for name in () if memory else ("second", "third"):
                result[name]["wall_vs_first"] = result[name]["crawl_wall_s"] / first if first else 0.0
                result[name]["process_wall_vs_first"] = (result[name]["process_wall_s"] / first_process
                                                         if first_process else 0.0)
            if floor is not None:
                floor.measure(urls)
        finally:
            stop_subprocess(server)
    return result


# ---------------------------------------------------------------------------------------------
# CPU floor, in this process


_BARE_SCRAPY = """
import gc, json, sys
from monitor.runner import GC_THRESHOLDS
gc.set_threshold(*GC_THRESHOLDS)  # as in a newsmon crawl process
from scrapy import Request, Spider
from scrapy.crawler import CrawlerProcess
urls = json.loads(open(sys.argv[1], encoding="utf-8").read())
class Bare(Spider):
    name = "bare"
    async def start(self):
        for url in urls:
            yield Request(url, dont_filter=True)
    def parse(self, response):
        return None
# newsmon's meta refresh check, which does not decode pages without "refresh" in their first bytes:
# the floor's download stage is the cheapest known, not Scrapy's default.
process = CrawlerProcess({"LOG_LEVEL": "ERROR", "CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
                          "ROBOTSTXT_OBEY": False, "TELNETCONSOLE_ENABLED": False, "COOKIES_ENABLED": False,
                          "DOWNLOADER_MIDDLEWARES": {
                              "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
                              "crawlers.middlewares.redirect.QuickMetaRefreshMiddleware": 580}})
process.crawl(Bare)
process.start()
"""


def scrapy_floor(urls: list[str], repeats: int = 3) -> float:
    """CPU seconds per page of Scrapy alone (a bare spider: download, gunzip, newsmon's meta
    refresh check, no parsing): a process fetching `urls` minus one fetching nothing, the smallest
    of `repeats` differences."""
    costs = []
    with tempfile.TemporaryDirectory(prefix="newsmon-scrapy-floor-") as tmp:
        listed, none = Path(tmp) / "urls.json", Path(tmp) / "none.json"
        listed.write_text(json.dumps(urls), encoding="utf-8")
        none.write_text("[]", encoding="utf-8")
        for _ in range(repeats):
            empty = run_measured([sys.executable, "-c", _BARE_SCRAPY, str(none)], cwd=ROOT)
            full = run_measured([sys.executable, "-c", _BARE_SCRAPY, str(listed)], cwd=ROOT)
            if empty["returncode"] or full["returncode"]:
                raise RuntimeError((empty["stderr"] + full["stderr"])[-2000:])
            costs.append((full["cpu_s"] - empty["cpu_s"]) / len(urls))
    return min(costs)


class Floor:
    """Per-stage CPU per article, measured in passes interleaved with the crawl runs: after each
    run, Scrapy alone on every article page of that run's site (a bare spider in a child process),
    then (time.process_time, in this process) each of newsmon's stages on `sample` pages fetched
    once. `result()` takes each stage's median over the passes.

    Interleaved because this machine's speed drifts by 10-15 % over minutes: measured once after
    the crawls, the same code's floor came out anywhere between 19.2 and 27.9 ms, and the share of
    the limit compared two measurements taken minutes apart.
    """

    def __init__(self, outlets: int, articles: int, seed: int, sample: int) -> None:
        from crawlers.extraction import warm_up
        from crawlers.language import detect_language
        from storage.similarity import default_hasher

        server, info = start_subprocess(outlets, articles, seed, timeout=300, compressed=True)
        try:
            self.truth = fetch_truth(info)
            rng = random.Random(seed)
            rows = rng.sample(self.truth, min(sample, len(self.truth)))
            self.pages: list[tuple[dict[str, Any], bytes, bool]] = []
            for row in rows:
                req = urllib.request.Request(row["url"], headers={"Accept-Encoding": "gzip"})
                with urllib.request.urlopen(req, timeout=60) as r:  # noqa: S310 (loopback)
                    self.pages.append((row, r.read(), r.headers.get("Content-Encoding") == "gzip"))
        finally:
            stop_subprocess(server)
        warm_up()
        detect_language("a sentence of text for the warm-up of the detector " * 4)
        default_hasher()
        gc.set_threshold(*GC_THRESHOLDS)  # as in a newsmon crawl process and its workers
        self.scrapy: list[float] = []
        self.passes: list[tuple[dict[str, float], float, int]] = []

    def measure(self, urls: list[str]) -> None:
        """One pass; `urls`: every article page of a site being served now."""
        self.scrapy.append(scrapy_floor(urls, repeats=1))
        # Each pass stores into a fresh database.
        self.passes.append(_floor_pass(self.pages, self.truth, self.scrapy[-1]))

    def result(self) -> dict[str, Any]:
        passes, pages = self.passes, self.pages
        times = {k: statistics.median(p[0][k] for p in passes) for k in passes[0][0]}
        parse_only = statistics.median(p[1] for p in passes)
        stored = passes[0][2]
        # The same pages through the workers' one call (decode, extract, language, hash, MinHash),
        # in this process: what a worker's page costs without the pool around it.
        from crawlers.analysis import PageSettings, analyse_page

        t = time.process_time()
        for row, raw, gz in pages:
            analyse_page(gzip.decompress(raw) if gz else raw, "text/html; charset=utf-8", row["url"], PageSettings(),
                         {})
        analyse_ms = 1000 * (time.process_time() - t) / max(len(pages), 1)
        n = max(len(pages), 1)
        per = {f"{k}_ms": 1000 * v / n for k, v in times.items()}
        floor_ms = sum(per.values())
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        return {"pages": len(pages), "stored": stored, "passes": len(passes), **per,
                "of_extraction_lxml_parse_ms": 1000 * parse_only / n,
                "of_download_scrapy_ms": 1000 * statistics.median(self.scrapy), "scrapy_pages": len(self.truth),
                "analyse_page_ms": analyse_ms, "floor_ms_per_article": floor_ms, "cores": cores,
                "limit_articles_per_s": cores * 1000 / floor_ms if floor_ms else 0.0,
                "limit_one_core_articles_per_s": 1000 / floor_ms if floor_ms else 0.0,
                "pass_floors_ms": [round(sum(1000 * v / n for v in p[0].values()), 2) for p in passes],
                "avg_page_kib": statistics.fmean(len(gzip.decompress(r) if g else r) for _, r, g in pages) / 1024}


def _floor_pass(pages: list[tuple[dict[str, Any], bytes, bool]], truth: list[dict[str, Any]],
                scrapy_s: float) -> tuple[dict[str, float], float, int]:
    """One pass of newsmon's stages over `pages`, in this process: CPU seconds per stage (summed),
    of which the lxml parse, and the articles stored."""
    from trafilatura.utils import load_html

    from crawlers.extraction import decode_html, extract_page
    from crawlers.language import detect_language
    from storage.articles import ArticleRecord, save_article, upsert_outlets
    from storage.db import open_database, utcnow
    from storage.dedup import content_hash
    from storage.similarity import SimilarityIndex, signature

    times: dict[str, float] = {k: 0.0 for k in ("download+parse", "extraction", "language", "dedup", "store")}
    parse_only = 0.0
    with tempfile.TemporaryDirectory(prefix="newsmon-floor-") as tmp:
        db = open_database(Path(tmp) / "floor.db")
        SimilarityIndex(db).ensure_tables()
        upsert_outlets(db, [{"id": o, "name": o} for o in sorted({r["outlet"] for r in truth})])
        stored = 0
        for row, raw, gz in pages:
            body = gzip.decompress(raw) if gz else raw  # in the Scrapy floor already
            t = time.process_time()
            hashlib.sha256(body).hexdigest()
            t1 = time.process_time()
            load_html(decode_html(body, "text/html; charset=utf-8"))  # the parse alone (extraction repeats it)
            t2 = time.process_time()
            ex = extract_page(body, row["url"])
            t3 = time.process_time()
            lang = detect_language(ex.text if ex else "", row["language"])
            t4 = time.process_time()
            sig = signature(ex.text) if ex else None
            chash = content_hash(ex.text) if ex else ""
            t5 = time.process_time()
            if ex is not None:
                rec = ArticleRecord(
                    outlet_id=row["outlet"], url=row["url"], final_url=row["url"], canonical_url=row["url"],
                    text=ex.text, content_hash=chash, found_via="sitemap", fetched_at=utcnow(), title=ex.title,
                    author=ex.author, published_at=ex.published_at, language=lang.code,
                    language_confidence=lang.confidence, language_source=lang.source,
                    body_hash=hashlib.sha256(body).hexdigest(),
                    signature=sig.to_bytes() if sig else None, shingles=sig.shingles if sig else 0)
                save_article(db, rec, keep_html=False)
                stored += 1
            t6 = time.process_time()
            times["download+parse"] += scrapy_s + t1 - t
            parse_only += t2 - t1
            times["extraction"] += t3 - t2
            times["language"] += t4 - t3
            times["dedup"] += t5 - t4
            times["store"] += t6 - t5
        db.close()
    return times, parse_only, stored


# ---------------------------------------------------------------------------------------------
# Report


def median_of(runs: list[dict[str, Any]], crawl_name: str, key: str) -> Any:
    values = [r[crawl_name][key] for r in runs if isinstance(r[crawl_name].get(key), (int, float))]
    return statistics.median(values) if values else None


ROWS = [
    ("articles new", "articles_new", "{:.0f}"),
    ("articles/s end to end (crawl wall)", "articles_per_s", "{:.1f}"),
    ("articles/s, process wall (start-up included)", "articles_per_process_s", "{:.1f}"),
    ("crawl wall s (Scrapy's run)", "crawl_wall_s", "{:.2f}"),
    ("process wall s", "process_wall_s", "{:.2f}"),
    ("process CPU s", "process_cpu_s", "{:.2f}"),
    ("crawl wall vs first crawl", "wall_vs_first", "{:.1%}"),
    ("process wall vs first crawl", "process_wall_vs_first", "{:.1%}"),
    ("CPU ms/article, whole process", "cpu_ms_per_article", "{:.1f}"),
    ("CPU ms/article, excl. start-up", "cpu_ms_per_article_excl_startup", "{:.1f}"),
    ("  download+parse (rest)", "download+parse_ms_per_article", "{:.1f}"),
    ("  extraction", "extraction_ms_per_article", "{:.1f}"),
    ("  language", "language_ms_per_article", "{:.1f}"),
    ("  dedup (hash, MinHash)", "dedup_ms_per_article", "{:.1f}"),
    ("  store (lookup, write)", "store_ms_per_article", "{:.1f}"),
    ("CPU ms/article, crawl process (incl. start-up)", "crawl_process_cpu_ms_per_article", "{:.1f}"),
    ("  of which its reactor thread", "reactor_thread_cpu_ms_per_article", "{:.1f}"),
    ("CPU ms/article, worker processes", "workers_cpu_ms_per_article", "{:.1f}"),
    ("peak RSS MiB, crawl process", "peak_rss_mib", "{:.0f}"),
    ("peak RSS MiB, its workers (sum of peaks)", "workers_peak_rss_mib", "{:.0f}"),
    ("peak RSS MiB, crawl + workers (sampled sum)", "tree_rss_peak_mib", "{:.0f}"),
    ("seconds pages waited for a worker (sum)", "workers_waited_s", "{:.1f}"),
    ("reactor lag max ms", "reactor_lag_max_ms", "{:.0f}"),
    ("reactor lag p99 ms", "reactor_lag_p99_ms", "{:.0f}"),
    ("requests served", "requests", "{:.0f}"),
    ("  of which article pages", "article_requests", "{:.0f}"),
    ("share answered 304", "share_304", "{:.1%}"),
    ("  of which robots.txt (asked conditionally too)", "robots_requests", "{:.0f}"),
    ("not modified (summary)", "not_modified", "{:.0f}"),
    ("rechecked", "rechecked", "{:.0f}"),
    ("new versions", "versions_new", "{:.0f}"),
    ("site articles found", "share_found", "{:.1%}"),
    ("body F1 (mean, sample)", "body_f1_mean", "{:.3f}"),
    ("added articles found", "added_found", "{:.0f}"),
    ("edited articles detected", "edited_detected", "{:.0f}"),
]


def report(result: dict[str, Any]) -> str:
    runs = result["runs"]
    lines = [f"machine:  {result['machine']}", f"versions: {result['versions']}",
             f"site: {result['outlets']} outlets x {result['articles']} articles ({runs[0]['site_articles']} pages), "
             f"{len(runs)} run(s), medians; start-up CPU {result['startup_cpu_s']:.2f} s", "",
             "| figure | first crawl | second (unchanged) | third (+20 new, 5 edited) |",
             "| --- | --- | --- | --- |"]
    for label, key, fmt in ROWS:
        cells = []
        for name in ("first", "second", "third"):
            v = median_of(runs, name, key)
            cells.append(fmt.format(v) if v is not None else "")
        if any(cells):
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    memory = result.get("memory_run")
    if memory:
        lines.append(f"| peak PSS MiB, crawl + workers (a separate first crawl, sampled sum) | "
                     f"{memory['tree_pss_peak_mib']:.0f} | | |")
    fl = result.get("floor")
    if fl:
        lines += ["", f"CPU floor, in process, {fl['pages']} article pages (avg {fl['avg_page_kib']:.0f} KiB), "
                      f"medians of {fl['passes']} passes, one after each run (pass floors: "
                      f"{', '.join(f'{v:.1f}' for v in fl['pass_floors_ms'])} ms):",
                  "| stage | ms/article |", "| --- | --- |"]
        for k in ("download+parse", "extraction", "language", "dedup", "store"):
            lines.append(f"| {k} | {fl[k + '_ms']:.2f} |")
        lines += [f"| (of download+parse: Scrapy alone, {fl['scrapy_pages']} pages) | {fl['of_download_scrapy_ms']:.2f} |",
                  f"| (of extraction: lxml parse) | {fl['of_extraction_lxml_parse_ms']:.2f} |",
                  f"| **floor** | **{fl['floor_ms_per_article']:.2f}** |",
                  f"| (check: crawlers.analysis.analyse_page, the workers' call, same pages) | {fl['analyse_page_ms']:.2f} |",
                  "",
                  f"limit on this machine: {fl['cores']} cores / floor = {fl['limit_articles_per_s']:.0f} articles/s "
                  f"({fl['limit_one_core_articles_per_s']:.0f} per core)"]
        e2e = median_of(runs, "first", "articles_per_s")
        if e2e:
            lines.append(f"end to end (first crawl): {e2e:.1f} articles/s = {e2e / fl['limit_articles_per_s']:.1%} "
                         f"of the limit ({e2e / fl['limit_one_core_articles_per_s']:.1%} of one core's)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--outlets", type=int, default=8)
    parser.add_argument("--articles", type=int, default=250)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--f1-sample", type=int, default=300, help="articles scored for body F1 per crawl")
    parser.add_argument("--floor-sample", type=int, default=200, help="article pages for the CPU floor")
    parser.add_argument("--no-floor", action="store_true")
    parser.add_argument("--json", type=Path, help="write every figure of every run here")
    args = parser.parse_args(argv)
    start_cpu = statistics.median(startup_cpu() for _ in range(3))
    floor = None if args.no_floor else Floor(args.outlets, args.articles, args.seed, args.floor_sample)
    runs = []
    for i in range(args.runs):
        runs.append(one_run(args.outlets, args.articles, args.seed, args.f1_sample, start_cpu, floor=floor))
        print(f"run {i + 1}/{args.runs}: {runs[-1]['first']['articles_per_s']:.1f} articles/s", file=sys.stderr)
    # Memory in a run of its own: sampling PSS costs CPU (see _common.run_measured), so the runs
    # above, which measure speed, sample only the cheap VmHWM and VmRSS.
    memory = one_run(args.outlets, args.articles, args.seed, args.f1_sample, start_cpu, memory=True)["first"]
    print(f"memory run: peak PSS {memory['tree_pss_peak_mib']:.0f} MiB", file=sys.stderr)
    result: dict[str, Any] = {"machine": machine(), "versions": versions(), "outlets": args.outlets,
                              "articles": args.articles, "startup_cpu_s": start_cpu, "runs": runs,
                              "memory_run": memory}
    if floor is not None:
        result["floor"] = floor.result()
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
