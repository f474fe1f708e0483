"""`newsmon run`: the background service. APScheduler decides when; each crawl runs in a child process.

- One job per outlet on its `interval` or `cron` (else `[schedule] default_interval`), with jitter.
  coalesce + max_instances=1: a late run is run once, and an outlet never runs twice at once.
- The schedule survives restarts: each outlet's first run is computed from its last run in
  crawl_runs. An outlet whose interval (or cron slot) passed while the service was down runs soon;
  the others wait their turn.
- Each crawl is a `python -m monitor.worker` child (Scrapy's reactor runs once per process; a crash,
  a hang or a leak dies with the child). A crawl closes itself at `run_timeout` (recorded as
  'timeout'); one that does not is killed `stop_timeout` later. A child that dies leaves its runs
  'crashed'. The service goes on either way, and the next run happens on schedule.
- One service per database (monitor/lock.py). SIGTERM/SIGINT: stop scheduling, ask running crawls
  to stop (their runs: 'interrupted'), kill what is left after `stop_timeout`, exit 0. SIGHUP or
  `newsmon reload`: reread the config; an invalid one is refused and the old one keeps running.
- After each run the outlet's health is assessed and state changes are alerted (monitor/health.py,
  monitor/alerts.py). `newsmon status` reads the `service` and `schedule` tables written here.
"""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.alerts import send_alerts
from monitor.config import load_config
from monitor.errors import ConfigError, StorageError
from monitor.health import update_health
from monitor.lock import ServiceLock
from monitor.runner import crawl_job
from storage.db import database_problem, open_database, utcnow, write_transaction
from storage.recheck import iso, parse_utc
from storage.runs import close_orphans, fail_unfinished

if TYPE_CHECKING:
    import sqlite_utils
    from apscheduler.triggers.base import BaseTrigger

    from crawlers.outlets import Outlet
    from monitor.config import Config

logger = logging.getLogger(__name__)

#: Outlets due at start-up are spread over this many seconds, not all started at once.
STARTUP_SPREAD = 5.0
#: How often the main loop wakes up to publish the schedule and answer signals.
TICK_SECONDS = 1.0
HEARTBEAT_SECONDS = 30.0
#: Crawl processes log their progress this often (the crawl command: every 5 s).
PROGRESS_SECONDS = 60.0
CATCH_UP = ":catch-up"


def describe_trigger(config: Config, outlet: Outlet) -> str:
    if outlet.cron:
        return f"cron {outlet.cron}" + (f" ({outlet.timezone})" if outlet.timezone else "")
    return f"every {_duration(config.interval_of(outlet) or 0)}"


