"""Tests of monitor/health.py: outlet states from real crawl_runs and articles rows in SQLite."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from crawlers.outlets import Outlet
from monitor.config import (
    AlertsConfig,
    Config,
    CrawlConfig,
    HealthConfig,
    ScheduleConfig,
    StorageConfig,
)
from monitor.health import Assessment, Transition, assess, health_rows, update_health
from storage.db import open_database, write_transaction

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
CFG = HealthConfig(baseline_runs=20, failing_after=2, min_quiet=6 * 3600, quiet_factor=4.0)
GOOD = {"median_text_length": 2000, "share_dated": 0.95, "share_authored": 0.9, "share_language": 1.0}


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


@pytest.fixture
def db(tmp_path: Path) -> sqlite_utils.Database:
    database = open_database(tmp_path / "newsmon.db")
    with write_transaction(database):
        for oid in ("lemonde", "other"):
            database.execute(
                "INSERT INTO outlets (id, name, language, added_at, updated_at) VALUES (?, ?, 'fr', ?, ?)",
                [oid, oid.title(), iso(NOW), iso(NOW)],
            )
    yield database
    database.close()


def add_run(db: sqlite_utils.Database, hours_ago: float, status: str = "ok", *,
            outlet: str = "lemonde", errors: dict[str, int] | None = None, **columns: Any) -> None:
    """One finished run that started `hours_ago` before NOW; `columns` override the defaults.

    Like the crawler, the quality figures are NULL when the run stored no new article.
    """
    started = NOW - timedelta(hours=hours_ago)
    failed = status in ("failed", "timeout", "crashed")
    row: dict[str, Any] = {"pages": 12, "articles_new": 10, **GOOD} | columns
    if failed:
        row = {"pages": 0, "articles_new": 0} | columns
    if not row["articles_new"]:
        row |= dict.fromkeys(GOOD)
    row |= {
        "run_id": f"run-{iso(started)}", "outlet_id": outlet, "status": status,
        "started_at": iso(started), "errors": json.dumps(errors or {}),
        "finished_at": None if status == "running" else iso(started + timedelta(minutes=2)),
    }
    with write_transaction(db):
        db["crawl_runs"].insert(row)


def add_good_runs(db: sqlite_utils.Database, count: int, *, first_hours_ago: float = 100, **columns: Any) -> None:
    for i in range(count):
        add_run(db, first_hours_ago - i, **columns)


def add_articles(db: sqlite_utils.Database, seen: list[datetime], outlet: str = "lemonde") -> None:
    with write_transaction(db):
        for i, moment in enumerate(seen):
            db.execute(
                """INSERT INTO articles (outlet_id, url, canonical_url, text, text_length, content_hash,
                                         first_seen_at, last_seen_at)
                   VALUES (?, ?, ?, 'text', 4, ?, ?, ?)""",
                [outlet, f"https://x.org/{outlet}/{i}", f"https://x.org/{outlet}/{i}", f"h{i}",
                 iso(moment), iso(moment)],
            )


def every(hours: float, count: int, *, last: datetime) -> list[datetime]:
    return [last - timedelta(hours=hours * i) for i in range(count)]


def make_config(tmp_path: Path, *, remind_after: int = 86400, health: HealthConfig = CFG) -> Config:
    return Config(
        path=tmp_path / "newsmon.toml", storage=StorageConfig(database=tmp_path / "newsmon.db"),
        crawl=CrawlConfig(), schedule=ScheduleConfig(),
        outlets=(Outlet(id="lemonde", name="Le Monde", language="fr"), Outlet(id="other", name="Other")),
        health=health, alerts=AlertsConfig(remind_after=remind_after),
    )


# --- new and ok ---------------------------------------------------------------------------------


def test_outlet_without_finished_run_is_new(db: sqlite_utils.Database) -> None:
    add_run(db, 0.1, "running")
    result = assess(db, "lemonde", CFG, NOW)
    assert result == Assessment("new", "no finished run yet", result.baseline)
    assert result.baseline["runs"] == 0


def test_good_runs_are_ok_with_a_summary(db: sqlite_utils.Database) -> None:
    add_good_runs(db, 5)
    add_run(db, 1, articles_new=7, pages=9)
    result = assess(db, "lemonde", CFG, NOW)
    assert (result.state, result.reason) == ("ok", "last run ok: 7 new articles, 9 pages")


def test_running_row_after_the_last_run_is_ignored(db: sqlite_utils.Database) -> None:
    add_run(db, 2, "failed", errors={"refused": 2})
    add_run(db, 1, "failed", errors={"refused": 2})
    add_run(db, 0.1, "running")
    assert assess(db, "lemonde", CFG, NOW).state == "failing"


# --- failing and last run failed ----------------------------------------------------------------


def test_failing_after_the_configured_failed_runs_summarises_error_kinds(db: sqlite_utils.Database) -> None:
    add_good_runs(db, 3)
    add_run(db, 3, "failed", errors={"refused": 3})
    add_run(db, 2, "failed", errors={"http_403": 4, "refused": 1})
    add_run(db, 1, "failed", errors={"refused": 2, "dns": 1})
    result = assess(db, "lemonde", HealthConfig(failing_after=3), NOW)
    assert (result.state, result.reason) == ("failing", "last 3 runs failed: refused x2, http_403")


@pytest.mark.parametrize(("status", "reason"), [
    ("timeout", "last 2 runs failed: malformed_feed, timeout"),
    ("crashed", "last 2 runs failed: crashed, malformed_feed"),
])
def test_timeout_and_crash_count_as_failed_runs(db: sqlite_utils.Database, status: str, reason: str) -> None:
    add_run(db, 2, "failed", errors={"malformed_feed": 1})
    add_run(db, 1, status, errors={"http_500": 2})  # a timeout or crash is named as such
    result = assess(db, "lemonde", CFG, NOW)
    assert (result.state, result.reason) == ("failing", reason)


def test_one_failed_run_is_degraded(db: sqlite_utils.Database) -> None:
    add_good_runs(db, 3)
    add_run(db, 1, "timeout")
    result = assess(db, "lemonde", CFG, NOW)
    assert (result.state, result.reason) == ("degraded", "last run failed: timeout")


def test_failures_broken_by_a_good_run_are_not_failing(db: sqlite_utils.Database) -> None:
    add_run(db, 3, "failed", errors={"refused": 1})
    add_run(db, 2, "ok")
    add_run(db, 1, "failed", errors={"refused": 1})
    result = assess(db, "lemonde", CFG, NOW)
    assert (result.state, result.reason) == ("degraded", "last run failed: refused")


@pytest.mark.parametrize("status", ["partial", "interrupted"])
def test_partial_and_interrupted_runs_are_not_failures(db: sqlite_utils.Database, status: str) -> None:
    add_run(db, 2, status)
    add_run(db, 1, status)
    assert assess(db, "lemonde", CFG, NOW).state == "ok"


# --- quality against the baseline ---------------------------------------------------------------


def test_text_length_below_half_of_the_baseline_is_degraded(db: sqlite_utils.Database) -> None:
    add_good_runs(db, 3)
    add_run(db, 1, median_text_length=900)
    result = assess(db, "lemonde", CFG, NOW)
    assert (result.state, result.reason) == ("degraded", "median text length 900 (usual 2000)")


def test_text_length_at_half_of_the_baseline_is_ok(db: sqlite_utils.Database) -> None:
    add_good_runs(db, 3)
    add_run(db, 1, median_text_length=1000)
    assert assess(db, "lemonde", CFG, NOW).state == "ok"


@pytest.mark.parametrize(("column", "label", "usual"), [
    ("share_dated", "dated", 0.95), ("share_authored", "with author", 0.90), ("share_language", "in language", 1.00),
])
def test_share_dropping_by_0_3_is_degraded(db: sqlite_utils.Database, column: str, label: str, usual: float) -> None:
    add_good_runs(db, 3)
    add_run(db, 1, **{column: round(usual - 0.3, 2)})
    result = assess(db, "lemonde", CFG, NOW)
    assert (result.state, result.reason) == ("degraded", f"share {label} {usual - 0.3:.2f} (usual {usual:.2f})")


def test_share_dropping_by_less_than_0_3_is_ok(db: sqlite_utils.Database) -> None:
    add_good_runs(db, 3)
    add_run(db, 1, share_dated=0.70, share_authored=0.65, share_language=0.75)
    assert assess(db, "lemonde", CFG, NOW).state == "ok"


def test_several_quality_problems_are_all_named(db: sqlite_utils.Database) -> None:
    add_good_runs(db, 3)
    add_run(db, 1, median_text_length=300, share_dated=0.40)
    result = assess(db, "lemonde", CFG, NOW)
    assert result.reason == "median text length 300 (usual 2000); share dated 0.40 (usual 0.95)"


def test_language_share_not_compared_without_a_configured_language(db: sqlite_utils.Database) -> None:
    add_good_runs(db, 3, share_language=None)
    add_run(db, 1, share_language=None)
    result = assess(db, "lemonde", CFG, NOW)
    assert (result.state, result.baseline["share_language"]) == ("ok", None)


def test_no_text_share_rising_is_degraded(db: sqlite_utils.Database) -> None:
    add_good_runs(db, 3, articles_new=9, no_text=1)
    add_run(db, 1, articles_new=0, no_text=12, duplicates=0)
    result = assess(db, "lemonde", CFG, NOW)
    assert (result.state, result.reason) == ("degraded", "no text on 12 of 12 pages (usual share 0.10)")


def test_no_text_needs_five_such_pages(db: sqlite_utils.Database) -> None:
    add_good_runs(db, 3, articles_new=9, no_text=1)
    add_run(db, 1, articles_new=1, no_text=4)
    assert assess(db, "lemonde", CFG, NOW).state == "ok"


def test_no_text_rise_below_0_3_is_ok(db: sqlite_utils.Database) -> None:
    add_good_runs(db, 3, articles_new=9, no_text=1)
    add_run(db, 1, articles_new=12, no_text=6)  # 6 / 18 = 0.33, up 0.23
    assert assess(db, "lemonde", CFG, NOW).state == "ok"


def test_baseline_needs_three_runs_with_new_articles(db: sqlite_utils.Database) -> None:
    add_good_runs(db, 2)
    add_run(db, 50, articles_new=0)  # stored nothing: not a quality run
    add_run(db, 1, median_text_length=100, share_dated=0.0, articles_new=10, no_text=20)
    result = assess(db, "lemonde", CFG, NOW)
    assert result.state == "ok"
    assert result.baseline["runs"] == 3
    assert result.baseline["runs_with_articles"] == 2
    assert result.baseline["median_text_length"] is None


def test_third_run_with_articles_enables_the_quality_check(db: sqlite_utils.Database) -> None:
    add_good_runs(db, 3)
    add_run(db, 1, median_text_length=100)
    assert assess(db, "lemonde", CFG, NOW).state == "degraded"


def test_run_with_fewer_than_three_new_articles_is_not_judged_on_quality(db: sqlite_utils.Database) -> None:
    add_good_runs(db, 5)
    add_run(db, 1, articles_new=2, median_text_length=100, share_dated=0.0, share_authored=0.0)
    assert assess(db, "lemonde", CFG, NOW).state == "ok"


def test_baseline_covers_only_the_last_baseline_runs(db: sqlite_utils.Database) -> None:
    add_good_runs(db, 5, first_hours_ago=200, median_text_length=4000)  # outside a window of 3
    add_good_runs(db, 3, first_hours_ago=10, median_text_length=1000)
    add_run(db, 1, median_text_length=900)
    result = assess(db, "lemonde", HealthConfig(baseline_runs=3), NOW)
    assert (result.state, result.baseline["runs"], result.baseline["median_text_length"]) == ("ok", 3, 1000)


def test_baseline_figures(db: sqlite_utils.Database) -> None:
    add_run(db, 6, articles_new=10, median_text_length=1000, share_dated=1.0, no_text=0)
    add_run(db, 5, articles_new=30, median_text_length=3000, share_dated=0.6, no_text=10)
    add_run(db, 4, articles_new=20, median_text_length=2000, share_dated=0.9, no_text=0)
    add_run(db, 3, "failed")
    add_run(db, 1)
    add_articles(db, every(2, 10, last=NOW - timedelta(hours=1)))
    baseline = assess(db, "lemonde", CFG, NOW).baseline
    assert baseline == {
        "runs": 4,
        "runs_with_articles": 3,
        "articles_per_run": 15.0,
        "median_text_length": 2000,
        "share_dated": 0.7667,  # (10 x 1.0 + 30 x 0.6 + 20 x 0.9) / 60
        "share_authored": 0.9,
        "share_language": 1.0,
        "share_no_text": 0.1429,  # 10 / 70
        "usual_gap_seconds": 7200.0,
    }


# --- quiet --------------------------------------------------------------------------------------


def test_quiet_outlet_is_degraded(db: sqlite_utils.Database) -> None:
    add_run(db, 1, articles_new=0)
    add_articles(db, every(3, 20, last=NOW - timedelta(hours=13)))  # limit 4 x 3h = 12h
    result = assess(db, "lemonde", CFG, NOW)
    assert (result.state, result.reason) == (
        "degraded", "no new article for 13h (usual gap 3h, limit 12h)")


def test_usual_gap_counts_runs_not_articles(db: sqlite_utils.Database) -> None:
    """A run stores its articles seconds apart: the gap that counts is between runs that found some."""
    add_run(db, 1, articles_new=0)
    for n, run_start in enumerate(every(3, 10, last=NOW - timedelta(hours=13))):
        batch = [run_start + timedelta(seconds=s) for s in range(5)]
        add_articles(db, batch, outlet="lemonde")
        with write_transaction(db):  # the articles just added belong to one run
            db.execute("UPDATE articles SET run_id = ? WHERE run_id IS NULL", [f"run-{n}"])
    result = assess(db, "lemonde", CFG, NOW)
    assert result.baseline["usual_gap_seconds"] == pytest.approx(3 * 3600, abs=10)
    assert result.state == "degraded" and "usual gap 3h" in (result.reason or "")


def test_quiet_within_the_limit_is_ok(db: sqlite_utils.Database) -> None:
    add_run(db, 1, articles_new=0)
    add_articles(db, every(3, 20, last=NOW - timedelta(hours=11)))
    assert assess(db, "lemonde", CFG, NOW).state == "ok"


def test_quiet_limit_is_at_least_min_quiet(db: sqlite_utils.Database) -> None:
    add_run(db, 1, articles_new=0)
    add_articles(db, every(0.25, 20, last=NOW - timedelta(hours=5)))  # 4 x 15m = 1h < 6h
    assert assess(db, "lemonde", CFG, NOW).state == "ok"
    result = assess(db, "lemonde", CFG, NOW + timedelta(hours=1, minutes=30))
    assert result.reason == "no new article for 6h 30m (usual gap 15m, limit 6h)"


def test_quiet_check_needs_five_articles(db: sqlite_utils.Database) -> None:
    add_run(db, 1, articles_new=0)
    add_articles(db, every(1, 4, last=NOW - timedelta(days=30)))
    result = assess(db, "lemonde", CFG, NOW)
    assert (result.state, result.baseline["usual_gap_seconds"]) == ("ok", None)


def test_usual_gap_uses_the_last_50_articles(db: sqlite_utils.Database) -> None:
    add_run(db, 1, articles_new=0)
    recent = every(1, 50, last=NOW - timedelta(hours=1))
    add_articles(db, recent + every(24, 60, last=recent[-1] - timedelta(days=1)))
    assert assess(db, "lemonde", CFG, NOW).baseline["usual_gap_seconds"] == 3600.0


def test_other_outlets_articles_do_not_count(db: sqlite_utils.Database) -> None:
    add_run(db, 1, articles_new=0)
    add_articles(db, every(3, 20, last=NOW - timedelta(hours=20)))
    add_articles(db, every(1, 20, last=NOW), outlet="other")
    assert assess(db, "lemonde", CFG, NOW).state == "degraded"


# --- HTTP errors --------------------------------------------------------------------------------


def test_most_pages_answering_http_errors_is_degraded(db: sqlite_utils.Database) -> None:
    add_run(db, 1, "partial", pages=15, articles_new=0, errors={"http_403": 12, "timeout": 1})
    result = assess(db, "lemonde", CFG, NOW)
    assert (result.state, result.reason) == ("degraded", "http_403 on 12 of 15 pages")


def test_several_http_error_kinds_add_up(db: sqlite_utils.Database) -> None:
    add_run(db, 1, "partial", pages=10, articles_new=0, errors={"http_403": 3, "http_503": 2})
    assert assess(db, "lemonde", CFG, NOW).reason == "http_403 x3, http_503 x2 on 5 of 10 pages"


@pytest.mark.parametrize(("pages", "errors"), [(15, 7), (4, 2)])
def test_few_http_errors_are_ok(db: sqlite_utils.Database, pages: int, errors: int) -> None:
    add_run(db, 1, "partial", pages=pages, errors={"http_404": errors})
    assert assess(db, "lemonde", CFG, NOW).state == "ok"


def test_failed_blocked_run_names_both(db: sqlite_utils.Database) -> None:
    add_run(db, 2)
    add_run(db, 1, "failed", pages=3, errors={"http_403": 3})
    result = assess(db, "lemonde", CFG, NOW)
    assert result.reason == "last run failed: http_403; http_403 on 3 of 3 pages"


# --- queries ------------------------------------------------------------------------------------


def test_queries_use_indexes(db: sqlite_utils.Database) -> None:
    add_good_runs(db, 4)
    add_articles(db, every(1, 10, last=NOW))
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    try:
        assess(db, "lemonde", CFG, NOW)
    finally:
        db.conn.set_trace_callback(None)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert any("FROM crawl_runs" in s for s in selects) and any("FROM articles" in s for s in selects)
    plans = [row[3] for s in selects for row in db.execute("EXPLAIN QUERY PLAN " + s).fetchall()]
    # Scanning a bounded subquery (at most LIMIT rows) is fine; scanning a table is not.
    assert not [p for p in plans if p.startswith("SCAN") and "subquery" not in p], plans
    assert all(" LIMIT " in " ".join(s.split()) for s in selects)


# --- update_health ------------------------------------------------------------------------------


def test_first_ok_is_silent_and_stored(db: sqlite_utils.Database, tmp_path: Path) -> None:
    add_run(db, 1)
    assert update_health(db, make_config(tmp_path), ["lemonde"], NOW) == []
    row = health_rows(db)["lemonde"]
    assert (row["state"], row["since"], row["checked_at"], row["last_alert_at"]) == (
        "ok", iso(NOW), iso(NOW), None)
    assert row["baseline"]["runs"] == 0


def test_new_outlet_is_stored_without_transition(db: sqlite_utils.Database, tmp_path: Path) -> None:
    assert update_health(db, make_config(tmp_path), ["lemonde"], NOW) == []
    add_run(db, 0.5)
    assert update_health(db, make_config(tmp_path), ["lemonde"], NOW) == []
    assert health_rows(db)["lemonde"]["state"] == "ok"


def test_first_assessment_failing_is_a_change_from_none(db: sqlite_utils.Database, tmp_path: Path) -> None:
    add_run(db, 2, "failed", errors={"refused": 1})
    add_run(db, 1, "failed", errors={"refused": 1})
    assert update_health(db, make_config(tmp_path), ["lemonde"], NOW) == [
        Transition("lemonde", None, "failing", "last 2 runs failed: refused x2", "change")]


def test_repeated_failures_alert_once_then_remind_after_remind_after(db: sqlite_utils.Database, tmp_path: Path) -> None:
    config = make_config(tmp_path, remind_after=86400)
    add_run(db, 30, "ok")
    update_health(db, config, ["lemonde"], NOW - timedelta(hours=29))
    add_run(db, 2, "failed", errors={"refused": 1})
    assert [t.kind for t in update_health(db, config, ["lemonde"], NOW - timedelta(hours=1))] == ["change"]
    add_run(db, 1, "failed", errors={"refused": 1})
    changed = update_health(db, config, ["lemonde"], NOW)
    assert changed == [Transition("lemonde", "degraded", "failing", "last 2 runs failed: refused x2", "change")]
    # More failures within remind_after: silent; since is kept.
    for hours in (1, 12, 23.9):
        add_run(db, -hours, "failed", errors={"refused": 1})
        assert update_health(db, config, ["lemonde"], NOW + timedelta(hours=hours)) == []
    assert health_rows(db)["lemonde"]["since"] == iso(NOW)
    reminder = update_health(db, config, ["lemonde"], NOW + timedelta(hours=24))
    assert reminder == [Transition("lemonde", "failing", "failing", reminder[0].reason, "reminder")]


def test_reminder_counts_from_last_alert_at(db: sqlite_utils.Database, tmp_path: Path) -> None:
    config = make_config(tmp_path, remind_after=3600)
    add_run(db, 2, "failed", errors={"refused": 1})
    add_run(db, 1, "failed", errors={"refused": 1})
    update_health(db, config, ["lemonde"], NOW)
    with write_transaction(db):
        db.execute("UPDATE outlet_health SET last_alert_at = ?", [iso(NOW + timedelta(minutes=90))])
    assert update_health(db, config, ["lemonde"], NOW + timedelta(minutes=120)) == []
    assert [t.kind for t in update_health(db, config, ["lemonde"], NOW + timedelta(minutes=150))] == ["reminder"]


def test_no_reminder_for_ok(db: sqlite_utils.Database, tmp_path: Path) -> None:
    add_run(db, 1)
    config = make_config(tmp_path, remind_after=60)
    update_health(db, config, ["lemonde"], NOW)
    assert update_health(db, config, ["lemonde"], NOW + timedelta(days=3)) == []


def test_back_to_ok_is_one_change(db: sqlite_utils.Database, tmp_path: Path) -> None:
    config = make_config(tmp_path)
    add_run(db, 3, "ok")
    add_run(db, 2, "timeout")
    assert [t.new_state for t in update_health(db, config, ["lemonde"], NOW - timedelta(hours=1))] == ["degraded"]
    add_run(db, 1, "ok")
    assert update_health(db, config, ["lemonde"], NOW) == [
        Transition("lemonde", "degraded", "ok", "last run ok: 10 new articles, 12 pages", "change")]
    assert update_health(db, config, ["lemonde"], NOW + timedelta(minutes=5)) == []
    assert health_rows(db)["lemonde"]["since"] == iso(NOW)


def test_update_health_handles_several_outlets_and_skips_unknown(db: sqlite_utils.Database, tmp_path: Path) -> None:
    add_run(db, 1, "timeout", outlet="other")
    add_run(db, 1, outlet="lemonde")
    result = update_health(db, make_config(tmp_path), ["lemonde", "other", "missing"], NOW)
    assert result == [Transition("other", None, "degraded", "last run failed: timeout", "change")]
    assert set(health_rows(db)) == {"lemonde", "other"}
