"""Conditional-GET state per URL: validators (ETag, Last-Modified) and a hash of the last body.

A feed, sitemap or listing page is parsed only when it changed. The body hash decides, whatever
the validators say: some servers send the same ETag after the content changed, others a new
Last-Modified on every response.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from storage.db import utcnow

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    import sqlite_utils


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def fetch_state(db: sqlite_utils.Database, url: str) -> dict[str, Any] | None:
    """The stored state of `url`, children decoded; None when it was never fetched."""
    rows = list(db.query("SELECT * FROM fetch_state WHERE url = ?", [url]))
    if not rows:
        return None
    row = rows[0]
    row["children"] = json.loads(row["children"]) if row["children"] else []
    return row


def conditional_headers(state: Mapping[str, Any] | None) -> dict[str, str]:
    """If-None-Match / If-Modified-Since for a request, from the stored state (may be empty)."""
    headers: dict[str, str] = {}
    if state and state.get("body_hash"):  # only validators of a body we have processed
        if state.get("etag"):
            headers["If-None-Match"] = state["etag"]
        if state.get("last_modified"):
            headers["If-Modified-Since"] = state["last_modified"]
    return headers


def record_fetch(
    db: sqlite_utils.Database,
    url: str,
    outlet_id: str,
    kind: str,
    *,
    status: int,
    headers: Mapping[str, str],
    digest: str | None,
    children: Iterable[str] | None = None,
    body: bytes | None = None,
) -> bool:
    """Record a fetch of `url` (call inside the caller's write transaction).

    `digest` None means "no new body" (a 304): the stored hash and children stay. Validators
    are updated from `headers` when the response carries them. `body` is kept when given (robots.txt,
    whose rules a 304 does not repeat). Returns True when the body changed.
    """
    now = utcnow()
    old = db.execute("SELECT body_hash, children FROM fetch_state WHERE url = ?", [url]).fetchone()
    changed = digest is not None and (old is None or old[0] != digest)
    new_children = json.dumps(sorted(set(children))) if children is not None else (old[1] if old else None)
    db.execute(
        """INSERT INTO fetch_state (url, outlet_id, kind, etag, last_modified, body_hash, status,
             fetched_at, changed_at, children, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(url) DO UPDATE SET outlet_id = excluded.outlet_id, kind = excluded.kind,
             etag = coalesce(excluded.etag, fetch_state.etag),
             last_modified = coalesce(excluded.last_modified, fetch_state.last_modified),
             body_hash = coalesce(excluded.body_hash, fetch_state.body_hash),
             status = excluded.status, fetched_at = excluded.fetched_at,
             changed_at = coalesce(excluded.changed_at, fetch_state.changed_at),
             children = excluded.children, body = coalesce(excluded.body, fetch_state.body)""",
        [
            url, outlet_id, kind, headers.get("etag"), headers.get("last-modified"), digest, status, now,
            now if changed else None, new_children, body,
        ],
    )
    return changed