def make_trigger(config: Config, outlet: Outlet, start: datetime) -> BaseTrigger:
    """The outlet's trigger; an interval trigger first fires at `start`."""
    if outlet.cron:
        trigger = CronTrigger.from_crontab(outlet.cron, timezone=outlet.timezone or "UTC")
        trigger.jitter = config.schedule.jitter or None
        return trigger
    interval = config.interval_of(outlet) or config.schedule.default_interval
    jitter = min(config.schedule.jitter, interval // 4)
    return IntervalTrigger(seconds=interval, start_date=start, jitter=jitter or None, timezone=UTC)


def first_run(config: Config, outlet: Outlet, last_run: datetime | None, now: datetime) -> tuple[datetime, bool]:
    """When the outlet first runs after a (re)start, and whether that is a catch-up of a missed slot.

    Never run: soon. Interval: last run + interval, or soon when that has passed. Cron: its next
    slot, plus a catch-up soon when a slot passed since the last run.
    """
    soon = now + timedelta(seconds=random.uniform(0, STARTUP_SPREAD))
    if outlet.cron:
        trigger = CronTrigger.from_crontab(outlet.cron, timezone=outlet.timezone or "UTC")
        missed = last_run is None or (trigger.get_next_fire_time(None, last_run) or now) <= now
        return soon, missed
    if last_run is None:
        return soon, False
    due = last_run + timedelta(seconds=config.interval_of(outlet) or config.schedule.default_interval)
    return (due, False) if due > now else (soon, False)


class Service:
    def __init__(self, config: Config, *, config_arg: str | None, db_override: str | None,
                 log_options: dict[str, Any] | None = None):
        self.config = config
        self.config_arg = config_arg  # as given on the command line: reread on reload
        self.db_override = db_override
        self.log_options = log_options or {}
        self.database = config.storage.database
        self.lock = ServiceLock(self.database, config.path)
        self.stopping = threading.Event()
        self.reload_requested = threading.Event()
        self.children: dict[str, tuple[subprocess.Popen[bytes], str, str]] = {}  # outlet -> (proc, run_id, since)
        self.children_lock = threading.Lock()
        self.active = 0  # job threads still running (their bookkeeping included)
        self.idle = threading.Condition(self.children_lock)
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(config.schedule.max_parallel)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self._published: dict[str, tuple[Any, ...]] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    def run(self) -> int:
        """Run until SIGTERM/SIGINT; 0 on a clean stop. Raises ServiceRunning if one already runs."""
        self._install_signals()
        info = self.lock.acquire()
        db = open_database(self.database)
        try:
            closed = close_orphans(db)
            if closed:
                logger.warning("marked %d runs of a crawl process that died as interrupted", closed)
            with write_transaction(db):
                db.execute(
                    """INSERT INTO service (id, pid, host, started_at, config_path, heartbeat_at)
                       VALUES (1, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET pid = excluded.pid,
                       host = excluded.host, started_at = excluded.started_at, stopped_at = NULL,
                       config_path = excluded.config_path, heartbeat_at = excluded.heartbeat_at""",
                    [info["pid"], socket.gethostname(), info["started_at"], str(self.config.path), info["started_at"]],
                )
                db.execute("DELETE FROM schedule")
            for outlet in self.config.outlets:
                self._schedule(db, outlet)
            self.scheduler.start()
            if self.stopping.is_set():  # asked to stop while starting
                self.scheduler.pause()
            logger.info(
                "service started pid=%d database=%s outlets=%d max_parallel=%d",
                info["pid"], self.database, len(self.config.outlets), self.config.schedule.max_parallel,
            )
            self._loop(db)
            self._shutdown(db)
        finally:
            db.close()
            self.lock.release()
        logger.info("service stopped")
        return 0

    def _install_signals(self) -> None:
        def stop(signum: int, frame: object) -> None:
            if self.stopping.is_set():
                return
            logger.info("received %s: stopping", signal.Signals(signum).name)
            self.stopping.set()

        def reload(signum: int, frame: object) -> None:
            self.reload_requested.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, reload)

    def _loop(self, db: sqlite_utils.Database) -> None:
        beat = 0.0
        while not self.stopping.wait(TICK_SECONDS):
            if self.reload_requested.is_set():
                self.reload_requested.clear()
                self.reload(db)
            beat += TICK_SECONDS
            try:
                self._publish(db)
                if beat >= HEARTBEAT_SECONDS:
                    beat = 0.0
                    with write_transaction(db):
                        db.execute("UPDATE service SET heartbeat_at = ? WHERE id = 1", [utcnow()])
            except sqlite3.Error as exc:
                # The schedule and heartbeat rows only inform `newsmon status`: a database locked
                # past the busy timeout (a backup, a long transaction) must not stop the service.
                logger.warning("cannot update the schedule in the database, trying again: %s",
                               database_problem(exc, self.database) or exc)

    def _shutdown(self, db: sqlite_utils.Database) -> None:
        """Stop scheduling; ask running crawls to stop; kill them after stop_timeout; wait for bookkeeping."""
        self.scheduler.shutdown(wait=False)
        timeout = self.config.schedule.stop_timeout
        with self.children_lock:  # `stopping` is set: no run starts after this
            running = dict(self.children)
        for outlet_id, (proc, run_id, _) in running.items():
            logger.info("stopping crawl outlet=%s run=%s pid=%d", outlet_id, run_id, proc.pid)
            _signal(proc, signal.SIGTERM)
        deadline = datetime.now(UTC) + timedelta(seconds=timeout)
        for outlet_id, (proc, run_id, _) in running.items():
            left = (deadline - datetime.now(UTC)).total_seconds()
            try:
                proc.wait(max(left, 0.1))
            except subprocess.TimeoutExpired:
                logger.warning("crawl did not stop within %ds, killing it outlet=%s run=%s", timeout, outlet_id, run_id)
                _signal(proc, signal.SIGKILL)
        with self.idle:  # the job threads record what happened to their runs
            self.idle.wait_for(lambda: self.active == 0, timeout=30)
        with write_transaction(db):
            db.execute("UPDATE service SET stopped_at = ? WHERE id = 1", [utcnow()])
            db.execute("DELETE FROM schedule")

    # -- scheduling --------------------------------------------------------------------------

    def _schedule(self, db: sqlite_utils.Database, outlet: Outlet) -> None:
        now = datetime.now(UTC)
        row = db.execute(
            "SELECT started_at, status FROM crawl_runs WHERE outlet_id = ? ORDER BY started_at DESC, id DESC LIMIT 1",
            [outlet.id],
        ).fetchone()
        last = parse_utc(row[0]) if row and row[0] else None
        # A last run cut short (the service or its crawl stopped, killed, or the power gone: close_orphans
        # marks it interrupted) is resumed soon, not an interval later: what it did not store is waiting.
        resume = row is not None and row[1] == "interrupted"
        start, catch_up = first_run(self.config, outlet, None if resume else last, now)
        trigger = make_trigger(self.config, outlet, start)
        self.scheduler.add_job(self._run_outlet, trigger, args=[outlet.id], id=outlet.id, name=outlet.id,
                               replace_existing=True)
        if catch_up:
            self.scheduler.add_job(self._run_outlet, DateTrigger(run_date=start, timezone=UTC), args=[outlet.id],
                                   id=outlet.id + CATCH_UP, name=outlet.id + CATCH_UP, replace_existing=True)
        logger.info("scheduled outlet=%s %s last_run=%s first_run=%s", outlet.id, describe_trigger(self.config, outlet),
                    iso(last) if last else "never", iso(start) if not outlet.cron or catch_up else "next slot")

    def _unschedule(self, outlet_id: str) -> None:
        for job_id in (outlet_id, outlet_id + CATCH_UP):
            if self.scheduler.get_job(job_id):
                self.scheduler.remove_job(job_id)

    def reload(self, db: sqlite_utils.Database) -> bool:
        """Reread the config: new outlets start, removed ones stop, changed schedules apply.

        An invalid config is refused (logged) and the running one stays. Returns True if applied.
        """
        try:
            new = load_config(self.config_arg, database=self.db_override)
        except ConfigError as exc:
            logger.error("config reload refused, the running config stays: %s", exc)
            return False
        if new.storage.database != self.database:
            logger.error("config reload refused: the database changed (%s -> %s); restart the service to switch",
                         self.database, new.storage.database)
            return False
        with self.children_lock:
            old = self.config
            self.config = new  # runs from now on use the new settings and outlets
        old_ids, new_ids = {o.id for o in old.outlets}, {o.id for o in new.outlets}
        removed, added = sorted(old_ids - new_ids), sorted(new_ids - old_ids)
        rescheduled = sorted(
            i for i in old_ids & new_ids
            if (describe_trigger(old, old.outlet(i)), old.schedule.jitter) != (describe_trigger(new, new.outlet(i)), new.schedule.jitter)
        )
        for outlet_id in removed:
            self._unschedule(outlet_id)
        for outlet_id in added + rescheduled:
            self._unschedule(outlet_id)
            self._schedule(db, new.outlet(outlet_id))
        if new.schedule.max_parallel != old.schedule.max_parallel:
            logger.warning("schedule.max_parallel changed: it applies after a restart")
        logger.info("config reloaded: %d outlets; added: %s; removed: %s; rescheduled: %s", len(new.outlets),
                    ", ".join(added) or "-", ", ".join(removed) or "-", ", ".join(rescheduled) or "-")
        return True

    def _publish(self, db: sqlite_utils.Database) -> None:
        """Write each outlet's trigger, next run and running crawl to `schedule` when they change."""
        with self.children_lock:
            running = {k: (run_id, since) for k, (_, run_id, since) in self.children.items()}
        config = self.config
        current: dict[str, tuple[Any, ...]] = {}
        for outlet in config.outlets:
            times = [j.next_run_time for j in (self.scheduler.get_job(outlet.id),
                                               self.scheduler.get_job(outlet.id + CATCH_UP)) if j and j.next_run_time]
            run_id, since = running.get(outlet.id, (None, None))
            current[outlet.id] = (describe_trigger(config, outlet), iso(min(times)) if times else None, since, run_id)
        if current == self._published:
            return
        now = utcnow()
        with write_transaction(db):
            for outlet_id in set(self._published) - set(current):
                db.execute("DELETE FROM schedule WHERE outlet_id = ?", [outlet_id])
            for outlet_id, values in current.items():
                if self._published.get(outlet_id) != values:
                    db.execute(
                        """INSERT INTO schedule (outlet_id, trigger, next_run_at, running_since, run_id, updated_at)
                           VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(outlet_id) DO UPDATE SET trigger = excluded.trigger,
                           next_run_at = excluded.next_run_at, running_since = excluded.running_since,
                           run_id = excluded.run_id, updated_at = excluded.updated_at""",
                        [outlet_id, *values, now],
                    )
        self._published = current

    # -- one run -----------------------------------------------------------------------------

    def _run_outlet(self, outlet_id: str) -> None:
        """The scheduler's job: crawl one outlet in a child process, then record and assess the run."""
        with self.children_lock:
            # Under the lock that _shutdown and reload take: a run either starts before the
            # service stops (and is stopped with it) or not at all; never with a removed outlet.
            config = self.config
            if self.stopping.is_set() or outlet_id not in {o.id for o in config.outlets}:
                return
            if outlet_id in self.children:
                logger.info("outlet still running, this slot is skipped outlet=%s", outlet_id)
                return
            job = crawl_job(config, [outlet_id], origin="service", time_limit=config.schedule.run_timeout,
                            progress=PROGRESS_SECONDS)
            message = {"job": asdict(job), "log": self.log_options, "parent": os.getpid()}
            proc = subprocess.Popen(
                [sys.executable, "-m", "monitor.worker"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C in the service's terminal is the service's to handle
            )
            self.children[outlet_id] = (proc, job.run_id, utcnow())
            self.active += 1
        try:
            self._supervise(config, outlet_id, proc, job.run_id, json.dumps(message).encode())
        except (sqlite3.Error, StorageError) as exc:
            cause = exc.__cause__ if isinstance(exc, StorageError) and exc.__cause__ is not None else exc
            logger.error("run bookkeeping failed outlet=%s run=%s: %s (a run left 'running' is closed at the "
                         "next start)", outlet_id, job.run_id, database_problem(cause, self.database) or exc)
        except Exception:
            logger.exception("run bookkeeping failed outlet=%s run=%s", outlet_id, job.run_id)
        finally:
            with self.idle:
                self.children.pop(outlet_id, None)
                self.active -= 1
                self.idle.notify_all()

    def _supervise(self, config: Config, outlet_id: str, proc: subprocess.Popen[bytes], run_id: str,
                   message: bytes) -> None:
        logger.info("run starting outlet=%s run=%s pid=%d", outlet_id, run_id, proc.pid)
        assert proc.stdin is not None
        try:
            proc.stdin.write(message)
            proc.stdin.close()
        except BrokenPipeError:
            pass  # the child died at once: its exit status tells
        limit = config.schedule.run_timeout + config.schedule.stop_timeout
        killed = False
        try:
            code = proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            logger.warning("run over its time limit, killing it outlet=%s run=%s limit=%ds", outlet_id, run_id, limit)
            _signal(proc, signal.SIGKILL)
            code = proc.wait()
            killed = True
        db = open_database(self.database)
        try:
            if killed:
                fail_unfinished(db, run_id, [outlet_id], "timeout", f"killed after {limit}s (time limit)")
            elif code != 0:
                stopped = self.stopping.is_set()
                status = "interrupted" if stopped else "crashed"
                reason = "stopped with the service" if stopped else f"crawl process exited with status {code}"
                if fail_unfinished(db, run_id, [outlet_id], status, reason):
                    log = logger.info if stopped else logger.error
                    log("run %s outlet=%s run=%s: %s", status, outlet_id, run_id, reason)
            transitions = update_health(db, config, [outlet_id])
            send_alerts(db, config.alerts, transitions)
        finally:
            db.close()
        logger.info("run ended outlet=%s run=%s exit=%s", outlet_id, run_id, "killed" if killed else code)


def _signal(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        proc.send_signal(sig)
    except ProcessLookupError:
        pass


def _duration(seconds: int) -> str:
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"
