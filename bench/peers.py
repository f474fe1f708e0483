"""The generated news site crawled by newsmon and by the tools a user would pick instead, side by side.

    python bench/peers.py [--outlets 8 --articles 250] [--peers trafilatura,newspaper4k,news-please]
                          [--runs 1] [--json FILE]

The peers live in their own venv, ``bench/.peers-venv`` (created on demand; nothing is added to
pyproject.toml): ``pip install newspaper4k`` and ``pip install news-please``, each timed, its
success and version reported. trafilatura's command line is the one in newsmon's venv.

Each tool crawls the site served by one child process (bench/newssite.py), as its docs recommend:

- newsmon: ``python -m monitor crawl --json`` with the site's config (homepage, feed, sitemap index);
- trafilatura: ``trafilatura -i urls.txt --json -o DIR --parallel N``. Its own discovery
  (``--sitemap``/``--feed`` with the homepage) rejects the site's hosts ("invalid URL": courlan
  does not accept an IP address with a port) and then hangs, so the bench lists the article URLs
  from robots.txt -> sitemap index -> sitemaps itself, before the measured process. Its
  settings.cfg blocks loopback addresses (SSRF_PROTECTION) and waits 5 s between requests to one
  host: the run uses a copy with ``SSRF_PROTECTION = off`` and ``SLEEP_TIME = 0`` (newsmon's bench
  config has no delay either);
- newspaper4k: ``newspaper.build(homepage, memoize_articles=False)`` per outlet, then
  ``newspaper.mthreading.fetch_news(sources)`` (download and parse every article, threaded);
- news-please: ``NewsPlease.from_urls(urls)``. Its library mode has no discovery (the CLI crawler
  needs a config directory and a database or file pipeline), so the runner lists the article URLs
  from robots.txt -> sitemap index -> sitemaps itself, inside the measured process.

For each: wall, CPU (``os.wait4`` rusage of the tool's process), peak RSS (VmHWM polled from
/proc every 50 ms: ``ru_maxrss`` carries over execve), share of the site's articles found (a
truth URL with text), token F1 of the text against the truth's lead + body on a sample, and the
ratios to newsmon's figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from demo_crawl import machine  # noqa: E402
from newssite import start_subprocess, stop_subprocess  # noqa: E402
from throughput import fetch_truth, http_json, norm_url, run_measured, token_f1, truth_text  # noqa: E402

PEERS_VENV = ROOT / "bench" / ".peers-venv"
PACKAGES = {"newspaper4k": "newspaper", "news-please": "newsplease"}  # pip name -> import name
ALL_PEERS = ("trafilatura", "newspaper4k", "news-please")
THREADS = 8
TIMEOUT = 1800.0  # seconds a peer may take before it is killed

NEWSPAPER_RUNNER = r"""
import json, sys
import newspaper
from newspaper.mthreading import fetch_news
homepages = json.loads(sys.argv[1])
sources = [newspaper.build(url, memoize_articles=False, language=lang, number_threads=%(threads)d)
           for url, lang in homepages]
fetch_news(sources, threads=len(sources))
with open(sys.argv[2], "w", encoding="utf-8") as fh:
    for s in sources:
        for a in s.articles:
            if a.is_parsed:
                fh.write(json.dumps({"url": a.url, "text": a.text, "title": a.title}) + "\n")
"""

NEWSPLEASE_RUNNER = r"""
import json, re, sys, urllib.request
from newsplease import NewsPlease

