"""A hostile web on loopback: the broken and malicious responses a news monitor meets over months.

Each host is a `ThreadingHTTPServer` on its own address (127.0.0.41, .42, ...), since robots.txt and
the outlets' host lists go by host name. Responses are made by code, not files: a body of a
gigabyte, a gzip bomb, a server that never answers or sends a byte a second, entity-expansion
XML, a redirect loop, a page in windows-1252 declared only in a meta tag. Every request is logged
(`HostileWeb.requests`) so tests can assert what was, and what was never, fetched.

`HostileWeb.config()` writes the newsmon configuration: one outlet per group of cases, so each
outlet's crawl_runs row counts exactly its own cases.
"""

from __future__ import annotations

import random
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.minisite import paragraphs

#: The marker in the local file that the XXE documents point at: it must never reach the database
#: or any URL the crawler requests.
SECRET = "SECRET-MARKER-7f3a9c"
MAX_PAGE_BYTES = 2_000_000
TIMEOUT = 3  # [crawl] timeout of the hostile crawl, seconds
HUGE = 1 << 30  # the "far larger" page and the gzip bomb's inflated size: 1 GiB
CHUNK = 64 * 1024


def gzip_bomb(size: int = HUGE) -> bytes:
    """A gzip member of `size` zero bytes (about 1 MB per GB)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = b"\0" * (1 << 20)
    parts = [comp.compress(zeros) for _ in range(size >> 20)]
    parts.append(comp.flush())
    return b"".join(parts)


def article_html(seed: int, title: str, *, charset: str = "utf-8", extra: str = "", meta_charset: bool = True) -> str:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs(seed))
    meta = f'<meta charset="{charset}">' if meta_charset else ""
    return (f"<!DOCTYPE html><html lang=\"en\"><head>{meta}<title>{title}</title>"
            f'<meta property="article:published_time" content="2026-11-20T08:00:00Z"></head>'
            f"<body><nav><a href=\"/\">Home</a></nav><article><h1>{title}</h1>{extra}{body}</article>"
            f"<footer>Contact. Terms.</footer></body></html>")


def rss(base: str, paths: list[str], title: str = "Feed") -> str:
    items = "".join(f"<item><title>Item {i}</title><link>{p if '://' in p else base + p}</link></item>"
                    for i, p in enumerate(paths))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>{items}</channel></rss>'


def urlset(base: str, paths: list[str]) -> str:
    urls = "".join(f"<url><loc>{base + p}</loc></url>" for p in paths)
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'


def sitemapindex(base: str, paths: list[str]) -> str:
    maps = "".join(f"<sitemap><loc>{base + p}</loc></sitemap>" for p in paths)
    return f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{maps}</sitemapindex>'


def billion_laughs(document: str) -> str:
    """`document` (which uses &lol9;) behind a DTD whose &lol9; would expand to 10^9 'lol's."""
    decls = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    root = document.split("?>", 1)[1]
    return '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n' + "\n".join(decls) + "\n]>\n" + root


def xxe(document: str, secret_file: Path) -> str:
    """`document` (which uses &xxe;) behind a DTD where &xxe; is the content of a local file."""
    root = document.split("?>", 1)[1]
    return f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "file://{secret_file}">]>\n' + root


Route = Callable[["Handler"], None]


class Handler(BaseHTTPRequestHandler):
    server: HostServer
    protocol_version = "HTTP/1.0"  # a body without Content-Length ends when the connection closes

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?", 1)[0]
        web = self.server.web
        web.log(self.server.name, path)
        route = web.routes.get((self.server.name, path))
        try:
            if route is None:
                self.send_error(404)
            else:
                route(self)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the crawler hung up: that is what a size limit or a timeout does

    # -- building blocks for routes -----------------------------------------------------------

    def respond(self, body: bytes | str, ctype: str = "text/html; charset=utf-8", status: int = 200,
                headers: dict[str, str] | None = None) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def stream_zeros(self, total: int, *, declare_length: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        if declare_length:
            self.send_header("Content-Length", str(total))
        self.end_headers()
        self.wfile.write(b"<html><body><p>")
        chunk, sent = b"a" * CHUNK, 0
        while sent < total and not self.server.web.stopping.is_set():
            self.wfile.write(chunk)
            sent += len(chunk)

    def hold(self, seconds: float) -> None:
        self.server.web.stopping.wait(seconds)


class HostServer(ThreadingHTTPServer):
    daemon_threads = True
    # The held connections (hang, trickle) each take a thread; the queue must not fill up.
    request_queue_size = 64

    def __init__(self, name: str, address: str, web: HostileWeb):
        self.name = name
        self.web = web
        super().__init__((address, 0), Handler)

    def server_bind(self) -> None:  # no reverse DNS lookup (HTTPServer.server_bind calls getfqdn)
        import socketserver

        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])


@dataclass
class HostileWeb:
    folder: Path
    hosts: dict[str, str] = field(default_factory=dict)  # name -> base URL
    routes: dict[tuple[str, str], Route] = field(default_factory=dict)
    requests: list[tuple[float, str, str]] = field(default_factory=list)  # (time, host, path)
    stopping: threading.Event = field(default_factory=threading.Event)
    _servers: list[HostServer] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    HOSTS = ("main", "foreign", "robots503", "robotsjunk", "robotshang")

    def start(self) -> HostileWeb:
        for i, name in enumerate(self.HOSTS):
            server = HostServer(name, f"127.0.0.{41 + i}", self)
            self._servers.append(server)
            self.hosts[name] = f"http://{server.server_name}:{server.server_port}"
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        self.secret_file = self.folder / "secret.txt"
        self.secret_file.write_text(f"http://{self.hosts['main'].split('://')[1]}/news/{SECRET}\n")
        self._build()
        return self

    def stop(self) -> None:
        self.stopping.set()
        for server in self._servers:
            server.shutdown()
            server.server_close()

    def log(self, host: str, path: str) -> None:
        with self._lock:
            self.requests.append((time.time(), host, path))

    def fetched(self, host: str, path: str | None = None) -> int:
        with self._lock:
            return sum(1 for _, h, p in self.requests if h == host and (path is None or p == path))

    def times(self, host: str, path: str) -> list[float]:
        with self._lock:
            return [t for t, h, p in self.requests if h == host and p == path]

    def paths(self, host: str) -> Counter[str]:
        with self._lock:
            return Counter(p for _, h, p in self.requests if h == host)

    # -- the site --------------------------------------------------------------------------------

    def page(self, host: str, path: str, body: bytes | str, ctype: str = "text/html; charset=utf-8",
             status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.routes[(host, path)] = lambda h: h.respond(body, ctype, status, headers)

    def article(self, host: str, path: str, seed: int, title: str) -> None:
        self.page(host, path, article_html(seed, title))

    def _build(self) -> None:
        main, foreign = self.hosts["main"], self.hosts["foreign"]
        xml = "application/xml"
        self.page("main", "/robots.txt", "User-agent: *\nDisallow: /news/private/\n", "text/plain")

        # sizes: a 1 GiB page with and without Content-Length, a gzip bomb page, a gzip bomb sitemap.
        self.page("main", "/sizes/feed.xml", rss(main, ["/news/huge", "/news/huge-unsized", "/news/bomb",
                                                        "/news/sizes-ok"]), xml)
        self.routes[("main", "/news/huge")] = lambda h: h.stream_zeros(HUGE, declare_length=True)
        self.routes[("main", "/news/huge-unsized")] = lambda h: h.stream_zeros(HUGE, declare_length=False)
        bomb = gzip_bomb()
        self.page("main", "/news/bomb", bomb, headers={"Content-Encoding": "gzip"})
        self.page("main", "/sizes/sitemap.xml.gz", bomb, "application/x-gzip")
        self.article("main", "/news/sizes-ok", 101, "Sizes outlet: a normal article")

        # xml: entity expansion and external entities, in a feed and in a sitemap.
        self.page("main", "/xml/laughs.rss", billion_laughs(rss(main, ["/news/lol-&lol9;", "/news/xml-ok-1"],
                                                                  "&lol9;")), xml)
        self.page("main", "/xml/laughs-sitemap.xml", billion_laughs(urlset(main, ["/news/lol-&lol9;",
                                                                                  "/news/xml-ok-2"])), xml)
        self.page("main", "/xml/xxe.rss", xxe(rss(main, ["/news/xxe-&xxe;"], "&xxe;"), self.secret_file), xml)
        self.page("main", "/xml/xxe-sitemap.xml", xxe(urlset(main, ["/news/xxe-&xxe;"]), self.secret_file), xml)
        self.page("main", "/xml/feed.rss", rss(main, ["/news/xml-ok-3"]), xml)
        for n in (1, 2, 3):
            self.article("main", f"/news/xml-ok-{n}", 110 + n, f"XML outlet article {n}")

        # broken discovery: malformed feed, HTML as a feed, empty sitemaps, sitemap index loops.
        self.page("main", "/broken/malformed.rss",
                  rss(main, ["/news/broken-ok-1", "/news/broken-ok-2"])[:-40], xml)  # cut mid-item
        self.page("main", "/broken/html.rss", article_html(120, "This is a web page, not a feed"))
        self.page("main", "/broken/empty.xml", b"", xml)
        self.page("main", "/broken/empty-urlset.xml", urlset(main, []), xml)
        self.page("main", "/broken/self-index.xml", sitemapindex(main, ["/broken/self-index.xml",
                                                                        "/broken/leaf.xml"]), xml)
        self.page("main", "/broken/loop-a.xml", sitemapindex(main, ["/broken/loop-b.xml"]), xml)
        self.page("main", "/broken/loop-b.xml", sitemapindex(main, ["/broken/loop-a.xml"]), xml)
        self.page("main", "/broken/leaf.xml", urlset(main, ["/news/broken-ok-3"]), xml)
        for n in (1, 2, 3):
            self.article("main", f"/news/broken-ok-{n}", 120 + n, f"Broken outlet article {n}")

        # redirects: a loop, a chain past the limit (10), off-host by redirect and by link.
        self.page("main", "/redir/feed.rss", rss(main, ["/news/loop-a", "/news/chain-0", "/news/away",
                                                        f"{foreign}/news/foreign-link", "/news/moved"]), xml)
        self.page("main", "/news/loop-a", b"", status=302, headers={"Location": "/news/loop-b"})
        self.page("main", "/news/loop-b", b"", status=302, headers={"Location": f"{main}/news/loop-a"})
        for n in range(15):
            self.page("main", f"/news/chain-{n}", b"", status=301, headers={"Location": f"/news/chain-{n + 1}"})
        self.article("main", "/news/chain-15", 130, "The end of a long chain")
        self.page("main", "/news/away", b"", status=302, headers={"Location": f"{foreign}/news/landing"})
        self.page("main", "/news/moved", b"", status=301, headers={"Location": "/news/moved-here"})
        self.article("main", "/news/moved-here", 131, "A page that moved")
        self.article("foreign", "/news/landing", 132, "Off-host landing page")
        self.article("foreign", "/news/foreign-link", 133, "Off-host linked page")

        # content: binary as HTML, a wrong charset header, windows-1252 declared in a meta tag only,
        # no article text.
        self.page("main", "/content/feed.rss", rss(main, ["/news/binary", "/news/wrong-charset", "/news/wrong-charset-2",
                                                          "/news/cp1252", "/news/empty",
                                                          "/news/private/secret-page"]), xml)
        rng = random.Random(5)
        self.page("main", "/news/binary", b"\x89PNG\r\n\x1a\n" + rng.randbytes(300_000))
        self.page("main", "/news/wrong-charset", article_html(140, "Déjà vu à Zürich: l'été de Noël").encode(),
                  "text/html; charset=iso-8859-1")
        self.page("main", "/news/wrong-charset-2", article_html(143, "Ça coûte 5 € – “cher”", meta_charset=False)
                  .encode("cp1252"), "text/html; charset=utf-8")
        cp1252 = article_html(141, "Œuvres d’été: 5 € pour « voir » le café", charset="windows-1252",
                              extra="<p>“Smart quotes” – and an en dash, naïve cafés for 5 €.</p>")
        self.page("main", "/news/cp1252", cp1252.encode("cp1252"), "text/html")
        self.page("main", "/news/empty", "<html><head><title>Nothing</title></head><body><nav>Home</nav>"
                                         "<p>Share</p></body></html>")
        self.article("main", "/news/private/secret-page", 142, "Disallowed by robots.txt")

        # slow and failing servers.
        self.page("main", "/slow/feed.rss", rss(main, ["/news/hang", "/news/trickle", "/news/404", "/news/410",
                                                       "/news/500", "/news/503-then-ok", "/news/503-long"]), xml)
        self.routes[("main", "/news/hang")] = lambda h: h.hold(3600)
        self.routes[("main", "/news/trickle")] = _trickle(article_html(150, "Slow page").encode(), 1.0)
        self.page("main", "/news/404", "Not found", status=404)
        self.page("main", "/news/410", "Gone", status=410)
        self.page("main", "/news/500", "Internal error", status=500)
        self.routes[("main", "/news/503-then-ok")] = _fail_first(
            self, "/news/503-then-ok", article_html(151, "Back after a 503"), {"Retry-After": "2"})
        self.page("main", "/news/503-long", "Maintenance", status=503, headers={"Retry-After": "3600"})

        # robots.txt that answers 503, that is junk with one readable rule, that never answers.
        for host in ("robots503", "robotsjunk", "robotshang"):
            base = self.hosts[host]
            self.page(host, "/feed.rss", rss(base, ["/news/r-1", "/news/secret/r-2"]), xml)
            self.article(host, "/news/r-1", 160, f"{host} article 1")
            self.article(host, "/news/secret/r-2", 161, f"{host} article 2")
        self.page("robots503", "/robots.txt", "Service unavailable", "text/plain", status=503)
        junk = rng.randbytes(2000) + b"\nUser-agent: *\nDisallow: /news/secret/\n" + rng.randbytes(2000)
        self.page("robotsjunk", "/robots.txt", junk, "text/plain")
        self.routes[("robotshang", "/robots.txt")] = lambda h: h.hold(3600)

    def config(self, database: Path, refused_port: int) -> str:
        b = self.hosts
        outlets = {
            "sizes": {"feeds": [f"{b['main']}/sizes/feed.xml"], "sitemaps": [f"{b['main']}/sizes/sitemap.xml.gz"]},
            "xml": {"feeds": [f"{b['main']}/xml/laughs.rss", f"{b['main']}/xml/xxe.rss", f"{b['main']}/xml/feed.rss"],
                    "sitemaps": [f"{b['main']}/xml/laughs-sitemap.xml", f"{b['main']}/xml/xxe-sitemap.xml"]},
            "broken": {"feeds": [f"{b['main']}/broken/malformed.rss", f"{b['main']}/broken/html.rss"],
                       "sitemaps": [f"{b['main']}/broken/empty.xml", f"{b['main']}/broken/empty-urlset.xml",
                                    f"{b['main']}/broken/self-index.xml", f"{b['main']}/broken/loop-a.xml"]},
            "redirects": {"feeds": [f"{b['main']}/redir/feed.rss"]},
            "content": {"feeds": [f"{b['main']}/content/feed.rss"]},
            "slow": {"feeds": [f"{b['main']}/slow/feed.rss"]},
            "refused": {"feeds": [f"http://127.0.0.1:{refused_port}/feed.rss"]},
            "robots503": {"feeds": [f"{b['robots503']}/feed.rss"]},
            "robotsjunk": {"feeds": [f"{b['robotsjunk']}/feed.rss"]},
            "robotshang": {"feeds": [f"{b['robotshang']}/feed.rss"]},
        }
        lines = [f'[storage]\ndatabase = "{database}"\n',
                 f'[crawl]\ntimeout = {TIMEOUT}\nmax_page_bytes = {MAX_PAGE_BYTES}\nconcurrency = 32\n'
                 'per_host_concurrency = 16\n']
        for oid, seeds in outlets.items():
            lines.append(f'[[outlets]]\nid = "{oid}"\nname = "Hostile {oid}"\narticle_url_pattern = "/news/"\n'
                         + "".join(f"{k} = {list(v)!r}\n".replace("'", '"') for k, v in seeds.items()))
        return "\n".join(lines)


def _trickle(body: bytes, every: float) -> Route:
    def route(h: Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        for i in range(len(body)):
            h.wfile.write(body[i:i + 1])
            h.wfile.flush()
            if h.server.web.stopping.wait(every):
                return
    return route


def _fail_first(web: HostileWeb, path: str, body: str, headers: dict[str, str]) -> Route:
    def route(h: Handler) -> None:
        if web.fetched(h.server.name, path) <= 1:
            h.respond("Busy", "text/plain", 503, headers)
        else:
            h.respond(body)
    return route
