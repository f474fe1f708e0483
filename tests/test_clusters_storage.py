"""Near-duplicate clusters at the storage level: save_article and apply_recheck on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils

from storage.articles import ArticleRecord, save_article, upsert_outlets
from storage.db import open_database, write_transaction
from storage.dedup import content_hash
from storage.queries import clusters, export_rows, get_article, search
from storage.similarity import signature
from storage.versions import apply_recheck
from tests.minisite import paragraphs

STORY = " ".join(paragraphs(7))
OTHER = " ".join(paragraphs(8))


def record(url: str, text: str, *, outlet: str, published: str | None = None, title: str = "t") -> ArticleRecord:
    rec = ArticleRecord(outlet_id=outlet, url=url, final_url=url, canonical_url=url, text=text,
                        content_hash=content_hash(text), found_via="feed", fetched_at="2026-11-24T10:00:00Z",
                        published_at=published, title=title)
    sig = signature(text)
    if sig is not None:
        rec.signature, rec.shingles = sig.to_bytes(), sig.shingles
    return rec


def republished(text: str) -> str:
    """A copy with another outlet's boilerplate, a dateline, a sentence cut and one added."""
    sentences = text.split(". ")
    return ("WIRE (Meridian) - " + ". ".join(sentences[:-3]) + ". Read more: our coverage of the region. "
            "This article was republished with permission.")


@pytest.fixture
def db(tmp_path: Path) -> sqlite_utils.Database:
    database = open_database(tmp_path / "c.db")
    upsert_outlets(database, [{"id": o, "name": o} for o in ("wire", "courier", "gazette")])
    return database


def row(db: sqlite_utils.Database, article_id: int) -> dict:
    return next(db.query("SELECT * FROM articles WHERE id = ?", [article_id]))


def test_copies_at_other_outlets_form_one_cluster_with_the_earliest_first(db: sqlite_utils.Database) -> None:
    original = save_article(db, record("https://w.example/a", STORY, outlet="wire", published="2026-11-24T08:00:00Z"))
    copy = save_article(db, record("https://c.example/a", republished(STORY), outlet="courier",
                                   published="2026-11-24T10:00:00Z", title="A new headline"))
    # Found later but published before both: it becomes the earliest.
    early = save_article(db, record("https://g.example/a", STORY, outlet="gazette", published="2026-11-24T07:30:00Z"))
    ids = [original.article_id, copy.article_id, early.article_id]
    assert {r.outcome for r in (original, copy, early)} == {"new"}
    rows = [row(db, i) for i in ids]
    assert len({r["cluster_id"] for r in rows}) == 1 and rows[0]["cluster_id"] is not None
    assert [r["duplicate_of"] for r in rows] == [early.article_id, early.article_id, None]
    assert rows[0]["similarity"] == 1.0 and 0.3 <= rows[1]["similarity"] < 1.0 and rows[2]["similarity"] is None
    members = get_article(db, copy.article_id)["cluster"]
    assert [m["id"] for m in members] == [early.article_id, original.article_id, copy.article_id]
    assert members[0]["earliest"] and not members[1]["earliest"]
    # Counted once: export and search show the earliest, with its copies.
    exported = list(export_rows(db))
    assert [(r["id"], r["copies"]) for r in exported] == [(early.article_id, 2)]
    assert len(list(export_rows(db, include_duplicates=True))) == 3
    assert len(list(export_rows(db, outlet="courier"))) == 1  # an outlet's own articles, copies included
    word = STORY.split()[3]
    hits = search(db, word)
    assert [(h["id"], h["copies"]) for h in hits] == [(early.article_id, 2)]
    assert len(search(db, word, include_duplicates=True)) == 3
    assert clusters(db) == [{
        "cluster_id": rows[0]["cluster_id"], "size": 3, "outlets": ["gazette", "wire", "courier"],
        "earliest_id": early.article_id, "earliest_outlet": "gazette",
        "first_published_at": "2026-11-24T07:30:00Z", "title": "t",
    }]
    assert clusters(db, min_size=4) == [] and clusters(db, since="2026-11-25T00:00:00Z") == []