def get(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read().decode("utf-8", "replace")

urls = []
for home, _lang in json.loads(sys.argv[1]):
    robots = get(home.rstrip("/") + "/robots.txt")
    todo = re.findall(r"(?im)^sitemap:\s*(\S+)", robots)
    while todo:
        xml = get(todo.pop())
        locs = re.findall(r"<loc>\s*([^<\s]+)\s*</loc>", xml)
        if "<sitemapindex" in xml:
            todo += locs
        else:
            urls += locs
urls = list(dict.fromkeys(urls))
found = NewsPlease.from_urls(urls, request_args={"timeout": 30})
with open(sys.argv[2], "w", encoding="utf-8") as fh:
    for url, art in found.items():
        if art is not None and getattr(art, "maintext", None):
            fh.write(json.dumps({"url": url, "text": art.maintext, "title": art.title}) + "\n")
"""


# ---------------------------------------------------------------------------------------------
# The peers' venv


def peers_python() -> Path:
    return PEERS_VENV / "bin" / "python"


def ensure_peers(packages: list[str], *, reinstall: bool = False) -> dict[str, dict[str, Any]]:
    """Create bench/.peers-venv if needed and pip install each package; report success, version, time."""
    report: dict[str, dict[str, Any]] = {}
    if not peers_python().exists():
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
        subprocess.run([str(peers_python()), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
        report["(venv)"] = {"ok": True, "seconds": round(time.perf_counter() - started, 1)}
    for pkg in packages:
        version = _installed_version(pkg)
        if version and not reinstall:
            report[pkg] = {"ok": True, "version": version, "seconds": None, "note": "already installed"}
            continue
        started = time.perf_counter()
        proc = subprocess.run([str(peers_python()), "-m", "pip", "install", pkg], capture_output=True, text=True)
        seconds = round(time.perf_counter() - started, 1)
        importable = proc.returncode == 0 and subprocess.run(
            [str(peers_python()), "-c", f"import {PACKAGES[pkg]}"], capture_output=True).returncode == 0
        report[pkg] = {"ok": importable, "version": _installed_version(pkg), "seconds": seconds,
                       "error": None if importable else (proc.stderr or proc.stdout)[-1500:]}
    return report


def _installed_version(pkg: str) -> str | None:
    if not peers_python().exists():
        return None
    proc = subprocess.run([str(peers_python()), "-c", f"from importlib.metadata import version; print(version({pkg!r}))"],
                          capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else None


# ---------------------------------------------------------------------------------------------
# Runners: each returns the measurement and a list of {"url", "text"}


def run_newsmon(config: Path, folder: Path) -> tuple[dict[str, Any], list[dict[str, str]]]:
    db = Path(str(config.with_suffix(".db")))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    out = folder / "newsmon.json"
    m = run_measured([sys.executable, "-m", "monitor", "-q", "--config", str(config), "crawl", "--json"],
                     cwd=ROOT, stdout=out, poll_rss=True)
    if m["returncode"] == 0:
        summary = json.loads(out.read_text(encoding="utf-8"))
        m["own_peak_rss_mib"] = summary["crawl_stats"].get("newsmon/memory/peak_rss_mib")
        m["crawl_wall_s"] = summary["wall_seconds"]
    import sqlite3

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = [{"url": u, "text": t} for u, t in conn.execute(
            "SELECT u.url, a.text FROM article_urls u JOIN articles a ON a.id = u.article_id")]
    finally:
        conn.close()
    return m, rows


def sitemap_urls(homepages: list[tuple[str, str]]) -> list[str]:
    """Article URLs listed by each outlet's sitemaps (robots.txt -> index -> sitemaps)."""
    import re
    import urllib.request

    def get(url: str) -> str:
        with urllib.request.urlopen(url, timeout=30) as r:  # noqa: S310 (loopback)
            return str(r.read().decode("utf-8", "replace"))

    urls: list[str] = []
    for home, _ in homepages:
        todo = re.findall(r"(?im)^sitemap:\s*(\S+)", get(home.rstrip("/") + "/robots.txt"))
        while todo:
            xml = get(todo.pop())
            locs = re.findall(r"<loc>\s*([^<\s]+)\s*</loc>", xml)
            if "<sitemapindex" in xml:
                todo += locs
            else:
                urls += locs
    return list(dict.fromkeys(urls))


def run_trafilatura(homepages: list[tuple[str, str]], folder: Path, threads: int) -> tuple[dict[str, Any], list[dict[str, str]]]:
    cli = Path(sys.executable).parent / "trafilatura"
    import trafilatura

    cfg = (Path(trafilatura.__file__).parent / "settings.cfg").read_text(encoding="utf-8")
    cfg = cfg.replace("SLEEP_TIME = 5.0", "SLEEP_TIME = 0").replace("SSRF_PROTECTION = on", "SSRF_PROTECTION = off")
    (folder / "trafilatura.cfg").write_text(cfg, encoding="utf-8")
    (folder / "urls.txt").write_text("".join(u + "\n" for u in sitemap_urls(homepages)), encoding="utf-8")
    out = folder / "trafilatura-out"
    shutil.rmtree(out, ignore_errors=True)
    m = run_measured([str(cli), "-i", str(folder / "urls.txt"), "--json", "--with-metadata", "-o", str(out),
                      "--parallel", str(threads), "--config-file", str(folder / "trafilatura.cfg")],
                     cwd=folder, stdout=folder / "trafilatura.stdout", poll_rss=True, timeout=TIMEOUT)
    rows = []
    for f in sorted(out.glob("**/*.json")) if out.exists() else []:
        try:
            d = json.loads(f.read_text(encoding="utf-8"))
        except ValueError:
            continue
        url = d.get("source") or d.get("url") or ""
        rows.append({"url": url, "text": d.get("text") or ""})
    return m, rows


def run_script(name: str, code: str, homepages: list[tuple[str, str]], folder: Path) -> tuple[dict[str, Any], list[dict[str, str]]]:
    script = folder / f"{name}_runner.py"
    script.write_text(code, encoding="utf-8")
    out = folder / f"{name}.jsonl"
    out.unlink(missing_ok=True)
    m = run_measured([str(peers_python()), str(script), json.dumps(homepages), str(out)], cwd=folder,
                     stdout=folder / f"{name}.stdout", poll_rss=True, timeout=TIMEOUT)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] if out.exists() else []
    return m, rows


