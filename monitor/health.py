"""Outlet health: is each outlet still crawled as it should be, and if not, why.

`newsmon outlets` shows one state per outlet, and the service alerts (monitor/alerts.py) when it
changes. The signals are the ones an analyst needs to notice that a site changed its layout or
blocked the crawler. They are computed from the outlet's finished runs in `crawl_runs` ('running'
rows are ignored) and the `first_seen_at` of its articles.

States and rules, in the order they are checked:

- ``new``: the outlet has no finished run yet.
- ``failing``: the last `HealthConfig.failing_after` runs all failed (status failed, timeout or
  crashed). Reason: "last 3 runs failed: refused x2, http_403", one label per run: the run's most
  frequent error kind, or its status for a timeout or a crash.
- ``degraded``: any of the checks below (their reasons are joined with "; "):

  - *Last run failed*, but fewer than `failing_after` runs in a row: "last run failed: timeout".
  - *Quality drop* (a silent layout change). The baseline covers the `baseline_runs` finished runs
    before the last one; only those that stored at least one new article count for the quality
    figures, and at least `MIN_BASELINE_RUNS` (3) of them are needed, else there is no quality
    check. Text length and the three shares are judged only when the last run stored at least
    `MIN_JUDGED_ARTICLES` (3) new articles:

    - its median text length is below `TEXT_LENGTH_RATIO` (50 %) of the baseline's;
    - its share of new articles with a date, with an author, or in the outlet's language is
      `SHARE_DROP` (0.3) or more below the baseline's (0.95 -> 0.40). The language share is only
      compared when both sides have one (NULL when the outlet has no configured language);
    - its share of pages without extractable text, no_text / (articles_new + duplicates +
      no_text), is `NO_TEXT_RISE` (0.3) or more above the baseline's, when the run had at least
      `MIN_NO_TEXT_PAGES` (5) such pages. This check does not need 3 new articles: a layout
      change that breaks extraction completely stores none.

    Baseline figures: the median of the runs' median text lengths; shares as means weighted by
    each run's new articles (the share of all new articles in the window); the no-text share
    pooled over the same runs.
  - *Quiet*: no new article for more than max(`min_quiet`, `quiet_factor` x the usual gap),
    measured from the outlet's newest `first_seen_at` to `now`. The usual gap is the median gap
    between its last `GAP_ARTICLES` (50) arrivals of new articles (one per run that found some,
    so that a run storing 30 articles in 10 s does not make the usual gap zero); with fewer
    than `MIN_GAP_ARTICLES` (5) arrivals there is no quiet check.
  - *Blocked*: in the last run, HTTP errors (`http_*` error kinds) answered at least
    `HTTP_ERROR_SHARE` (50 %) of its pages and at least `MIN_HTTP_ERRORS` (3) of them:
    "http_403 on 12 of 15 pages".

- ``ok`` otherwise, with a short summary of the last run as reason.

The baseline (`Assessment.baseline`) is stored as JSON in `outlet_health.baseline`, so users see
what the last run was compared with.

`update_health` stores the states and decides what deserves an alert: a "change" when the state
differs from the stored one (new -> ok is silent: a first successful run is no news), and a
"reminder" for an outlet still degraded or failing `AlertsConfig.remind_after` after its last
alert (or after it entered the state, if it was never alerted since).
"""

from __future__ import annotations

import json
import logging
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from storage.db import write_transaction

if TYPE_CHECKING:
    from collections.abc import Iterable

    import sqlite_utils

    from monitor.config import Config, HealthConfig

__all__ = ["Assessment", "Transition", "assess", "health_rows", "update_health"]

logger = logging.getLogger(__name__)

#: Run statuses that count as a failed run.
FAILED_STATUSES = frozenset({"failed", "timeout", "crashed"})
#: States worth an alert while they last.
BAD_STATES = frozenset({"degraded", "failing"})