def test_different_stories_and_short_texts_are_not_clustered(db: sqlite_utils.Database) -> None:
    a = save_article(db, record("https://w.example/a", STORY, outlet="wire"))
    b = save_article(db, record("https://c.example/b", OTHER, outlet="courier"))
    caption = "Watch: the mayor opens the new bridge over the river, in pictures, with the crowd cheering."
    c1 = save_article(db, record("https://w.example/v", caption, outlet="wire"))
    c2 = save_article(db, record("https://c.example/v", caption, outlet="courier"))
    assert [row(db, r.article_id)["cluster_id"] for r in (a, b, c1, c2)] == [None, None, None, None]
    assert db.execute("SELECT count(*) FROM article_signatures").fetchone()[0] == 2  # captions: too short


def test_same_outlet_near_identical_text_is_the_same_article(db: sqlite_utils.Database) -> None:
    first = save_article(db, record("https://w.example/a", STORY, outlet="wire"))
    printed = save_article(db, record("https://w.example/a/print", STORY + " Printed from wire.example.", outlet="wire"))
    assert (printed.article_id, printed.outcome) == (first.article_id, "near_text")
    urls = [r[0] for r in db.execute("SELECT url FROM article_urls WHERE article_id = ?", [first.article_id])]
    assert sorted(urls) == ["https://w.example/a", "https://w.example/a/print"]


def test_a_version_that_no_longer_resembles_its_cluster_leaves_it(db: sqlite_utils.Database) -> None:
    a = save_article(db, record("https://w.example/a", STORY, outlet="wire", published="2026-11-24T08:00:00Z"))
    b = save_article(db, record("https://c.example/a", STORY, outlet="courier", published="2026-11-24T09:00:00Z"))
    g = save_article(db, record("https://g.example/a", STORY, outlet="gazette", published="2026-11-24T10:00:00Z"))
    cluster = row(db, a.article_id)["cluster_id"]
    assert apply_recheck(db, g.article_id, record("https://g.example/a", OTHER, outlet="gazette"), []) == "version"
    assert (row(db, g.article_id)["cluster_id"], row(db, g.article_id)["duplicate_of"]) == (None, None)
    assert [row(db, i)["cluster_id"] for i in (a.article_id, b.article_id)] == [cluster, cluster]
    # A cluster left with one article is no cluster.
    assert apply_recheck(db, b.article_id, record("https://c.example/a", " ".join(paragraphs(9)),
                                                  outlet="courier"), []) == "version"
    assert [row(db, i)["cluster_id"] for i in (a.article_id, b.article_id, g.article_id)] == [None, None, None]
    # A version that now resembles another story joins its cluster.
    assert apply_recheck(db, g.article_id, record("https://g.example/a", " ".join(paragraphs(9)),
                                                  outlet="gazette"), []) == "version"
    assert row(db, g.article_id)["cluster_id"] == row(db, b.article_id)["cluster_id"] is not None


def test_a_failed_store_leaves_no_index_rows(db: sqlite_utils.Database) -> None:
    rec = record("https://w.example/a", STORY, outlet="nosuch")  # no such outlet: the insert fails
    with pytest.raises(Exception, match="FOREIGN KEY"):
        save_article(db, rec)
    assert db.execute("SELECT count(*) FROM lsh_bands").fetchone()[0] == 0
    with write_transaction(db):
        assert db.execute("SELECT count(*) FROM article_signatures").fetchone()[0] == 0


def test_stored_clusters_precision_and_recall_on_the_labelled_set(tmp_path: Path) -> None:
    """The labelled set of bench/labelled.py (3 seeds, about 810 articles, 270 syndicated copies),
    through the real write path. bench/cluster_quality.py measures 8 seeds: 0.992 / 0.917."""
    import importlib.util
    import sys

    root = Path(__file__).resolve().parent.parent
    spec = importlib.util.spec_from_file_location("newsmon_bench_cluster_quality", root / "bench" / "cluster_quality.py")
    assert spec and spec.loader
    quality = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = quality
    spec.loader.exec_module(quality)
    labelled = quality.labelled_module()
    tp = fp = fn = copies = 0
    for seed in range(3):
        data = labelled.build(seed)
        copies += sum(a.kind == "copy" for a in data.articles)
        s = labelled.score(quality.stored_pairs(data, tmp_path / f"q{seed}.db"), data)
        tp, fp, fn = tp + s.true_positives, fp + s.false_positives, fn + s.false_negatives
    assert copies >= 40
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert precision >= 0.95, (precision, recall)
    assert recall >= 0.85, (precision, recall)
