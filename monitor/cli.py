"""The `newsmon` command line. The only place where newsmon errors become exit codes."""

from __future__ import annotations

import gzip
import http.client
import logging
import os
import sqlite3
import sys
import urllib.request
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from monitor import __version__
from monitor.config import load_config
from monitor.errors import ConfigError, NewsmonError, NotFoundError
from monitor.logs import setup_logging
from monitor.output import dumps, json_option, table, write_csv, write_jsonl

if TYPE_CHECKING:
    import sqlite_utils

    from monitor.config import Config
    from monitor.runner import RunSummary

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class ConfigProblem(click.ClickException):
    exit_code = 2


class NewsmonGroup(click.Group):
    """Turns NewsmonError into a one-line message: exit 2 for config errors, 1 for the others.

    A SQLite error that escaped as such is said in plain words too when it is the database file's
    fault (locked, read-only, full, corrupt: storage.db.database_problem), never as a traceback.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            raise ConfigProblem(str(exc)) from None
        except NewsmonError as exc:
            raise click.ClickException(str(exc)) from None
        except sqlite3.Error as exc:
            from storage.db import database_problem

            state = ctx.obj
            try:
                path: Path | str = state.database_path() if isinstance(state, State) else "the database"
            except NewsmonError:
                path = "the database"
            raise click.ClickException(database_problem(exc, path) or f"database error on {path}: {exc}") from None
        except OSError as exc:
            # A path from the command line that the system refuses: too long, a directory, no
            # permission. One line, not a traceback (-vv logs the traceback).
            logging.getLogger(__name__).debug("OS error", exc_info=True)
            where = f"{_shorten(str(exc.filename))}: " if exc.filename else ""
            raise click.ClickException(f"{where}{exc.strerror or exc}") from None


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class SafePath(click.Path):
    """click.Path that refuses a NUL character with a usage error (click.Path lets os.stat raise)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        problem = _path_problem(value) if isinstance(value, str) else None
        if problem:
            self.fail(problem, param, ctx)
        return super().convert(value, param, ctx)


def _path_problem(value: str) -> str | None:
    if "\x00" in value:
        return "contains a NUL character"
    try:
        os.fsencode(value)
    except UnicodeEncodeError:  # a lone surrogate that no command line can produce
        return "is not a valid file name (undecodable characters)"
    return None


def _check_path_option(value: str | None, option: str) -> None:
    """Refuse what no file system accepts, before anything is opened or created."""
    problem = _path_problem(value) if value is not None else None
    if problem:
        raise click.BadParameter(problem, param_hint=option)
    if value is not None and option != "--config" and not value.strip():
        raise click.BadParameter("is empty", param_hint=option)


class State:
    def __init__(self, config_path: str | None, db_path: str | None, log_options: dict[str, Any] | None = None):
        self.config_path = config_path
        self.db_path = db_path
        self.log_options = log_options or {}
        self._config: Config | None = None

    def config(self) -> Config:
        if self._config is None:
            from storage.db import set_busy_timeout

            self._config = load_config(self.config_path, database=self.db_path)
            set_busy_timeout(self._config.storage.busy_timeout)
        return self._config

    def database_path(self) -> Path:
        return Path(self.db_path) if self.db_path else self.config().storage.database

    def open_db(self) -> sqlite_utils.Database:
        from storage.db import open_database

        return open_database(self.database_path(), create=False)


pass_state = click.make_pass_decorator(State)


@click.group(cls=NewsmonGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="newsmon")
@click.option("--config", "config_path", metavar="PATH",
              help="Config file. Default: $NEWSMON_CONFIG, else config/newsmon.toml.")
@click.option("--db", "db_path", metavar="PATH", help="Database file, instead of [storage] database.")
@click.option("-v", "--verbose", count=True, help="More log output (-vv: debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors on stderr.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: one JSON object per line, for log collectors.")
@click.option("--log-file", metavar="PATH", help="Append the log to this file instead of stderr.")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, db_path: str | None, verbose: int, quiet: bool,
        log_format: str, log_file: str | None) -> None:
    """Monitor news outlets into a searchable SQLite archive.

    List the outlets in a TOML file, run `newsmon crawl`, then search, export or query the
    database with SQL, sqlite-utils or Datasette.

    Example:

    \b
        newsmon --config config/newsmon.toml crawl
    """
    for option, value in (("--config", config_path), ("--db", db_path), ("--log-file", log_file)):
        _check_path_option(value, option)
    setup_logging(verbose, quiet, log_format=log_format, log_file=log_file)
    ctx.obj = State(config_path, db_path, {"verbose": verbose, "quiet": quiet, "format": log_format,
                                           "file": str(Path(log_file).resolve()) if log_file else None})