# ---------------------------------------------------------------------------------------------
# Scoring


def score(m: dict[str, Any], rows: list[dict[str, str]], truth: list[dict[str, Any]], sample: int,
          seed: int = 1) -> dict[str, Any]:
    by_url: dict[str, str] = {}
    for r in rows:
        if r.get("text"):
            by_url.setdefault(norm_url(r["url"]), r["text"])
    found = [(t, by_url[norm_url(t["url"])]) for t in truth if norm_url(t["url"]) in by_url]
    picked = random.Random(seed).sample(found, min(sample, len(found)))
    f1s = [token_f1(text, truth_text(t)) for t, text in picked]
    n = max(len(found), 1)
    return {
        "returncode": m["returncode"], "wall_s": m["wall_s"], "cpu_s": m["cpu_s"],
        "articles_found": len(found), "outputs": len(rows), "share_found": len(found) / len(truth) if truth else 0.0,
        "articles_per_s": len(found) / m["wall_s"] if m["wall_s"] else 0.0,
        "cpu_s_per_article": m["cpu_s"] / n,
        "peak_rss_mib": m.get("own_peak_rss_mib") or m["vmhwm_mib"], "vmhwm_mib": m["vmhwm_mib"],
        "tree_rss_peak_mib": m["tree_rss_peak_mib"],
        "body_f1_mean": statistics.fmean(f1s) if f1s else 0.0, "f1_sample": len(f1s),
        "stderr_tail": m.get("stderr", "")[-600:] if m["returncode"] else "",
    }


