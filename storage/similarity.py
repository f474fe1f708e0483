"""Near-duplicate detection: word shingles, MinHash signatures and an LSH index kept in SQLite.

The same agency story is republished by many outlets, each with its own boilerplate ("Read more:",
a copyright line), a new headline, a dateline such as "(AFP) -", a sentence added or cut, a few
words changed, or only its first paragraphs. The content hash of `storage.dedup` sees none of
these as the same text. This module finds them at a cost per new article that does not grow with
the archive, with an index that lives in the database: nothing is loaded at start, and memory
does not grow with the archive (an in-memory `datasketch.MinHashLSH` would need 5-10 GB for a
million articles).

- **Shingles.** The text is normalised like `storage.dedup.normalise_text`: Unicode NFKC, case
  folded (ß becomes ss), every run of non-word characters, punctuation included, turned into one
  space. `\\w` is Unicode-aware, so accented and Cyrillic letters stay letters and accents are
  kept (a republication keeps them; stripping them would merge French or Spanish words).
  Languages written without spaces (Chinese, Japanese, Thai) get one "word" per clause: they
  need a tokenizer of their own before this works for them. The
  shingles are the distinct runs of `SHINGLE_WORDS` = 5 words, the usual size for news
  (Broder's resemblance, the MMDS book): a changed word removes only the 5 shingles that hold it,
  while two articles about one event, which share names and stock phrases ("the prime minister
  said on"), share few 5-word runs.
- **MinHash.** `datasketch.MinHash` with `NUM_PERM` = 128 permutations, a fixed seed, the
  "affine32" scheme and its SHA-1 based 32-bit shingle hash, all given explicitly because they
  are the stored format (datasketch 2.0 changed the default scheme). A signature is 128 uint32
  values, stored as 512 bytes little-endian, plus the shingle count. The share of equal values
  estimates the Jaccard similarity of two shingle sets, with a standard error of
  sqrt(J(1-J)/128): 0.04 at J = 0.3. `SimilarityIndex` records the parameters with the
  signature of a probe text, and refuses to open an index written with other ones.
- **LSH bands in SQLite.** The first `BANDS` x `ROWS` = 42 x 3 values are cut into 42 bands of 3;
  each band is hashed to a signed 64-bit integer (an INTEGER column), one `lsh_bands` row per
  band. Two articles become candidates when at least one band is equal, with probability
  P(s) = 1 - (1 - s**3)**42 for Jaccard similarity s, the S-curve:

      s      0.005   0.02    0.1    0.2    0.25   0.3    0.35   0.4    0.5    0.6
      P(s)   5e-6    3e-4    0.04   0.29   0.48   0.68   0.84   0.94   0.996  1.0

  Unrelated articles (s of a few thousandths on 5-word shingles) almost never share a band;
  copies (s from 0.3 up) nearly always do. datasketch's `_optimal_param` for a threshold of 0.3
  gives 37 x 3; 42 x 3 uses 126 of the 128 values and finds more pairs between 0.3 and 0.4,
  where copies cut to their first paragraphs land. Fewer rows per band (64 x 2) would find a few
  more of them but read 7 times more candidates per lookup on the labelled set, and at
  s = 0.02 one pair in 40 would share a band: a cost that grows with the archive. A lookup is
  one primary-key range per band, plus one rowid seek per candidate: its cost depends on the
  copies of the same story, not on the size of the archive; `MAX_BUCKET` caps it when a bucket
  grows large (a template text that got past extraction).
- **Verification.** Each candidate's stored signature is compared with the new one; it matches
  when the estimated Jaccard similarity is at least the threshold.
- **Too short to compare.** A text with fewer than `MIN_SHINGLES` distinct shingles (56: 60
  words of running text) gets no signature and is never clustered. Video pages with a caption,
  galleries, "content not available" pages and agency one-liners share most of their words with
  every page of their kind: the 24 pairs of different-story video captions of the default
  labelled set (30-40 words, one template per language) reach a Jaccard similarity of 0.19-0.38 and 10 of
  them pass the threshold. Under 60 words one changed word moves the similarity by about 0.1.
  Counting distinct shingles, not words, also rejects a long text that repeats one line.

**Default threshold: 0.3** (estimated Jaccard on 5-word shingles), measured with
`bench/clusters.py` on 8 labelled sets of `bench/labelled.py` pooled (2,174 articles in en, fr,
es, de; 1,143 same-story pairs; every article looked up before it is added):

      threshold   0.25    0.3     0.35    0.4     0.5
      precision   0.952   0.997   0.999   1.000   1.000
      recall      0.935   0.909   0.876   0.795   0.650

0.3 is the lowest threshold with a precision above 0.99. The hard negatives of that set, two
stories about one event with the same people, places, issues, background paragraph and quote,
reach 0.25-0.3, so 0.25 lets 54 of them through; 0.35 loses 3 points of recall for 2 false
pairs fewer. What is missed is mostly copies cut to their first third, and pairs of two copies
(each with its own outlet's boilerplate) of one story; 95 % of original-copy pairs are found,
and joining the pairs into clusters (connected components) brings recall to 0.95 at a
precision of 0.995. The numbers come from generated text: check them on real outlets before
relying on the exact figures.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from storage.dedup import normalise_text
from storage.errors import StorageError

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable, Iterator

    import sqlite_utils

logger = logging.getLogger(__name__)

SHINGLE_WORDS = 5
NUM_PERM = 128
SEED = 1
SCHEME = "affine32"
MIN_WORDS = 60
MIN_SHINGLES = MIN_WORDS - SHINGLE_WORDS + 1
BANDS = 42
ROWS = 3
DEFAULT_THRESHOLD = 0.3
# A lookup reads at most this many articles per band bucket, the newest first. A bucket grows
# with the copies of one story, or with a template that slipped past extraction; the cap keeps
# the cost of one lookup bounded even then.
MAX_BUCKET = 500

# The signature of this text is stored with the index parameters. If a datasketch release ever
# changed how it hashes or permutes, the probe would no longer match and the index refuses to
# compare old signatures with new ones instead of silently finding nothing.
_PROBE_TEXT = "newsmon similarity probe: one two three four five six seven eight nine ten"

_SIGNATURE_DTYPE = np.dtype("<u4")
# MurmurHash3's 64-bit finalizer and the golden-ratio multiplier (both odd: bijections mod 2**64).
_FMIX_1 = np.uint64(0xFF51AFD7ED558CCD)
_FMIX_2 = np.uint64(0xC4CEB9FE1A85EC53)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_SHIFT = np.uint64(33)


class SimilarityIndexError(StorageError):
    """Raised if an existing similarity index was built with other parameters (permutations,
    seed, bands, rows, shingle size) or another MinHash implementation than the code opening it:
    its signatures and band keys cannot be compared with new ones, and it must be rebuilt."""


def words(text: str) -> list[str]:
    """The words of `text` after `storage.dedup.normalise_text` (NFKC, case folded, no punctuation)."""
    return normalise_text(text).split()


def shingles(text: str, k: int = SHINGLE_WORDS) -> set[str]:
    """The distinct runs of `k` consecutive words of `text`, each joined by single spaces.

    A text shorter than `k` words has no shingle.
    """
    w = words(text)
    return {" ".join(w[i:i + k]) for i in range(len(w) - k + 1)}


@dataclass(frozen=True, eq=False)
class Signature:
    """A MinHash signature (uint32 values) and the number of distinct shingles it was built from.

    The count is stored too: with it, a later release can estimate containment (the share of a
    short copy found in a long original: J / (1 + J) * (n_a + n_b) / min(n_a, n_b)) or prefer
    the longest text of a cluster, without reading the articles again.
    """

    values: np.ndarray
    shingles: int

    def to_bytes(self) -> bytes:
        """The values as little-endian uint32: 4 bytes per permutation, 512 for 128."""
        return self.values.astype(_SIGNATURE_DTYPE, copy=False).tobytes()

    @classmethod
    def from_bytes(cls, blob: bytes, shingles: int) -> Signature:
        return cls(np.frombuffer(blob, dtype=_SIGNATURE_DTYPE), shingles)

    def jaccard(self, other: Signature) -> float:
        """Estimated Jaccard similarity: the fraction of equal values."""
        if len(self.values) != len(other.values):
            raise ValueError(f"signatures of {len(self.values)} and {len(other.values)} permutations")
        return float(np.count_nonzero(self.values == other.values)) / len(self.values)


class MinHasher:
    """Builds signatures; create one and reuse it (it generates the permutations once)."""

    def __init__(self, *, num_perm: int = NUM_PERM, seed: int = SEED, k: int = SHINGLE_WORDS,
                 min_shingles: int = MIN_SHINGLES) -> None:
        self.num_perm = num_perm
        self.seed = seed
        self.k = k
        self.min_shingles = min_shingles
        # Imported here: datasketch imports scipy (0.5 s of start-up), which a crawl that finds
        # nothing new never needs.
        from datasketch import MinHash
        from datasketch.hashfunc import sha1_hash32

        # hashfunc and scheme are given explicitly: they are part of the stored format, and a
        # datasketch default that changed (as the scheme did in 2.0) must not change them.
        self._template = MinHash(num_perm=num_perm, seed=seed, hashfunc=sha1_hash32, scheme=SCHEME)

    def signature(self, text: str) -> Signature | None:
        """The signature of `text`, or None if it has fewer than `min_shingles` distinct shingles."""
        return self.signature_of_shingles(shingles(text, self.k))

    def signature_of_shingles(self, shingle_set: Iterable[str]) -> Signature | None:
        """The signature of a set of shingles (repeats count once), or None if too few."""
        encoded = [s.encode("utf-8") for s in set(shingle_set)]
        if len(encoded) < self.min_shingles:
            return None
        minhash = self._template.copy()
        minhash.update_batch(encoded)
        values = minhash.digest().astype(_SIGNATURE_DTYPE)
        values.flags.writeable = False
        return Signature(values, len(encoded))

    def probe(self) -> str:
        """A digest of the signature of a fixed text: equal digests, comparable signatures."""
        probe = self.signature_of_shingles(f"{_PROBE_TEXT} {i}" for i in range(max(self.min_shingles, 1)))
        assert probe is not None  # as many shingles as the minimum, by construction
        return hashlib.sha256(probe.to_bytes()).hexdigest()[:16]


@functools.cache
def default_hasher() -> MinHasher:
    """The process's MinHasher with the default parameters."""
    return MinHasher()