@cli.command("check-config")
@pass_state
def check_config(state: State) -> None:
    """Validate the config file; exit 2 with the file, outlet and key if it is wrong.

    Example:

    \b
        newsmon --config config/newsmon.toml check-config
    """
    config = state.config()
    click.echo(f"{click.format_filename(config.path)}: OK, {len(config.outlets)} outlets: "
               f"{', '.join(o.id for o in config.outlets)}")
    click.echo(f"database: {click.format_filename(config.storage.database)}")


@cli.command()
@click.argument("outlets", nargs=-1)
@json_option
@pass_state
def crawl(state: State, outlets: tuple[str, ...], as_json: bool) -> None:
    """Crawl the configured outlets now (all, or the OUTLETS named) and print a summary.

    Exits 0 when the crawl ran, even if an outlet was down (its run is recorded as failed);
    non-zero when it could not run at all.

    Example:

    \b
        newsmon crawl
        newsmon crawl rfi-fr el-pais
    """
    from monitor.runner import run_crawl

    config = state.config()
    summary = run_crawl(config, outlets)
    assess_and_alert(config, [r["outlet_id"] for r in summary.outlets])
    if as_json:
        click.echo(dumps(asdict(summary)))
    else:
        click.echo(render_summary(summary))


def assess_and_alert(config: Config, outlet_ids: list[str]) -> None:
    """After a run: each outlet's health, and an alert for each state change (as the service does)."""
    from monitor.alerts import send_alerts
    from monitor.health import update_health
    from storage.db import open_database

    db = open_database(config.storage.database)
    try:
        send_alerts(db, config.alerts, update_health(db, config, outlet_ids))
    finally:
        db.close()


@cli.command()
@pass_state
def run(state: State) -> None:
    """Run the monitor: crawl each outlet on its schedule until stopped (SIGTERM or Ctrl-C).

    Each crawl runs in its own process, with a time limit. One service per database. SIGHUP or
    `newsmon reload` rereads the config. Runs, outlet states and alerts go to the database and
    the log; `newsmon status` shows what runs when.

    Example:

    \b
        newsmon --config /etc/newsmon/newsmon.toml --log-format json run
    """
    from monitor.service import Service

    config = state.config()
    service = Service(config, config_arg=state.config_path, db_override=state.db_path,
                      log_options=state.log_options)
    sys.exit(service.run())


@cli.command()
@pass_state
def reload(state: State) -> None:
    """Ask the running service to reread its config (as SIGHUP does).

    The config is checked here first: an invalid one is reported (exit 2) and not sent.

    Example:

    \b
        newsmon reload
    """
    import os
    import signal

    from monitor.lock import service_info

    config = state.config()
    info = service_info(config.storage.database)
    if not info or not info.get("pid"):
        raise click.ClickException(f"no newsmon service is running on {config.storage.database}")
    os.kill(int(info["pid"]), signal.SIGHUP)
    click.echo(f"reload requested from the service (pid {info['pid']}); its log tells the outcome")


@cli.command()
@json_option
@pass_state
def status(state: State, as_json: bool) -> None:
    """Is the service running (pid, since when), and each outlet's state, last and next run.

    Example:

    \b
        newsmon status
    """
    from monitor.lock import service_info
    from storage.queries import outlet_summaries

    database = state.database_path()
    info = service_info(database)
    rows = outlet_summaries(state.open_db()) if database.exists() else []
    if not info:
        for r in rows:
            r["next_run"] = r["running_since"] = None  # left by a service that is gone
    data = {"database": str(database), "service": {"running": bool(info), **(info or {})}, "outlets": rows}
    if as_json:
        click.echo(dumps(data))
        return
    if info:
        click.echo(f"service: running, pid {info.get('pid')}, since {info.get('started_at')}, "
                   f"config {info.get('config')}")
    else:
        click.echo(f"service: not running on {click.format_filename(database)}")
    for r in rows:
        r["next"] = ("running since " + r["running_since"]) if r.get("running_since") else r.get("next_run")
    click.echo(table(rows, ["id", "state", "last_run", "last_status", "last_new", "next", "reason"],
                     widths={"reason": 60}) if rows else "no outlets yet")