def compare(outlets: int, articles: int, seed: int, peers: list[str], runs: int, f1_sample: int,
            threads: int, install: dict[str, dict[str, Any]]) -> dict[str, Any]:
    results: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="newsmon-peers-") as tmp:
        folder = Path(tmp)
        config = folder / "site.toml"
        server, info = start_subprocess(outlets, articles, seed, extra=["--config", str(config)], timeout=300)
        try:
            truth = fetch_truth(info)
            langs = {t["outlet"]: t["language"] for t in truth}
            homepages = [(base + "/", langs.get(oid, "en")) for oid, base in info["outlets"].items()]
            base = info["stats"].rsplit("/", 1)[0]
            tools = ["newsmon", *peers]
            for _ in range(runs):
                for tool in tools:
                    if tool in PACKAGES and not install.get(tool, {}).get("ok"):
                        continue
                    http_json(base + "/__reset_stats")
                    if tool == "newsmon":
                        m, rows = run_newsmon(config, folder)
                    elif tool == "trafilatura":
                        m, rows = run_trafilatura(homepages, folder, threads)
                    elif tool == "newspaper4k":
                        m, rows = run_script("newspaper4k", NEWSPAPER_RUNNER % {"threads": threads}, homepages, folder)
                    else:
                        m, rows = run_script("newsplease", NEWSPLEASE_RUNNER, homepages, folder)
                    s = score(m, rows, truth, f1_sample)
                    s["requests"] = http_json(info["stats"])["requests"]
                    results.setdefault(tool, []).append(s)
                    print(f"{tool}: {s['articles_found']} found in {s['wall_s']:.1f} s", file=sys.stderr)
        finally:
            stop_subprocess(server)
    medians = {tool: {k: statistics.median(r[k] for r in rs) for k in rs[0] if isinstance(rs[0][k], (int, float))}
               for tool, rs in results.items()}
    for tool, rs in results.items():
        medians[tool]["stderr_tail"] = rs[-1]["stderr_tail"]
    return {"site_articles": len(truth), "tools": medians, "runs": results}


def report(result: dict[str, Any]) -> str:
    tools = result["tools"]
    ref = tools.get("newsmon", {})
    lines = [f"machine: {result['machine']}",
             f"site: {result['outlets']} outlets x {result['articles']} articles ({result['site_articles']} pages), "
             f"{result['runs_count']} run(s), medians", "", "peer installs (bench/.peers-venv):"]
    for pkg, r in result["install"].items():
        lines.append(f"  {pkg}: {'ok' if r.get('ok') else 'FAILED'} {r.get('version') or ''} "
                     f"{'' if r.get('seconds') is None else str(r['seconds']) + ' s'} {r.get('note') or ''}".rstrip())
    lines += ["", "| tool | articles/s | CPU s/article | peak RSS MiB | found | body F1 | requests | "
              "articles/s vs newsmon | CPU/article vs newsmon | RSS vs newsmon | F1 vs newsmon |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]

    def ratio(tool: str, key: str) -> str:
        a, b = tools[tool].get(key), ref.get(key)
        return f"{a / b:.2f}x" if a is not None and b else ""

    for tool, t in tools.items():
        lines.append(f"| {tool} | {t['articles_per_s']:.1f} | {t['cpu_s_per_article']:.3f} | {t['peak_rss_mib']:.0f} | "
                     f"{t['share_found']:.1%} | {t['body_f1_mean']:.3f} | {t['requests']:.0f} | "
                     f"{ratio(tool, 'articles_per_s')} | {ratio(tool, 'cpu_s_per_article')} | "
                     f"{ratio(tool, 'peak_rss_mib')} | {ratio(tool, 'body_f1_mean')} |")
    for tool, t in tools.items():
        if t.get("returncode"):
            lines.append(f"{tool} exited {t['returncode']}: {t['stderr_tail']}")
    lines.append("articles/s = site articles found with text / process wall time (incl. start-up) for every tool; "
                 "newsmon's peak RSS is its own newsmon/memory/peak_rss_mib, the peers' VmHWM.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--outlets", type=int, default=8)
    parser.add_argument("--articles", type=int, default=250)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--peers", default=",".join(ALL_PEERS))
    parser.add_argument("--threads", type=int, default=THREADS, help="download threads given to each peer")
    parser.add_argument("--f1-sample", type=int, default=300)
    parser.add_argument("--reinstall", action="store_true", help="pip install the peers again (timed)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    peers = [p for p in args.peers.split(",") if p]
    install = ensure_peers([p for p in peers if p in PACKAGES], reinstall=args.reinstall)
    result = compare(args.outlets, args.articles, args.seed, peers, args.runs, args.f1_sample, args.threads, install)
    result.update({"machine": machine(), "outlets": args.outlets, "articles": args.articles, "runs_count": args.runs,
                   "install": install, "cores": os.cpu_count()})
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
