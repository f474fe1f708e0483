"""The generated news site crawled by newsmon and by the tools a user would pick instead, side by side.

    python bench/peers.py [--outlets 8 --articles 250] [--peer-outlets 2 | all]
                          [--peers trafilatura,newspaper4k,news-please] [--runs 1] [--timeout S]
                          [--json FILE]

The site is always the one bench/throughput.py crawls (``--outlets`` x ``--articles``, served by
one child process, bench/newssite.py). Every tool, newsmon included, crawls the first
``--peer-outlets`` of its outlets (default 4: 1,000 articles, one outlet per language and per
page template; ``all`` for the whole site), and is scored against the truth of those outlets: the
figures are per article, so they compare with throughput.py's. The output says how many outlets
and articles were crawled. With 4 outlets the whole script, installs included, takes about
3 minutes on a 2-core machine; the whole site about twice as long (news-please alone needs
about 170 s of CPU for it).

The peers live in their own venv, ``bench/.peers-venv`` (gitignored; nothing is added to
pyproject.toml), created on demand with the running interpreter: ``pip install
newspaper4k==0.9.6`` and ``pip install news-please==1.6.16``, each timed, its success and version
reported. A failed install is reported as the tool's row ("not installed: reason") and the other
tools still run; so does a tool that fails or times out (``--timeout`` seconds per tool run,
by default 0.25 s per crawled article and at least 120 s: the tool's process group is killed, and
its row says so). trafilatura's command line is the one in newsmon's venv.

Concurrency: where a tool lets it be set, newsmon's, read from the site's newsmon config
(``[crawl] concurrency`` C and ``per_host_concurrency`` H, 16 and 8 at the time of writing), with no
delay between requests. Each tool crawls as its docs recommend; the settings changed from its
defaults, and why:

- newsmon: ``python -m monitor crawl --json`` with the site's config (homepage, feed, sitemap
  index), limited to the crawled outlets;
- trafilatura: ``trafilatura -i urls.txt --json --with-metadata -o DIR --parallel C`` (C = the
  total concurrency). Its own discovery (``--sitemap``/``--feed`` with the homepage) rejects the
  site's hosts ("invalid URL": courlan does not accept an IP address with a port), so the bench
  lists the article URLs from robots.txt -> sitemap index -> sitemaps (bench/_sitemaps.py) before
  the measured process: **trafilatura's discovery is not in its figures**. Its settings.cfg
  blocks loopback addresses (``SSRF_PROTECTION``) and waits ``SLEEP_TIME`` = 5 s between two
  requests to one host: the run uses a copy with ``SSRF_PROTECTION = off`` and ``SLEEP_TIME = 0``
  (newsmon's config has no delay either).
  By design it takes one URL per host per round (downloads in C threads, then extracts them in
  the main thread), so it has at most one request per host in flight;
- newspaper4k: ``newspaper.build(homepage, ...)`` per outlet (homepage, category pages, feeds),
  then ``newspaper.mthreading.fetch_news(sources, threads=C / H)`` (H = the per-host
  concurrency): C / H outlets at a time, each downloading with ``number_threads=H`` and parsing
  its articles. Settings: ``language`` = the outlet's (newsmon's config gives it too);
  ``memoize_articles=False`` and ``disable_category_cache=True`` (the defaults keep the URLs and
  category pages seen, in the temp directory, for later runs: a second run would find nothing new;
  the bench measures a first crawl, and gives the tool a TMPDIR of its own);
  ``fetch_images=False``: with the default, parsing an article downloads its candidate top images
  (``max_retries`` 2) to check their size. The site's images are on an off-site host
  (cdn.example-media.net) that does not resolve, so each parse made several DNS lookups, one
  thread per outlet; on this machine a lookup sometimes lost a reply and waited glibc's 5 s
  resolver timeout. That was the "oddly slow" smoke run: 89 s for 60 articles with 4 s of CPU,
  3.3 s without. newsmon never downloads images, and the docs say to turn it off when images are
  not needed. Left at the default: ``allow_binary_content=False``, with which every article costs a
  HEAD request and a streamed GET of its first bytes (a binary check) before the real GET: the
  requests column shows it. Its discovery is the homepage, the "category" pages linked from it
  and the feeds, no sitemaps; it drops the trailing slash of a category URL (``/world/`` ->
  ``/world``), which the generated site answers 404 where a real site would redirect, so it sees
  only the homepage and the feed (about 50 of 250 articles per outlet); with the slash kept it
  finds all 250 of the first two outlets (checked by hand). The 404s are in the requests column;
- news-please: library mode, ``NewsPlease.from_urls(urls, request_args={"timeout": 30},
  fetch_images=False)``. The library has no discovery (the CLI crawler needs a config directory and
  a database or file pipeline), so the runner lists the article URLs with bench/_sitemaps.py,
  **inside** the measured process. ``fetch_images=False`` for the same reason as newspaper4k (its
  first extractor is newspaper's ``Article``). Its concurrency cannot be set: ``from_urls``
  downloads every URL at once, one thread each (requests without a session, ``Connection:
  close``), then extracts them in a process pool of one worker per core. Calling it on chunks of
  C URLs would keep newsmon's concurrency but cost a third more CPU (measured: 100 against 74 ms
  per article), since every call starts a new pool whose workers load the extractors and
  langdetect's profiles again; so the runner makes the one call a user would, and its memory
  holds every page of the crawl at once.

For each: wall, CPU (``os.wait4`` rusage of the tool's process, which includes the process-pool
workers it waited for: newsmon's and news-please's), peak memory (the process tree: the highest sum
of PSS of the process and its descendants, sampled every 200 ms, so that pages a forked worker
shares with its parent count once; and the main process's VmHWM, polled every 50 ms;
``ru_maxrss`` carries over execve), share of the crawled outlets' articles found
(a truth URL with text), token F1 of the text against the truth's lead + body on a sample, the
requests the site served, and the ratios to newsmon's figures.
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
import tomllib
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from _common import fetch_truth, http_json, norm_url, run_measured, token_f1, truth_text  # noqa: E402
from _sitemaps import sitemap_urls  # noqa: E402
from demo_crawl import machine  # noqa: E402
from newssite import start_subprocess, stop_subprocess  # noqa: E402

PEERS_VENV = BENCH / ".peers-venv"
PACKAGES = {  # pip name -> (pinned version, import name)
    "newspaper4k": ("0.9.6", "newspaper"),
    "news-please": ("1.6.16", "newsplease"),
}
ALL_PEERS = ("trafilatura", "newspaper4k", "news-please")
PEER_OUTLETS = 4
TIMEOUT_PER_ARTICLE = 0.25  # default --timeout: this many seconds per crawled article, at least 120 s
PIP_TIMEOUT = 300.0

NEWSPAPER_RUNNER = r"""
import json, sys
args = json.loads(sys.argv[1])
import newspaper
from newspaper.mthreading import fetch_news
sources = [newspaper.build(url, language=lang, number_threads=args["per_host"], memoize_articles=False,
                           disable_category_cache=True, fetch_images=False)
           for url, lang in args["homepages"]]