def render_summary(summary: RunSummary) -> str:
    rows = [
        {
            "outlet": r["outlet_id"], "status": r["status"], "pages": r["pages"],
            "304": r.get("not_modified", 0), "new": r["articles_new"], "edited": r.get("versions_new", 0),
            "known": r["articles_known"], "dup": r["duplicates"], "no_text": r["no_text"],
            "errors": ", ".join(f"{k}={v}" for k, v in sorted(r["errors"].items())) if r["errors"] else "",
        }
        for r in summary.outlets
    ]
    lines = [f"run {summary.run_id}: {summary.wall_seconds:.1f} s", ""]
    lines.append(table(rows, ["outlet", "status", "pages", "304", "new", "edited", "known", "dup", "no_text", "errors"],
                       widths={"errors": 60}))
    new = summary.new
    rate = new / summary.wall_seconds if summary.wall_seconds else 0.0
    lines += ["", f"{new} new articles in {summary.wall_seconds:.1f} s ({rate:.1f} articles/s end to end)"]
    stages = summary.stage_seconds()
    processed = sum(r["articles_new"] + r["duplicates"] + r["no_text"] for r in summary.outlets)
    if stages and processed:
        parts = ", ".join(f"{k} {1000 * v / processed:.1f} ms" for k, v in sorted(stages.items()))
        lines.append(f"per processed page ({processed}): {parts}")
    cs = summary.crawl_stats
    if "newsmon/reactor/lag_max_ms" in cs:
        lines.append(
            f"reactor blocked: max {cs['newsmon/reactor/lag_max_ms']} ms, p99 {cs['newsmon/reactor/lag_p99_ms']} ms"
            f" (longest extraction {1000 * cs.get('newsmon/time/extract_max', 0):.0f} ms)"
        )
    if "newsmon/memory/peak_rss_mib" in cs:
        workers = cs.get("newsmon/memory/workers_peak_rss_mib")
        lines.append(f"peak memory of the crawl process: {cs['newsmon/memory/peak_rss_mib']:.0f} MiB"
                     + (f", of its {cs.get('newsmon/workers/count')} workers: {workers:.0f} MiB" if workers else ""))
    return "\n".join(lines)


@cli.command()
@click.argument("query")
@click.option("--outlet", help="Only this outlet id.")
@click.option("--lang", help="Only this language (ISO 639-1, e.g. fr).")
@click.option("--since", help="Published on or after (YYYY-MM-DD or ISO 8601).")
@click.option("--until", help="Published on or before (YYYY-MM-DD or ISO 8601).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--include-duplicates", is_flag=True, help="Every copy of a story, not one article per cluster.")
@json_option
@pass_state
def search(state: State, query: str, outlet: str | None, lang: str | None, since: str | None,
           until: str | None, limit: int, include_duplicates: bool, as_json: bool) -> None:
    """Full-text search of titles and texts, best match first, with a snippet.

    QUERY uses SQLite FTS5 syntax: words (all must match), "exact phrases", OR, NOT, prefix*.
    Each story is shown once: the earliest article of its cluster, with the number of copies
    other outlets published (--include-duplicates shows them all; so does --outlet).

    Example:

    \b
        newsmon search 'sahel OR "coup d état"' --lang fr --since 2026-11-01
    """
    from storage.queries import check_outlet, parse_when
    from storage.queries import search as run_search

    db = state.open_db()
    check_outlet(db, outlet)
    rows = run_search(
        db, query, outlet=outlet, language=lang, since=parse_when(since, option="--since"),
        until=parse_when(until, option="--until", end_of_day=True), limit=limit,
        include_duplicates=include_duplicates,
    )
    if as_json:
        click.echo(dumps(rows))
        return
    if not rows:
        click.echo("no results")
        return
    click.echo(table(rows, ["id", "outlet", "published_at", "language", "copies", "title", "snippet"],
                     widths={"title": 60, "snippet": 90}))


