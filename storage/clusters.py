"""Near-duplicate clusters: the same story at several outlets, kept together and counted once.

Called inside an article's write transaction, with its MinHash signature (storage/similarity.py):

- An article whose text resembles stored ones (estimated Jaccard >= the threshold, default 0.3)
  joins the cluster of the most similar one, if it also resembles that cluster's earliest
  article (else the next most similar): a chain of resemblances never joins two stories. `cluster_id` is the same for every member (the id of
  the article that started the cluster); `duplicate_of` points every member at the cluster's
  earliest article (by `published_at`, else `first_seen_at`; NULL for the earliest itself);
  `similarity` is each member's estimated similarity to the earliest. When a copy turns out to
  have been published before the article the cluster started with, it becomes the earliest.
- The same outlet with a near-identical text (>= SAME_ARTICLE = 0.7) at another URL is the same
  article, not a copy: a print or AMP version whose boilerplate differs (storage/articles.py).
  Below that, two articles of one outlet on one story (an update at a new URL) are clustered.
- A new version that no longer resembles its cluster leaves it; a cluster left with one member
  is dissolved. Texts too short for a signature (under 60 words) are never clustered.

Clusters are not merged: a new article resembling two clusters joins the more similar one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from storage.similarity import DEFAULT_THRESHOLD, Signature, SimilarityIndex

if TYPE_CHECKING:
    import sqlite_utils

logger = logging.getLogger(__name__)

#: Same outlet, at least this similar: the same article at another URL.
SAME_ARTICLE = 0.7
#: Members whose similarity to the earliest is recomputed when a cluster changes; larger
#: clusters (a story with hundreds of copies) keep the figures they had.
MAX_RECOMPUTE = 500


@dataclass(frozen=True)
class Match:
    article_id: int
    outlet_id: str
    similarity: float


def best_matches(db: sqlite_utils.Database, sig: Signature, *, threshold: float = DEFAULT_THRESHOLD,
                 exclude: int | None = None) -> list[Match]:
    """Stored articles at least `threshold` similar to `sig`, most similar first (removed ones too:
    a story taken down at one outlet is still the story its copies carry)."""
    index = SimilarityIndex(db, threshold=threshold)
    found = index.candidates(sig, exclude=exclude)
    if not found:
        return []
    marks = ",".join("?" * len(found))
    outlets = dict(db.execute(f"SELECT id, outlet_id FROM articles WHERE id IN ({marks})",
                              [c.article_id for c in found]).fetchall())
    return [Match(c.article_id, outlets[c.article_id], c.similarity) for c in found if c.article_id in outlets]


def same_article(matches: list[Match], outlet_id: str) -> Match | None:
    """The stored article of the same outlet that `matches` says this text is (print, AMP copy)."""
    return next((m for m in matches if m.outlet_id == outlet_id and m.similarity >= SAME_ARTICLE), None)


def index_article(db: sqlite_utils.Database, article_id: int, sig: Signature | None,
                  matches: list[Match], *, threshold: float = DEFAULT_THRESHOLD) -> int | None:
    """Index a newly stored article and put it in the cluster of its best match, if any.

    Returns its cluster id (None: in no cluster). Call inside the article's write transaction.
    """
    if sig is None:
        return None
    SimilarityIndex(db).add(article_id, sig)
    cluster_id = _join(db, article_id, sig, matches, threshold)
    if cluster_id is None:
        return None
    best = matches[0]
    logger.info("near-duplicate article=%d of article=%d outlet=%s similarity=%.2f cluster=%d",
                article_id, best.article_id, best.outlet_id, best.similarity, cluster_id)
    return cluster_id


def reindex_version(db: sqlite_utils.Database, article_id: int, sig: Signature | None, *,
                    threshold: float = DEFAULT_THRESHOLD) -> int | None:
    """A new version of an article: new signature; it leaves its cluster if it no longer resembles
    any other member, and may join another. Call inside the version's write transaction."""
    index = SimilarityIndex(db)
    row = db.execute("SELECT cluster_id, outlet_id FROM articles WHERE id = ?", [article_id]).fetchone()
    cluster_id = row[0] if row else None
    if sig is None:
        index.remove(article_id)
        matches: list[Match] = []
    else:
        index.add(article_id, sig)
        matches = best_matches(db, sig, threshold=threshold, exclude=article_id)
    if cluster_id is not None:
        members = {r[0] for r in db.execute("SELECT id FROM articles WHERE cluster_id = ? AND id != ?",
                                            [cluster_id, article_id])}
        if any(m.article_id in members for m in matches):
            settle(db, cluster_id)
            return cluster_id
        leave(db, article_id, cluster_id)
    return _join(db, article_id, sig, matches, threshold) if sig is not None else None