fetch_news(sources, threads=max(1, args["concurrency"] // args["per_host"]))
with open(sys.argv[2], "w", encoding="utf-8") as fh:
    for s in sources:
        for a in s.articles:
            if a.is_parsed:
                fh.write(json.dumps({"url": a.url, "text": a.text, "title": a.title}) + "\n")
"""

NEWSPLEASE_RUNNER = r"""
import json, sys
args = json.loads(sys.argv[1])
sys.path.insert(0, args["bench"])
from _sitemaps import sitemap_urls
from newsplease import NewsPlease

urls = sitemap_urls([home for home, _lang in args["homepages"]])
found = NewsPlease.from_urls(urls, request_args={"timeout": 30}, fetch_images=False)
with open(sys.argv[2], "w", encoding="utf-8") as fh:
    for url, art in found.items():
        if art and getattr(art, "maintext", None):
            fh.write(json.dumps({"url": url, "text": art.maintext, "title": art.title}) + "\n")
"""


# ---------------------------------------------------------------------------------------------
# The peers' venv


def peers_python() -> Path:
    return PEERS_VENV / "bin" / "python"


def _tail(text: str, n: int = 400) -> str:
    """The end of a tool's output that says what went wrong (pip's ERROR lines first)."""
    lines = [ln for ln in (text or "").splitlines() if ln.strip() and "is ignored: it is neither" not in ln]
    errors = [ln for ln in lines if ln.startswith("ERROR")]
    return errors[-1][:n] if errors else " | ".join(lines[-3:])[-n:] or "(no output)"


def ensure_peers(packages: list[str], *, reinstall: bool = False) -> dict[str, dict[str, Any]]:
    """Create bench/.peers-venv if needed and pip install each pinned package; success, version, time.

    Never raises: a failure is reported as ``{"ok": False, "error": reason}``."""
    report: dict[str, dict[str, Any]] = {}
    if not packages:
        return report
    if reinstall:
        shutil.rmtree(PEERS_VENV, ignore_errors=True)
    if not _python_works():
        started = time.perf_counter()
        try:
            proc = subprocess.run([sys.executable, "-m", "venv", "--clear", str(PEERS_VENV)], capture_output=True,
                                  text=True, timeout=PIP_TIMEOUT)
            ok, error = proc.returncode == 0 and _python_works(), _tail(proc.stderr + proc.stdout)
        except (OSError, subprocess.SubprocessError) as exc:
            ok, error = False, repr(exc)
        report["(venv)"] = {"ok": ok, "seconds": round(time.perf_counter() - started, 1),
                            "error": None if ok else f"python -m venv failed: {error}"}
        if not ok:
            for pkg in packages:
                report[pkg] = {"ok": False, "version": None, "seconds": None, "error": report["(venv)"]["error"]}
            return report
    for pkg in packages:
        pinned, module = PACKAGES[pkg]
        version = _installed_version(pkg)
        if version == pinned and _importable(module):
            report[pkg] = {"ok": True, "version": version, "seconds": None, "note": "already installed"}
            continue
        started = time.perf_counter()
        try:
            proc = subprocess.run([str(peers_python()), "-m", "pip", "install", "--disable-pip-version-check",
                                   f"{pkg}=={pinned}"],
                                  capture_output=True, text=True, timeout=PIP_TIMEOUT)
            error = None if proc.returncode == 0 else f"pip exited {proc.returncode}: {_tail(proc.stderr + proc.stdout)}"
        except subprocess.TimeoutExpired:
            error = f"pip install took more than {PIP_TIMEOUT:.0f} s"
        except (OSError, subprocess.SubprocessError) as exc:
            error = repr(exc)
        if error is None and not _importable(module):
            error = f"installed but `import {module}` failed: {_import_error(module)}"
        report[pkg] = {"ok": error is None, "version": _installed_version(pkg),
                       "seconds": round(time.perf_counter() - started, 1), "error": error}
    return report


def _python_works() -> bool:
    return peers_python().exists() and subprocess.run([str(peers_python()), "-c", "pass"],
                                                      capture_output=True).returncode == 0


def _importable(module: str) -> bool:
    return subprocess.run([str(peers_python()), "-c", f"import {module}"], capture_output=True).returncode == 0


def _import_error(module: str) -> str:
    return _tail(subprocess.run([str(peers_python()), "-c", f"import {module}"], capture_output=True, text=True).stderr)


def _installed_version(pkg: str) -> str | None:
    if not peers_python().exists():
        return None
    proc = subprocess.run([str(peers_python()), "-c", f"from importlib.metadata import version; print(version({pkg!r}))"],
                          capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else None


# ---------------------------------------------------------------------------------------------
# The crawled outlets


def outlets_config(config_text: str, keep: list[str]) -> str:
    """The site's newsmon config with only the `keep` outlets."""
    head, *blocks = config_text.split("[[outlets]]")
    kept = [b for b in blocks if tomllib.loads("[[outlets]]" + b)["outlets"][0]["id"] in keep]
    return head + "".join("[[outlets]]" + b for b in kept)


def concurrency_of(config_text: str) -> tuple[int, int]:
    crawl = tomllib.loads(config_text).get("crawl", {})
    total = int(crawl.get("concurrency", 16))
    return total, min(total, int(crawl.get("per_host_concurrency", 8)))


# ---------------------------------------------------------------------------------------------
# Runners: each returns the measurement and a list of {"url", "text"}


def run_newsmon(config: Path, folder: Path, timeout: float) -> tuple[dict[str, Any], list[dict[str, str]]]:
    import sqlite3

    db = Path(tomllib.loads(config.read_text(encoding="utf-8"))["storage"]["database"])
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    out = folder / "newsmon.json"
    m = run_measured([sys.executable, "-m", "monitor", "-q", "--config", str(config), "crawl", "--json"],
                     cwd=ROOT, stdout=out, poll_rss=True, timeout=timeout)
    if m["returncode"] == 0:
        try:
            summary = json.loads(out.read_text(encoding="utf-8"))
            m["own_peak_rss_mib"] = summary["crawl_stats"].get("newsmon/memory/peak_rss_mib")
            m["crawl_wall_s"] = summary["wall_seconds"]
        except (ValueError, KeyError, OSError):
            pass
    if not db.exists():
        return m, []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = [{"url": u, "text": t} for u, t in conn.execute(
            "SELECT u.url, a.text FROM article_urls u JOIN articles a ON a.id = u.article_id")]
    except sqlite3.Error:
        rows = []
    finally:
        conn.close()
    return m, rows


def run_trafilatura(homepages: list[tuple[str, str]], folder: Path, concurrency: int,
                    timeout: float) -> tuple[dict[str, Any], list[dict[str, str]]]:
    cli = Path(sys.executable).parent / "trafilatura"
    import trafilatura

    cfg = (Path(trafilatura.__file__).parent / "settings.cfg").read_text(encoding="utf-8")
    for key, value in (("SLEEP_TIME", "0"), ("SSRF_PROTECTION", "off")):
        cfg, n = _set_cfg(cfg, key, value)
        if not n:
            raise RuntimeError(f"trafilatura's settings.cfg has no {key} line: the bench must be updated")
    (folder / "trafilatura.cfg").write_text(cfg, encoding="utf-8")
    (folder / "urls.txt").write_text("".join(u + "\n" for u in sitemap_urls(h for h, _ in homepages)),
                                     encoding="utf-8")
    out = folder / "trafilatura-out"
    shutil.rmtree(out, ignore_errors=True)
    m = run_measured([str(cli), "-i", str(folder / "urls.txt"), "--json", "--with-metadata", "-o", str(out),
                      "--parallel", str(concurrency), "--config-file", str(folder / "trafilatura.cfg")],
                     cwd=folder, stdout=folder / "trafilatura.stdout", poll_rss=True, timeout=timeout,
                     env=_env(folder / "tmp-trafilatura"))
    rows = []
    for f in sorted(out.glob("**/*.json")) if out.exists() else []:
        try:
            d = json.loads(f.read_text(encoding="utf-8"))
        except ValueError:
            continue
        rows.append({"url": d.get("source") or d.get("url") or "", "text": d.get("text") or ""})
    return m, rows


def _set_cfg(cfg: str, key: str, value: str) -> tuple[str, int]:
    import re

    return re.subn(rf"(?m)^{key}\s*=.*$", f"{key} = {value}", cfg)


def run_script(name: str, code: str, args: dict[str, Any], folder: Path,
               timeout: float) -> tuple[dict[str, Any], list[dict[str, str]]]:
    script = folder / f"{name}_runner.py"
    script.write_text(code, encoding="utf-8")
    out = folder / f"{name}.jsonl"
    out.unlink(missing_ok=True)
    m = run_measured([str(peers_python()), str(script), json.dumps(args), str(out)], cwd=folder,
                     stdout=folder / f"{name}.stdout", poll_rss=True, timeout=timeout, env=_env(folder / f"tmp-{name}"))
    rows = []
    for line in out.read_text(encoding="utf-8").splitlines() if out.exists() else []:
        try:
            rows.append(json.loads(line))
        except ValueError:  # the last line of a killed run
            continue
    return m, rows


def _env(tmp: Path) -> dict[str, str]:
    """The tool's environment: a TMPDIR of its own (newspaper4k keeps caches there)."""
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return {**os.environ, "TMPDIR": str(tmp)}


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
    error = ""
    if m["timed_out"]:
        error = f"timed out after {m['wall_s']:.0f} s (killed): {_tail(m['stderr'], 300)}"
    elif m["returncode"]:
        error = f"exited {m['returncode']}: {_tail(m['stderr'], 600)}"
    return {
        "returncode": m["returncode"], "timed_out": m["timed_out"], "wall_s": m["wall_s"], "cpu_s": m["cpu_s"],
        "articles_found": len(found), "outputs": len(rows), "share_found": len(found) / len(truth) if truth else 0.0,
        "articles_per_s": len(found) / m["wall_s"] if m["wall_s"] else 0.0,
        "cpu_s_per_article": m["cpu_s"] / n,
        "peak_rss_tree_mib": m["tree_pss_peak_mib"], "vmhwm_mib": m["vmhwm_mib"],
        "own_peak_rss_mib": m.get("own_peak_rss_mib"),
        "body_f1_mean": statistics.fmean(f1s) if f1s else 0.0, "f1_sample": len(f1s), "error": error,
    }


def run_tool(tool: str, *, config: Path, homepages: list[tuple[str, str]], folder: Path, concurrency: int,
             per_host: int, timeout: float) -> tuple[dict[str, Any], list[dict[str, str]]]:
    if tool == "newsmon":
        return run_newsmon(config, folder, timeout)
    if tool == "trafilatura":
        return run_trafilatura(homepages, folder, concurrency, timeout)
    args = {"homepages": homepages, "concurrency": concurrency, "per_host": per_host, "bench": str(BENCH)}
    if tool == "newspaper4k":
        return run_script("newspaper4k", NEWSPAPER_RUNNER, args, folder, timeout)
    return run_script("newsplease", NEWSPLEASE_RUNNER, args, folder, timeout)


def compare(outlets: int, articles: int, seed: int, peer_outlets: int, peers: list[str], runs: int,
            f1_sample: int, timeout: float | None, install: dict[str, dict[str, Any]]) -> dict[str, Any]:
    results: dict[str, list[dict[str, Any]]] = {}
    failed: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="newsmon-peers-") as tmp:
        folder = Path(tmp)
        site_config = folder / "site.toml"
        server, info = start_subprocess(outlets, articles, seed, extra=["--config", str(site_config)], timeout=300, compressed=True)
        try:
            crawled = list(info["outlets"])[:peer_outlets or None]
            truth = [t for t in fetch_truth(info) if t["outlet"] in crawled]
            langs = {t["outlet"]: t["language"] for t in truth}
            homepages = [(info["outlets"][oid] + "/", langs.get(oid, "en")) for oid in crawled]
            text = site_config.read_text(encoding="utf-8")
            config = folder / "crawled.toml"
            config.write_text(outlets_config(text, crawled), encoding="utf-8")
            concurrency, per_host = concurrency_of(text)
            timeout = timeout or max(120.0, TIMEOUT_PER_ARTICLE * len(truth))
            base = info["stats"].rsplit("/", 1)[0]
            for tool in ["newsmon", *peers]:
                if tool in PACKAGES and not install.get(tool, {}).get("ok"):
                    failed[tool] = f"not installed: {install.get(tool, {}).get('error') or 'unknown'}"
            for run in range(runs):
                for tool in ["newsmon", *peers]:
                    if tool in failed:
                        continue
                    try:
                        http_json(base + "/__reset_stats")
                        m, rows = run_tool(tool, config=config, homepages=homepages, folder=folder,
                                           concurrency=concurrency, per_host=per_host, timeout=timeout)
                        s = score(m, rows, truth, f1_sample)
                        stats = http_json(info["stats"])
                        s["requests"] = stats["requests"]
                        s["requests_404"] = stats["by_status"].get("404", 0)
                        s["requests_by_kind"] = stats["by_kind"]
                    except Exception as exc:  # noqa: BLE001 - one tool's failure must not lose the others' figures
                        failed[tool] = f"bench error: {exc!r} {traceback.format_exc(limit=-2)[-400:]!r}"
                        print(f"{tool}: {failed[tool]}", file=sys.stderr)
                        continue
                    results.setdefault(tool, []).append(s)
                    print(f"{tool} (run {run + 1}): {s['articles_found']} of {len(truth)} found in "
                          f"{s['wall_s']:.1f} s, CPU {s['cpu_s']:.1f} s{' ' + s['error'] if s['error'] else ''}",
                          file=sys.stderr)
        finally:
            stop_subprocess(server)
    medians: dict[str, dict[str, Any]] = {}
    for tool, rs in results.items():
        medians[tool] = {k: statistics.median(r[k] for r in rs) for k in rs[0]
                         if all(isinstance(r[k], (int, float)) and not isinstance(r[k], bool) for r in rs)}
        medians[tool]["error"] = next((r["error"] for r in reversed(rs) if r["error"]), "")
        medians[tool]["timed_out"] = any(r["timed_out"] for r in rs)
        medians[tool]["returncode"] = next((r["returncode"] for r in reversed(rs) if r["returncode"]), 0)
        medians[tool]["runs"] = len(rs)
    return {"site_articles": info["articles"], "crawled_outlets": crawled, "crawled_articles": len(truth),
            "concurrency": concurrency, "per_host": per_host, "timeout_s": timeout, "tools": medians, "failed": failed,
            "runs": results}