@cli.command()
@click.option("--since", help="Stories first published on or after (YYYY-MM-DD or ISO 8601).")
@click.option("--min-size", default=2, show_default=True, type=click.IntRange(2, 2**63 - 1),
              help="Only stories with at least this many articles.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@json_option
@pass_state
def clusters(state: State, since: str | None, min_size: int, limit: int, as_json: bool) -> None:
    """The largest stories of a period: clusters of near-duplicate articles across outlets.

    Each row is one story: how many articles carry it, who published it first, and the outlets
    in the order they published it: how the story spread. `newsmon show ID` lists the copies.

    Example:

    \b
        newsmon clusters --since 2026-11-01 --min-size 3
    """
    from storage.queries import clusters as list_clusters
    from storage.queries import parse_when

    rows = list_clusters(state.open_db(), since=parse_when(since, option="--since"), min_size=min_size,
                         limit=limit)
    if as_json:
        click.echo(dumps(rows))
        return
    if not rows:
        click.echo("no clusters")
        return
    for r in rows:
        r["outlets"] = " > ".join(r["outlets"])
    click.echo(table(rows, ["cluster_id", "size", "first_published_at", "earliest_id", "outlets", "title"],
                     widths={"outlets": 50, "title": 60}))


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("--outlet", help="Only this outlet id.")
@click.option("--lang", help="Only this language.")
@click.option("--since", help="Published on or after (YYYY-MM-DD or ISO 8601).")
@click.option("--until", help="Published on or before.")
@click.option("--include-duplicates", is_flag=True, help="All copies, not one article per cluster.")
@click.option("-o", "--output", type=SafePath(dir_okay=False, writable=True), help="File to write (default: stdout).")
@pass_state
def export(state: State, fmt: str, outlet: str | None, lang: str | None, since: str | None, until: str | None,
           include_duplicates: bool, output: str | None) -> None:
    """Export articles, one record per article, as JSON lines or CSV.

    Example:

    \b
        newsmon export --outlet rfi-fr --since 2026-11-01 -o rfi.jsonl
    """
    from storage.queries import EXPORT_COLUMNS, check_outlet, export_rows, parse_when

    db = state.open_db()
    check_outlet(db, outlet)
    rows = export_rows(
        db, outlet=outlet, language=lang, since=parse_when(since, option="--since"),
        until=parse_when(until, option="--until", end_of_day=True), include_duplicates=include_duplicates,
    )
    out = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout  # noqa: SIM115
    try:
        n = write_jsonl(rows, out) if fmt == "jsonl" else write_csv(rows, out, EXPORT_COLUMNS)
    finally:
        if output:
            out.close()
    click.echo(f"exported {n} articles" + (f" to {output}" if output else ""), err=True)


@cli.command()
@click.argument("article_id", type=int)
@click.option("--no-text", is_flag=True, help="Leave out the article text.")
@click.option("--diff", is_flag=True, help="Print a unified diff between its versions instead.")
@json_option
@pass_state
def show(state: State, article_id: int, no_text: bool, diff: bool, as_json: bool) -> None:
    """Show one article: its metadata, every URL it was seen at, its fetches, versions and text.

    Example:

    \b
        newsmon show 42
        newsmon show 42 --diff
    """
    from storage.queries import get_article
    from storage.versions import article_versions, version_diff

    if not -(2**63) <= article_id < 2**63:  # SQLite's integers: no such article
        raise NotFoundError(f"no article with id {article_id}")
    db = state.open_db()
    if diff:
        versions = article_versions(db, article_id)
        if as_json:
            click.echo(dumps(versions))
        elif len(versions) == 1:
            click.echo(f"article {article_id} has one version: no changes seen")
        else:
            click.echo(version_diff(versions))
        return
    article = get_article(db, article_id)
    if no_text:
        article.pop("text")
    if as_json:
        click.echo(dumps(article))
        return
    fields = ["id", "outlet_id", "title", "author", "published_at", "modified_at", "date_source", "date_flags",
              "language", "language_confidence", "language_source", "found_via", "canonical_url",
              "first_seen_at", "last_seen_at", "checked_at", "next_check_at", "changed_at", "removed_at",
              "content_hash", "version", "cluster_id", "duplicate_of", "similarity"]
    for key in fields:
        if article.get(key) not in (None, [], ""):
            click.echo(f"{key:>20}: {article[key]}")
    click.echo("\nURLs:")
    for u in article["urls"]:
        click.echo(f"  {u['url']}  ({u['kind']}, via {u['found_via']}, {u['first_seen_at']})")
    if article["cluster"]:
        click.echo(f"\nThe same story ({len(article['cluster'])} articles, earliest first):")
        for m in article["cluster"]:
            mark = "*" if m["id"] == article_id else " "
            sim = "earliest" if m["earliest"] else f"similarity {m['similarity']}"
            click.echo(f" {mark}{m['id']:>7}  {m['outlet_id']:<14} {m['published_at'] or m['first_seen_at']}  "
                       f"{sim:<16} {m['url']}")
    if article["versions"]:
        click.echo("\nEarlier versions (newsmon show ID --diff):")
        for v in article["versions"]:
            click.echo(f"  {v['version']}: {v['seen_from']} .. {v['replaced_at']}  {v['title'] or ''}")
    if not no_text:
        click.echo("\n" + article["text"])


@cli.command()
@json_option
@pass_state
def outlets(state: State, as_json: bool) -> None:
    """Each outlet: its state (ok, degraded, failing, new) and why, articles, last run, last error.

    degraded/failing say what went wrong: failed runs, HTTP errors, no new article for far longer
    than usual, or a run that departs from the outlet's baseline (shorter texts, no dates, no
    authors, another language, pages without text): the signs of a layout change or a block.
    Outlets of the config that have never been crawled are listed as "never run".

    Example:

    \b
        newsmon outlets --json
    """
    from storage.queries import outlet_summaries

    rows = outlet_summaries(state.open_db())
    # Outlets in the config that never ran are listed too, so a typo'd or new outlet shows up.
    try:
        configured = state.config().outlets
    except NewsmonError:
        configured = ()
    known = {r["id"] for r in rows}
    rows += [{"id": o.id, "name": o.name, "state": "new", "articles": 0, "last_status": "never run"}
             for o in configured if o.id not in known]
    if as_json:
        click.echo(dumps(rows))
        return
    click.echo(table(rows, ["id", "state", "reason", "articles", "newest", "last_run", "last_status", "last_new",
                            "last_error"], widths={"reason": 50, "last_error": 50}))


@cli.command()
@click.argument("target")
@click.option("--outlet", "outlet_id", help="Use this outlet's exclude_xpaths, timezone and language hint.")
@click.option("--url", "page_url", help="The page's address, when TARGET is a saved file.")
@json_option
@pass_state
def extract(state: State, target: str, outlet_id: str | None, page_url: str | None, as_json: bool) -> None:
    """Show what the pipeline extracts from one page (a FILE or a URL): text, metadata, language.

    It calls the same functions as the crawl, so this is how to check an outlet's extraction.

    Example:

    \b
        newsmon extract https://www.rfi.fr/fr/afrique/20261118-some-article --outlet rfi-fr
        newsmon extract saved.html --url https://www.example.org/news/some-article
    """
    from crawlers.extraction import decode_html, extract_for_outlet
    from crawlers.language import detect_language

    outlet = state.config().outlet(outlet_id) if outlet_id else None
    if target.startswith(("http://", "https://")):
        body, content_type, url = _fetch(target, state)
    else:
        path = Path(target)
        if not path.is_file():
            raise click.ClickException(f"{target}: no such file (give a file path or an http(s) URL)")
        body, content_type, url = path.read_bytes(), None, page_url or path.resolve().as_uri()
    result = extract_for_outlet(decode_html(body, content_type), url, outlet)
    if result is None:
        raise click.ClickException(f"{target}: no article text found (the page would be counted as no_text)")
    lang = detect_language(result.text, outlet.language if outlet else None)
    data = {**asdict(result), "language": lang.code, "language_confidence": lang.confidence,
            "language_source": lang.source}
    if as_json:
        click.echo(dumps(data))
        return
    for key, value in data.items():
        if key != "text" and value not in (None, [], ""):
            click.echo(f"{key:>20}: {value}")
    click.echo("\n" + result.text)


def _fetch(url: str, state: State) -> tuple[bytes, str | None, str]:
    try:
        crawl = state.config().crawl
        agent, timeout, limit = crawl.user_agent, crawl.timeout, crawl.max_page_bytes
    except ConfigError:
        agent, timeout, limit = f"newsmon/{__version__}", 30.0, 10_000_000
    try:
        request = urllib.request.Request(url, headers={"User-Agent": agent, "Accept-Encoding": "identity"})
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) only
            return response.read(limit + 1)[:limit], response.headers.get("Content-Type"), response.geturl()
    except (OSError, ValueError, http.client.HTTPException) as exc:  # also a URL urllib refuses ("http://[", "a b")
        raise click.ClickException(f"{_shorten(url)}: cannot fetch: {exc}") from None


