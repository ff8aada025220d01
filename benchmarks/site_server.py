"""A loopback web server for a generated site (``benchmarks.site_gen``).

``serve_site(root)`` serves the folder on 127.0.0.1 with ``ETag`` (a hash of the body) and
``Last-Modified`` (the file's time), answers ``If-None-Match`` / ``If-Modified-Since`` with
304, maps ``/a/b/`` to ``a/b/index.html`` and ignores query strings (so ``?ref=`` is the same
page), serves ``robots.txt`` (with ``Crawl-delay`` when one is given) and rewrites the
sitemaps' ``site_text.DOMAIN`` to its own address. With ``bad=True`` it also serves the
pages a crawler must survive, under ``/bad/``: ``stall`` (answers after ``stall`` seconds),
``loop`` (a redirect loop), ``huge`` (``huge_bytes`` of HTML, no Content-Length),
``sitemap-100k.xml`` (a sitemap of ``big_sitemap`` addresses) and any other path a 404.

    python -m benchmarks.site_server ROOT [--port 8000] [--crawl-delay S] [--bad]
"""

from __future__ import annotations

import argparse
import contextlib
import email.utils
import hashlib
import http.server
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.site_gen import SITEMAP_NS, file_of
from benchmarks.site_text import DOMAIN

TYPES = {".html": "text/html; charset=utf-8", ".xml": "application/xml", ".pdf": "application/pdf"}
BAD = "/bad/"


@dataclass
class SiteServer:
    """The running server: its ``base`` URL and the count of answers by status."""

    base: str
    statuses: Counter[int] = field(default_factory=Counter)
    paths: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, path: str, status: int) -> None:
        with self.lock:
            self.statuses[status] += 1
            self.paths[path] += 1


def _handler(
    root: Path, server: SiteServer, crawl_delay: float | None, bad: bool, stall: float,
    huge_bytes: int, big_sitemap: int, stop: threading.Event,
) -> type[http.server.BaseHTTPRequestHandler]:  # fmt: skip
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0].split("#", 1)[0]
            if path == "/robots.txt":
                delay = f"Crawl-delay: {crawl_delay:g}\n" if crawl_delay else ""
                text = f"User-agent: *\nAllow: /\n{delay}Sitemap: {server.base}/sitemap.xml\n"
                return self._send(path, 200, text.encode(), "text/plain; charset=utf-8")
            if bad and path.startswith(BAD):
                return self._bad(path)
            target = file_of(root, path)
            try:
                resolved = target.resolve(strict=True)
                if root not in resolved.parents or not resolved.is_file():
                    raise FileNotFoundError(path)
                body = resolved.read_bytes()
            except (OSError, ValueError):
                return self._send(path, 404, b"<h1>Page not found</h1>", TYPES[".html"])
            if resolved.suffix == ".xml":
                body = body.replace(DOMAIN.encode(), server.base.encode())
            etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
            mtime = int(resolved.stat().st_mtime)
            headers = {"ETag": etag, "Last-Modified": email.utils.formatdate(mtime, usegmt=True)}
            if self._unchanged(etag, mtime):
                return self._send(path, 304, b"", "", headers)
            kind = TYPES.get(resolved.suffix, "application/octet-stream")
            return self._send(path, 200, body, kind, headers)

        def _unchanged(self, etag: str, mtime: int) -> bool:
            match = self.headers.get("If-None-Match")
            if match is not None:  # RFC 9110: when both are sent, If-None-Match decides
                return etag in [m.strip() for m in match.split(",")] or match.strip() == "*"
            since = self.headers.get("If-Modified-Since")
            if since:
                with contextlib.suppress(TypeError, ValueError):
                    return mtime <= email.utils.parsedate_to_datetime(since).timestamp()
            return False

        def _bad(self, path: str) -> None:
            name = path[len(BAD) :]
            if name == "stall":
                stop.wait(stall)  # bounded, and released when the server stops
                return self._send(path, 200, b"<h1>Late</h1><p>Too late.</p>", TYPES[".html"])
            if name in ("loop", "loop-2"):
                other = "loop-2" if name == "loop" else "loop"
                return self._send(path, 302, b"", TYPES[".html"], {"Location": BAD + other})
            if name == "huge":
                return self._stream(path, huge_bytes)
            if name == "sitemap-100k.xml":
                urls = "".join(
                    f"<url><loc>{server.base}{BAD}p/{i}</loc></url>" for i in range(big_sitemap)
                )
                body = f'<urlset xmlns="{SITEMAP_NS}">{urls}</urlset>'.encode()
                return self._send(path, 200, body, TYPES[".xml"])
            return self._send(path, 404, b"<h1>Page not found</h1>", TYPES[".html"])

        def _stream(self, path: str, size: int) -> None:
            server.count(path, 200)
            self.send_response(200)
            self.send_header("Content-Type", TYPES[".html"])
            self.send_header("Connection", "close")
            self.end_headers()
            block = b"<p>" + b"Far too much text on one page. " * 2000 + b"</p>\n"
            with contextlib.suppress(OSError):  # the client stops reading at its cap
                self.wfile.write(b"<html><body><h1>Huge</h1>")
                for _ in range(0, size, len(block)):
                    if stop.is_set():
                        break
                    self.wfile.write(block)
            self.close_connection = True

        def _send(
            self, path: str, status: int, body: bytes, kind: str,
            headers: dict[str, str] | None = None,
        ) -> None:  # fmt: skip
            server.count(path, status)
            self.send_response(status)
            if kind:
                self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            with contextlib.suppress(OSError):  # the client gave up (a timeout)
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextlib.contextmanager
def serve_site(
    root: Path | str, port: int = 0, *, crawl_delay: float | None = None, bad: bool = False,
    stall: float = 5.0, huge_bytes: int = 200_000_000, big_sitemap: int = 100_000,
) -> Iterator[SiteServer]:  # fmt: skip
    """Serve ``root`` on 127.0.0.1:``port`` (0: a free port) until the block ends; yields
    the running server (``.base`` is its URL, ``.statuses`` counts answers by status)."""
    stop = threading.Event()
    server = SiteServer("")
    handler = _handler(Path(root).resolve(), server, crawl_delay, bad, stall, huge_bytes,
                       big_sitemap, stop)  # fmt: skip
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--crawl-delay", type=float, default=None)
    parser.add_argument("--bad", action="store_true", help="also serve the /bad/ pages")
    args = parser.parse_args(argv)
    with serve_site(args.root, args.port, crawl_delay=args.crawl_delay, bad=args.bad) as site:
        print(f"serving {args.root} at {site.base}/ (sitemap.xml there); Ctrl-C stops")
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