@functools.cache
def default_probe() -> str:
    """`MinHasher.probe` of the default hasher, computed once per process."""
    return default_hasher().probe()


def signature(text: str) -> Signature | None:
    """The signature of `text` with the default parameters, or None if the text is too short."""
    return default_hasher().signature(text)


def _fmix64(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> _SHIFT)
    h = h * _FMIX_1
    h = h ^ (h >> _SHIFT)
    h = h * _FMIX_2
    return h ^ (h >> _SHIFT)


def band_keys(values: np.ndarray, bands: int = BANDS, rows: int = ROWS) -> np.ndarray:
    """One signed 64-bit key per band: a hash of the band's `rows` values.

    `values` is one signature (1-D) or a batch of them (2-D, one per row); the result has the
    same leading shape with `bands` keys. Vectorised so that a benchmark can key a million
    synthetic signatures with the very function the index uses. Each step is a bijection of 64-bit
    integers (xor, odd multiplier, MurmurHash3's finalizer), so the key behaves like a random
    64-bit hash: two different band contents share a key with probability about 2**-64. The band
    number is a column of its own, so equal values in different bands never collide.
    """
    if values.shape[-1] < bands * rows:
        raise ValueError(f"{values.shape[-1]} values cannot make {bands} bands of {rows} rows")
    v = values[..., :bands * rows].astype(np.uint64).reshape(*values.shape[:-1], bands, rows)
    h = np.full(v.shape[:-1], _GOLDEN, dtype=np.uint64)
    for row in range(rows):
        h = _fmix64((h ^ v[..., row]) * _GOLDEN)
    return h.view(np.int64)