@cli.command()
@click.option("--outlet", "outlet_id", help="Only this outlet's articles.")
@pass_state
def reextract(state: State, outlet_id: str | None) -> None:
    """Extract stored articles again from their kept raw HTML, without fetching anything.

    Use it after improving an outlet's exclude_xpaths or upgrading trafilatura.

    Example:

    \b
        newsmon reextract --outlet rfi-fr
    """
    import json

    from crawlers.extraction import decode_html, extract_for_outlet
    from crawlers.language import detect_language
    from storage.articles import update_extraction
    from storage.dedup import content_hash
    from storage.queries import check_outlet, get_article, stored_html
    from storage.similarity import DEFAULT_THRESHOLD

    threshold = DEFAULT_THRESHOLD
    try:
        outlets = {o.id: o for o in state.config().outlets}
        threshold = state.config().clusters.threshold
    except ConfigError as exc:
        logging.getLogger(__name__).warning(
            "no usable config (%s): outlets' exclude_xpaths, timezone and language hints not applied", exc
        )
        outlets = {}
    db = state.open_db()
    check_outlet(db, outlet_id)
    seen = changed = empty = 0
    for row in list(stored_html(db, outlet=outlet_id)):
        seen += 1
        outlet = outlets.get(row["outlet_id"])
        headers = json.loads(row["headers"] or "{}")
        html = decode_html(gzip.decompress(row["html_gz"]), headers.get("content-type"))
        result = extract_for_outlet(html, row["final_url"], outlet, json.loads(row["hints"] or "{}"))
        if result is None:
            empty += 1
            continue
        lang = detect_language(result.text, outlet.language if outlet else None)
        fields = {k: v for k, v in asdict(result).items() if k != "canonical_url"}
        fields.update(language=lang.code, language_confidence=lang.confidence, language_source=lang.source,
                      text_length=len(result.text), content_hash=content_hash(result.text))
        current = get_article(db, row["article_id"])
        if any(current.get(k) != v for k, v in fields.items()):
            update_extraction(db, row["article_id"], fields, threshold=threshold)
            changed += 1
    click.echo(f"re-extracted {seen} articles: {changed} changed, {empty} gave no text (left as they were)")


