"""Near-duplicate index at archive scale: `python bench/clusters.py [--sizes 10000,100000,1000000] [--quick]`.

For each archive size N, a child process fills a fresh SQLite file with N synthetic articles
(random signatures, 10 % of them near-copies of another, keyed by the index's own `band_keys`,
bulk-inserted in big transactions), then a second child process, started like a restarted
daemon, opens the index and adds real generated texts one by one the way the crawl will:
signature, candidate lookup, insert, each insert its own transaction in WAL mode. It reports the
cost per article (median and p95), the time to open the index, the process's peak RSS and the
file size per article. The bulk signatures are random, so a lookup finds only the real texts'
own copies: the cost of unrelated articles sharing a band is measured apart, as a lookup whose
band buckets are full (`MAX_BUCKET` candidates read and compared).

It also scores the default parameters on the labelled set of bench/labelled.py (several seeds
pooled) at a few thresholds. The machine and the versions are printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import labelled  # noqa: E402
import numpy as np  # noqa: E402

from bench.demo_crawl import machine, versions  # noqa: E402
from storage.similarity import (  # noqa: E402
    BANDS,
    DEFAULT_THRESHOLD,
    MAX_BUCKET,
    NUM_PERM,
    ROWS,
    MinHasher,
    Signature,
    SimilarityIndex,
    band_keys,
)

BATCH = 25_000
THRESHOLDS = [0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def import_cost() -> tuple[float, float]:
    """Seconds and MiB of RSS that `import storage.similarity` adds to a fresh interpreter."""
    code = ("import time, re; from pathlib import Path\n"
            "rss = lambda: int(re.search(r'VmRSS:\\s+(\\d+)', Path('/proc/self/status').read_text())[1])\n"
            "before = rss(); t = time.perf_counter(); import storage.similarity\n"
            "print(time.perf_counter() - t, (rss() - before) / 1024)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    seconds, mib = out.stdout.split()
    return float(seconds), float(mib)


def connect(path: Path) -> sqlite3.Connection:
    """As storage.db opens the real database: autocommit, WAL, synchronous NORMAL, busy timeout."""
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=15)
    conn.execute("PRAGMA busy_timeout = 15000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


# -- child: bulk archive -----------------------------------------------------------------------

def build(path: Path, size: int, seed: int) -> dict[str, float]:
    """N synthetic articles, ids 1..N. Not the measured path: journal off, a big cache."""
    started = time.perf_counter()
    conn = sqlite3.connect(str(path), isolation_level=None)
    SimilarityIndex(conn).ensure_tables()
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -2000000")  # 2 GB, for the bulk load only
    rng = np.random.default_rng(seed)
    bands = np.arange(BANDS, dtype=np.int64)
    done = 0
    while done < size:
        n = min(BATCH, size - done)
        values = rng.integers(0, 2**32, size=(n, NUM_PERM), dtype=np.uint32)
        # One article in ten copies another of its batch with 20-60 % of the values redrawn,
        # so that buckets of more than one article exist, as clusters of copies make them.
        copies = rng.choice(n, size=n // 10, replace=False)
        for i in copies:
            src = rng.integers(0, n)
            mask = rng.random(NUM_PERM) < rng.uniform(0.2, 0.6)
            values[i] = np.where(mask, values[i], values[src])
        ids = np.arange(done + 1, done + n + 1, dtype=np.int64)
        keys = band_keys(values)
        order = np.lexsort((keys.ravel(), np.broadcast_to(bands, keys.shape).ravel()))
        band_col = np.broadcast_to(bands, keys.shape).ravel()[order].tolist()
        key_col = keys.ravel()[order].tolist()
        id_col = np.repeat(ids, BANDS)[order].tolist()
        shingle_counts = rng.integers(150, 900, size=n).tolist()
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO article_signatures (article_id, signature, shingles) VALUES (?, ?, ?)",
                         zip(ids.tolist(), (v.tobytes() for v in values.astype("<u4")), shingle_counts,
                             strict=True))
        conn.executemany("INSERT INTO lsh_bands (band, key, article_id) VALUES (?, ?, ?)",
                         zip(band_col, key_col, id_col, strict=True))
        conn.execute("COMMIT")
        done += n
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    os.sync()  # so that the kernel's write-back of the bulk load does not stall the measured phase
    return {"build_s": time.perf_counter() - started, "build_peak_rss_mib": peak_rss_mib()}


# -- child: restart, then add real texts -------------------------------------------------------

def real_texts(samples: int) -> list[str]:
    texts: list[str] = []
    seed = 101
    while len(texts) < samples:
        texts += [a.text for a in labelled.build(seed).articles if a.kind != "short"]
        seed += 1
    return texts[:samples]


def measure(path: Path, size: int, samples: int) -> dict[str, float]:
    texts = real_texts(samples)  # generated before the clock starts: not part of the index's cost
    rss_before = rss_mib()

    started = time.perf_counter()
    conn = connect(path)
    index = SimilarityIndex(conn)
    index.ensure_tables()
    opened = time.perf_counter() - started
    first_sig = MinHasher().signature(texts[0])
    assert first_sig is not None
    t = time.perf_counter()
    index.candidates(first_sig)
    first_lookup = time.perf_counter() - t

    sig_ms, lookup_ms, add_ms, total_ms, examined = [], [], [], [], []
    matched = 0
    for i, text in enumerate(texts):
        t0 = time.perf_counter()
        sig = index.hasher.signature(text)
        t1 = time.perf_counter()
        assert sig is not None
        found = index.candidates(sig)
        t2 = time.perf_counter()
        index.add(size + 1 + i, sig)
        t3 = time.perf_counter()
        sig_ms.append(1000 * (t1 - t0))
        lookup_ms.append(1000 * (t2 - t1))
        add_ms.append(1000 * (t3 - t2))
        total_ms.append(1000 * (t3 - t0))
        examined.append(len(index.candidates(sig, threshold=0.0, exclude=size + 1 + i)))
        matched += bool(found)

    # Pages written per insert: 50 more inserts with the automatic checkpoint off, WAL measured.
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    for j, text in enumerate(texts[:50]):
        sig = index.hasher.signature(text)
        assert sig is not None
        index.add(5 * size + j, sig)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    wal_pages_per_insert = Path(f"{path}-wal").stat().st_size / (page_size + 24) / 50
    conn.execute("PRAGMA wal_autocheckpoint = 1000")

    # Worst case the cap allows: every band bucket holds MAX_BUCKET articles sharing that band.
    full = Signature(np.random.default_rng(1).integers(0, 2**32, NUM_PERM, dtype=np.uint32), 300)
    conn.execute("BEGIN")
    for j in range(MAX_BUCKET):
        index.add(10 * size + j, full)
    conn.execute("COMMIT")
    full_ms = []
    for _ in range(20):
        t = time.perf_counter()
        index.candidates(full)
        full_ms.append(1000 * (time.perf_counter() - t))
    conn.execute("BEGIN")
    for j in range(MAX_BUCKET):
        index.remove(10 * size + j)
    conn.execute("COMMIT")

    rss_after = rss_mib()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    tables = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall())
    articles = len(index)
    conn.close()
    file_bytes = path.stat().st_size

    def pct(xs: list[float], p: float) -> float:
        return float(np.percentile(xs, p))

    return {
        "articles": articles, "open_ms": 1000 * opened, "first_lookup_ms": 1000 * first_lookup,
        "sig_ms_median": statistics.median(sig_ms), "sig_ms_p95": pct(sig_ms, 95),
        "lookup_ms_median": statistics.median(lookup_ms), "lookup_ms_p95": pct(lookup_ms, 95),
        "add_ms_median": statistics.median(add_ms), "add_ms_p95": pct(add_ms, 95),
        "total_ms_median": statistics.median(total_ms), "total_ms_p95": pct(total_ms, 95),
        "add_ms_p99": pct(add_ms, 99), "total_ms_p99": pct(total_ms, 99), "total_ms_max": max(total_ms),
        "wal_pages_per_insert": wal_pages_per_insert,
        "examined_mean": statistics.mean(examined), "matched_share": matched / len(texts),
        "full_bucket_lookup_ms_median": statistics.median(full_ms),
        "peak_rss_mib": peak_rss_mib(), "rss_before_open_mib": rss_before, "rss_after_mib": rss_after,
        "file_bytes_per_article": file_bytes / articles,
        "lsh_bands_bytes_per_article": tables.get("lsh_bands", 0) / articles,
        "signatures_bytes_per_article": tables.get("article_signatures", 0) / articles,
        "file_mib": file_bytes / 2**20,
    }


# -- quality on the labelled set ---------------------------------------------------------------

def components(pairs: set[tuple[int, int]], ids: list[int]) -> set[tuple[int, int]]:
    """All pairs implied by clustering the found pairs into connected components."""
    parent = {i: i for i in ids}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in pairs:
        parent[root(a)] = root(b)
    groups: dict[int, list[int]] = {}
    for i in ids:
        groups.setdefault(root(i), []).append(i)
    return {(a, b) for g in groups.values() for x, a in enumerate(g) for b in g[x + 1:]}


def quality(seeds: list[int]) -> list[dict[str, float]]:
    rows = []
    sets = [labelled.build(s) for s in seeds]
    for threshold in THRESHOLDS:
        tp = fp = fn = ctp = cfp = cfn = orig = orig_found = examined = lookups = 0
        for data in sets:
            index = SimilarityIndex(sqlite3.connect(":memory:", isolation_level=None))
            index.ensure_tables()
            result = labelled.evaluate(index, data, threshold=threshold)
            tp += result.scores.true_positives
            fp += result.scores.false_positives
            fn += result.scores.false_negatives
            clustered = labelled.score(components(set(result.found), [a.id for a in data.articles]), data)
            ctp += clustered.true_positives
            cfp += clustered.false_positives
            cfn += clustered.false_negatives
            kind = {a.id: a.kind for a in data.articles}
            with_original = {p for p in data.pairs if "original" in (kind[p[0]], kind[p[1]])}
            orig += len(with_original)
            orig_found += len(with_original & result.found)
            examined += result.examined
            lookups += result.lookups
        rows.append({"threshold": threshold, "precision": tp / max(tp + fp, 1), "recall": tp / (tp + fn),
                     "false_positives": fp, "original_copy_recall": orig_found / orig,
                     "cluster_precision": ctp / max(ctp + cfp, 1), "cluster_recall": ctp / (ctp + cfn),
                     "examined_per_lookup": examined / lookups})
    return rows


# -- driver ------------------------------------------------------------------------------------

def child(*args: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="archive sizes, comma-separated")
    parser.add_argument("--quick", action="store_true", help="sizes 2000,10000, 200 texts, 3 seeds")
    parser.add_argument("--samples", type=int, default=1000, help="real texts added per size")
    parser.add_argument("--seeds", type=int, default=8, help="labelled sets pooled for the quality table")
    parser.add_argument("--dir", type=Path, help="where the database files go (default: a temporary folder)")
    parser.add_argument("--phase", choices=["build", "measure"], help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase == "build":
        print(json.dumps(build(args.db, args.size, seed=args.size)))
        return
    if args.phase == "measure":
        print(json.dumps(measure(args.db, args.size, args.samples)))
        return

    sizes = [2000, 10_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    samples = 200 if args.quick else args.samples
    seeds = [labelled.DEFAULT_SEED, *range(1, (3 if args.quick else args.seeds))]
    print(f"machine: {machine()}")
    print(f"versions: {versions(('datasketch', 'numpy', 'sqlite-utils'))}")
    print(f"parameters: {NUM_PERM} permutations, {BANDS} bands x {ROWS} rows, threshold {DEFAULT_THRESHOLD}, "
          f"at most {MAX_BUCKET} articles read per band bucket")
    print(f"command: python bench/clusters.py {' '.join(sys.argv[1:])}".rstrip())
    seconds, mib = import_cost()
    print(f"import storage.similarity in a fresh interpreter: {seconds:.2f} s, +{mib:.0f} MiB RSS "
          "(datasketch imports scipy)")

    started = time.perf_counter()
    rows = quality(seeds)
    print(f"\nlabelled set, {len(seeds)} seeds pooled ({time.perf_counter() - started:.1f} s): pairs found by "
          "looking each article up before adding it; 'clusters' joins them into connected components")
    print("| threshold | precision | recall | false pos. | original-copy recall | cluster precision | "
          "cluster recall | candidates read per lookup |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        mark = "**" if r["threshold"] == DEFAULT_THRESHOLD else ""
        print(f"| {mark}{r['threshold']}{mark} | {r['precision']:.3f} | {r['recall']:.3f} | {r['false_positives']} | "
              f"{r['original_copy_recall']:.3f} | {r['cluster_precision']:.3f} | {r['cluster_recall']:.3f} | "
              f"{r['examined_per_lookup']:.2f} |")

    folder = args.dir or Path(tempfile.mkdtemp(prefix="newsmon-clusters-"))
    folder.mkdir(parents=True, exist_ok=True)
    results = {}
    for size in sizes:
        db = folder / f"clusters-{size}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        built = child("--phase", "build", "--size", str(size), "--db", str(db))
        measured = child("--phase", "measure", "--size", str(size), "--db", str(db), "--samples", str(samples))
        results[size] = {**built, **measured}
        print(f"\nsize {size:,}: built in {built['build_s']:.0f} s; {json.dumps(results[size])}", flush=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)

    print(f"\nper real article added ({samples} generated texts, each insert its own WAL transaction); "
          "ms as median / p95 (total: median / p95 / p99)")
    print("| archive | signature | lookup | insert | **total** | lookup, full buckets | open after restart | "
          "first lookup | peak RSS | file per article (bands + signatures) | file | WAL pages per insert |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for size, r in results.items():
        print(f"| {size:,} | {r['sig_ms_median']:.2f} / {r['sig_ms_p95']:.2f} | "
              f"{r['lookup_ms_median']:.2f} / {r['lookup_ms_p95']:.2f} | {r['add_ms_median']:.2f} / {r['add_ms_p95']:.2f} | "
              f"**{r['total_ms_median']:.2f} / {r['total_ms_p95']:.2f} / {r['total_ms_p99']:.1f}** | "
              f"{r['full_bucket_lookup_ms_median']:.1f} | "
              f"{r['open_ms']:.1f} ms | {r['first_lookup_ms']:.1f} ms | {r['peak_rss_mib']:.0f} MiB | "
              f"{r['file_bytes_per_article']:.0f} B ({r['lsh_bands_bytes_per_article']:.0f} + "
              f"{r['signatures_bytes_per_article']:.0f}) | {r['file_mib']:.0f} MiB | {r['wal_pages_per_insert']:.0f} |")
    print("RSS: the measuring process, which imports the labelled-set builder too; "
          + ", ".join(f"{size:,}: {r['rss_before_open_mib']:.0f} MiB before opening the index, "
                      f"{r['rss_after_mib']:.0f} MiB after the adds" for size, r in results.items()))
    if args.dir is None:
        folder.rmdir()
    print(f"\ntotal wall time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