def _join(db: sqlite_utils.Database, article_id: int, sig: Signature, matches: list[Match],
          threshold: float) -> int | None:
    """Put `article_id` in the cluster of its most similar match whose cluster's earliest article
    it also resembles (a new cluster with the match if it has none). None: no such match.

    Resembling one member is not enough: two stories about one event can each resemble a copy
    that mixes them, and joining through it would chain whole clusters together.
    """
    index = SimilarityIndex(db)
    for match in matches:
        row = db.execute("SELECT cluster_id, duplicate_of FROM articles WHERE id = ?", [match.article_id]).fetchone()
        if row is None:
            continue
        cluster_id, head = row
        if cluster_id is not None and head is not None:
            head_sig = index.get(head)
            if head_sig is None or head_sig.jaccard(sig) < threshold:
                continue
        cluster_id = cluster_id if cluster_id is not None else match.article_id
        db.execute("UPDATE articles SET cluster_id = ? WHERE id IN (?, ?)", [cluster_id, match.article_id, article_id])
        settle(db, cluster_id)
        return cluster_id
    return None


def leave(db: sqlite_utils.Database, article_id: int, cluster_id: int) -> None:
    """Take an article out of its cluster; dissolve the cluster if one member is left."""
    db.execute("UPDATE articles SET cluster_id = NULL, duplicate_of = NULL, similarity = NULL WHERE id = ?",
               [article_id])
    logger.info("article=%d left cluster=%d: its new version no longer resembles it", article_id, cluster_id)
    left = db.execute("SELECT count(*) FROM articles WHERE cluster_id = ?", [cluster_id]).fetchone()[0]
    if left <= 1:
        db.execute("UPDATE articles SET cluster_id = NULL, duplicate_of = NULL, similarity = NULL "
                   "WHERE cluster_id = ?", [cluster_id])
    else:
        settle(db, cluster_id)


def settle(db: sqlite_utils.Database, cluster_id: int) -> None:
    """Point every member at the cluster's earliest article, with its similarity to it."""
    members = db.execute(
        """SELECT id FROM articles WHERE cluster_id = ?
           ORDER BY coalesce(published_at, first_seen_at), first_seen_at, id LIMIT ?""",
        [cluster_id, MAX_RECOMPUTE],
    ).fetchall()
    if not members:
        return
    earliest = members[0][0]
    index = SimilarityIndex(db)
    head = index.get(earliest)
    updates = []
    for (member,) in members[1:]:
        sig = index.get(member)
        similarity = round(head.jaccard(sig), 3) if head is not None and sig is not None else None
        updates.append((earliest, similarity, member))
    db.execute("UPDATE articles SET duplicate_of = NULL, similarity = NULL WHERE id = ?", [earliest])
    db.conn.executemany("UPDATE articles SET duplicate_of = ?, similarity = ? WHERE id = ?", updates)


def cluster_members(db: sqlite_utils.Database, article_id: int) -> list[dict[str, Any]]:
    """Every article of `article_id`'s cluster, earliest first; [] when it is in no cluster."""
    rows = list(db.query(
        """SELECT m.id, m.outlet_id, m.published_at, m.first_seen_at, m.url, m.title, m.similarity,
                  m.duplicate_of IS NULL AS earliest
           FROM articles a JOIN articles m ON m.cluster_id = a.cluster_id
           WHERE a.id = ? AND a.cluster_id IS NOT NULL
           ORDER BY coalesce(m.published_at, m.first_seen_at), m.first_seen_at, m.id""",
        [article_id],
    ))
    for r in rows:
        r["earliest"] = bool(r["earliest"])
    return rows
