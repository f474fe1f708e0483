"""Serve the bundled demo outlets (``monitor/demo/site``) on loopback, one address per outlet.

Modelled on Scrapy's test mockserver. Every outlet folder (sorted by name, folders starting with
``_`` or ``.`` excluded) gets its own ``ThreadingHTTPServer`` on ``127.0.0.11``, ``127.0.0.12``, ...
with an ephemeral port; ``site/_offhost`` is served on ``127.0.0.19`` as a host that belongs to no
outlet. Stdlib only.

Command line::

    python -m monitor.demo.server [--site DIR] [--log FILE] [--hosts N]

writes one JSON line ``{"outlets": {"lumiere": "http://127.0.0.12:PORT", ...}, "offhost": "..."}``
to stdout, then serves until SIGTERM/SIGINT or until its stdin (a pipe or a terminal) is closed.

In-process: ``with DemoServer() as demo: demo.bases["lumiere"]``.

Serving rules: GET and HEAD; ``index.html`` for a path ending in ``/`` (a directory path without the
slash is redirected to it); Content-Type by extension (no extension: HTML); ``{{base:OUTLET}}`` and
``{{base:offhost}}`` are replaced in text files (and inside gzipped text, which is then re-gzipped;
a ``.gz`` without placeholders is served byte for byte); strong ``ETag`` and ``Last-Modified``,
with ``304`` answers to ``If-None-Match`` / ``If-Modified-Since``. Files and folders whose name
starts with ``_`` or ``.`` are never served under their own path. Every request reads the files
afresh, so a site folder edited while the server runs is served as it is now (a new file: 200, a
deleted one: 404, an edited one: a new ETag).

Routes: an optional per-outlet ``_routes.json`` maps an exact path (query ignored) to a JSON
object; it is re-read whenever its mtime, size or inode changes (and, within 2 s of a change, when
its content does), and a file that does not parse keeps the previous routes (at start-up it is an
error). A route is the first of these that its keys match:

- ``{"hang": true}``: read the request, never answer; the connection is held until the client
  hangs up or the server stops. Logged (see below) with ``"status": 0`` once the request is read.
- ``{"redirect": "/path" or "{{base:...}}/path", "status": 301}``: a redirect.
- ``{"file": "rel/path", "etag": ..., "last_modified": ..., "conditional": true, "trickle": N}``:
  that file of the outlet folder (relative to it; placeholders substituted, Content-Type by its
  extension, 404 if it is missing), with broken-server validators if asked: ``"etag"`` is sent
  verbatim instead of the content hash (``false``: no ETag header); ``"last_modified"`` is an HTTP
  date sent verbatim, ``"now"`` (the time of each request) or ``false`` (no header), instead of the
  file's mtime; ``"conditional": false`` ignores ``If-None-Match`` / ``If-Modified-Since`` (always
  200), otherwise 304 is answered when they match the validators sent, as for plain files.
- ``{"trickle": N}`` (optionally with the ``"file"`` keys above): 200 with a correct
  Content-Length, but the body goes out one byte every N seconds (float), stopping early when the
  client hangs up or the server stops. Without ``"file"`` the body is `TRICKLE_BODY` (HTML, no
  validators).
- ``{"status": 503, "headers": {...}}``: a bare status with an empty body.

``"headers"`` (extra response headers) is honoured by every kind but ``hang``.

Request log (``--log`` / ``log_path``): one JSON line per request with ``ts``, ``site``, ``host``,
``method``, ``path``, ``query``, ``user_agent``, ``if_none_match``, ``if_modified_since`` and
``status``, written before the response body is sent.
"""

from __future__ import annotations

import argparse
import errno
import gzip
import hashlib
import json
import logging
import os
import re
import selectors
import signal
import socket
import socketserver
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from urllib.parse import unquote, urlsplit

logger = logging.getLogger(__name__)