#: Runs (before the last one) that stored new articles needed for any quality check.
MIN_BASELINE_RUNS = 3
#: The last run is judged on text length and shares only if it stored this many new articles.
MIN_JUDGED_ARTICLES = 3
#: Degraded when the last run's median text length is below this fraction of the baseline's.
TEXT_LENGTH_RATIO = 0.5
#: Degraded when a share (dated, authored, in language) drops by this much (absolute).
SHARE_DROP = 0.3
#: Degraded when the share of pages without text rises by this much (absolute) ...
NO_TEXT_RISE = 0.3
#: ... and the run had at least this many pages without text.
MIN_NO_TEXT_PAGES = 5
#: The usual gap between new articles is the median over this many recent articles ...
GAP_ARTICLES = 50
#: ... and needs at least this many, else there is no quiet check.
MIN_GAP_ARTICLES = 5
#: Degraded when HTTP errors answered at least this share of the last run's pages ...
HTTP_ERROR_SHARE = 0.5
#: ... and at least this many of them.
MIN_HTTP_ERRORS = 3

# Shares are computed from integer counts: 0.95 - 0.65 must count as a drop of 0.3.
_EPSILON = 1e-9

_RUN_COLUMNS = (
    "id, status, started_at, finished_at, pages, articles_new, duplicates, no_text, errors, "
    "median_text_length, share_dated, share_authored, share_language"
)
_SHARES = (("share_dated", "dated"), ("share_authored", "with author"), ("share_language", "in language"))


@dataclass(frozen=True)
class Assessment:
    """One outlet's state, why, and the baseline its last run was compared with."""

    state: str  # new | ok | degraded | failing
    reason: str | None
    baseline: dict[str, Any]


@dataclass(frozen=True)
class Transition:
    """Something to alert on: an outlet changed state, or is still degraded/failing."""

    outlet_id: str
    old_state: str | None
    new_state: str
    reason: str | None
    kind: str  # "change" | "reminder"


def assess(
    db: sqlite_utils.Database, outlet_id: str, cfg: HealthConfig, now: datetime
) -> Assessment:
    """The state of `outlet_id` at `now` by the rules in this module's docstring (read-only)."""
    now = _aware(now)
    runs = _recent_runs(db, outlet_id, max(cfg.failing_after, cfg.baseline_runs + 1))
    gap_times = _recent_first_seen(db, outlet_id)
    window = runs[1 : cfg.baseline_runs + 1]
    baseline = _baseline(window, gap_times)
    if not runs:
        return Assessment("new", "no finished run yet", baseline)

    last = runs[0]
    streak = runs[: cfg.failing_after]
    if len(streak) == cfg.failing_after and all(r["status"] in FAILED_STATUSES for r in streak):
        labels = Counter(_failure_label(r) for r in streak)
        return Assessment(
            "failing", f"last {len(streak)} runs failed: {_counted(labels)}", baseline
        )

    problems: list[str] = []
    if last["status"] in FAILED_STATUSES:
        problems.append(f"last run failed: {_failure_label(last)}")
    problems += _quality_problems(last, baseline)
    quiet = _quiet_problem(gap_times, baseline["usual_gap_seconds"], cfg, now)
    if quiet:
        problems.append(quiet)
    blocked = _http_problem(last)
    if blocked:
        problems.append(blocked)
    if problems:
        return Assessment("degraded", "; ".join(problems), baseline)
    return Assessment(
        "ok",
        f"last run {last['status']}: {last['articles_new']} new articles, {last['pages']} pages",
        baseline,
    )


def update_health(
    db: sqlite_utils.Database,
    config: Config,
    outlet_ids: Iterable[str],
    now: datetime | None = None,
) -> list[Transition]:
    """Assess each outlet, store its `outlet_health` row, and return what deserves an alert.

    `since` becomes `now` when the state changed and is kept otherwise. Outlets without an
    `outlets` row (never crawled) are skipped: they have no runs and the foreign key needs one.
    All rows are written in one write transaction; the assessments are read before it, so the
    write lock is held only for the small upserts.
    """
    now = _aware(now or datetime.now(UTC))
    stamp = _iso(now)
    remind_after = timedelta(seconds=config.alerts.remind_after)
    assessments = {oid: assess(db, oid, config.health, now) for oid in dict.fromkeys(outlet_ids)}
    transitions: list[Transition] = []
    with write_transaction(db):
        for oid, a in assessments.items():
            if db.execute("SELECT 1 FROM outlets WHERE id = ?", [oid]).fetchone() is None:
                logger.debug("health skipped outlet=%s: not in the outlets table", oid)
                continue
            row = db.execute(
                "SELECT state, since, last_alert_at FROM outlet_health WHERE outlet_id = ?", [oid]
            ).fetchone()
            old_state, since, last_alert_at = row if row else (None, None, None)
            changed = a.state != (old_state or "new")
            if changed or since is None:
                since = stamp
            if changed and not (old_state in (None, "new") and a.state == "ok"):
                transitions.append(Transition(oid, old_state, a.state, a.reason, "change"))
            elif not changed and a.state in BAD_STATES:
                # The later of the two: an alert recorded for an earlier state does not count.
                ref = max(_parse(since), _parse(last_alert_at)) if last_alert_at else _parse(since)
                if now - ref >= remind_after:
                    transitions.append(Transition(oid, old_state, a.state, a.reason, "reminder"))
            db.execute(
                """INSERT INTO outlet_health (outlet_id, state, reason, since, checked_at, baseline)
                   VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT(outlet_id) DO UPDATE SET state = excluded.state,
                     reason = excluded.reason, since = excluded.since,
                     checked_at = excluded.checked_at, baseline = excluded.baseline""",
                [oid, a.state, a.reason, since, stamp, json.dumps(a.baseline, sort_keys=True)],
            )
    for t in transitions:
        logger.debug("health %s outlet=%s old=%s new=%s", t.kind, t.outlet_id, t.old_state, t.new_state)
    return transitions