def report(result: dict[str, Any]) -> str:
    tools = result["tools"]
    ref = tools.get("newsmon", {})
    n_crawled = len(result["crawled_outlets"])
    lines = [f"machine: {result['machine']}",
             f"site: {result['outlets']} outlets x {result['articles']} articles ({result['site_articles']} article "
             f"pages); crawled by every tool: {n_crawled} outlet{'s' if n_crawled > 1 else ''} "
             f"({', '.join(result['crawled_outlets'])}), {result['crawled_articles']} articles"
             f"{'' if n_crawled == result['outlets'] else ' (a subset: --peer-outlets; figures are per article)'}; "
             f"concurrency {result['concurrency']}, {result['per_host']} per host (newsmon's config); "
             f"timeout {result['timeout_s']:.0f} s per tool run; "
             f"{result['runs_count']} run(s), medians", "", "peer installs (bench/.peers-venv):"]
    for pkg, r in result["install"].items():
        state = "ok" if r.get("ok") else f"FAILED: {r.get('error')}"
        took = "" if r.get("seconds") is None else f" in {r['seconds']} s"
        lines.append(f"  {pkg}: {state} {r.get('version') or ''}{took} {r.get('note') or ''}".rstrip())
    lines += ["", "| tool | articles/s | CPU s/article | peak RSS MiB, process tree | main process | found | body F1 | "
              "requests | articles/s vs newsmon | CPU/article vs newsmon | RSS vs newsmon | F1 vs newsmon |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]

    def ratio(tool: str, key: str) -> str:
        a, b = tools[tool].get(key), ref.get(key)
        return f"{a / b:.2f}x" if a is not None and b else ""

    for tool, t in tools.items():
        flag = " (timed out)" if t.get("timed_out") else " (failed)" if t.get("returncode") else ""
        lines.append(f"| {tool}{flag} | {t['articles_per_s']:.1f} | {t['cpu_s_per_article']:.3f} | "
                     f"{t['peak_rss_tree_mib']:.0f} | {t['vmhwm_mib']:.0f} | {t['share_found']:.1%} | "
                     f"{t['body_f1_mean']:.3f} | {t['requests']:.0f}{_of_404(t)} | {ratio(tool, 'articles_per_s')} | "
                     f"{ratio(tool, 'cpu_s_per_article')} | {ratio(tool, 'peak_rss_tree_mib')} | "
                     f"{ratio(tool, 'body_f1_mean')} |")
    for tool, reason in result["failed"].items():
        lines.append(f"| {tool} | {reason[:300]} | | | | | | | | | | |")
    for tool, t in tools.items():
        if t.get("error"):
            lines.append(f"{tool}: {t['error']}")
    lines.append("articles/s = crawled articles found with text / the tool's process wall time (start-up, discovery, "
                 "download, extraction); trafilatura's URL list is made before its process (its discovery cannot "
                 "crawl the site). CPU includes pool workers. Peak RSS, process tree: highest sum of the tree's PSS "
                 "(200 ms samples, shared pages counted once); main process: its VmHWM.")
    return "\n".join(lines)


def _of_404(t: dict[str, Any]) -> str:
    return f" ({t['requests_404']:.0f} 404)" if t.get("requests_404") else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--outlets", type=int, default=8, help="outlets of the generated site")
    parser.add_argument("--articles", type=int, default=250, help="articles per outlet")
    parser.add_argument("--peer-outlets", default=str(PEER_OUTLETS),
                        help=f"how many of the site's outlets every tool crawls, or 'all' (default {PEER_OUTLETS})")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--peers", default=",".join(ALL_PEERS))
    parser.add_argument("--timeout", type=float, help="seconds per tool run before its process group is killed "
                        f"(default: {TIMEOUT_PER_ARTICLE} s per crawled article, at least 120 s)")
    parser.add_argument("--f1-sample", type=int, default=300)
    parser.add_argument("--reinstall", action="store_true",
                        help="delete bench/.peers-venv first: time the installs as from a fresh clone")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    peers = [p for p in args.peers.split(",") if p]
    unknown = set(peers) - set(ALL_PEERS)
    if unknown:
        parser.error(f"unknown peers: {', '.join(sorted(unknown))} (known: {', '.join(ALL_PEERS)})")
    peer_outlets = 0 if args.peer_outlets == "all" else min(int(args.peer_outlets), args.outlets)
    started = time.perf_counter()
    install = ensure_peers([p for p in peers if p in PACKAGES], reinstall=args.reinstall)
    result = compare(args.outlets, args.articles, args.seed, peer_outlets, peers, args.runs, args.f1_sample,
                     args.timeout, install)
    result.update({"machine": machine(), "outlets": args.outlets, "articles": args.articles, "runs_count": args.runs,
                   "install": install, "cores": os.cpu_count(), "seconds": round(time.perf_counter() - started, 1)})
    print(report(result))
    print(f"(whole script: {result['seconds']:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