@cli.command()
@click.option("--dir", "workdir", default="data/demo", show_default=True, type=SafePath(file_okay=False),
              help="Where the demo config and database go; the database is recreated.")
@pass_state
def demo(state: State, workdir: str) -> None:
    """Serve the bundled sample outlets on loopback, crawl them into a fresh database, show results.

    Needs no internet. Afterwards, query the database with the other commands:

    Example:

    \b
        newsmon demo
        newsmon --db data/demo/newsmon.db search "eau OR water OR agua OR Wasser"
    """
    from monitor.demo.server import render_config, start_subprocess, stop_subprocess
    from monitor.runner import run_crawl
    from storage.queries import search as run_search

    folder = Path(workdir)
    folder.mkdir(parents=True, exist_ok=True)
    database = (folder / "newsmon.db").resolve()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    # The site is served from a child process, as a real site would be: in this process its
    # threads would compete with the crawl for the GIL and distort the figures.
    server, info = start_subprocess()
    try:
        bases = info["outlets"]
        config_path = folder / "newsmon.toml"
        config_path.write_text(render_config(bases, str(database)), encoding="utf-8")
        config = load_config(config_path)
        click.echo(f"demo outlets served at: {', '.join(f'{k} {v}' for k, v in sorted(bases.items()))}")
        summary = run_crawl(config)
    finally:
        stop_subprocess(server)
    click.echo(render_summary(summary))
    from storage.db import open_database

    db = open_database(database, create=False)
    query = DEMO_QUERY
    click.echo(f"\nsample search: newsmon --db {database} search '{query}'\n")
    rows = run_search(db, query, limit=5)
    click.echo(table(rows, ["id", "outlet", "language", "title", "snippet"], widths={"title": 50, "snippet": 80})
               if rows else "no results")
    db.close()


DEMO_QUERY = "eau OR water OR agua OR Wasser OR mer OR sea OR mar OR Meer"