def health_rows(db: sqlite_utils.Database) -> dict[str, dict[str, Any]]:
    """outlet_id -> its `outlet_health` row, with `baseline` decoded (for `newsmon outlets`)."""
    rows: dict[str, dict[str, Any]] = {}
    for row in db.query("SELECT * FROM outlet_health ORDER BY outlet_id"):
        row["baseline"] = json.loads(row["baseline"]) if row.get("baseline") else None
        rows[row["outlet_id"]] = row
    return rows


# --------------------------------------------------------------------------------------------
# Reading


def _recent_runs(db: sqlite_utils.Database, outlet_id: str, limit: int) -> list[dict[str, Any]]:
    """The outlet's last `limit` finished runs, newest first (idx_crawl_runs_outlet)."""
    rows = db.query(
        f"""SELECT {_RUN_COLUMNS} FROM crawl_runs
            WHERE outlet_id = ? AND status <> 'running'
            ORDER BY started_at DESC, id DESC LIMIT ?""",
        [outlet_id, limit],
    )
    runs = []
    for row in rows:
        row["errors"] = json.loads(row["errors"]) if row["errors"] else {}
        runs.append(row)
    return runs


def _recent_first_seen(db: sqlite_utils.Database, outlet_id: str) -> list[datetime]:
    """When new articles of the outlet arrived, oldest first: one time per run that found some
    (its first article), over its last GAP_ARTICLES such arrivals.

    One run stores its articles seconds apart: gaps between articles of one run would make the
    usual gap of a busy outlet about zero. Articles without a run count one by one.
    """
    rows = db.execute(
        """SELECT min(first_seen_at) FROM (
               SELECT first_seen_at, coalesce(run_id, 'article-' || id) AS arrival FROM articles
               WHERE outlet_id = ? ORDER BY first_seen_at DESC LIMIT ?)
           GROUP BY arrival ORDER BY 1 DESC LIMIT ?""",
        [outlet_id, GAP_ARTICLES * 20, GAP_ARTICLES],
    ).fetchall()
    return sorted(_parse(r[0]) for r in rows)


# --------------------------------------------------------------------------------------------
# The baseline and the checks


def _baseline(window: list[dict[str, Any]], gap_times: list[datetime]) -> dict[str, Any]:
    """Figures of the runs before the last one (quality figures None below MIN_BASELINE_RUNS)."""
    pool = [r for r in window if r["articles_new"] >= 1]
    baseline: dict[str, Any] = {
        "runs": len(window),
        "runs_with_articles": len(pool),
        "articles_per_run": (
            round(statistics.fmean(r["articles_new"] for r in window), 2) if window else None
        ),
        "median_text_length": None,
        "share_dated": None,
        "share_authored": None,
        "share_language": None,
        "share_no_text": None,
        "usual_gap_seconds": _usual_gap(gap_times),
    }
    if len(pool) < MIN_BASELINE_RUNS:
        return baseline
    lengths = [r["median_text_length"] for r in pool if r["median_text_length"] is not None]
    if lengths:
        baseline["median_text_length"] = round(statistics.median(lengths))
    for column, _ in _SHARES:
        weighted = [(r[column], r["articles_new"]) for r in pool if r[column] is not None]
        if weighted:
            total = sum(n for _, n in weighted)
            baseline[column] = round(sum(s * n for s, n in weighted) / total, 4)
    handled = sum(_handled(r) for r in pool)
    if handled:
        baseline["share_no_text"] = round(sum(r["no_text"] for r in pool) / handled, 4)
    return baseline