SITE_DIR = Path(__file__).resolve().parent / "site"
EXPECTED_FILE = "expected.json"
ROUTES_FILE = "_routes.json"
OFFHOST = "offhost"
OFFHOST_DIR = "_offhost"
FIRST_OUTLET_OCTET = 11
OFFHOST_ADDRESS = "127.0.0.19"
#: Used when the 127.0.0.x aliases cannot be bound (e.g. macOS without aliases).
FALLBACK_ADDRESS = "127.0.0.1"
FALLBACK_OFFHOST_NAME = "localhost"
MAX_OUTLETS = 8  # 127.0.0.11 .. 127.0.0.18

_HTML = "text/html; charset=utf-8"
CONTENT_TYPES: dict[str, str] = {
    ".html": _HTML,
    ".htm": _HTML,
    "": _HTML,  # news sites serve extension-less article paths
    ".xml": "application/xml",
    ".atom": "application/atom+xml",
    ".rss": "application/rss+xml",
    ".gz": "application/x-gzip",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
}
TEXT_SUFFIXES = frozenset({".html", ".htm", "", ".xml", ".atom", ".rss", ".txt", ".json"})
_PLACEHOLDER = re.compile(r"\{\{base:([A-Za-z0-9_.-]+)\}\}")
#: The body of a ``{"trickle": N}`` route without ``"file"``.
TRICKLE_BODY = (
    b"<!DOCTYPE html>\n<html><head><title>Slow page</title></head>\n"
    b"<body><p>The demo server sends this page one byte at a time, to exercise "
    b"read timeouts of the crawler.</p></body></html>\n"
)
#: How often a held connection (hang, trickle) looks at the stop event and the client socket.
_HOLD_POLL = 0.05
#: A routes file changed this recently is compared by content too (mtime granularity is coarse).
_ROUTES_RACY_NS = 2_000_000_000
_ROOT = Path(__file__).resolve().parents[2]


def outlet_names(site_dir: Path | None = None) -> list[str]:
    """Outlet folder names of a site, in the order their addresses are assigned."""
    site = Path(site_dir) if site_dir else SITE_DIR
    return sorted(
        p.name for p in site.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))
    )


def load_expected(site_dir: Path | None = None) -> dict[str, Any]:
    """The ground truth of the demo site (``expected.json``)."""
    site = Path(site_dir) if site_dir else SITE_DIR
    with (site / EXPECTED_FILE).open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def substitute(text: str, bases: Mapping[str, str]) -> str:
    """Replace ``{{base:NAME}}`` placeholders; unknown names are left as they are."""
    return _PLACEHOLDER.sub(lambda m: bases.get(m.group(1), m.group(0)), text)


def _toml_str(value: str) -> str:
    # A JSON string is a valid TOML basic string, except that TOML forbids a raw DEL.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(_toml_str(v) for v in values) + "]"


def render_config(
    bases: Mapping[str, str], database: str, expected: Mapping[str, Any] | None = None
) -> str:
    """A newsmon TOML configuration for the demo outlets served at `bases`."""
    data = expected if expected is not None else load_expected()
    lines = [
        "# newsmon configuration for the bundled demo outlets (written by monitor.demo.server).",
        "",
        "[storage]",
        f"database = {_toml_str(database)}",
        "keep_html = true",
        "",
        "[crawl]",
        f"user_agent = {_toml_str('newsmon-demo/0.1')}",
        "obey_robots = true",
        "concurrency = 16",
        "per_host_concurrency = 4",
        "download_delay = 0.0",
        "timeout = 10",
        "max_page_bytes = 10000000",
        "max_articles_per_run = 0",
        "",
        "[schedule]",
        f"default_interval = {_toml_str('30m')}",
    ]
    for oid, outlet in sorted(data["outlets"].items()):
        if oid not in bases:
            raise KeyError(f"no base URL for demo outlet {oid!r}")
        base = bases[oid].rstrip("/")
        lines += [
            "",
            "[[outlets]]",
            f"id = {_toml_str(oid)}",
            f"name = {_toml_str(outlet['name'])}",
        ]
        if outlet.get("homepage"):
            lines.append(f"homepage = {_toml_str(base + outlet['homepage'])}")
        lines.append(f"feeds = {_toml_list([base + p for p in outlet.get('feeds', [])])}")
        lines.append(f"sitemaps = {_toml_list([base + p for p in outlet.get('sitemaps', [])])}")
        if outlet.get("language"):
            lines.append(f"language = {_toml_str(outlet['language'])}")
        if outlet.get("timezone"):
            lines.append(f"timezone = {_toml_str(outlet['timezone'])}")
        lines.append(f"max_depth = {int(outlet.get('max_depth', 1))}")
    return "\n".join(lines) + "\n"


