"""Precision and recall of the clusters newsmon stores, on the labelled sets of bench/labelled.py.

Unlike `bench/clusters.py`, which scores the similarity index's pairs, this runs every labelled
article through the real write path (`storage.articles.save_article`: same-outlet merge, cluster
join, earliest article), then scores the clusters in the database: two articles are predicted to
be the same story when they are in one cluster, or were stored as one article.

    .venv/bin/python bench/cluster_quality.py [--seeds 8] [--threshold 0.3]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
from itertools import combinations
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage.articles import ArticleRecord, save_article, upsert_outlets  # noqa: E402
from storage.db import open_database  # noqa: E402
from storage.dedup import content_hash  # noqa: E402
from storage.similarity import DEFAULT_THRESHOLD, signature  # noqa: E402


def labelled_module() -> Any:
    spec = importlib.util.spec_from_file_location("newsmon_bench_labelled", ROOT / "bench" / "labelled.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def stored_pairs(labelled: Any, database: Path, threshold: float = DEFAULT_THRESHOLD) -> set[tuple[int, int]]:
    """Store every labelled article (in order) and return the same-story pairs the database holds."""
    db = open_database(database)
    outlets = {a.outlet or f"source-{a.language}" for a in labelled.articles}
    upsert_outlets(db, [{"id": o, "name": o} for o in outlets])
    row_of: dict[int, int] = {}
    for a in labelled.articles:
        url = f"https://{a.outlet or 'source-' + a.language}.example/{a.id}"
        rec = ArticleRecord(outlet_id=a.outlet or f"source-{a.language}", url=url, final_url=url, canonical_url=url,
                            text=a.text, content_hash=content_hash(a.text), found_via="feed",
                            fetched_at="2026-11-24T00:00:00Z", title=a.title)
        sig = signature(a.text)
        if sig is not None:
            rec.signature, rec.shingles = sig.to_bytes(), sig.shingles
        row_of[a.id] = save_article(db, rec, threshold=threshold).article_id
    group = {row: cluster if cluster is not None else row
             for row, cluster in db.execute("SELECT id, cluster_id FROM articles").fetchall()}
    db.close()
    members: dict[int, list[int]] = {}
    for article, row in row_of.items():
        members.setdefault(group[row], []).append(article)
    return {(min(a, b), max(a, b)) for ids in members.values() for a, b in combinations(ids, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    args = parser.parse_args()
    labelled = labelled_module()
    tp = fp = fn = articles = copies = 0
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            data = labelled.build(seed)
            found = stored_pairs(data, Path(tmp) / f"q{seed}.db", args.threshold)
            s = labelled.score(found, data)
            tp, fp, fn = tp + s.true_positives, fp + s.false_positives, fn + s.false_negatives
            articles += len(data.articles)
            copies += sum(a.kind == "copy" for a in data.articles)
    print(f"command: .venv/bin/python bench/cluster_quality.py --seeds {args.seeds} --threshold {args.threshold}")
    print(f"labelled articles: {articles} ({copies} syndicated copies), same-story pairs: {tp + fn}")
    print(f"stored clusters: precision {tp / (tp + fp):.3f}, recall {tp / (tp + fn):.3f} "
          f"(true pairs {tp}, false pairs {fp}, missed pairs {fn})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