class Candidate(NamedTuple):
    """A stored article whose signature matched, with the estimated Jaccard similarity."""

    article_id: int
    similarity: float


class SimilarityIndex:
    """MinHash LSH index in SQLite tables; nothing is held in memory between calls.

    `article_signatures(article_id INTEGER PRIMARY KEY, signature BLOB NOT NULL, shingles INTEGER)`:
    a rowid table, so a candidate's signature is one B-tree seek.

    `lsh_bands(band, key, article_id)`, WITHOUT ROWID, PRIMARY KEY (band, key, article_id): the
    lookup `band = ? AND key = ?` is a range of the primary key, and there is no second index (a
    rowid table with an index would store every row twice). `remove()` recomputes the article's
    band keys from its stored signature and deletes by full primary key, so no index on
    article_id is needed either.

    `similarity_params(name, value)`: the parameters the index was built with, checked by
    `ensure_tables()` (`SimilarityIndexError` if they differ from this code's).

    Writes run in a SAVEPOINT: inside the caller's transaction (the article's own
    `write_transaction`) they are part of it; outside one they commit on their own.
    """

    def __init__(self, db: sqlite_utils.Database | sqlite3.Connection, *,
                 threshold: float = DEFAULT_THRESHOLD, bands: int = BANDS, rows: int = ROWS,
                 hasher: MinHasher | None = None, max_bucket: int = MAX_BUCKET) -> None:
        self.conn: sqlite3.Connection = getattr(db, "conn", db)
        # None: the default parameters, and no MinHasher built until one is needed (`params`
        # without a probe): the crawl process stores signatures its workers computed, and never
        # imports datasketch (and scipy: 0.5 s and 70 MiB).
        self._hasher = hasher
        self.num_perm = hasher.num_perm if hasher is not None else NUM_PERM
        if bands * rows > self.num_perm:
            raise ValueError(f"{bands} bands x {rows} rows need more than {self.num_perm} values")
        self.threshold = threshold
        self.bands = bands
        self.rows = rows
        self.max_bucket = max_bucket
        self._candidates_sql = _candidates_sql(bands)
        self._warned_full = False

    @property
    def hasher(self) -> MinHasher:
        return self._hasher if self._hasher is not None else default_hasher()

    def params(self, probe: str | None = None) -> dict[str, str]:
        """What makes stored signatures and band keys comparable with new ones.

        `probe`: the `MinHasher.probe` of the hasher that computes the signatures stored, when
        another process computes them (a crawl's workers); by default this index's hasher's.
        """
        hasher = self._hasher
        return {
            "minhash": f"datasketch MinHash scheme={SCHEME} hashfunc=sha1_hash32",
            "num_perm": str(self.num_perm),
            "seed": str(hasher.seed if hasher else SEED),
            "shingle_words": str(hasher.k if hasher else SHINGLE_WORDS),
            "bands": str(self.bands),
            "rows": str(self.rows),
            "probe": probe or (hasher.probe() if hasher else default_probe()),
        }

    def ensure_tables(self, probe: str | None = None) -> None:
        """Create the tables if missing, or check the parameters of the existing index (`probe`:
        see `params`)."""
        wanted = self.params(probe)
        with self._savepoint():
            self.create_tables()
            stored = dict(self.conn.execute("SELECT name, value FROM similarity_params").fetchall())
            if not stored:
                self.conn.executemany("INSERT INTO similarity_params (name, value) VALUES (?, ?)",
                                      sorted(wanted.items()))
                logger.info("similarity index created %s", " ".join(f"{k}={v}" for k, v in sorted(wanted.items())))
                return
        differ = sorted(k for k in wanted.keys() | stored.keys() if wanted.get(k) != stored.get(k))
        if differ:
            raise SimilarityIndexError(
                "the similarity index in this database was built with other parameters, rebuild it: "
                + ", ".join(f"{k} stored={stored.get(k)} here={wanted.get(k)}" for k in differ))

    def create_tables(self) -> None:
        """Create the tables if missing. The parameters are recorded by the first `ensure_tables`,
        which needs a hasher's probe (a migration does not: it would import datasketch)."""
        with self._savepoint():
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS article_signatures ("
                "article_id INTEGER PRIMARY KEY, signature BLOB NOT NULL, shingles INTEGER)")
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS lsh_bands ("
                "band INTEGER NOT NULL, key INTEGER NOT NULL, article_id INTEGER NOT NULL, "
                "PRIMARY KEY (band, key, article_id)) WITHOUT ROWID")
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS similarity_params (name TEXT PRIMARY KEY, value TEXT NOT NULL)")

    def add(self, article_id: int, signature: Signature) -> None:
        """Index `article_id` under `signature`, replacing what it had."""
        keys = band_keys(signature.values, self.bands, self.rows).tolist()
        with self._savepoint():
            self._delete_bands(article_id)
            self.conn.execute(
                "INSERT OR REPLACE INTO article_signatures (article_id, signature, shingles) VALUES (?, ?, ?)",
                (article_id, signature.to_bytes(), signature.shingles))
            self.conn.executemany(
                "INSERT OR IGNORE INTO lsh_bands (band, key, article_id) VALUES (?, ?, ?)",
                [(band, key, article_id) for band, key in enumerate(keys)])

    def remove(self, article_id: int) -> bool:
        """Forget `article_id`. False if it was not indexed."""
        with self._savepoint():
            found = self._delete_bands(article_id)
            self.conn.execute("DELETE FROM article_signatures WHERE article_id = ?", (article_id,))
        return found

    def get(self, article_id: int) -> Signature | None:
        """The stored signature of `article_id`, or None."""
        row = self.conn.execute(
            "SELECT signature, shingles FROM article_signatures WHERE article_id = ?", (article_id,)).fetchone()
        return None if row is None else Signature.from_bytes(row[0], row[1])

    def __len__(self) -> int:
        return self.conn.execute("SELECT count(*) FROM article_signatures").fetchone()[0]

    def candidates(self, signature: Signature, *, threshold: float | None = None,
                   exclude: int | None = None) -> list[Candidate]:
        """Stored articles whose estimated Jaccard similarity to `signature` is at least
        `threshold` (default: the index's), most similar first.

        Only articles sharing at least one band with `signature` are read (see the S-curve in
        the module docstring). `exclude` leaves out one article, e.g. the one being looked up.
        """
        threshold = self.threshold if threshold is None else threshold
        params: list[int] = []
        for band, key in enumerate(band_keys(signature.values, self.bands, self.rows).tolist()):
            params += (band, key, self.max_bucket)
        rows = [r for r in self.conn.execute(self._candidates_sql, params).fetchall() if r[0] != exclude]
        if not rows:
            return []
        if len(rows) >= self.max_bucket and not self._warned_full:
            # Once per index: the cap is doing its job, and every copy of that story would repeat it.
            self._warned_full = True
            logger.warning("similarity lookup read %d candidates (at most %d per band): a story with "
                           "that many copies, or a template text, is indexed", len(rows), self.max_bucket)
        stored = np.frombuffer(b"".join(r[1] for r in rows), dtype=_SIGNATURE_DTYPE).reshape(len(rows), -1)
        if stored.shape[1] != len(signature.values):
            raise SimilarityIndexError(
                f"stored signatures have {stored.shape[1]} values, the one looked up {len(signature.values)}")
        similarity = np.count_nonzero(stored == signature.values, axis=1) / stored.shape[1]
        found = [Candidate(r[0], s) for r, s in zip(rows, similarity.tolist(), strict=True) if s >= threshold]
        found.sort(key=lambda c: (-c.similarity, c.article_id))
        return found

    def _delete_bands(self, article_id: int) -> bool:
        old = self.get(article_id)
        if old is None:
            return False
        self.conn.executemany(
            "DELETE FROM lsh_bands WHERE band = ? AND key = ? AND article_id = ?",
            [(band, key, article_id)
             for band, key in enumerate(band_keys(old.values, self.bands, self.rows).tolist())])
        return True

    @contextlib.contextmanager
    def _savepoint(self) -> Iterator[None]:
        self.conn.execute("SAVEPOINT similarity")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK TO similarity")
            self.conn.execute("RELEASE similarity")
            raise
        else:
            self.conn.execute("RELEASE similarity")


def _candidates_sql(bands: int) -> str:
    # One statement for all bands: per band, one range of the primary key of lsh_bands, newest
    # articles first and capped; then one rowid seek in article_signatures per distinct
    # candidate (IN makes the list distinct).
    per_band = ("SELECT * FROM (SELECT article_id FROM lsh_bands WHERE band = ? AND key = ?"
                " ORDER BY article_id DESC LIMIT ?)")
    return ("SELECT article_id, signature, shingles FROM article_signatures WHERE article_id IN ("
            + " UNION ALL ".join([per_band] * bands) + ")")