class _RequestLog:
    """Appends one JSON line per request; thread-safe, flushed per line."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._fh: IO[str] | None = Path(path).open("a", encoding="utf-8")

    def write(self, record: Mapping[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            if self._fh is not None:
                self._fh.write(line)
                self._fh.flush()

    def close(self) -> None:
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None


class _SiteServer(ThreadingHTTPServer):
    """One outlet (or the off-host site) on one address."""

    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, name: str, root: Path, address: str, demo: DemoServer) -> None:
        self.name = name
        self.root = root.resolve()
        self.demo = demo
        self._routes_lock = threading.Lock()
        self._routes: dict[str, dict[str, Any]] = {}
        self._routes_raw: bytes | None = None
        self._routes_rejected: bytes | None = None  # the last content that did not parse
        self._routes_sig: tuple[int, int, int] | None = None
        self.current_routes(strict=True)
        super().__init__((address, 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind() calls socket.getfqdn(), a reverse lookup that can stall offline.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Called from inside socketserver's exception handler: clients that hang up are not news.
        logger.debug(
            "demo server %s: request from %s failed: %r",
            self.name,
            client_address,
            sys.exc_info()[1],
        )

    def current_routes(self, *, strict: bool = False) -> dict[str, dict[str, Any]]:
        """The routes of ``_routes.json`` as it is now (a stat per call, a read when it changed).

        A file that does not parse raises with `strict`, else keeps the previous routes (a test
        may be halfway through rewriting it) until its content changes again.
        """
        path = self.root / ROUTES_FILE
        try:
            st = path.stat()
        except OSError:
            sig = None
        else:
            sig = (st.st_mtime_ns, st.st_size, st.st_ino)
        with self._routes_lock:
            racy = sig is not None and time.time_ns() - sig[0] < _ROUTES_RACY_NS
            if sig == self._routes_sig and not racy:
                return self._routes
            try:
                raw = path.read_bytes() if sig is not None else None
            except OSError:
                raw = None  # deleted since the stat
            if raw is None:
                self._routes, self._routes_raw, self._routes_sig = {}, None, None
                return self._routes
            self._routes_sig = sig
            if raw != self._routes_raw and raw != self._routes_rejected:
                try:
                    routes = _parse_routes(raw)
                except ValueError as exc:
                    if strict:
                        raise ValueError(f"{path}: {exc}") from exc
                    self._routes_rejected = raw
                    logger.warning(
                        "demo server %s: keeping the previous routes, %s: %s", self.name, path, exc
                    )
                    return self._routes
                self._routes, self._routes_raw, self._routes_rejected = routes, raw, None
            return self._routes


def _parse_routes(raw: bytes) -> dict[str, dict[str, Any]]:
    """``_routes.json``: an object mapping paths to route objects (ValueError otherwise)."""
    routes = json.loads(raw)  # JSONDecodeError and UnicodeDecodeError are ValueErrors
    if not isinstance(routes, dict) or not all(isinstance(r, dict) for r in routes.values()):
        raise ValueError("not an object of path -> route object")
    return routes


def _content_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _http_date_timestamp(value: str) -> float | None:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when.timestamp() if when.tzinfo is not None else None


class _Handler(BaseHTTPRequestHandler):
    server: _SiteServer
    server_version = "newsmon-demo/0.1"
    sys_version = ""
    protocol_version = "HTTP/1.0"

    _status: int = 0

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        self._serve(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(head=True)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        logger.debug("%s %s", self.address_string(), format % args)

    def send_response(self, code: int, message: str | None = None) -> None:
        self._status = code
        # Log before the body goes out: a client that has its response can rely on the log line.
        self._log_request()
        super().send_response(code, message)

    # -- serving -------------------------------------------------------------------------------

    def _serve(self, *, head: bool) -> None:
        self._dispatch(head=head)

    def _dispatch(self, *, head: bool) -> None:
        parts = urlsplit(self.path)
        path = unquote(parts.path) or "/"
        route = self.server.current_routes().get(path)
        if route is not None:
            self._serve_route(route, head=head)
            return
        segments = path.split("/")
        if (
            "\x00" in path
            or "\\" in path
            or any(s in ("..", ".") for s in segments)
            or not path.startswith("/")
        ):
            self._send_plain(HTTPStatus.BAD_REQUEST, "Bad request path", head=head)
            return
        if any(s.startswith(("_", ".")) for s in segments if s):
            self._send_plain(HTTPStatus.NOT_FOUND, "Not found", head=head)
            return
        target = self.server.root.joinpath(*[s for s in segments if s])
        if path.endswith("/"):
            target = target / "index.html"
        elif target.is_dir():
            location = self.server.demo.base_of(self.server.name) + path + "/"
            location += f"?{parts.query}" if parts.query else ""
            self._send_redirect(HTTPStatus.MOVED_PERMANENTLY, location, head=head)
            return
        try:
            resolved = target.resolve(strict=True)
        except (OSError, RuntimeError):
            self._send_plain(HTTPStatus.NOT_FOUND, "Not found", head=head)
            return
        if not resolved.is_relative_to(self.server.root) or not resolved.is_file():
            self._send_plain(HTTPStatus.NOT_FOUND, "Not found", head=head)
            return
        self._serve_file(resolved, head=head)

    def _render(self, path: Path) -> tuple[bytes, int] | None:
        """What is served for a site file (placeholders substituted) and its mtime; None if gone."""
        try:
            raw = path.read_bytes()
            mtime = int(path.stat().st_mtime)
        except OSError:
            return None
        suffix = path.suffix.lower()
        bases = self.server.demo.placeholders
        if suffix in TEXT_SUFFIXES:
            return substitute(raw.decode("utf-8"), bases).encode("utf-8"), mtime
        if suffix == ".gz":
            try:
                inner = gzip.decompress(raw).decode("utf-8")
            except (OSError, EOFError, UnicodeDecodeError):
                inner = ""
            if _PLACEHOLDER.search(inner):
                return gzip.compress(substitute(inner, bases).encode("utf-8"), mtime=0), mtime
        return raw, mtime

    def _serve_file(
        self, path: Path, *, head: bool, route: Mapping[str, Any] | None = None
    ) -> None:
        """A site file; `route` (a file route) may replace its validators and pace its body."""
        rendered = self._render(path)
        if rendered is None:
            self._send_plain(HTTPStatus.NOT_FOUND, "Not found", head=head)
            return
        body, mtime = rendered
        route = route or {}
        etag = route.get("etag")
        if etag is None:
            etag = _content_etag(body)
        last_modified = route.get("last_modified")
        modified_at: float | None
        if last_modified is None or last_modified == "now":
            modified_at = mtime if last_modified is None else int(time.time())
            last_modified = formatdate(modified_at, usegmt=True)
        elif last_modified is not False:
            last_modified = str(last_modified)
            modified_at = _http_date_timestamp(last_modified)
        else:
            modified_at = None
        self._send_content(
            body,
            CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream"),
            head=head,
            etag=str(etag) if etag is not False else None,
            last_modified=last_modified or None,
            modified_at=modified_at,
            conditional=bool(route.get("conditional", True)),
            trickle=route.get("trickle"),
            headers=route.get("headers"),
        )

    def _send_content(
        self,
        body: bytes,
        content_type: str,
        *,
        head: bool,
        etag: str | None = None,
        last_modified: str | None = None,
        modified_at: float | None = None,
        conditional: bool = True,
        trickle: float | None = None,
        headers: Mapping[str, Any] | None = None,
    ) -> None:
        validators = {"ETag": etag, "Last-Modified": last_modified}
        if conditional and self._not_modified(etag, modified_at):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self._send_headers({**validators, **(headers or {})})
            return
        self.send_response(HTTPStatus.OK)
        self._send_headers(
            {
                "Content-Type": content_type,
                "Content-Length": str(len(body)),
                **validators,
                "Cache-Control": "no-cache",
                **(headers or {}),
            }
        )
        if head:
            return
        if trickle is None:
            self.wfile.write(body)
            return
        delay = max(float(trickle), 0.0)
        try:
            for i in range(len(body)):
                if self._hold(delay):
                    logger.debug(
                        "demo server %s: trickle of %s cut short", self.server.name, self.path
                    )
                    return
                self.wfile.write(body[i : i + 1])
        except OSError:  # the client hung up
            return

    def _send_headers(self, headers: Mapping[str, Any]) -> None:
        for key, value in headers.items():
            if value is not None:
                self.send_header(str(key), str(value))
        self.end_headers()

    def _not_modified(self, etag: str | None, modified_at: float | None) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            # Weak comparison (RFC 9110 13.1.2): W/ prefixes are ignored.
            tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
            return "*" in tags or (etag is not None and etag.removeprefix("W/") in tags)
        ims = self.headers.get("If-Modified-Since")
        if ims and modified_at is not None:
            since = _http_date_timestamp(ims)
            return since is not None and modified_at <= since
        return False

    def _hold(self, seconds: float | None) -> bool:
        """Wait `seconds` (None: for ever); True as soon as the server stops or the client leaves.

        Bytes the client sends meanwhile are read and dropped, so a chatty client cannot turn the
        wait into a busy loop; end of stream or a reset means it hung up.
        """
        stopping = self.server.demo.stopping
        deadline = None if seconds is None else time.monotonic() + seconds
        with selectors.DefaultSelector() as sel:
            sel.register(self.connection, selectors.EVENT_READ)
            while not stopping.is_set():
                left = _HOLD_POLL if deadline is None else deadline - time.monotonic()
                if left <= 0:
                    return False
                if sel.select(min(left, _HOLD_POLL)):
                    try:
                        if not self.connection.recv(65536):
                            return True
                    except OSError:
                        return True
        return True

    def _serve_route(self, route: Mapping[str, Any], *, head: bool) -> None:
        if route.get("hang"):
            self._status = 0
            self._log_request()
            self._hold(None)
            self.close_connection = True
            return
        if "redirect" in route:
            target = substitute(str(route["redirect"]), self.server.demo.placeholders)
            if target.startswith("/"):
                target = self.server.demo.base_of(self.server.name) + target
            self._send_redirect(
                int(route.get("status", 301)), target, head=head, headers=route.get("headers")
            )
            return
        if "file" in route:
            root = self.server.root
            try:
                path = root.joinpath(str(route["file"]).lstrip("/")).resolve(strict=True)
            except (OSError, RuntimeError):
                path = None
            if path is None or not path.is_relative_to(root) or not path.is_file():
                logger.warning(
                    "demo server %s: route %s names no file of the outlet: %r",
                    self.server.name,
                    self.path,
                    route["file"],
                )
                self._send_plain(HTTPStatus.NOT_FOUND, "Not found", head=head)
                return
            self._serve_file(path, head=head, route=route)
            return
        if "trickle" in route:
            self._send_content(
                TRICKLE_BODY,
                _HTML,
                head=head,
                conditional=False,
                trickle=route["trickle"],
                headers=route.get("headers"),
            )
            return
        self.send_response(int(route.get("status", 200)))
        self._send_headers({**(route.get("headers") or {}), "Content-Length": "0"})

    def _send_redirect(
        self, status: int, location: str, *, head: bool, headers: Mapping[str, Any] | None = None
    ) -> None:
        body = f'<!DOCTYPE html>\n<title>Moved</title>\n<p>Moved to <a href="{location}">{location}</a>.</p>\n'
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Location", location)
        for key, value in (headers or {}).items():
            self.send_header(str(key), str(value))
        self.send_header("Content-Type", _HTML)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def _send_plain(self, status: int, message: str, *, head: bool) -> None:
        data = f"<!DOCTYPE html>\n<title>{int(status)}</title>\n<h1>{message}</h1>\n".encode()
        self.send_response(status)
        self.send_header("Content-Type", _HTML)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def _log_request(self) -> None:
        log = self.server.demo.request_log
        if log is None:
            return
        parts = urlsplit(self.path)
        host, port = self.server.server_address[:2]
        log.write(
            {
                "ts": round(time.time(), 3),
                "site": self.server.name,
                "host": f"{host}:{port}",
                "method": self.command,
                "path": unquote(parts.path),
                "query": parts.query,
                "user_agent": self.headers.get("User-Agent"),
                "if_none_match": self.headers.get("If-None-Match"),
                "if_modified_since": self.headers.get("If-Modified-Since"),
                "status": self._status,
            }
        )


class DemoServer:
    """The demo outlets served in background threads of this process.

    >>> with DemoServer() as demo:  # doctest: +SKIP
    ...     demo.bases["lumiere"], demo.offhost
    """

    def __init__(
        self,
        site_dir: Path | None = None,
        log_path: Path | None = None,
        *,
        hosts: int | None = None,
    ):
        self.site_dir = (Path(site_dir) if site_dir else SITE_DIR).resolve()
        self.log_path = Path(log_path) if log_path else None
        self.hosts = hosts
        self.bases: dict[str, str] = {}
        self.offhost: str = ""
        self.placeholders: dict[str, str] = {}
        self.request_log: _RequestLog | None = None
        #: Set by `stop`: held connections (hang and trickle routes) end at once.
        self.stopping = threading.Event()
        self._servers: list[_SiteServer] = []
        self._threads: list[tuple[_SiteServer, threading.Thread]] = []

    # -- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> DemoServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        if self._servers:
            raise RuntimeError("DemoServer already started")
        self.stopping.clear()
        names = outlet_names(self.site_dir)
        if len(names) > MAX_OUTLETS:
            raise ValueError(
                f"at most {MAX_OUTLETS} outlet folders are supported, found {len(names)}"
            )
        if self.log_path is not None:
            self.request_log = _RequestLog(self.log_path)
        try:
            self._bind(names)
        except BaseException:
            self.stop()
            raise
        for srv in self._servers:
            t = threading.Thread(
                target=srv.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"demo-{srv.name}",
                daemon=True,
            )
            t.start()
            self._threads.append((srv, t))
        logger.info("demo outlets: %s; off-host: %s", self.bases, self.offhost)

    def _bind(self, names: list[str]) -> None:
        n_hosts = self.hosts if self.hosts and self.hosts > 0 else max(len(names), 1)
        fallback = not _can_bind(f"127.0.0.{FIRST_OUTLET_OCTET}")
        if fallback:
            logger.warning(
                "cannot bind 127.0.0.%d; serving every demo outlet on %s",
                FIRST_OUTLET_OCTET,
                FALLBACK_ADDRESS,
            )
        for i, name in enumerate(names):
            address = (
                FALLBACK_ADDRESS if fallback else f"127.0.0.{FIRST_OUTLET_OCTET + i % n_hosts}"
            )
            srv = _SiteServer(name, self.site_dir / name, address, self)
            self._servers.append(srv)
            self.bases[name] = f"http://{address}:{srv.server_port}"
        off_root = self.site_dir / OFFHOST_DIR
        if not off_root.is_dir():
            off_root = self.site_dir / ".no-offhost-site"  # serves 404 everywhere
        off_address = FALLBACK_ADDRESS if fallback else OFFHOST_ADDRESS
        srv = _SiteServer(OFFHOST, off_root, off_address, self)
        self._servers.append(srv)
        off_name = FALLBACK_OFFHOST_NAME if fallback else off_address
        self.offhost = f"http://{off_name}:{srv.server_port}"
        self.placeholders = {**self.bases, OFFHOST: self.offhost}

    def stop(self) -> None:
        self.stopping.set()
        for srv, _ in self._threads:
            srv.shutdown()
        for srv in self._servers:
            srv.server_close()
        for _, t in self._threads:
            t.join(timeout=5)
        self._servers.clear()
        self._threads.clear()
        if self.request_log is not None:
            self.request_log.close()
            self.request_log = None

    # -- info ----------------------------------------------------------------------------------

    def base_of(self, name: str) -> str:
        return self.placeholders[name]

    def info(self) -> dict[str, Any]:
        """What the command line prints: ``{"outlets": {...}, "offhost": "..."}``."""
        return {"outlets": dict(self.bases), "offhost": self.offhost}


def _can_bind(address: str) -> bool:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((address, 0))
    except OSError as exc:
        if exc.errno in (errno.EADDRNOTAVAIL, errno.EINVAL):
            return False
        raise
    finally:
        sock.close()
    return True


# -- subprocess helpers -----------------------------------------------------------------------


def start_subprocess(
    site_dir: Path | None = None, log_path: Path | None = None, *, timeout: float = 15.0
) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """Start ``python -m monitor.demo.server`` and return the process and its JSON info line.

    The child exits when terminated or when its stdin is closed; use `stop_subprocess`.
    """
    cmd = [sys.executable, "-m", "monitor.demo.server"]
    if site_dir is not None:
        cmd += ["--site", str(site_dir)]
    if log_path is not None:
        cmd += ["--log", str(log_path)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_ROOT), env.get("PYTHONPATH", "")) if p)
    return launch_server(cmd, "demo server", timeout=timeout, env=env)


def launch_server(
    cmd: list[str], what: str, *, timeout: float, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """Start a server child that prints one JSON info line when ready; the process and that line.

    Waits at most `timeout` seconds for the line; a child that does not give it is stopped.
    """
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    line = b""
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if sel.select(timeout):
            line = proc.stdout.readline()
    try:
        info: dict[str, Any] = json.loads(line)
    except ValueError:
        stop_subprocess(proc)
        raise RuntimeError(
            f"{what} did not start (exit status {proc.returncode}, output {line!r})"
        ) from None
    return proc, info


def stop_subprocess(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> int:
    """Terminate a `start_subprocess` child, wait for it and close its pipes; returns its exit status."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass
    return proc.returncode


# -- command line -----------------------------------------------------------------------------


def _watch_stdin(stop: threading.Event) -> None:
    try:
        while os.read(0, 65536):
            pass
    except OSError:
        pass
    stop.set()


def stdin_is_watchable() -> bool:
    """A pipe or a terminal: its end means "stop". /dev/null or a file would end at once."""
    try:
        mode = os.fstat(0).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m monitor.demo.server", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument(
        "--site", type=Path, default=None, help="site folder (default: the bundled one)"
    )
    parser.add_argument(
        "--log", type=Path, default=None, help="append one JSON line per request to FILE"
    )
    parser.add_argument(
        "--hosts",
        type=int,
        default=0,
        metavar="N",
        help="spread the outlets over N loopback addresses (default: one address per outlet)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    stop = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    with DemoServer(args.site, args.log, hosts=args.hosts or None) as demo:
        sys.stdout.write(json.dumps(demo.info()) + "\n")
        sys.stdout.flush()
        if stdin_is_watchable():
            threading.Thread(
                target=_watch_stdin, args=(stop,), name="demo-stdin", daemon=True
            ).start()
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
