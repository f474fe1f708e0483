"""`newsmon demo`: serves the bundled outlets, crawls them into a fresh database, searches it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.conftest import newsmon


def test_demo_stores_every_article_once(tmp_path: Path) -> None:
    from monitor.demo.server import load_expected

    result = newsmon("demo", "--dir", str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "new articles in" in result.stdout and "articles/s" in result.stdout
    assert "sample search" in result.stdout and "no results" not in result.stdout
    expected = load_expected()["outlets"]
    conn = sqlite3.connect(tmp_path / "newsmon.db")
    counts = dict(conn.execute("SELECT outlet_id, count(*) FROM articles GROUP BY outlet_id").fetchall())
    assert counts == {oid: len(o["articles"]) for oid, o in expected.items()}
    dupes = conn.execute("SELECT count(*) FROM (SELECT content_hash FROM articles GROUP BY outlet_id, content_hash "
                         "HAVING count(*) > 1)").fetchone()[0]
    assert dupes == 0
    conn.close()
    # Run again: a fresh database each time, same result.
    again = newsmon("demo", "--dir", str(tmp_path))
    assert again.returncode == 0
    conn = sqlite3.connect(tmp_path / "newsmon.db")
    assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == sum(counts.values())
    conn.close()