def _quality_problems(last: dict[str, Any], baseline: dict[str, Any]) -> list[str]:
    if baseline["runs_with_articles"] < MIN_BASELINE_RUNS:
        return []
    problems = []
    if last["articles_new"] >= MIN_JUDGED_ARTICLES:
        usual = baseline["median_text_length"]
        length = last["median_text_length"]
        if usual and length is not None and length < TEXT_LENGTH_RATIO * usual:
            problems.append(f"median text length {length} (usual {usual})")
        for column, label in _SHARES:
            share, usual_share = last[column], baseline[column]
            if share is not None and usual_share is not None:
                if usual_share - share >= SHARE_DROP - _EPSILON:
                    problems.append(f"share {label} {share:.2f} (usual {usual_share:.2f})")
    usual_no_text = baseline["share_no_text"]
    handled = _handled(last)
    if usual_no_text is not None and last["no_text"] >= MIN_NO_TEXT_PAGES and handled:
        share = last["no_text"] / handled
        if share - usual_no_text >= NO_TEXT_RISE - _EPSILON:
            problems.append(
                f"no text on {last['no_text']} of {handled} pages (usual share {usual_no_text:.2f})"
            )
    return problems


def _quiet_problem(
    gap_times: list[datetime], usual_gap: float | None, cfg: HealthConfig, now: datetime
) -> str | None:
    if usual_gap is None:
        return None
    limit = max(cfg.min_quiet, cfg.quiet_factor * usual_gap)
    quiet = (now - gap_times[-1]).total_seconds()
    if quiet > limit:
        return (
            f"no new article for {_human(quiet)} "
            f"(usual gap {_human(usual_gap)}, limit {_human(limit)})"
        )
    return None


def _http_problem(last: dict[str, Any]) -> str | None:
    http = {k: v for k, v in last["errors"].items() if k.startswith("http_") and v > 0}
    total = sum(http.values())
    pages = max(last["pages"], total)  # error responses may not all be counted as pages
    if total >= MIN_HTTP_ERRORS and total >= HTTP_ERROR_SHARE * pages:
        kinds = next(iter(http)) if len(http) == 1 else _counted(Counter(http))
        return f"{kinds} on {total} of {pages} pages"
    return None


def _usual_gap(times: list[datetime]) -> float | None:
    """Median seconds between consecutive article first sightings (None below MIN_GAP_ARTICLES)."""
    if len(times) < MIN_GAP_ARTICLES:
        return None
    return statistics.median((b - a).total_seconds() for a, b in zip(times, times[1:], strict=False))


def _handled(run: dict[str, Any]) -> int:
    """Article pages the run got to extraction: stored, duplicates and pages without text."""
    return run["articles_new"] + run["duplicates"] + run["no_text"]


def _failure_label(run: dict[str, Any]) -> str:
    """What made a failed run fail: its status for timeout/crash, else its main error kind."""
    if run["status"] != "failed" or not run["errors"]:
        return run["status"]
    return min(run["errors"].items(), key=lambda kv: (-kv[1], kv[0]))[0]


def _counted(counts: Counter[str]) -> str:
    """"refused x2, http_403": most frequent first, then by name."""
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(k if n == 1 else f"{k} x{n}" for k, n in items)


# --------------------------------------------------------------------------------------------
# Time


def _aware(moment: datetime) -> datetime:
    """`moment` in UTC; a naive datetime is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _parse(text: str) -> datetime:
    return _aware(datetime.fromisoformat(text))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _human(seconds: float) -> str:
    """A duration for people: "2d 3h", "5h 20m", "40m", "12s"."""
    seconds = round(seconds)
    units = [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)]
    values = []
    for unit, size in units:
        value, seconds = divmod(seconds, size)
        values.append((value, unit))
    # The two largest units from the first non-zero one: "2d 3h", not "2d 3h 12m 5s".
    first = next((i for i, (v, _) in enumerate(values) if v), len(values) - 1)
    return " ".join(f"{v}{u}" for v, u in values[first : first + 2] if v) or "0s"
